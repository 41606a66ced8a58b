"""Each text is embedded once: identical texts across documents and versions reuse stored vectors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from tests.support.embedders import CountingEmbedder
from tools.embeddings import HashingEmbedder
from tools.index import HierarchicalIndex, IndexConfig
from tools.ingest.pipeline import ingest_paths
from tools.retrieval import retrieve

PAGES = {
    "kettles.md": "# Kettles\n\n## Filling\n\nFill the kettle to the marked line. Never fill it past the spout.\n\n"
    "## Boiling\n\nThe kettle switches itself off when the water boils. Wait for the click.\n",
    "ovens.md": "# Ovens\n\n## Preheating\n\nPreheat the oven for ten minutes. The lamp goes out when it is hot.\n\n"
    "## Cleaning\n\nWipe the door glass with a damp cloth once it has cooled down.\n",
    "toasters.md": "# Toasters\n\n## Crumbs\n\nEmpty the crumb tray every week. Unplug the toaster first.\n",
}


def _corpus(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in PAGES.items():
        (folder / name).write_text(text)
    return folder


def test_editing_one_page_embeds_only_its_changed_texts(tmp_path: Path) -> None:
    docs = _corpus(tmp_path / "docs")
    emb = CountingEmbedder()
    index = HierarchicalIndex(tmp_path / "idx", emb)
    ingest_paths(index, [docs])
    first = list(emb.seen)
    assert len(first) == len(set(first)) > 6
    emb.seen.clear()
    edited = PAGES["ovens.md"].replace("ten minutes", "fifteen minutes")
    (docs / "ovens.md").write_text(edited)
    out = ingest_paths(index, [docs])
    assert out.updated == [str((docs / "ovens.md").resolve())] and len(out.unchanged) == 2
    # Only the edited leaf and its edited sentence are new; the untouched section is reused.
    assert emb.seen and all("fifteen" in t for t in emb.seen)
    assert len(emb.seen) == 2
    hits = retrieve(index, "preheat the oven fifteen minutes", 3, strategy="flat")
    assert hits and "fifteen" in hits[0].text
    assert index.check().ok


def test_reused_vectors_equal_a_fresh_build(tmp_path: Path) -> None:
    docs = _corpus(tmp_path / "docs")
    index = HierarchicalIndex(tmp_path / "idx", CountingEmbedder())
    ingest_paths(index, [docs])
    (docs / "kettles.md").write_text(PAGES["kettles.md"] + "\n## Descaling\n\nDescale with vinegar monthly.\n")
    ingest_paths(index, [docs])
    fresh = HierarchicalIndex(tmp_path / "fresh", HashingEmbedder())
    ingest_paths(fresh, [docs])
    for level in ("leaf", "sentence"):
        a = {r.text: v for r, v in _level_vectors(index, level)}
        b = {r.text: v for r, v in _level_vectors(fresh, level)}
        assert a.keys() == b.keys() and len(a) > 3
        for text, vec in a.items():
            np.testing.assert_allclose(vec, b[text], atol=1e-6)


def test_identical_leaves_across_documents_are_embedded_once(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    shared = "# Safety\n\nKeep the appliance away from water and children at all times.\n"
    (docs / "one.md").write_text(shared)
    emb = CountingEmbedder()
    index = HierarchicalIndex(tmp_path / "idx", emb, config=IndexConfig(embed_sentences=False))
    ingest_paths(index, [docs])
    emb.seen.clear()
    (docs / "two.md").write_text(shared)  # another file (document), the very same text
    out = ingest_paths(index, [docs])
    assert len(out.added) == 1 and emb.seen == []
    assert index.reused_texts >= 1
    assert index.check().ok  # the new document's leaf has its (reused) vector
    leaves = [nid for nid, _ in index.dense("leaf", HashingEmbedder().embed_query(shared), 5, frozenset())]
    assert len(leaves) == 2


def test_a_deleted_documents_stale_ledger_rows_are_re_embedded(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    text = "# Lamps\n\nReplace the bulb only when the lamp is switched off and cold.\n"
    path = docs / "lamp.md"
    path.write_text(text)
    emb = CountingEmbedder()
    index = HierarchicalIndex(tmp_path / "idx", emb)
    ingest_paths(index, [docs])
    assert index.delete(str(path.resolve()))
    emb.seen.clear()
    ingest_paths(index, [docs])  # its vectors are gone: the ledger's rows point at nothing
    assert emb.seen, "texts whose vectors were deleted must be embedded again"
    assert index.check().ok
    assert retrieve(index, "replace the bulb", 3, strategy="flat")


def _level_vectors(index: HierarchicalIndex, level: str) -> list[tuple[object, np.ndarray]]:
    col = index._embedded().chroma.collection(level)
    got = col.get(include=["embeddings"])
    records = index.get(got["ids"], frozenset())
    return [(records[i], np.asarray(v)) for i, v in zip(got["ids"], got["embeddings"], strict=True) if i in records]


def test_the_ingest_report_counts_encoded_and_reused_texts(tmp_path: Path, make_agent: Any) -> None:
    docs = _corpus(tmp_path / "docs")
    agent = make_agent()
    first = agent.ingest(docs)
    assert first.encoded > 0 and first.reused == 0 and first.embedded >= first.encoded
    (docs / "ovens.md").write_text(PAGES["ovens.md"].replace("ten minutes", "fifteen minutes"))
    second = agent.ingest(docs)
    # The default index embeds leaves only: the edited leaf is new, the page's other leaf is reused.
    assert second.updated and second.encoded == 1 and second.reused == 1


def test_sentence_vectors_on_demand_equal_the_stored_ones(tmp_path: Path) -> None:
    """An index without sentence vectors embeds a retrieved leaf's sentences when asked, with the
    text ingest would have used: the scores equal a full index's, and a second ask is cached."""
    docs = _corpus(tmp_path / "docs")
    full = HierarchicalIndex(tmp_path / "full", HashingEmbedder(), config=IndexConfig(embed_sentences=True))
    ingest_paths(full, [docs])
    emb = CountingEmbedder()
    lean = HierarchicalIndex(tmp_path / "lean", emb, config=IndexConfig(embed_sentences=False))
    ingest_paths(lean, [docs])
    assert "Filling. Never fill it past the spout." not in emb.seen  # no sentence text was embedded
    leaf = retrieve(lean, "fill the kettle", 1, strategy="flat")[0]
    sentences = lean.descendants(leaf.node_id, "sentence", frozenset())
    assert len(sentences) == 2
    emb.seen.clear()
    lazy = lean.sentence_vectors(sentences)
    assert len(emb.seen) == 2 and all(t.startswith("Filling. ") for t in emb.seen)
    twin = {
        s.text: s.node_id
        for s in full.descendants(
            retrieve(full, "fill the kettle", 1, strategy="flat")[0].node_id, "sentence", frozenset()
        )
    }
    stored = full.sentence_vectors(list(full.get(list(twin.values()), frozenset()).values()))
    for s in sentences:
        assert np.allclose(lazy[s.node_id], stored[twin[s.text]], atol=1e-6)
    emb.seen.clear()
    assert lean.sentence_vectors(sentences).keys() == lazy.keys() and emb.seen == []
    full.close()
    lean.close()
