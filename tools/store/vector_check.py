"""Is Chroma's HNSW segment whole? (#19: the integrity check read only Chroma's SQLite metadata.)

When embedded writers raced (RESULTS.md #19, sixth session), the vector segment lost records that
Chroma's metadata still listed: every `get` with embeddings and some queries then failed with
"Error finding id", and the segment files grew far past their vectors, while `check()` said clean.
The metadata pass cannot see that, so this reads the vectors themselves: every visible node's vector
in batches (one Chroma call per `BATCH` ids, the same order of cost as the metadata pass), one query
per level, and the segment's files against what its vectors need. A broken segment cannot be
repaired in place (the vectors are gone from it and Chroma purged its write log), so the hint is to
rebuild from the sources.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from tools.store.chroma_vectors import ChromaVectors

BATCH = 2000
# Ids retried one by one after a batch failed, to name the broken ones (at most this many per level).
MAX_SINGLE_RETRIES = 2000
# A segment's files may exceed what its vectors need (HNSW links, capacity grown in steps) by this
# factor plus a fixed allowance before they count as runaway (#19 saw 60 GB at ~8,000 leaves).
SIZE_FACTOR = 8
SIZE_ALLOWANCE = 64 * 2**20

REPAIR_HINT = (
    "the vector segment cannot be repaired in place: re-ingest the sources into a new index directory"
    " (`hragent ingest SRC --index NEW_DIR`) and switch to it; keep one writer process per embedded"
    " index or use the PostgreSQL backend for many writers"
)


@dataclass
class SegmentReport:
    """What reading one level's vectors found."""

    level: str
    checked: int = 0
    unreadable: list[str] = field(default_factory=list)  # ids whose vector Chroma could not return
    missing_from_batch: int = 0  # ids a batch returned no vector for, without an error
    errors: list[str] = field(default_factory=list)
    segment_bytes: int = 0

    @property
    def damaged(self) -> bool:
        return bool(self.unreadable or self.errors or self.missing_from_batch)


def check_level(chroma: ChromaVectors, level: str, node_ids: Sequence[str]) -> SegmentReport:
    """Read every vector of `node_ids`; a failing batch is retried id by id to find the broken ones."""
    report = SegmentReport(level)
    ids = list(node_ids)
    retries = 0
    first: np.ndarray | None = None
    for i in range(0, len(ids), BATCH):
        batch = ids[i : i + BATCH]
        try:
            got = chroma.get(level, batch)
        except Exception as exc:  # noqa: BLE001 - Chroma raises InternalError("Error finding id"), among others
            report.errors.append(_short(exc))
            for nid in batch:
                if retries >= MAX_SINGLE_RETRIES:
                    break
                retries += 1
                try:
                    if nid not in chroma.get(level, [nid]):
                        report.missing_from_batch += 1
                except Exception:  # noqa: BLE001 - any failure to read it back is the finding
                    report.unreadable.append(nid)
            continue
        report.checked += len(got)
        report.missing_from_batch += sum(1 for nid in batch if nid not in got)
        if first is None and got:
            first = next(iter(got.values()))
    if first is not None:
        try:
            chroma.query(level, first, 1, None, False)
        except Exception as exc:  # noqa: BLE001 - a failing query is the finding
            report.errors.append(f"query: {_short(exc)}")
        report.segment_bytes = segment_bytes(chroma, level)
        need = len(ids) * (first.shape[0] * 4 + 256)
        if report.segment_bytes > SIZE_FACTOR * need + SIZE_ALLOWANCE:
            report.errors.append(
                f"segment files hold {report.segment_bytes / 2**20:.0f} MiB for {len(ids)} vectors"
                f" (they need about {need / 2**20:.0f} MiB)"
            )
    report.errors = list(dict.fromkeys(report.errors))[:3]
    return report


def problems(report: SegmentReport) -> list[str]:
    """The report as `IndexCheck.problems` lines (the first one carries the repair hint)."""
    if not report.damaged:
        return []
    what = []
    if report.unreadable:
        what.append(f"{len(report.unreadable)} vector(s) cannot be read, e.g. {report.unreadable[0]}")
    if report.missing_from_batch:
        what.append(f"{report.missing_from_batch} vector(s) listed but not returned")
    what += report.errors
    return [f"damaged {report.level} vector segment: {'; '.join(what)}; {REPAIR_HINT}"]


def segment_bytes(chroma: ChromaVectors, level: str) -> int:
    """Bytes of the files of a level's HNSW segment in a `PersistentClient` directory (0 for a server)."""
    if chroma.client is None or chroma._given is not None:
        return 0
    db_file = chroma.path / "chroma" / "chroma.sqlite3"
    if not db_file.exists():
        return 0
    try:
        collection_id = str(chroma.collection(level).id)
        conn = sqlite3.connect(f"file:{db_file}?mode=ro", uri=True)
        try:
            rows: list[Any] = conn.execute(
                "SELECT id FROM segments WHERE collection=? AND scope='VECTOR'", (collection_id,)
            ).fetchall()
        finally:
            conn.close()
    except (sqlite3.Error, OSError):
        return 0
    total = 0
    for (segment_id,) in rows:
        folder = Path(chroma.path / "chroma" / str(segment_id))
        if folder.is_dir():
            total += sum(f.stat().st_size for f in folder.iterdir() if f.is_file())
    return total


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text[:160]}"
