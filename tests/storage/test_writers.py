"""Many writers on one index, on every backend: processes ingesting overlapping corpora at once (one
of them SIGKILLed) leave every document with exactly one complete version, and a reader running
alongside never sees half a document."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.support.backends import Backend
from tools.ingest.loaders import load_file
from tools.ingest.pipeline import ingest_paths
from tools.ingest.tree import content_hash_of

ROOT = Path(__file__).resolve().parents[2]
CHILD = Path(__file__).with_name("writer_child.py")

pytestmark = pytest.mark.integration


def make_corpus(root: Path, n: int) -> list[Path]:
    root.mkdir(parents=True)
    paths = []
    for i in range(n):
        body = " ".join(f"Beacon {i} logs tide level {j} at the pier." for j in range(10))
        path = root / f"log{i:02d}.md"
        path.write_text(f"# Log {i}\n\n## Morning\n\n{body}\n\n## Evening\n\nBeacon {i} went dark.\n", encoding="utf-8")
        paths.append(path)
    return paths


def spawn(backend: Backend, index_dir: Path, files: list[Path], park: str = "") -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, str(CHILD), str(index_dir), *map(str, files)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**backend.child_env(), "PYTHONPATH": str(ROOT), "HRAGENT_TEST_PARK": park},
        cwd=ROOT,
    )
    assert proc.stdout is not None and proc.stdout.readline().startswith("START")
    return proc


def test_overlapping_writers_and_a_sigkill_leave_one_version_per_document(backend: Backend, tmp_path: Path) -> None:
    rng = random.Random(19)
    files = make_corpus(tmp_path / "docs", 12)
    index_dir = tmp_path / "idx"
    reader = backend.open(index_dir)  # creates the index, so the writers race on documents only
    subsets = [files[:8], files[4:], files[:], files[2:10]]
    for subset in subsets:
        rng.shuffle(subset)
    seen: list[tuple[str, int, int]] = []  # (doc_id, versions among its visible leaves, leaves)
    stop = threading.Event()

    def read_while_writing() -> None:
        while not stop.is_set():
            for doc_id, _ in reader.doc_titles():
                leaves = reader.document_leaves(doc_id, frozenset())
                seen.append((doc_id, len({n.node_id.split("-")[1] for n in leaves}), len(leaves)))

    watcher = threading.Thread(target=read_while_writing, daemon=True)
    watcher.start()
    try:
        # The victim starts first and is killed inside its first document's write, at a random step,
        # while the others queue on that document's lock.
        victim = spawn(backend, index_dir, subsets[2], park=rng.choice(["after_pending", "mid_embed", "after_publish"]))
        procs = [spawn(backend, index_dir, subset) for subset in subsets[:2]]
        procs += [victim, spawn(backend, index_dir, subsets[3])]
        assert victim.stdout is not None
        assert any(line.startswith("AT ") for line in victim.stdout)
        time.sleep(0.5)
        victim.send_signal(signal.SIGKILL)
        for proc in procs:
            proc.communicate(timeout=240)
    finally:
        stop.set()
        watcher.join(timeout=30)
    assert [p.returncode for p in procs] == [0, 0, -signal.SIGKILL, 0]

    ingest_paths(reader, files)  # finishes whatever the killed writer left
    check = reader.check()
    assert check.ok and check.documents == 12 and not any(check.orphans.values()), check
    assert {s: reader.document_state(s)[0] for s in reader.sources()} == {  # type: ignore[index]
        str(p.resolve()): content_hash_of(load_file(p).text) for p in files
    }
    final = {doc_id: len(reader.document_leaves(doc_id, frozenset())) for doc_id, _ in reader.doc_titles()}
    assert seen, "the reader never ran alongside the writers"
    assert all(versions == 1 and count == final[doc_id] for doc_id, versions, count in seen)
    reader.close()
