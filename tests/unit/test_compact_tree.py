"""Sentences kept as offsets in their leaf's row (#20): an index in this format answers every read
exactly as one with sentence rows does, stores no sentence rows, and a tree from before keeps its rows."""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from collections import Counter
from pathlib import Path

from tools.embeddings import HashingEmbedder
from tools.index import HierarchicalIndex, IndexConfig
from tools.ingest.blocks import Block, ParsedDocument
from tools.ingest.pipeline import ingest_paths
from tools.ingest.tree import build_tree
from tools.store import sentence_spans
from tools.store.fts import term_counts
from tools.store.sqlite_schema import LEGACY_SCHEMA

PAGES = {
    "lamps.md": "# Desk lamps\n\n## Bulbs\n\nUse a 40 W bulb at most. The shade gets hot. Dr. Vale tested it.\n\n"
    "A dimmer halves the draw.\n\n```\nlamp --dim 50\nlamp --off\n```\n\n## Cables\n\nKeep the cable off the floor.\n",
    "fans.md": "# Fans\n\nThe fan has three speeds! Which one is quiet? The lowest.\n",
}
EVERYONE = frozenset({"*"})


def _corpus(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in PAGES.items():
        (folder / name).write_text(text)
    return folder


def _old_tree_file(index_dir: Path) -> None:
    """A `tree.sqlite` as hragent wrote it before #20: `nodes` without the `spans` column."""
    index_dir.mkdir(parents=True)
    db = sqlite3.connect(index_dir / "tree.sqlite")
    db.executescript(LEGACY_SCHEMA)
    db.close()


def _build(path: Path, docs: Path, old: bool, embed_sentences: bool = False) -> HierarchicalIndex:
    if old:
        _old_tree_file(path)
    index = HierarchicalIndex(path, HashingEmbedder(), config=IndexConfig(embed_sentences=embed_sentences))
    ingest_paths(index, [docs])
    return index


def _sentence_rows(index: HierarchicalIndex) -> int:
    with index._conn() as db:
        return int(db.execute("SELECT COUNT(*) FROM nodes WHERE level='sentence'").fetchone()[0])


def _all_ids(index: HierarchicalIndex) -> list[str]:
    ids: list[str] = []
    with index._conn() as db:
        frontier = [r[0] for r in db.execute("SELECT node_id FROM nodes WHERE level='document'")]
    while frontier:
        ids += frontier
        children = index.child_ids(frontier)
        frontier = [c for p in frontier for c in children.get(p, [])]
    return ids


def test_every_read_gives_what_sentence_rows_gave(tmp_path: Path) -> None:
    docs = _corpus(tmp_path / "docs")
    new = _build(tmp_path / "new", docs, old=False)
    old = _build(tmp_path / "old", docs, old=True)
    assert new.store.format_schema == 4 and old.store.format_schema == 1  # type: ignore[attr-defined]
    assert json.loads((tmp_path / "new" / "manifest.json").read_text())["schema_version"] == 4
    assert json.loads((tmp_path / "old" / "manifest.json").read_text())["schema_version"] == 1
    assert _sentence_rows(new) == 0 and _sentence_rows(old) > 8

    ids = _all_ids(new)
    assert ids == _all_ids(old)
    sentences = [nid for nid, rec in new.get(ids, EVERYONE).items() if rec.level == "sentence"]
    assert len(sentences) == _sentence_rows(old)
    assert new.get(ids, EVERYONE) == old.get(ids, EVERYONE)
    assert new.visible(ids, EVERYONE) == old.visible(ids, EVERYONE)
    assert new.stats()["levels"] == old.stats()["levels"]
    assert new.store.document_stats() == old.store.document_stats()
    for nid in ids[:3]:
        assert new.descendants(nid, "sentence", EVERYONE) == old.descendants(nid, "sentence", EVERYONE)
    code = [rec for rec in new.get(sentences, EVERYONE).values() if "lamp --dim" in rec.text]
    assert code and code[0].text == "```\nlamp --dim 50\nlamp --off\n```"  # a code block is one unit, verbatim
    assert new.check().ok and old.check().ok
    new.close()
    old.close()


def test_hidden_or_replaced_sentences_are_not_found(tmp_path: Path) -> None:
    docs = _corpus(tmp_path / "docs")
    index = HierarchicalIndex(tmp_path / "idx", HashingEmbedder(), config=IndexConfig(embed_sentences=False))
    ingest_paths(index, [docs], acl=["staff"])
    before = [nid for nid, rec in index.get(_all_ids(index), frozenset({"staff"})).items() if rec.level == "sentence"]
    assert len(before) > 8
    assert index.get(before, frozenset({"guest"})) == {} and index.visible(before, frozenset({"guest"})) == {}
    (docs / "fans.md").write_text("# Fans\n\nThe fan has two speeds. Both are loud.\n")
    ingest_paths(index, [docs], acl=["staff"])
    gone = [nid for nid in before if not index.get([nid], frozenset({"staff"}))]
    assert len(gone) == 3  # the replaced version's three sentences go with it
    assert index.visible(gone, frozenset({"staff"})) == {}
    assert index.get(["not-a-node-id", "0123456789abcdef-x-00001"], frozenset({"staff"})) == {}
    assert index.check().ok
    index.close()


def test_stored_sentence_vectors_still_line_up(tmp_path: Path) -> None:
    index = _build(tmp_path / "idx", _corpus(tmp_path / "docs"), old=False, embed_sentences=True)
    assert _sentence_rows(index) == 0
    hits = index.dense("sentence", index.embedder.embed_query("a dimmer halves the draw"), 3, EVERYONE)
    found = index.get([nid for nid, _ in hits], EVERYONE)
    assert hits and set(found) == {nid for nid, _ in hits}
    assert found[hits[0][0]].text == "A dimmer halves the draw."
    assert index.check().ok  # every rebuilt sentence has its vector
    index.close()


def test_a_leaf_whose_sentences_cannot_be_rebuilt_keeps_its_rows(tmp_path: Path) -> None:
    text = "Heading\n\nOne sentence here. Another one there."
    doc = ParsedDocument("x.md", "X", text, [Block("paragraph", 9, len(text))], "text/markdown")
    tree = build_tree(doc, lambda s: len(s.split()))
    leaf = tree.by_level("leaf")[0]
    sents = [n for n in tree.nodes if n.level == "sentence"]
    code = sentence_spans.encode(tree, leaf, sents)
    assert code is not None
    rebuilt = sentence_spans.decode(leaf.node_id, leaf.ord, leaf.start, leaf.text, code)
    assert [(s.node_id, s.ord, s.start, s.end, s.text) for s in rebuilt] == [
        (n.node_id, n.ord, n.start, n.end, n.text) for n in sents
    ]
    assert [s.content_hash for s in rebuilt] == [n.content_hash for n in sents]
    moved = [dataclasses.replace(sents[0], section=["Elsewhere"]), *sents[1:]]
    assert sentence_spans.encode(tree, leaf, moved) is None
    assert sentence_spans.encode(tree, leaf, list(reversed(sents))) is None


def _fts_consistent(index: HierarchicalIndex) -> None:
    """Every indexed row's postings are exactly the terms of its text in the content view, and only
    published leaves are indexed (FTS5's own `integrity-check` with rank 1 cannot read a view that
    uses json_each on SQLite 3.40, so the comparison is made here with FTS5's tokenizer)."""
    with index._conn() as db:
        db.execute("INSERT INTO leaf_fts(leaf_fts) VALUES('integrity-check')")
        db.execute("CREATE VIRTUAL TABLE IF NOT EXISTS temp.postings USING fts5vocab(main, leaf_fts, instance)")
        indexed: dict[int, Counter[str]] = {}
        for term, rowid in db.execute("SELECT term, doc FROM temp.postings"):
            indexed.setdefault(int(rowid), Counter())[str(term)] += 1
        rows = db.execute(
            "SELECT v.row, v.text FROM leaf_bm25 v JOIN nodes n ON n.row = v.row"
            " JOIN docs d ON d.doc_id = n.doc_id AND d.version = n.version"
        ).fetchall()
        db.rollback()  # the check's INSERT opened a transaction; it changed nothing
    assert indexed == dict(zip([r[0] for r in rows], term_counts([r[1] for r in rows]), strict=True))


def test_bm25_postings_follow_updates_and_deletes(tmp_path: Path) -> None:
    docs = _corpus(tmp_path / "docs")
    index = _build(tmp_path / "idx", docs, old=False)
    with index._conn() as db:
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master")}
    assert "leaf_fts_docsize" in tables and "leaf_fts_content" not in tables  # postings, no copy of the text
    # Heading words are indexed with the leaf, as `with_heading_path` writes them.
    assert [index.get([n], EVERYONE)[n].source for n, _ in index.bm25("desk cables", 1, EVERYONE)] == [
        str((docs / "lamps.md").resolve())
    ]
    assert index.bm25("speeds", 3, EVERYONE)
    _fts_consistent(index)
    (docs / "fans.md").write_text("# Fans\n\nThe ceiling fan wobbles when a blade is loose.\n")
    ingest_paths(index, [docs])
    assert index.bm25("speeds", 3, EVERYONE) == [] and index.bm25("wobbles", 3, EVERYONE)
    _fts_consistent(index)
    index.delete(str((docs / "fans.md").resolve()))
    assert index.bm25("wobbles", 3, EVERYONE) == [] and index.bm25("dimmer", 3, EVERYONE)
    _fts_consistent(index)
    assert index.check().ok and not index.check().orphans["fts_rows"]
    with index._conn() as db:
        db.execute("VACUUM")  # rows keep their INTEGER PRIMARY KEY, so BM25 still finds the right leaves
    hit = index.bm25("dimmer", 1, EVERYONE)[0][0]
    assert "dimmer" in index.get([hit], EVERYONE)[hit].text.lower()
    _fts_consistent(index)
    index.close()
