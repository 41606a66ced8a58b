"""Child process for the SIGKILL tests: ingests a corpus and optionally parks at a named point of the
write path (printing `AT <phase>`) so the parent can kill it exactly there. Test support, not a test."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

from tools.embeddings import HashingEmbedder
from tools.index import HierarchicalIndex
from tools.ingest.pipeline import ingest_paths
from tools.store.open import open_store

PHASES = ("after_pending", "mid_embed", "after_publish", "before_drop", "in_delete")


def park(phase: str, wanted: str) -> None:
    if phase == wanted:
        print(f"AT {phase}", flush=True)
        time.sleep(600)


def instrument(index: HierarchicalIndex, wanted: str) -> None:
    """Wrap the write steps so the process stops (to be killed) right after `wanted` happened."""
    cls = type(index)
    write_pending, publish, drop, upsert = cls._write_pending, cls._publish, cls._drop_version, cls._upsert_vectors
    upserts = {"n": 0}

    def _write_pending(self: Any, *a: Any, **k: Any) -> Any:
        out = write_pending(self, *a, **k)
        park("after_pending", wanted)
        return out

    def _publish(self: Any, *a: Any, **k: Any) -> Any:
        out = publish(self, *a, **k)
        park("after_publish", wanted)
        return out

    def _drop_version(self: Any, doc_id: str, version: str) -> Any:
        park("in_delete" if version == "" else "before_drop", wanted)
        return drop(self, doc_id, version)

    def _upsert_vectors(self: Any, *a: Any, **k: Any) -> Any:
        out = upsert(self, *a, **k)
        upserts["n"] += 1
        if upserts["n"] == 2:
            park("mid_embed", wanted)
        return out

    cls._write_pending = _write_pending  # type: ignore[method-assign]
    cls._publish = _publish  # type: ignore[method-assign]
    cls._drop_version = _drop_version  # type: ignore[method-assign]
    cls._upsert_vectors = _upsert_vectors  # type: ignore[method-assign]


def main(argv: list[str]) -> int:
    index_dir, corpus, wanted = Path(argv[0]), Path(argv[1]), argv[2]
    # The backend comes from HRAGENT_INDEX__* (the parent's `backend` fixture), as Settings would read it.
    store = open_store(
        os.environ.get("HRAGENT_INDEX__BACKEND", "embedded"),
        os.environ.get("HRAGENT_INDEX__DSN"),
        os.environ.get("HRAGENT_INDEX__SCHEMA_NAME", "hragent"),
    )
    index = HierarchicalIndex(index_dir, HashingEmbedder(), store=store)
    if wanted == "delete-all":
        print("START", flush=True)
        for source in index.sources():
            index.delete(source)
        print("DONE", flush=True)
        return 0
    if wanted in PHASES:
        instrument(index, wanted)
    print("START", flush=True)
    out = ingest_paths(
        index, [corpus], prune=True, progress=lambda ev, d, t: print(f"PROGRESS {ev} {d}/{t}", flush=True)
    )
    print(f"DONE added={len(out.added)} updated={len(out.updated)} removed={len(out.removed)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
