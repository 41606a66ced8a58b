"""Concurrency and load: 16 concurrent `Agent.run` (threads) and `Agent.arun` (asyncio) on one index,
with and without an ingestion running, compared with the same questions run one at a time; then
memory (RSS) over 1,000 sequential runs with the default SQLite checkpointer.

    python -m benchmarks.concurrency [--embedder minilm|hashing] [--runs 1000] [--workers 16]

Corpus: HotpotQA dev-100 paragraphs (questions 1-20 indexed up front; the paragraphs of questions
21-40 are ingested while the concurrent runs go on). "Corrupted" means an exception, a result that
fails validation, or a citation whose quote is not verbatim in the file it names.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from agent import Agent, LLMSettings, RunResult, Settings
from benchmarks.hotpot import load_questions, materialise, pooled_corpus, print_table, write_results


def rss_mb() -> float:
    """Resident set size of this process in MiB (psutil when installed, else /proc)."""
    try:
        import psutil

        return float(psutil.Process().memory_info().rss) / 2**20
    except ImportError:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def fingerprint(result: RunResult) -> tuple[Any, ...]:
    return (
        result.short_answer,
        result.halt_reason,
        tuple((c.source, c.quote, c.start, c.end) for c in result.citations),
        tuple((c.text, c.verdict) for c in result.claims),
    )


_file_cache: dict[str, str] = {}


def corrupted(result: RunResult) -> list[str]:
    """Problems a reader would call corruption: unverifiable citations or an empty result."""
    problems = []
    if not result.halt_reason or not result.answer:
        problems.append("empty result")
    for cit in result.citations:
        if cit.source not in _file_cache:
            _file_cache[cit.source] = Path(cit.source).read_text(encoding="utf-8")
        if not cit.quote or cit.quote not in _file_cache[cit.source]:
            problems.append(f"quote not verbatim in {cit.source}")
    return problems


def timed(
    label: str, fn: Callable[[], list[RunResult]], baseline: dict[str, tuple[Any, ...]], tasks: list[str]
) -> dict[str, Any]:
    errors: list[str] = []
    t0 = time.perf_counter()
    try:
        results = fn()
    except Exception as exc:  # noqa: BLE001 - a benchmark reports failures instead of stopping at the first
        errors.append(f"{type(exc).__name__}: {exc}")
        results = []
    elapsed = time.perf_counter() - t0
    same = sum(1 for q, r in zip(tasks, results, strict=False) if fingerprint(r) == baseline.get(q))
    bad = [p for r in results for p in corrupted(r)]
    return {
        "phase": label,
        "runs": len(results),
        "errors": len(errors),
        "corrupted": len(bad),
        "same_as_sequential": f"{same}/{len(results)}",
        "runs_per_s": round(len(results) / elapsed, 2) if elapsed else 0.0,
        "elapsed_s": round(elapsed, 1),
        "details": errors + bad[:5],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--embedder", default=os.environ.get("HRAGENT_EMBEDDER", "minilm"))
    parser.add_argument("--runs", type=int, default=1000, help="sequential runs for the memory measurement")
    parser.add_argument("--workers", type=int, default=16)
    parser.add_argument("--questions", type=int, default=20)
    args = parser.parse_args(argv)

    records = load_questions()
    first, second = records[: args.questions], records[args.questions : 2 * args.questions]
    corpus_a = materialise(pooled_corpus(first), f"concurrency-a-{args.questions}")
    corpus_b = materialise(pooled_corpus(second), f"concurrency-b-{args.questions}")
    tasks = [r["question"] for r in first]
    work = Path(tempfile.mkdtemp(prefix="hragent-conc-"))
    settings = Settings(embedder=args.embedder, checkpointer="sqlite", llm=LLMSettings(backend="offline"))
    agent = Agent(work / "idx", settings=settings)
    rows: list[dict[str, Any]] = []
    memory: dict[str, Any] = {}
    check: dict[str, Any] = {}
    samples: list[tuple[int, float]] = []

    def save() -> Path:  # after every phase, so an interrupted run still leaves its numbers
        return write_results(
            "concurrency",
            {
                "embedder": args.embedder,
                "workers": args.workers,
                "phases": rows,
                "memory": memory,
                "index_check": check,
                "rss_samples": samples,
            },
        )

    try:
        t0 = time.perf_counter()
        report = agent.ingest(corpus_a)
        print(f"indexed {report.documents} paragraphs with {args.embedder} in {time.perf_counter() - t0:.1f}s")

        baseline = {q: fingerprint(agent.run(q)) for q in tasks}
        rows.append(timed("sequential (repeat)", lambda: [agent.run(q) for q in tasks], baseline, tasks))
        save()

        load = tasks * 2
        with ThreadPoolExecutor(max_workers=args.workers) as pool:
            rows.append(timed(f"{args.workers} threads", lambda: list(pool.map(agent.run, load)), baseline, load))
        save()

        async def gather() -> list[RunResult]:
            sem = asyncio.Semaphore(args.workers)

            async def one(q: str) -> RunResult:
                async with sem:
                    return await agent.arun(q)

            return list(await asyncio.gather(*(one(q) for q in load)))

        rows.append(timed(f"{args.workers} asyncio arun", lambda: asyncio.run(gather()), baseline, load))
        save()

        ingest_errors: list[str] = []
        ingest_report: dict[str, Any] = {}

        def ingest() -> None:
            try:
                ingest_report["report"] = agent.ingest(corpus_b)
            except Exception as exc:  # noqa: BLE001 - reported in the table
                ingest_errors.append(f"{type(exc).__name__}: {exc}")

        writer = threading.Thread(target=ingest)
        writer.start()
        with ThreadPoolExecutor(max_workers=args.workers) as pool:
            row = timed(f"{args.workers} threads + ingestion", lambda: list(pool.map(agent.run, load)), baseline, load)
        writer.join()
        row["errors"] += len(ingest_errors)
        row["details"] += ingest_errors
        rows.append(row)
        check = agent.check_index()
        save()
        added = len(ingest_report["report"].added) if "report" in ingest_report else 0
        print(
            f"ingestion during the runs added {added} paragraphs; index check ok={check['ok']} ({check['documents']} docs)"
        )

        gc.collect()
        t0 = time.perf_counter()
        for i in range(args.runs):
            agent.run(tasks[i % len(tasks)])
            if (i + 1) % 50 == 0 or i == 0:
                gc.collect()
                samples.append((i + 1, rss_mb()))
                if (i + 1) % 100 == 0:
                    print(f"  {i + 1} runs, RSS {samples[-1][1]:.1f} MiB", flush=True)
                    save()
        mem_elapsed = time.perf_counter() - t0
        ckpt = work / "idx" / "checkpoints.sqlite"
        warm = next((mb for n, mb in samples if n >= 100), samples[0][1])
        memory.update(
            {
                "runs": args.runs,
                "rss_first_mb": round(samples[0][1], 1),
                "rss_after_100_mb": round(warm, 1),
                "rss_last_mb": round(samples[-1][1], 1),
                "growth_after_warmup_mb": round(samples[-1][1] - warm, 1),
                "growth_per_100_runs_mb": round((samples[-1][1] - warm) / max(1, (samples[-1][0] - 100) / 100), 2),
                "checkpoint_db_mb": round(ckpt.stat().st_size / 2**20, 1) if ckpt.exists() else 0.0,
                "runs_per_s": round(args.runs / mem_elapsed, 2),
            }
        )
    finally:
        agent.close()
        shutil.rmtree(work, ignore_errors=True)

    print()
    print_table(rows, ["phase", "runs", "errors", "corrupted", "same_as_sequential", "runs_per_s", "elapsed_s"])
    print()
    print_table([memory], list(memory))
    for row in rows:
        for detail in row["details"]:
            print(f"  {row['phase']}: {detail}")
    print(f"\nwrote {save()}")
    failed = any(r["errors"] or r["corrupted"] for r in rows) or not check["ok"]
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
