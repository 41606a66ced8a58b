"""Bring-your-own-model quality benchmark: the LLM path next to the offline engine on the same
index, with answer F1 / EM, supporting-sentence precision of the citations, abstention, and calls,
tokens and seconds per question and per role (reader, drafter, verifier, composer, planner).

    python -m benchmarks.llm_quality --base-url http://127.0.0.1:8000/v1 --model Qwen/Qwen2.5-7B-Instruct
    python -m benchmarks.llm_quality --model gpt-4o-mini            # OPENAI_API_KEY from the environment
    python -m benchmarks.llm_quality --smoke                         # CI: the stub server, no model needed

Question sets: `hotpot` (the shared HotpotQA dev-100, pooled index; questions 0-49 were used to
tune the offline engine, 50-99 are held out), `longdocs` (the structured-docs questions of
`benchmarks/data/longdocs_questions.json` over the python3-doc and git-doc pages; `--split test`,
the even ids, is the one not tuned on; citation precision is page-level there) and `sample` (the
bundled sample corpus's own questions). `--smoke` runs the sample set against the local stub (`tests/support/stub_openai.py`)
whose "model" is a deterministic schema-filler that asks for one follow-up hop per subgoal
(`llm_responder.hopping`): its quality numbers mean nothing, its calls and tokens show the call
economy — with `--compare-follow-up` each set also runs with `llm.prompt.follow_up_evidence="all"`
(every gathered sentence re-sent on a follow-up hop, the behaviour before #16).
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

import argparse
import json
import statistics
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import structlog

from agent import Agent, RunResult, Settings
from agent.logging import configure_logging
from benchmarks.hotpot import RESULTS, ROOT, exact_match, f1_score, load_questions, normalize_answer

SAMPLE = ROOT / "agent" / "sample_corpus"
SAMPLE_QUESTIONS = ROOT / "tests" / "fixtures" / "sample_corpus_questions.json"
FOLLOW_UP_ALL = "llm, follow-up sends all"


def _sentence_match(quote: str, gold: str) -> bool:
    q, g = normalize_answer(quote), normalize_answer(gold)
    return bool(q and g) and (q in g or g in q or f1_score(quote, gold) >= 0.8)


def citation_precision(record: dict[str, Any], result: RunResult) -> float:
    """Share of citations on gold: a gold supporting sentence, or (longdocs) a gold page."""
    if not result.citations:
        return 0.0
    if "gold_pages" in record:
        from benchmarks.longdocs_corpus import page_of

        return sum(page_of(c.source) in record["gold_pages"] for c in result.citations) / len(result.citations)
    gold = record["gold_sentences"]
    return sum(any(_sentence_match(c.quote, g) for g in gold) for c in result.citations) / len(result.citations)


def score(record: dict[str, Any], result: RunResult, calls: list[dict[str, Any]]) -> dict[str, Any]:
    answers = record.get("answers") or [record["answer"]]
    roles: dict[str, dict[str, float]] = defaultdict(lambda: {"calls": 0, "tokens": 0, "seconds": 0.0})
    for call in calls:
        role = roles[call.get("role") or "role"]
        role["calls"] += 1
        role["tokens"] += int(call.get("tokens", 0))
        role["seconds"] += float(call.get("ms", 0.0)) / 1000
    abstained = not result.short_answer.strip()
    return {
        "em": max(exact_match(result.short_answer, a) for a in answers),
        "f1": max(f1_score(result.short_answer, a) for a in answers),
        "citation_precision": citation_precision(record, result),
        "abstained": float(abstained),
        "degraded": float(bool(result.degraded)),
        "calls": result.stats.llm_calls,
        "tokens": result.stats.tokens,
        "seconds": result.stats.elapsed_s,
        "hops": result.stats.hops,
        "roles": dict(roles),
    }


@contextmanager
def recorded_calls() -> Iterator[list[dict[str, Any]]]:
    """The `llm.called` events (role, tokens, ms) of everything run inside."""
    configure_logging("DEBUG", force=True)
    try:
        with structlog.testing.capture_logs() as events:
            out: list[dict[str, Any]] = []
            yield out
            out.extend(e for e in events if e.get("event") == "llm.called")
    finally:
        configure_logging("WARNING", force=True)


def run_set(agent: Agent, records: list[dict[str, Any]], label: str) -> list[dict[str, Any]]:
    rows = []
    t0 = time.perf_counter()
    for n, rec in enumerate(records, start=1):
        with recorded_calls() as calls:
            result = agent.run(rec["question"])
        rows.append(score(rec, result, calls) | {"q": n - 1})
        if n % 20 == 0:
            print(f"  [{label}] {n}/{len(records)} {time.perf_counter() - t0:.0f}s", flush=True)
    return rows


def summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    keys = ["em", "f1", "citation_precision", "abstained", "degraded", "calls", "tokens", "seconds", "hops"]
    out: dict[str, Any] = {k: round(statistics.fmean(r[k] for r in rows), 4) for k in keys} | {"n": len(rows)}
    roles: dict[str, dict[str, float]] = defaultdict(lambda: {"calls": 0.0, "tokens": 0.0, "seconds": 0.0})
    for row in rows:
        for role, spent in row["roles"].items():
            for k, v in spent.items():
                roles[role][k] += v / len(rows)
    out["per_role"] = {r: {k: round(v, 3) for k, v in d.items()} for r, d in sorted(roles.items())}
    return out


# ---------------------------------------------------------------- question sets
def sample_set() -> tuple[list[dict[str, Any]], Path]:
    return json.loads(SAMPLE_QUESTIONS.read_text()), SAMPLE


def hotpot_set(tmp: Path, limit: int) -> tuple[list[dict[str, Any]], Path]:
    from benchmarks.hotpot import gold_sentences, materialise, pooled_corpus

    records = load_questions()[:limit]
    folder = materialise(pooled_corpus(records), f"llm-quality-{len(records)}")
    out = [{"question": r["question"], "answer": r["answer"], "gold_sentences": gold_sentences(r)} for r in records]
    return out, folder


def longdocs_set(split: str) -> tuple[list[dict[str, Any]], list[Path]]:
    from benchmarks.longdocs_corpus import corpus_files
    from benchmarks.longdocs_corpus import load_questions as load_longdocs

    questions = [q for q in load_longdocs() if split in ("all", q.split)]
    records = [
        {"question": q.question, "answer": q.answers[0], "answers": list(q.answers), "gold_pages": list(q.gold_pages)}
        for q in questions
    ]
    return records, corpus_files()


def index_for(folder: Path | list[Path], where: Path, embedder: str) -> Path:
    settings = Settings(checkpointer="none", embedder=embedder, llm={"backend": "offline"})  # type: ignore[arg-type]
    with Agent(where, settings=settings) as agent:
        agent.ingest(folder)
    return where


def print_rows(table: dict[str, dict[str, Any]]) -> None:
    cols = ["n", "em", "f1", "citation_precision", "abstained", "degraded", "calls", "tokens", "seconds", "hops"]
    print(f"{'engine':<26}" + "".join(f"{c[:10]:>11}" for c in cols))
    for name, s in table.items():
        print(f"{name:<26}" + "".join(f"{s[c]:>11.4g}" for c in cols))
    for name, s in table.items():
        if s["per_role"]:
            print(f"{name}: per role (mean per question): {json.dumps(s['per_role'])}")
    now, before = table.get("llm", {}).get("per_role", {}), table.get(FOLLOW_UP_ALL, {}).get("per_role", {})
    if "reader.follow_up" in now and "reader.follow_up" in before:
        new, old = now["reader.follow_up"]["tokens"], before["reader.follow_up"]["tokens"]
        print(f"follow-up reads: {new:.0f} tokens per question, {new / old:.1%} of re-sending everything ({old:.0f})")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--base-url", default=None)
    ap.add_argument("--model", default="gpt-4o-mini")
    ap.add_argument("--provider", default="auto", help="llm.provider (auto: from the base URL and model)")
    ap.add_argument("--api-key-env", default="OPENAI_API_KEY")
    ap.add_argument("--set", choices=["hotpot", "longdocs", "sample"], default="hotpot")
    ap.add_argument("--split", choices=["dev", "test", "all"], default="test", help="longdocs split")
    ap.add_argument("--questions", type=int, default=100)
    ap.add_argument("--embedder", default="minilm", help="embedder of the benchmark index (hashing: fastest)")
    ap.add_argument("--smoke", action="store_true", help="the local stub server and the sample set (CI)")
    ap.add_argument("--compare-follow-up", action="store_true", help="also run with follow_up_evidence='all'")
    ap.add_argument("--out", type=Path, default=None, help="JSON results path (default: benchmarks/results/)")
    args = ap.parse_args(argv)

    stub = None
    if args.smoke:
        from tests.support.llm_responder import hopping
        from tests.support.stub_openai import StubOpenAI

        stub = StubOpenAI(responder=hopping)
        args.base_url, args.set, args.embedder, args.provider = stub.base_url, "sample", "hashing", "openai"
    key = os.environ.get(args.api_key_env) or ("sk-stub" if stub else None)
    llm: dict[str, Any] = {"backend": "openai", "model": args.model, "provider": args.provider, "on_failure": "degrade"}
    if args.base_url:
        llm["base_url"] = args.base_url
    if key:
        llm["api_key"] = key
    table: dict[str, dict[str, Any]] = {}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            folder: Path | list[Path]
            if args.set == "sample":
                records, folder = sample_set()
            elif args.set == "longdocs":
                records, folder = longdocs_set(args.split)
            else:
                records, folder = hotpot_set(Path(tmp), args.questions)
            records = records[: args.questions]
            index = index_for(folder, Path(tmp) / "idx", args.embedder)
            variants: list[tuple[str, dict[str, Any]]] = [("offline", {"backend": "offline"}), ("llm", llm)]
            if args.compare_follow_up:
                variants.append((FOLLOW_UP_ALL, {**llm, "prompt": {"follow_up_evidence": "all"}}))
            for name, llm_settings in variants:
                settings = Settings(checkpointer="none", embedder=args.embedder, llm=llm_settings)  # type: ignore[arg-type]
                with Agent(index, settings=settings) as agent:
                    table[name] = summary(run_set(agent, records, name))
    finally:
        if stub is not None:
            stub.close()
    print(f"set={args.set} n={len(records)} model={args.model if not args.smoke else 'stub'}")
    print_rows(table)
    out = args.out or RESULTS / ("llm_quality_smoke.json" if args.smoke else "llm_quality.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"args": {k: str(v) for k, v in vars(args).items()}, "engines": table}, indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
