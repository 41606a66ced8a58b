"""LLM fault tolerance: many runs through the real `ChatOpenAI` client against a local stub
OpenAI-compatible server that injects faults on a share of requests (429 with Retry-After, 500,
503, dropped connections, latency, malformed JSON, schema-violating JSON, and in the `all` mix
also 400/401). Measures the fraction of runs that complete with an answer, how many of them stayed
on the model vs. degraded to the offline engine (and why), extra wall time from retries against a
fault-free baseline, and LLM calls per run.

The stub's "model" is a deterministic responder that fills each role's schema from the prompt
(tests/support/llm_responder.py); answer quality is not measured here, only robustness.

    python -m benchmarks.llm_faults [--runs 200] [--fault-rate 0.3] [--seed 7]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from agent import Agent, Settings
from benchmarks.hotpot import RESULTS, ROOT
from tests.support.llm_responder import respond
from tests.support.stub_openai import FAULT_KINDS, StubOpenAI

QUESTIONS = ROOT / "tests" / "fixtures" / "sample_corpus_questions.json"
SAMPLE = ROOT / "agent" / "sample_corpus"
TRANSIENT = [k for k in FAULT_KINDS if k not in ("400", "401")]


def pct(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def scenario(
    name: str,
    stub: StubOpenAI,
    index_dir: Path,
    questions: list[str],
    *,
    runs: int,
    fault_rate: float,
    kinds: list[str],
    seed: int,
    llm: dict[str, Any],
) -> dict[str, Any]:
    stub.reset()
    stub.seed(seed)
    stub.fault_rate = fault_rate
    stub.fault_kinds = list(kinds)
    settings = Settings(
        checkpointer="none", embedder="hashing", llm={"backend": "openai", "base_url": stub.base_url, **llm}
    )  # type: ignore[arg-type]
    agent = Agent(index_dir, settings=settings)
    times: list[float] = []
    calls: list[int] = []
    tokens: list[int] = []
    answered = fully_llm = errors = 0
    reasons: Counter[str] = Counter()
    first_roles: Counter[str] = Counter()
    started = time.perf_counter()
    for i in range(runs):
        t0 = time.perf_counter()
        try:
            result = agent.run(questions[i % len(questions)])
        except Exception as exc:  # noqa: BLE001 - counted, never hidden: a crash is a failed run
            errors += 1
            reasons[f"error:{type(exc).__name__}"] += 1
            times.append(time.perf_counter() - t0)
            continue
        times.append(time.perf_counter() - t0)
        calls.append(result.stats.llm_calls)
        tokens.append(result.stats.tokens)
        answered += bool(result.answer.strip() and result.halt_reason)
        if result.degraded:
            for fallback in result.degraded:  # each fallback: invalid output now falls back per call
                reasons[fallback.reason] += 1
            first_roles[result.degraded[0].role] += 1
        else:
            fully_llm += 1
    agent.close()
    requests = [r for r in stub.requests if r["path"] == "/v1/chat/completions"]
    return {
        "scenario": name,
        "runs": runs,
        "fault_rate": fault_rate,
        "fault_kinds": kinds,
        "completed_with_answer": answered / runs,
        "fully_on_llm": fully_llm / runs,
        "degraded": (runs - fully_llm - errors) / runs,
        "errors": errors,
        "degraded_reasons": dict(reasons),
        "degraded_first_role": dict(first_roles),
        "requests": len(requests),
        "faults_injected": {k: v for k, v in stub.counts.items() if k != "ok"},
        "calls_per_run_mean": statistics.fmean(calls) if calls else 0.0,
        "calls_per_run_max": max(calls, default=0),
        "tokens_per_run_mean": statistics.fmean(tokens) if tokens else 0.0,
        "run_s_mean": statistics.fmean(times),
        "run_s_p50": pct(times, 0.5),
        "run_s_p95": pct(times, 0.95),
        "run_s_max": max(times),
        "wall_s": time.perf_counter() - started,
    }


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=200)
    ap.add_argument("--fault-rate", type=float, default=0.3)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--retry-after", default="0.5", help="Retry-After the stub sends with 429 (seconds)")
    ap.add_argument("--latency", type=float, default=0.2, help="delay of a 'latency' fault (seconds)")
    ap.add_argument("--backoff", type=float, default=0.1, help="llm.backoff_initial_s")
    ap.add_argument("--max-retries", type=int, default=3)
    args = ap.parse_args(argv)

    questions = [q["question"] for q in json.loads(QUESTIONS.read_text())]
    llm = {
        "api_key": "sk-bench-not-a-real-key",
        "max_retries": args.max_retries,
        "backoff_initial_s": args.backoff,
        "backoff_max_s": 2.0,
        "timeout_s": 10.0,
    }
    rows = []
    with tempfile.TemporaryDirectory() as tmp, StubOpenAI(responder=respond) as stub:
        stub.retry_after = args.retry_after
        stub.latency_s = args.latency
        index_dir = Path(tmp) / "idx"
        builder = Agent(
            index_dir, settings=Settings(checkpointer="none", embedder="hashing", llm={"backend": "offline"})
        )  # type: ignore[arg-type]
        builder.ingest(SAMPLE)
        builder.close()
        common = {"runs": args.runs, "seed": args.seed, "llm": llm}
        rows.append(scenario("no faults", stub, index_dir, questions, fault_rate=0.0, kinds=TRANSIENT, **common))  # type: ignore[arg-type]
        rows.append(
            scenario("transient", stub, index_dir, questions, fault_rate=args.fault_rate, kinds=TRANSIENT, **common)  # type: ignore[arg-type]
        )
        # Random 400/401s stand in for a server that fails at any moment; under the default
        # on_failure="auto" such a refusal stops the run as a configuration error, so this scenario
        # measures the degrade policy that finishes every run offline instead.
        degrade = {**common, "llm": {**llm, "on_failure": "degrade"}}
        rows.append(
            scenario(
                "all kinds", stub, index_dir, questions, fault_rate=args.fault_rate, kinds=list(FAULT_KINDS), **degrade
            )  # type: ignore[arg-type]
        )
    base = rows[0]
    for row in rows:
        row["extra_s_mean"] = row["run_s_mean"] - base["run_s_mean"]
        row["extra_s_p95"] = row["run_s_p95"] - base["run_s_p95"]

    header = (
        f"{'scenario':<11} {'runs':>5} {'faults':>7} {'answered':>9} {'on LLM':>7} {'degraded':>9} {'errors':>6} "
        f"{'calls/run':>9} {'run s p50':>9} {'p95':>6} {'extra mean':>10} {'extra p95':>9}"
    )
    print(header)
    print("-" * len(header))
    for r in rows:
        print(
            f"{r['scenario']:<11} {r['runs']:>5} {sum(r['faults_injected'].values()):>7} "
            f"{r['completed_with_answer']:>9.1%} {r['fully_on_llm']:>7.1%} {r['degraded']:>9.1%} {r['errors']:>6} "
            f"{r['calls_per_run_mean']:>9.2f} {r['run_s_p50']:>9.3f} {r['run_s_p95']:>6.3f} "
            f"{r['extra_s_mean']:>+10.3f} {r['extra_s_p95']:>+9.3f}"
        )
    for r in rows[1:]:
        print(f"{r['scenario']}: faults {r['faults_injected']}; degraded because {r['degraded_reasons']}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / "llm_faults.json"
    out.write_text(json.dumps({"args": vars(args), "scenarios": rows}, indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
