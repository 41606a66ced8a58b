"""The storage contract, run against every registered backend (`backend` fixture): ingest, update,
delete, every read primitive, check(), and another handle's view. Tiny invented corpora, hashing embedder."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tests.support.backends import Backend
from tools.embeddings import HashingEmbedder
from tools.ingest.pipeline import ingest_paths
from tools.retrieval import STRATEGIES, retrieve
from tools.retrieval.titles import title_matcher

DOCS = {
    "owls.md": "# Owls\n\n## Hunting\n\nThe snowy owl hunts lemmings in the tundra. Owls fly silently.\n\n"
    "## Nesting\n\nBarn owls nest in old barns and church towers.\n",
    "bats.md": "# Bats\n\nThe fruit bat eats figs in the rainforest. Bats use echolocation.\n",
    "eels.md": "# Eels\n\nThe electric eel stuns fish in the river. Eels breathe air.\n",
}


def corpus(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name, text in DOCS.items():
        (root / name).write_text(text, encoding="utf-8")
    return root


def clean(index: object) -> None:
    check = index.check()  # type: ignore[attr-defined]
    assert check.ok, check.problems
    assert not any(check.orphans.values()), check.orphans


def test_ingest_is_idempotent_and_leaves_a_clean_index(backend: Backend, tmp_path: Path) -> None:
    index = backend.open(tmp_path / "idx")
    first = ingest_paths(index, [corpus(tmp_path / "docs")])
    assert len(first.added) == 3 and first.embedded > 0
    stamp = index.manifest["updated_at"]
    again = ingest_paths(index, [tmp_path / "docs"])
    assert len(again.unchanged) == 3 and not again.added and again.embedded == 0
    assert index.manifest["updated_at"] == stamp  # a no-op writes nothing
    stats = index.stats()
    assert stats["documents"] == 3 and stats["levels"]["document"] == 3 and stats["dim"] == 256
    assert sorted(Path(s).name for s in index.sources()) == sorted(DOCS)
    clean(index)
    index.close()


def test_an_update_replaces_exactly_its_nodes(backend: Backend, tmp_path: Path) -> None:
    docs = corpus(tmp_path / "docs")
    index = backend.open(tmp_path / "idx")
    ingest_paths(index, [docs])
    bats = index.document_state(str((docs / "bats.md").resolve()))
    (docs / "owls.md").write_text("# Owls\n\nThe eagle owl hunts voles in farmland.\n", encoding="utf-8")
    out = ingest_paths(index, [docs])
    assert [Path(p).name for p in out.updated] == ["owls.md"] and len(out.unchanged) == 2
    assert index.document_state(str((docs / "bats.md").resolve())) == bats
    texts = " ".join(index.get([n], frozenset())[n].text for n, _ in index.bm25("owl lemmings voles", 10, frozenset()))
    assert "eagle owl" in texts and "lemmings" not in texts
    clean(index)
    index.close()


def test_delete_removes_a_document_from_every_read(backend: Backend, tmp_path: Path) -> None:
    docs = corpus(tmp_path / "docs")
    index = backend.open(tmp_path / "idx")
    ingest_paths(index, [docs])
    eels = str((docs / "eels.md").resolve())
    assert index.bm25("electric eel", 5, frozenset())
    assert index.delete(eels) and not index.delete(eels)
    assert eels not in index.sources() and index.bm25("electric eel", 5, frozenset()) == []
    vec = HashingEmbedder().embed(["The electric eel stuns fish"])[0]
    assert all(index.get([n], frozenset())[n].source != eels for n, _ in index.dense("leaf", vec, 10, frozenset()))
    clean(index)
    index.close()


def test_read_primitives_agree_with_each_other(backend: Backend, tmp_path: Path) -> None:
    index = backend.open(tmp_path / "idx")
    ingest_paths(index, [corpus(tmp_path / "docs")])
    none: frozenset[str] = frozenset()
    owl_doc = index.find_titles(["OWLS", "missing"], none)
    assert list(owl_doc) == ["OWLS"]
    doc_id = owl_doc["OWLS"]
    assert (doc_id, "Owls") in index.doc_titles() and "Owls" in index.titles()
    leaves = index.document_leaves(doc_id, none)
    assert leaves and [n.ord for n in leaves] == sorted(n.ord for n in leaves)
    assert index.leaf_ids_of_docs([doc_id], none) == {doc_id: [n.node_id for n in leaves]}
    root = next(iter(index.get([leaves[0].node_id], none).values()))
    while root.parent_id is not None:
        root = index.get([root.parent_id], none)[root.parent_id]
    assert root.level == "document"
    assert [n.node_id for n in index.descendants(root.node_id, "leaf", none)] == [n.node_id for n in leaves]
    kids = index.children(root.node_id, none)
    assert [k.node_id for k in kids] == index.child_ids([root.node_id])[root.node_id]
    top = index.descendants(root.node_id, "section", none)
    assert [s.section for s in top] == [["Owls"]]
    sections = index.descendants(top[0].node_id, "section", none)  # nested headings: the next depth
    assert [s.section[-1] for s in sections] == ["Hunting", "Nesting"]
    assert any(index.summary(s.node_id) for s in sections)
    for node in leaves:
        assert node.text and node.text == index.get([node.node_id], none)[node.node_id].text
    visible = index.visible([n.node_id for n in leaves] + ["no-such-node"], none)
    assert set(visible) == {n.node_id for n in leaves} and all(visible[n.node_id] == n.section_id for n in leaves)
    query = HashingEmbedder().embed(["snowy owl hunts lemmings"])[0]
    out: dict[str, np.ndarray] = {}
    hits = index.dense("leaf", query, 3, none, vectors_out=out)
    assert len(hits) == 3 and [s for _, s in hits] == sorted((s for _, s in hits), reverse=True)
    stored = index.vectors("leaf", [n for n, _ in hits])
    for nid, score in hits:
        assert np.allclose(out[nid], stored[nid], atol=1e-6)
        assert abs(float(np.dot(query, stored[nid]) / np.linalg.norm(stored[nid])) - score) < 1e-4
    hunting = next(s for s in sections if s.section[-1] == "Hunting")
    in_section = index.dense("leaf", query, 5, none, section_ids=[hunting.node_id])
    assert in_section and all(index.visible([n], none)[n] == hunting.node_id for n, _ in in_section)
    assert index.bm25("lemmings", 5, none, section_ids=[hunting.node_id])
    assert index.bm25("lemmings", 5, none, section_ids=["elsewhere"]) == []
    assert index.dense("leaf", query, 0, none) == [] and index.bm25("the of and", 5, none) == []
    for name in STRATEGIES:
        hits_ = retrieve(index, "Which owl hunts lemmings?", 3, strategy=name)
        assert all(h.source.endswith(".md") for h in hits_), name
    index.close()


def test_another_handle_sees_a_publish_and_its_title_cache_follows(backend: Backend, tmp_path: Path) -> None:
    docs = corpus(tmp_path / "docs")
    reader = backend.open(tmp_path / "idx")
    ingest_paths(reader, [docs])
    assert title_matcher(reader).find("about Hawks") == []
    writer = backend.open(tmp_path / "idx")  # as a second process would
    (docs / "hawks.md").write_text("# Hawks\n\nThe red kite is not a hawk.\n", encoding="utf-8")
    ingest_paths(writer, [docs])
    assert len(title_matcher(reader).find("about Hawks")) == 1  # no restart, no stale cache
    assert reader.bm25("red kite", 3, frozenset())
    writer.close()
    reader.close()


def test_bm25_finds_the_visible_leaves_below_many_better_hidden_ones(backend: Backend, tmp_path: Path) -> None:
    """More high-scoring leaves than a pruned first pass reads are hidden by their ACL: the visible,
    lower-scoring ones still come back, ranked, and so do the hidden ones for their reader."""
    root = tmp_path / "docs"
    root.mkdir()
    for i in range(48):  # the word three times in a short private note: high BM25
        (root / f"p{i:02d}.md").write_text(f"# Private {i}\n\nQuokka quokka quokka note {i}.\n", encoding="utf-8")
    for i in range(6):  # once, in a longer public note: lower BM25
        body = f"A quokka was seen near the harbour wall on day {i}, close to the old ferry ramp and the boats."
        (root / f"o{i:02d}.md").write_text(f"# Open {i}\n\n{body}\n", encoding="utf-8")
    index = backend.open(tmp_path / "idx")
    ingest_paths(index, sorted(root.glob("p*.md")), acl=["alice"])
    ingest_paths(index, sorted(root.glob("o*.md")))
    public = index.bm25("quokka", 5, frozenset())
    assert len(public) == 5 and all(index.get([n], frozenset())[n].title.startswith("Open") for n, _ in public)
    assert [s for _, s in public] == sorted((s for _, s in public), reverse=True)
    alice = index.bm25("quokka", 5, frozenset({"alice"}))
    assert all(index.get([n], frozenset({"alice"}))[n].title.startswith("Private") for n, _ in alice)
    assert min(s for _, s in alice) > max(s for _, s in public)
    clean(index)
    index.close()


def test_bm25_orders_tied_scores_by_node_id(backend: Backend, tmp_path: Path) -> None:
    """Leaves with equal scores come in node-id order, on every backend, so a tie at the cut-off of a
    top-k list puts the same leaves above it whichever backend answers."""
    docs = corpus(tmp_path / "docs")
    for i in range(8):  # eight notes with the very same text: eight equal scores
        (docs / f"ferry{i}.md").write_text("# Ferry note\n\nThe harbour ferry leaves at noon.\n", encoding="utf-8")
    index = backend.open(tmp_path / "idx")
    ingest_paths(index, [docs])
    every = index.bm25("harbour ferry", 8, frozenset())
    assert len(every) == 8 and len({round(s, 9) for _, s in every}) == 1
    assert [n for n, _ in every] == sorted(n for n, _ in every)
    assert index.bm25("harbour ferry", 3, frozenset()) == every[:3]
    index.close()


def test_bm25_statistics_follow_updates_and_deletes(backend: Backend, tmp_path: Path) -> None:
    """IDF and the average length come from the corpus as it is now: a removed document no longer
    counts, so the scores equal those of an index that never held it."""
    docs = corpus(tmp_path / "docs")
    index = backend.open(tmp_path / "idx")
    ingest_paths(index, [docs])
    (docs / "bats.md").unlink()
    ingest_paths(index, [docs], prune=True)
    fresh = backend.open(tmp_path / "idx2") if backend.name == "embedded" else None
    if fresh is None:  # another schema on the same server
        from tests.support.backends import Backend as B
        from tests.support.postgres import fresh_schema

        fresh = B("postgres", {**backend.env, "HRAGENT_INDEX__SCHEMA_NAME": fresh_schema()}).open(tmp_path / "idx2")
    ingest_paths(fresh, [docs])
    for probe in ("owls hunt lemmings", "eel river fish"):
        a, b = index.bm25(probe, 5, frozenset()), fresh.bm25(probe, 5, frozenset())
        assert [round(s, 9) for _, s in a] == [round(s, 9) for _, s in b] and a
    index.close()
    fresh.close()
