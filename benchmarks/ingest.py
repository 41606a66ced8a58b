"""Ingestion cost against the floor: how much longer `Agent.ingest` takes than embedding each pooled
HotpotQA paragraph once with sentence-transformers, for the index settings that decide what is embedded.

    python -m benchmarks.ingest

Each configuration ingests the 991 pooled dev paragraphs into a fresh index (bundled MiniLM, model
loaded and warmed before the clock starts). Writes `benchmarks/results/ingest.json`.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from agent import Agent, Settings
from benchmarks.hotpot import load_questions, materialise, pooled_corpus, print_table, write_results
from benchmarks.retrieval import raw_embedding_time

CONFIGS: dict[str, dict[str, Any]] = {
    "default (leaves, sentences, mean section vectors)": {},
    "embed_sentences=False": {"embed_sentences": False},
    "section_vectors=text (the pre-#12 default)": {"section_vectors": "text"},
}


def main() -> int:
    corpus = pooled_corpus(load_questions())
    folder = materialise(corpus, "pooled-ingest")
    raw = raw_embedding_time([f"{title}. {text}" for title, text in corpus.items()])
    rows: list[dict[str, Any]] = [
        {"config": "raw: each paragraph embedded once", "seconds": round(raw, 1), "x_raw": 1.0}
    ]
    for name, index in CONFIGS.items():
        work = Path(tempfile.mkdtemp(prefix="hragent-ingest-"))
        agent = Agent(work / "idx", settings=Settings(checkpointer="none", llm={"backend": "offline"}, index=index))  # type: ignore[arg-type]
        agent.embedder.embed(["warm up"])
        t0 = time.perf_counter()
        report = agent.ingest(folder)
        elapsed = time.perf_counter() - t0
        agent.close()
        shutil.rmtree(work, ignore_errors=True)
        rows.append(
            {
                "config": name,
                "seconds": round(elapsed, 1),
                "x_raw": round(elapsed / raw, 2),
                "vectors": report.embedded,
                "paragraphs_per_s": round(len(corpus) / elapsed, 1),
            }
        )
        print(f"  {name}: {elapsed:.1f}s", flush=True)
    print_table(rows, ["config", "seconds", "x_raw", "vectors", "paragraphs_per_s"])
    path = write_results("ingest", {"paragraphs": len(corpus), "rows": rows})
    print(f"\nwrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
