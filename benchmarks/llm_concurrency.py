"""Concurrent reads of independent subgoals (#16), against a slow local stub model: a task the
stub plans as three independent subgoals, run with the reads overlapped (the default for LLM
solvers) and one after another, on `run` and `arun`; calls, tokens, seconds per question, the
stub's own record of how many reads were in flight at once, and the share of reads the OpenAI
SDK's async client sent (awaited on the event loop, not sent from a worker thread).

    python -m benchmarks.llm_concurrency --delay 0.3 --runs 3

The stub's "model" answers every request after `--delay` seconds (nothing else is slow), so the
seconds show the model waits the reads save; the numbers say nothing about a real model.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from agent import Agent, Settings
from benchmarks.hotpot import RESULTS
from benchmarks.llm_quality import SAMPLE
from graphs.roles.llm.solver import LLMSolver
from tests.support.llm_responder import respond
from tests.support.stub_openai import StubOpenAI
from tools.embeddings import HashingEmbedder

# An invented three-part task over the bundled sample corpus (no benchmark question).
TASK = "Tell me where Lakeside Works is, who leads the Halden Research Lab, and what the Kestrel is."
PARTS = ["Where is Lakeside Works located?", "Who leads the Halden Research Lab?", "What is the Kestrel?"]


def three_parts(body: dict[str, Any]) -> dict[str, Any]:
    if body.get("tools") and body["tools"][0]["function"]["name"] == "submit_plan":
        plan = {"kind": "conjunction", "subgoals": [{"query": q, "kind": "lookup", "depends_on": []} for q in PARTS]}
        return {"content": None, "tool_calls": [{"name": "submit_plan", "arguments": plan}]}
    return respond(body)


def _reads(requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in requests if "submit_reading" in json.dumps((r["json"] or {}).get("tools") or [])]


def most_in_flight(requests: list[dict[str, Any]]) -> int:
    """The largest number of reading requests the stub was answering at one moment."""
    reads = _reads(requests)
    return max((sum(1 for o in reads if o["t"] <= r["t"] < o["t_end"]) for r in reads), default=0)


def async_share(requests: list[dict[str, Any]]) -> float:
    """Share of reads sent by the OpenAI SDK's async client (its `X-Stainless-Async` header), i.e.
    awaited on the event loop rather than sent from a worker thread."""
    reads = _reads(requests)
    sent_async = [
        r for r in reads if {k.lower(): v for k, v in r["headers"].items()}.get("x-stainless-async", "false") != "false"
    ]
    return len(sent_async) / len(reads) if reads else 0.0


def measure(agent: Agent, stub: StubOpenAI, runs: int, *, concurrent: bool, use_async: bool) -> dict[str, Any]:
    LLMSolver.reads_concurrently = concurrent
    rows = []
    for _ in range(runs):
        stub.reset()
        t0 = time.perf_counter()
        result = asyncio.run(agent.arun(TASK)) if use_async else agent.run(TASK)
        rows.append(
            {
                "seconds": time.perf_counter() - t0,
                "calls": result.stats.llm_calls,
                "tokens": result.stats.tokens,
                "in_flight": most_in_flight(stub.requests),
                "async_reads": async_share(stub.requests),
                "degraded": bool(result.degraded),
            }
        )
    LLMSolver.reads_concurrently = True
    return {k: round(statistics.fmean(float(r[k]) for r in rows), 3) for k in rows[0]} | {"runs": runs}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--delay", type=float, default=0.3, help="seconds the stub model takes per answer")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--out", type=Path, default=RESULTS / "llm_concurrency.json")
    args = ap.parse_args(argv)
    table: dict[str, dict[str, Any]] = {}
    with StubOpenAI(responder=three_parts) as stub, tempfile.TemporaryDirectory() as tmp:
        stub.latency_s, stub.chat_delay_s = 0.0, args.delay
        llm = {"backend": "openai", "base_url": stub.base_url, "api_key": "sk-stub", "max_retries": 0}
        settings = Settings(checkpointer="memory", llm=llm)  # type: ignore[arg-type]
        with Agent(Path(tmp) / "idx", settings=settings, embedder=HashingEmbedder()) as agent:
            agent.ingest(SAMPLE)
            agent.run(TASK)  # warm-up: opens the index and the HTTP pool before any clock
            for api in ("run", "arun"):
                for concurrent in (False, True):
                    name = f"{api}, reads {'concurrent' if concurrent else 'one by one'}"
                    table[name] = measure(agent, stub, args.runs, concurrent=concurrent, use_async=api == "arun")
    print(f"three independent subgoals, stub model {args.delay:.2f} s per answer, {args.runs} runs each")
    cols = ["seconds", "calls", "tokens", "in_flight", "async_reads", "degraded"]
    print(f"{'':<28}" + "".join(f"{c:>12}" for c in cols))
    for name, row in table.items():
        print(f"{name:<28}" + "".join(f"{row[c]:>12.4g}" for c in cols))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"delay_s": args.delay, "runs": args.runs, "rows": table}, indent=2))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
