"""A section with one leaf shares that leaf's vector instead of storing a copy (#20): section reads
answer exactly as an index that stores every section vector, `check` sees the sharing, and a compact
tree from before keeps storing section vectors."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest

from tools.embeddings import HashingEmbedder
from tools.index import HierarchicalIndex, IndexConfig
from tools.ingest.pipeline import ingest_paths
from tools.store.sqlite_schema import COMPACT_SCHEMA

PAGES = {
    "kettles.md": "# Kettles\n\n## Descaling\n\nSoak the element in citric acid for an hour.\n\n"
    "## Lids\n\nA hinged lid clicks shut. Press it until it clicks.\n\nLoose lids leak steam.\n\n"
    "## Cords\n\n### Length\n\nThe cord reaches one metre from the base.\n",
    "toasters.md": "# Toasters\n\n## Crumb tray\n\nSlide the tray out and shake it over the bin.\n\n"
    "## Browning dial\n\nSeven settings; four suits white bread.\n\nBagels want six.\n",
    "blenders.md": "# Blenders\n\nThe jug holds two litres and the blades lift out for washing.\n",
}
EVERYONE = frozenset({"*"})
QUERIES = ["citric acid element", "hinged lid steam", "cord length metre", "crumb tray bin", "bagels dial", "jug"]


def _corpus(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in PAGES.items():
        (folder / name).write_text(text)
    return folder


def _build(path: Path, docs: Path, shares: bool, acl: list[str] | None = None) -> HierarchicalIndex:
    if not shares:  # a compact tree as hragent wrote it before sections shared vectors
        path.mkdir(parents=True)
        db = sqlite3.connect(path / "tree.sqlite")
        db.executescript(COMPACT_SCHEMA.replace(", shared INTEGER", ""))
        db.close()
    index = HierarchicalIndex(path, HashingEmbedder(), config=IndexConfig(embed_sentences=False))
    ingest_paths(index, [docs], acl=acl)
    return index


def _section_ids(index: HierarchicalIndex) -> list[str]:
    with index._conn() as db:
        return [r[0] for r in db.execute("SELECT node_id FROM nodes WHERE level='section' ORDER BY node_id")]


def _one_leaf_sections(index: HierarchicalIndex) -> int:
    with index._conn() as db:
        return int(db.execute("SELECT COUNT(*) FROM nodes WHERE shared IS NOT NULL").fetchone()[0])


@pytest.fixture()
def pair(tmp_path: Path) -> tuple[HierarchicalIndex, HierarchicalIndex]:
    docs = _corpus(tmp_path / "docs")
    return _build(tmp_path / "new", docs, shares=True), _build(tmp_path / "old", docs, shares=False)


def test_one_leaf_sections_store_no_vector_and_read_back_the_leafs(
    pair: tuple[HierarchicalIndex, HierarchicalIndex],
) -> None:
    new, old = pair
    sections = _section_ids(new)
    assert sections == _section_ids(old) and len(sections) >= 8
    shared = _one_leaf_sections(new)
    assert shared >= 5  # descaling, cords, length, crumb tray, the blender page's section ...
    stored_new = new._embedded().chroma.collection("section").count()
    stored_old = old._embedded().chroma.collection("section").count()
    assert stored_old == len(sections) and stored_new == len(sections) - shared
    assert new.store.format_schema == 4 and old.store.format_schema == 3  # type: ignore[attr-defined]
    got_new, got_old = new.vectors("section", sections), old.vectors("section", sections)
    assert set(got_new) == set(got_old) == set(sections)
    for sid in sections:
        assert float(got_new[sid] @ got_old[sid]) == pytest.approx(1.0, abs=1e-5)
    assert new.check().ok and old.check().ok


def _keys(index: HierarchicalIndex, hits: list[tuple[str, float]]) -> set[tuple[str, int]]:
    """(source, ord) of each hit: node ids differ between two indexes of the same pages."""
    recs = index.get([n for n, _ in hits], EVERYONE)
    return {(recs[n].source, recs[n].ord) for n, _ in hits}


def test_section_search_ranks_as_with_every_vector_stored(pair: tuple[HierarchicalIndex, HierarchicalIndex]) -> None:
    new, old = pair
    embedder = HashingEmbedder()
    for query in QUERIES:
        qv = embedder.embed([query])[0]
        for k in (1, 3, 20):
            a, b = new.dense("section", qv, k, EVERYONE), old.dense("section", qv, k, EVERYONE)
            assert [round(s, 4) for _, s in a] == [round(s, 4) for _, s in b]
            above_cut = [h for h in a if h[1] > a[-1][1] + 1e-4]  # ties at the cut-off may differ
            assert _keys(new, above_cut) <= _keys(old, b)
        seen: dict[str, np.ndarray] = {}
        hits = new.dense("section", qv, 20, EVERYONE, vectors_out=seen)
        assert {n for n, _ in hits} <= set(seen)


def test_shared_sections_follow_their_documents_acl(tmp_path: Path) -> None:
    index = _build(tmp_path / "idx", _corpus(tmp_path / "docs"), shares=True, acl=["kitchen"])
    qv = HashingEmbedder().embed(["citric acid element"])[0]
    assert index.dense("section", qv, 5, frozenset()) == []
    assert len(index.dense("section", qv, 5, frozenset({"kitchen"}))) == 5


def test_check_reports_a_shared_section_whose_leaf_is_gone(pair: tuple[HierarchicalIndex, HierarchicalIndex]) -> None:
    new, _ = pair
    with new._conn() as db, db:
        db.execute(
            "UPDATE nodes SET shared = 999 WHERE node_id = (SELECT MIN(node_id) FROM nodes WHERE shared IS NOT NULL)"
        )
    found = new.check()
    assert not found.ok and any("shares the vector of a leaf" in p for p in found.problems)


def test_document_text_is_packed_and_every_read_slices_it(pair: tuple[HierarchicalIndex, HierarchicalIndex]) -> None:
    new, old = pair
    with new._conn() as a, old._conn() as b:
        packed = a.execute("SELECT source, text FROM docs ORDER BY source").fetchall()
        plain = b.execute("SELECT source, text FROM docs ORDER BY source").fetchall()
    assert all(isinstance(t, bytes) for _, t in packed) and all(isinstance(t, str) for _, t in plain)
    assert sum(len(t) for _, t in packed) < sum(len(t.encode()) for _, t in plain)
    leaves_new = new.get([n for n, _ in new.bm25("lid steam bagels cord", 10, EVERYONE)], EVERYONE)
    leaves_old = old.get([n for n, _ in old.bm25("lid steam bagels cord", 10, EVERYONE)], EVERYONE)
    assert sorted(r.text for r in leaves_new.values()) == sorted(r.text for r in leaves_old.values())
    assert len(leaves_new) >= 3 and all(r.text for r in leaves_new.values())
