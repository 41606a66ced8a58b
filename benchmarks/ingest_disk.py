"""Where an index's bytes go, per leaf: SQLite tables of `tree.sqlite` and of Chroma's database, and
Chroma's HNSW files, for a synthetic corpus of N Markdown pages (or a folder of documents).

    python -m benchmarks.ingest_disk [--pages 2000] [--every 4000] [--folder DIR] [--embedder hashing-384] [--keep DIR]

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
    vectors = 0
    if chroma_db.exists():
        parts.update({f"chroma.sqlite3: {k}": v for k, v in table_bytes(chroma_db).items()})
        chroma = sqlite3.connect(f"file:{chroma_db}?mode=ro", uri=True)
        try:
            vectors = int(chroma.execute("SELECT COUNT(*) FROM embeddings").fetchone()[0])
        finally:
            chroma.close()
    for f in sorted((index_dir / "chroma").rglob("*")) if (index_dir / "chroma").exists() else []:
        if f.is_file() and f.suffix != ".sqlite3" and "-wal" not in f.name and "-shm" not in f.name:
            key = f"chroma HNSW: {f.name}"
            parts[key] = parts.get(key, 0) + f.stat().st_size
    total = sum(f.stat().st_size for f in index_dir.rglob("*") if f.is_file())
    return {
        "leaves": int(leaves),
        "nodes_by_level": levels,
        "vectors_stored": vectors,
        "total_bytes": total,
        "parts": parts,
    }


def _report(found: dict[str, Any], pages: int, elapsed: float) -> dict[str, Any]:
    leaves = max(found["leaves"], 1)
    print(
        f"{pages} pages, {found['leaves']:,} leaves, {found['vectors_stored']:,} vectors stored, "
        f"ingest {elapsed:.0f}s so far; nodes by level {found['nodes_by_level']}"
    )
    for name, size in sorted(found["parts"].items(), key=lambda kv: -kv[1]):
        if size / leaves >= 20:
            print(f"  {name:60s} {size / leaves:8.0f} B/leaf")
    kb = found["total_bytes"] / 1024 / leaves
    print(f"total {kb:.2f} KB/leaf ({found['total_bytes'] / 2**20:.1f} MiB)", flush=True)
    return {"pages": pages, "ingest_s": round(elapsed, 1), **found, "kb_per_leaf": round(kb, 2)}


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pages", type=int, default=2000, help="synthetic pages (ignored with --folder)")
    ap.add_argument("--folder", help="ingest this folder instead of synthetic pages")
    ap.add_argument("--embedder", default="hashing-384")
    ap.add_argument("--keep", help="build the index here and keep it (default: a scratch folder)")
    ap.add_argument(
        "--every",
        type=int,
        default=0,
        help="also measure (and write the JSON) after every N synthetic pages, a multiple of 1000: a long"
        " build that is stopped still leaves its largest measured size",
    )
    ap.add_argument("--out", default="ingest_disk", help="results name or path")
    args = ap.parse_args(argv)
    scratch = Path(tempfile.mkdtemp(prefix="hragent-ingest-disk-"))
    try:
        docs = Path(args.folder) if args.folder else scratch / "docs"
        if not args.folder:
            write_pages(docs, args.pages)
        # Synthetic pages lie in folders of 1,000 (`write_pages`); ingested folder by folder when measuring on the way.
        batches = sorted(p for p in docs.iterdir() if p.is_dir()) if args.every and not args.folder else [docs]
        index_dir = Path(args.keep) if args.keep else scratch / "idx"
        settings = Settings(checkpointer="none", llm={"backend": "offline"}, embedder=args.embedder)  # type: ignore[arg-type]
        agent = Agent(index_dir, settings=settings)
        payload: dict[str, Any] = {
            "corpus": args.folder or f"{args.pages} synthetic pages",
            "embedder": args.embedder,
            "points": [],
        }
        elapsed = 0.0
        for i, batch in enumerate(batches, start=1):
            t0 = time.perf_counter()
            agent.ingest(batch)
            elapsed += time.perf_counter() - t0
            pages = min(i * 1000, args.pages) if len(batches) > 1 else args.pages
            if len(batches) > 1 and i < len(batches) and pages % args.every:
                continue
            point = _report(breakdown(index_dir), pages, elapsed)
            payload["points"].append(point)
            payload.update(point)  # the largest size measured so far, at the top level as before
            print(f"wrote {write_results(args.out, payload)}", flush=True)
        agent.close()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
