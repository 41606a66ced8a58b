"""Several processes on one embedded index directory: Chroma's local client keeps each HNSW segment in
memory per process, so a process that opened the vectors before another one wrote must reload them —
a stale writer saved its segment over the other's (vectors lost, `get` failing with "Error finding
id", and, at 8,000 leaves in the benchmark, a 60 GB `link_lists.bin`), and a stale reader searched
its first snapshot. `tools.store.chroma_clients` is the fix; these tests fail without it."""

from __future__ import annotations

import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from tools.embeddings import HashingEmbedder
from tools.index import HierarchicalIndex
from tools.ingest.pipeline import ingest_paths
from tools.store import sqlite_sentences

ROOT = Path(__file__).resolve().parents[2]
CHILD = Path(__file__).with_name("writer_child.py")
SYLLABLES = ["ka", "lo", "mi", "ter", "vun", "sa", "dre", "po", "qui", "zel", "ran", "tho", "bex", "nor"]

pytestmark = pytest.mark.integration


def invented_docs(root: Path, prefix: str, n: int, sentences: int, seed: int) -> list[Path]:
    """`n` documents of seeded pseudo-word sentences (distinct texts, so every vector is its own
    nearest neighbour)."""
    rng = random.Random(seed)
    root.mkdir(parents=True)
    paths = []
    for i in range(n):
        words = [
            " ".join("".join(rng.choice(SYLLABLES) for _ in range(3)) for _ in range(7)).capitalize() + "."
            for _ in range(sentences)
        ]
        paras = "\n\n".join(" ".join(words[j : j + 8]) for j in range(0, sentences, 8))
        path = root / f"{prefix}{i:03d}.md"
        path.write_text(f"# {prefix.title()} {i}\n\n{paras}\n", encoding="utf-8")
        paths.append(path)
    return paths


def ingest_in_child(index_dir: Path, files: list[Path]) -> None:
    proc = subprocess.run(
        [sys.executable, str(CHILD), str(index_dir), *map(str, files)],
        capture_output=True,
        text=True,
        env={k: v for k, v in os.environ.items() if not k.startswith("HRAGENT_INDEX__")} | {"PYTHONPATH": str(ROOT)},
        cwd=ROOT,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0 and proc.stdout.strip().endswith("DONE"), proc.stderr[-2000:]


def lost_vectors(index: HierarchicalIndex, level: str) -> tuple[int, list[str]]:
    """(visible nodes of `level`, those their own stored vector does not find in the top 3)."""
    with index._conn() as db:
        rows_of = "leaf" if level == "sentence" else level  # a compact tree keeps sentences in leaf rows
        ids = [
            r[0]
            for r in db.execute(
                "SELECT n.node_id FROM nodes n JOIN docs d ON d.doc_id = n.doc_id AND d.version = n.version"
                " WHERE n.level = ?",
                (rows_of,),
            )
        ]
        if level == "sentence":
            ids = [sid for sids in sqlite_sentences.child_ids(db, ids).values() for sid in sids]
    vectors = index.store.vectors(level, ids)  # type: ignore[arg-type]
    lost = [n for n in ids if n not in vectors]
    lost += [n for n in ids if n in vectors and n not in {h[0] for h in index.dense(level, vectors[n], 3, frozenset())}]  # type: ignore[arg-type]
    return len(ids), lost


def test_a_writer_reloads_the_vectors_another_process_persisted(tmp_path: Path) -> None:
    # Over 1,000 sentence vectors per process, so each crosses Chroma's default sync_threshold and
    # saves its HNSW segment to disk.
    first = invented_docs(tmp_path / "first", "first", 1, 8, seed=1)
    theirs = invented_docs(tmp_path / "theirs", "theirs", 22, 48, seed=2)
    ours = invented_docs(tmp_path / "ours", "ours", 22, 48, seed=3)
    index_dir = tmp_path / "idx"
    index = HierarchicalIndex(index_dir, HashingEmbedder())
    ingest_paths(index, first)  # this process now holds the segments in memory
    ingest_in_child(index_dir, theirs)  # another process writes and persists
    ingest_paths(index, ours)  # stale, this process would skip their records and save over them
    index.close()

    fresh = HierarchicalIndex(index_dir, HashingEmbedder())
    try:
        counts = {}
        for level in ("leaf", "sentence"):
            counts[level], lost = lost_vectors(fresh, level)
            assert lost == [], f"{len(lost)} of {counts[level]} {level} vectors lost, e.g. {lost[:3]}"
        assert counts["leaf"] > 0 and counts["sentence"] > 2000  # both processes crossed the threshold
        assert fresh.check().ok
    finally:
        fresh.close()


def test_a_reader_process_sees_what_another_process_ingested(tmp_path: Path) -> None:
    first = invented_docs(tmp_path / "first", "first", 2, 8, seed=4)
    later = invented_docs(tmp_path / "later", "later", 3, 8, seed=5)
    index_dir = tmp_path / "idx"
    index = HierarchicalIndex(index_dir, HashingEmbedder())
    try:
        ingest_paths(index, first)
        before, lost = lost_vectors(index, "leaf")  # queried: the leaf segment is loaded here
        assert before > 0 and lost == []
        ingest_in_child(index_dir, later)
        count, lost = lost_vectors(index, "leaf")
        assert count > before and lost == [], f"{len(lost)} of {count} leaves not found, e.g. {lost[:3]}"
    finally:
        index.close()
