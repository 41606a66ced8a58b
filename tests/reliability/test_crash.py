"""SIGKILL during ingestion: a child process is killed at each step of the write path and at random
moments; after every kill the index must be queryable, every visible document complete and exactly one
of its file's versions, and a re-run must finish the job. (The many-run version: benchmarks/crash.py.)"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.reliability.helpers import fresh_index, write
from tests.support.backends import Backend
from tools.ingest.loaders import load_file
from tools.ingest.pipeline import ingest_paths
from tools.ingest.tree import content_hash_of
from tools.retrieval import STRATEGIES, retrieve

ROOT = Path(__file__).resolve().parents[2]
CHILD = Path(__file__).with_name("crash_child.py")
TOPICS = ["reactor turbine", "kestrel drone", "lithium battery", "wind survey", "solar audit", "bridge mapping"]

pytestmark = pytest.mark.integration


def doc_text(i: int, variant: int) -> str:
    topic = TOPICS[i % len(TOPICS)]
    body = " ".join(f"The {topic} unit {i} reading {variant}-{j} is stable." for j in range(12))
    return f"# Doc {i}\n\n## Part A\n\n{body}\n\n## Part B\n\nThe {topic} team {i} met in version {variant}.\n"


class Corpus:
    """A directory of Markdown files plus every content hash each file has had (its valid versions)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.versions: dict[str, set[str]] = {}

    def put(self, i: int, variant: int) -> None:
        path = write(self.root, f"doc{i:02d}.md", doc_text(i, variant))
        self.versions.setdefault(str(path.resolve()), set()).add(content_hash_of(load_file(path).text))

    def remove(self, i: int) -> None:
        (self.root / f"doc{i:02d}.md").unlink()


def spawn(index_dir: Path, corpus: Path, mode: str, backend: Backend | None = None) -> subprocess.Popen[str]:
    env = {**(backend.child_env() if backend else os.environ), "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, str(CHILD), str(index_dir), str(corpus), mode],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
        cwd=ROOT,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().startswith("START")
    return proc


def kill_at(proc: subprocess.Popen[str], marker: str) -> None:
    assert proc.stdout is not None
    deadline = time.monotonic() + 120
    for line in proc.stdout:
        if line.startswith(marker):
            break
        assert time.monotonic() < deadline, f"child never reached {marker}"
    else:
        proc.wait()
        pytest.fail(f"child finished without reaching {marker}")
    proc.send_signal(signal.SIGKILL)
    proc.wait()


def kill_after(proc: subprocess.Popen[str], delay: float) -> None:
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    proc.wait()


def assert_consistent(index_dir: Path, corpus: Corpus, backend: Backend | None = None) -> int:
    """The invariants every crash must preserve; returns how many documents are visible."""
    index = fresh_index(index_dir, backend)
    try:
        check = index.check()
        assert check.ok, check.problems
        for source in index.sources():
            state = index.document_state(source)
            assert state is not None and state[0] in corpus.versions[source], f"{source}: a version never written"
        for name in STRATEGIES:
            hits = retrieve(index, "kestrel drone reading stable", 3, strategy=name)
            assert all(h.source in corpus.versions for h in hits)
        return check.documents
    finally:
        index.close()


def test_sigkill_at_every_write_step_and_at_random(tmp_path: Path, backend: Backend) -> None:
    """Runs on every storage backend (the `backend` fixture)."""
    rng = random.Random(8)
    corpus = Corpus(tmp_path / "docs")
    index_dir = tmp_path / "idx"
    for i in range(8):
        corpus.put(i, 1)

    # First ingest: killed before publishing, while embedding, and at a random moment.
    kill_at(spawn(index_dir, corpus.root, "after_pending", backend), "AT after_pending")
    assert assert_consistent(index_dir, corpus, backend) == 0  # the first document was never published
    kill_at(spawn(index_dir, corpus.root, "mid_embed", backend), "AT mid_embed")
    assert_consistent(index_dir, corpus, backend)
    kill_after(spawn(index_dir, corpus.root, "run", backend), rng.uniform(0.0, 1.5))
    assert_consistent(index_dir, corpus, backend)
    index = fresh_index(index_dir, backend)
    ingest_paths(index, [corpus.root])
    index.close()
    assert assert_consistent(index_dir, corpus, backend) == 8

    # Updates and a removal: killed after publishing (old vectors pending removal), inside the clean-up
    # of that garbage, inside a prune's delete, and at random.
    corpus.put(1, 2)
    corpus.put(5, 2)
    corpus.remove(3)
    corpus.put(8, 1)
    kill_at(spawn(index_dir, corpus.root, "after_publish", backend), "AT after_publish")
    assert_consistent(index_dir, corpus, backend)
    kill_at(spawn(index_dir, corpus.root, "before_drop", backend), "AT before_drop")
    assert_consistent(index_dir, corpus, backend)
    kill_at(spawn(index_dir, corpus.root, "in_delete", backend), "AT in_delete")
    assert_consistent(index_dir, corpus, backend)
    kill_after(spawn(index_dir, corpus.root, "run", backend), rng.uniform(0.0, 1.0))
    assert_consistent(index_dir, corpus, backend)

    # A clean re-run completes everything and leaves no leftovers; one more pass is a no-op.
    index = fresh_index(index_dir, backend)
    try:
        ingest_paths(index, [corpus.root], prune=True)
        check = index.check()
        assert check.ok and check.documents == 8 and not any(check.orphans.values()), check
        current = {str(p.resolve()): content_hash_of(load_file(p).text) for p in corpus.root.glob("*.md")}
        assert {s: index.document_state(s)[0] for s in index.sources()} == current  # type: ignore[index]
        again = ingest_paths(index, [corpus.root], prune=True)
        assert len(again.unchanged) == 8 and not (again.added or again.updated or again.removed)
    finally:
        index.close()


@pytest.mark.slow
def test_many_random_sigkills_while_the_corpus_changes(tmp_path: Path) -> None:
    """The random-moment version, 20 kills (RUN_SLOW=1); benchmarks/crash.py runs it at scale."""
    rng = random.Random(20)
    corpus = Corpus(tmp_path / "docs")
    index_dir = tmp_path / "idx"
    for i in range(12):
        corpus.put(i, 1)
    variant = 1
    for kill in range(20):
        if kill % 4 == 3:
            variant += 1
            for i in rng.sample(range(12), 4):
                corpus.put(i, variant)
        kill_after(spawn(index_dir, corpus.root, "run"), rng.uniform(0.0, 2.5))
        assert_consistent(index_dir, corpus)
    index = fresh_index(index_dir)
    try:
        ingest_paths(index, [corpus.root], prune=True)
        check = index.check()
        assert check.ok and check.documents == 12 and not any(check.orphans.values()), check
    finally:
        index.close()
