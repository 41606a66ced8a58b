"""Where an index's bytes go, per leaf: SQLite tables of `tree.sqlite` and of Chroma's database, and
Chroma's HNSW files, for a synthetic corpus of N Markdown pages (or a folder of documents).

    python -m benchmarks.ingest_disk [--pages 2000] [--folder DIR] [--embedder hashing-384] [--keep DIR]

The hashing embedder (384 dimensions, like MiniLM) keeps the build minutes long on 2 cores: disk
depends on how many nodes, rows and vectors of which width are stored, not on what the vectors mean.
Pages are `benchmarks.ingest_memory`'s invented manual pages. Sizes come from SQLite's `dbstat`
(pages in use per table or index) and the files themselves. Writes `benchmarks/results/ingest_disk.json`.
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from agent import Agent, Settings
from benchmarks.hotpot import write_results
from benchmarks.ingest_memory import write_pages


def table_bytes(db_file: Path) -> dict[str, int]:
    """Bytes of pages each table and index of an SQLite file uses (its `dbstat` view)."""
    conn = sqlite3.connect(f"file:{db_file}?mode=ro", uri=True)
    try:
        rows = conn.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name").fetchall()
    finally:
        conn.close()
    return {str(name): int(size) for name, size in rows}


def breakdown(index_dir: Path) -> dict[str, Any]:
    """Bytes by component of an embedded index directory, and its live leaf count."""
    conn = sqlite3.connect(f"file:{index_dir / 'tree.sqlite'}?mode=ro", uri=True)
    try:
        leaves = conn.execute(
            "SELECT COUNT(*) FROM nodes n JOIN docs d ON d.doc_id = n.doc_id AND d.version = n.version"
            " WHERE n.level = 'leaf'"
        ).fetchone()[0]
        levels = dict(conn.execute("SELECT level, COUNT(*) FROM nodes GROUP BY level").fetchall())
    finally:
        conn.close()
    parts: dict[str, int] = {f"tree.sqlite: {k}": v for k, v in table_bytes(index_dir / "tree.sqlite").items()}
    chroma_db = index_dir / "chroma" / "chroma.sqlite3"
    if chroma_db.exists():
        parts.update({f"chroma.sqlite3: {k}": v for k, v in table_bytes(chroma_db).items()})
    for f in sorted((index_dir / "chroma").rglob("*")) if (index_dir / "chroma").exists() else []:
        if f.is_file() and f.suffix != ".sqlite3" and "-wal" not in f.name and "-shm" not in f.name:
            key = f"chroma HNSW: {f.name}"
            parts[key] = parts.get(key, 0) + f.stat().st_size
    total = sum(f.stat().st_size for f in index_dir.rglob("*") if f.is_file())
    return {"leaves": int(leaves), "nodes_by_level": levels, "total_bytes": total, "parts": parts}


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pages", type=int, default=2000, help="synthetic pages (ignored with --folder)")
    ap.add_argument("--folder", help="ingest this folder instead of synthetic pages")
    ap.add_argument("--embedder", default="hashing-384")
    ap.add_argument("--keep", help="build the index here and keep it (default: a scratch folder)")
    args = ap.parse_args(argv)
    scratch = Path(tempfile.mkdtemp(prefix="hragent-ingest-disk-"))
    try:
        docs = Path(args.folder) if args.folder else scratch / "docs"
        if not args.folder:
            write_pages(docs, args.pages)
        index_dir = Path(args.keep) if args.keep else scratch / "idx"
        settings = Settings(checkpointer="none", llm={"backend": "offline"}, embedder=args.embedder)  # type: ignore[arg-type]
        agent = Agent(index_dir, settings=settings)
        t0 = time.perf_counter()
        report = agent.ingest(docs)
        elapsed = time.perf_counter() - t0
        agent.close()
        found = breakdown(index_dir)
        leaves = max(found["leaves"], 1)
        print(
            f"{report.documents} documents, {found['leaves']:,} leaves, {report.embedded:,} vectors, "
            f"ingest {elapsed:.0f}s; nodes by level {found['nodes_by_level']}"
        )
        for name, size in sorted(found["parts"].items(), key=lambda kv: -kv[1]):
            if size / leaves >= 20:
                print(f"  {name:60s} {size / leaves:8.0f} B/leaf")
        print(f"total {found['total_bytes'] / 1024 / leaves:.2f} KB/leaf ({found['total_bytes'] / 2**20:.1f} MiB)")
        payload = {
            "corpus": args.folder or f"{args.pages} synthetic pages",
            "embedder": args.embedder,
            "documents": report.documents,
            "vectors": report.embedded,
            "ingest_s": round(elapsed, 1),
            **found,
            "kb_per_leaf": round(found["total_bytes"] / 1024 / leaves, 2),
        }
        print(f"wrote {write_results('ingest_disk', payload)}")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
