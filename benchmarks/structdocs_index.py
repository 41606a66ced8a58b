"""Cached hragent indexes of the structured-documents corpus, shared by `benchmarks.structdocs`
(retrieval) and `benchmarks.longdocs_agent` (agent runs).

An index lives under `CACHE/structdocs/NAME-KEY`, KEY hashing the index settings, the manuals and
any withheld pages, so different corpora never share a folder. Set `HRAGENT_BENCH_CACHE` (see
`benchmarks.hotpot`) to share built indexes and cached MiniLM vectors between checkouts.
Sentence vectors are off (`embed_sentences=False`): on a contended 2-core machine they are most of
the ingest time, and only the `sentence_window` strategy reads them.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from agent import Agent, Settings
from benchmarks.embed_cache import CachingEmbedder
from benchmarks.hotpot import CACHE
from benchmarks.structdocs_corpus import corpus_files, page_of

INDEX_SETTINGS: dict[str, Any] = {"embed_sentences": False}


def bench_embedder() -> str:
    """The embedder spec the structured-docs indexes are built with: `HRAGENT_BENCH_EMBEDDER`
    (e.g. `minilm-int8`, to measure an encoding's answer recall), else the default `minilm`."""
    return os.environ.get("HRAGENT_BENCH_EMBEDDER", "minilm").strip() or "minilm"


def make_embedder() -> CachingEmbedder:
    from tools.embeddings import make_embedder as _make

    return CachingEmbedder(_make(bench_embedder()))


def index_folder(name: str, manuals: Sequence[str], withheld: Sequence[str] = ()) -> Path:
    spec: dict[str, Any] = {"index": INDEX_SETTINGS, "manuals": sorted(manuals), "withheld": sorted(withheld)}
    if bench_embedder() != "minilm":  # another encoding's vectors live in a folder of their own
        spec["embedder"] = bench_embedder()
    key = hashlib.sha1(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:8]
    return CACHE / "structdocs" / f"{name}-{key}"


def build_index(
    manuals: Sequence[str],
    embedder: CachingEmbedder,
    *,
    withheld: Sequence[str] = (),
    name: str = "tree",
    settings: dict[str, Any] | None = None,
    roles: Any = None,
) -> tuple[Agent, dict[str, Any]]:
    """Ingest the manuals (minus `withheld` pages, written as gold pages are) into a cached folder.
    Re-running is a no-op for unchanged files; the first (cold) build's time is kept in its meta file."""
    files = [f for f in corpus_files(manuals) if page_of(str(f)) not in set(withheld)]
    folder = index_folder(name, manuals, withheld)
    base: dict[str, Any] = {"checkpointer": "none", "llm": {"backend": "offline"}, "index": dict(INDEX_SETTINGS)}
    for key, value in (settings or {}).items():
        base[key] = {**base[key], **value} if isinstance(value, dict) and isinstance(base.get(key), dict) else value
    agent = Agent(folder, settings=Settings(**base), embedder=embedder, roles=roles)  # type: ignore[arg-type]
    before = embedder.encoded
    t0 = time.perf_counter()
    report = agent.ingest(files)
    elapsed = time.perf_counter() - t0
    meta_path = folder / "structdocs_build.json"
    meta = json.loads(meta_path.read_text()) if meta_path.exists() else {}
    if report.added or report.updated or not meta:
        meta = {
            "ingest_s": round(elapsed, 1),
            "pages": len(files),
            "encoded": embedder.encoded - before,
            "nodes": report.nodes,
            "pages_per_s": round(len(report.added) / elapsed, 2) if elapsed and report.added else None,
        }
        meta_path.write_text(json.dumps(meta))
    if report.skipped:
        raise SystemExit(f"ingest skipped {len(report.skipped)} page(s): {report.skipped[:3]}")
    return agent, meta


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m benchmarks.structdocs_index [MANUAL ...]`: build (or check) the cached index."""
    manuals = list(argv if argv is not None else sys.argv[1:]) or ["click", "requests", "git", "flask"]
    _, meta = build_index(manuals, make_embedder())
    print(json.dumps(meta))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
