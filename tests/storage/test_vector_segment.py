"""`check()` and `hragent check` see a damaged HNSW segment (#19): Chroma's metadata lists vectors its
vector segment cannot give back ("Error finding id", what racing embedded writers left behind), which
the metadata-only check called clean."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from agent.cli import EXIT_DAMAGED_VECTORS
from tools.embeddings import HashingEmbedder
from tools.errors import VectorSegmentError
from tools.index import HierarchicalIndex, IndexConfig
from tools.ingest.pipeline import ingest_paths

STEPS = ["grease", "bearing", "shaft", "collar", "seal", "gasket", "valve", "spring", "bracket", "hinge"]


def _pages(folder: Path) -> Path:
    folder.mkdir(parents=True)
    for i, part in enumerate(STEPS):
        body = "".join(
            f"\n## Step {s}\n\nFit the {part} number {s} and tighten it by {i + s} turns. Check the {part} again.\n"
            for s in range(4)
        )
        (folder / f"{part}.md").write_text(f"# The {part}\n{body}")
    return folder


def _build(tmp_path: Path) -> Path:
    index = HierarchicalIndex(tmp_path / "idx", HashingEmbedder(), config=IndexConfig(embed_sentences=False))
    ingest_paths(index, [_pages(tmp_path / "docs")])
    assert index.check().ok
    index.close()
    return tmp_path / "idx"


def _lose_leaf_vectors(index_dir: Path, n: int) -> list[str]:
    """Drop the last `n` records of the leaf collection's write log, which its vector segment is
    rebuilt from, while Chroma's metadata keeps listing them."""
    db = sqlite3.connect(index_dir / "chroma" / "chroma.sqlite3")
    try:
        (topic,) = db.execute(
            "SELECT q.topic FROM embeddings_queue q GROUP BY q.topic ORDER BY COUNT(*) DESC LIMIT 1"
        ).fetchone()
        ids = [
            r[0]
            for r in db.execute(
                "SELECT id FROM embeddings_queue WHERE topic=? ORDER BY seq_id DESC LIMIT ?", (topic, n)
            )
        ]
        db.execute(f"DELETE FROM embeddings_queue WHERE topic=? AND id IN ({','.join('?' * n)})", [topic, *ids])
        db.commit()
    finally:
        db.close()
    return ids


def test_check_finds_vectors_the_segment_lost(tmp_path: Path) -> None:
    index_dir = _build(tmp_path)
    lost = _lose_leaf_vectors(index_dir, 3)
    index = HierarchicalIndex(index_dir, HashingEmbedder())
    try:
        found = index.check()
        assert not found.ok and found.damaged_vectors == ["leaf"]
        line = next(p for p in found.problems if p.startswith("damaged leaf vector segment"))
        assert "3 vector(s) cannot be read" in line and line.split("e.g. ")[1].split(";")[0] in lost
        assert "re-ingest the sources into a new index directory" in line
        with pytest.raises(VectorSegmentError, match="damaged leaf vector segment"):
            found.raise_for_damage()
    finally:
        index.close()


def _cli_check(index: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`hragent check` in a fresh process: this one still holds the segment it loaded before the damage."""
    return subprocess.run(
        [sys.executable, "-m", "agent.cli", "check", "--index", index],
        env=env,
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_hragent_check_exit_status(tmp_path: Path) -> None:
    env = {**os.environ, "HRAGENT_EMBEDDER": "hashing", "HRAGENT_CHECKPOINTER": "none"}
    index = str(_build(tmp_path))
    clean = _cli_check(index, env)
    assert clean.returncode == 0 and '"damaged_vectors": []' in clean.stdout
    _lose_leaf_vectors(Path(index), 2)
    damaged = _cli_check(index, env)
    assert damaged.returncode == EXIT_DAMAGED_VECTORS, damaged.stderr
    assert '"leaf"' in damaged.stdout and "re-ingest" in damaged.stderr
    assert _cli_check(str(tmp_path / "none"), env).returncode == 2
