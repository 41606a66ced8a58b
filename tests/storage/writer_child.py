"""Child process for the many-writers tests: ingests the given files (no prune) into the index that
HRAGENT_INDEX__* names, printing START, DOC after each file, and DONE. Test support, not a test."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from tests.reliability.crash_child import instrument
from tools.embeddings import HashingEmbedder
from tools.index import HierarchicalIndex
from tools.ingest.pipeline import ingest_paths
from tools.store.open import open_store


def main(argv: list[str]) -> int:
    index_dir, files = Path(argv[0]), [Path(a) for a in argv[1:]]
    store = open_store(
        os.environ.get("HRAGENT_INDEX__BACKEND", "embedded"),
        os.environ.get("HRAGENT_INDEX__DSN"),
        os.environ.get("HRAGENT_INDEX__SCHEMA_NAME", "hragent"),
    )
    index = HierarchicalIndex(index_dir, HashingEmbedder(), store=store)
    if os.environ.get("HRAGENT_TEST_PARK"):  # stop (to be killed) at that write step of the first write
        instrument(index, os.environ["HRAGENT_TEST_PARK"])
    print("START", flush=True)
    for path in files:  # one document per call: writers interleave document by document
        ingest_paths(index, [path])
        print("DOC", flush=True)
    print("DONE", flush=True)
    index.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
