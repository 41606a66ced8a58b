"""Memory of a large ingest: a synthetic corpus of N Markdown pages ingested into the default index,
with the process's resident memory sampled throughout (peak, and the level after each tenth).

    python -m benchmarks.ingest_memory [--pages 10000] [--embedder hashing-384]

The hashing embedder (384 dimensions, like MiniLM) keeps the run minutes long on 2 cores: memory
depends on how many documents, trees and vectors are held at once, not on what the vectors mean.
Pages are invented (each ~5 sections of 2-3 paragraphs of recombined filler sentences, ~3 KB).
Bounded memory shows as a flat RSS curve: the tenth-by-tenth levels stop growing with the corpus.
Writes `benchmarks/results/ingest_memory.json`.
"""

from __future__ import annotations

import argparse
import random
import shutil
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import psutil

from agent import Agent, Settings
from benchmarks.hotpot import write_results

WORDS = [
    "valve",
    "gasket",
    "lever",
    "spindle",
    "bracket",
    "hinge",
    "dial",
    "gauge",
    "filter",
    "nozzle",
    "ratchet",
    "pulley",
    "sprocket",
    "clamp",
    "bearing",
    "coupling",
    "flange",
    "washer",
    "rivet",
    "socket",
    "spring",
    "latch",
    "trigger",
    "shutter",
    "rotor",
    "piston",
    "chamber",
    "adjust",
    "tighten",
    "loosen",
    "inspect",
    "replace",
    "rotate",
    "align",
    "press",
    "release",
    "clean",
    "check",
    "lubricate",
    "calibrate",
]


def write_pages(folder: Path, pages: int, seed: int = 7) -> int:
    """Invented manual pages; returns the characters written."""
    rng = random.Random(seed)
    total = 0
    for p in range(pages):
        parts = [f"# Part {p}: the {rng.choice(WORDS)} {rng.choice(WORDS)}\n"]
        for s in range(rng.randint(4, 6)):
            parts.append(f"\n## Step {s}: {rng.choice(WORDS)} the {rng.choice(WORDS)}\n")
            for _ in range(rng.randint(2, 3)):
                sentences = [
                    " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 16))).capitalize() + "."
                    for _ in range(rng.randint(3, 5))
                ]
                parts.append("\n" + " ".join(sentences) + "\n")
        text = "".join(parts)
        sub = folder / f"{p // 1000:02d}"
        sub.mkdir(parents=True, exist_ok=True)
        (sub / f"page{p:05d}.md").write_text(text)
        total += len(text)
    return total


class RssSampler:
    """Samples this process's RSS every `interval` seconds on a background thread."""

    def __init__(self, interval: float = 0.2) -> None:
        self.proc = psutil.Process()
        self.interval = interval
        self.peak = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def now(self) -> float:
        return float(self.proc.memory_info().rss / 2**20)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.now())
            time.sleep(self.interval)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pages", type=int, default=10_000)
    ap.add_argument("--embedder", default="hashing-384")
    args = ap.parse_args(argv)
    scratch = Path(tempfile.mkdtemp(prefix="hragent-ingest-memory-"))
    try:
        chars = write_pages(scratch / "docs", args.pages)
        print(f"{args.pages} pages, {chars:,} characters", flush=True)
        settings = Settings(checkpointer="none", llm={"backend": "offline"}, embedder=args.embedder)  # type: ignore[arg-type]
        agent = Agent(scratch / "idx", settings=settings)
        agent.embedder.embed(["warm up"])
        levels: list[dict[str, Any]] = []
        with RssSampler() as rss:
            start_mb = rss.now()

            def progress(event: str, done: int, total: int) -> None:
                if event == "file" and total and done and (not levels or done - levels[-1]["pages"] >= total // 10):
                    levels.append(
                        {"pages": done, "rss_mb": round(rss.now(), 1), "s": round(time.perf_counter() - t0, 1)}
                    )
                    print(f"  {done}/{total} pages, RSS {levels[-1]['rss_mb']} MiB", flush=True)

            t0 = time.perf_counter()
            report = agent.ingest(scratch / "docs", progress=progress)
            elapsed = time.perf_counter() - t0
        stats = agent.index.stats()
        agent.close()
        disk = sum(f.stat().st_size for f in (scratch / "idx").rglob("*") if f.is_file())
        leaves = int(stats["levels"].get("leaf", 0))
        payload = {
            "pages": args.pages,
            "characters": chars,
            "embedder": args.embedder,
            "seconds": round(elapsed, 1),
            "pages_per_s": round(args.pages / elapsed, 1),
            "nodes": report.nodes,
            "vectors": report.embedded,
            "leaves": leaves,
            "rss_start_mb": round(start_mb, 1),
            "rss_peak_mb": round(rss.peak, 1),
            "levels": levels,
            "disk_kb_per_leaf": round(disk / 1024 / max(leaves, 1), 2),
        }
        print(
            f"ingest {elapsed:.0f}s ({payload['pages_per_s']} pages/s), {leaves} leaves, RSS start "
            f"{payload['rss_start_mb']} MiB, peak {payload['rss_peak_mb']} MiB; disk {payload['disk_kb_per_leaf']} KB/leaf"
        )
        print(f"wrote {write_results('ingest_memory', payload)}")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
