"""ACL property test on every backend: for any caller, every read primitive and every strategy returns
exactly what that caller may see (nothing hidden leaks; nothing visible is lost to the filter)."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.backends import Backend
from tools.acl import can_see
from tools.embeddings import HashingEmbedder
from tools.ingest.loaders import load_file
from tools.retrieval import STRATEGIES, retrieve

PEOPLE = ["alice", "bob", "hr", "eng", "ops"]
# (title, unique word, ACL); every document also mentions the shared words "quarterly harbour memo".
DOCS = [
    ("Alpha", "zircon", ()),
    ("Bravo", "quokka", ("alice",)),
    ("Charlie", "marimba", ("hr",)),
    ("Delta", "tundra", ("alice", "eng")),
    ("Echo", "obsidian", ("eng",)),
    ("Foxtrot", "saffron", ("ops", "bob")),
]


def test_every_read_filters_exactly_by_acl(backend: Backend, tmp_path: Path) -> None:
    index = backend.open(tmp_path / "idx")
    folder = tmp_path / "docs"
    folder.mkdir()
    acl_of: dict[str, tuple[str, ...]] = {}
    for title, word, acl in DOCS:
        path = folder / f"{title.lower()}.md"
        path.write_text(f"# {title}\n\nThe quarterly harbour memo mentions {word} twice: {word}.\n", encoding="utf-8")
        index.ingest(load_file(path), acl=list(acl))
        acl_of[title] = acl
    doc_ids = dict(index.find_titles([t for t, _, _ in DOCS], frozenset(PEOPLE)))
    assert len(doc_ids) == len(DOCS)
    embed = HashingEmbedder().embed

    @settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.frozensets(st.sampled_from(PEOPLE)))
    def check(ids: frozenset[str]) -> None:
        allowed = {t for t, _, acl in DOCS if can_see(acl, ids)}
        titles = {
            n.title for n in index.get([n for n, _ in index.bm25("quarterly harbour memo", 20, ids)], ids).values()
        }
        assert titles == allowed
        for title, word, _ in DOCS:
            hits = index.bm25(word, 5, ids)
            assert bool(hits) == (title in allowed), (title, ids)
            dense = index.dense("leaf", embed([f"The quarterly harbour memo mentions {word}"])[0], 10, ids)
            seen = {r.title for r in index.get([n for n, _ in dense], ids).values()}
            assert seen == allowed  # k above the corpus size: every visible leaf, none other
            leaves = index.document_leaves(doc_ids[title], ids)
            assert bool(leaves) == (title in allowed)
        assert set(index.find_titles([t for t, _, _ in DOCS], ids)) == allowed
        all_leaves = index.leaf_ids_of_docs(list(doc_ids.values()), frozenset(PEOPLE))
        every = [n for ns in all_leaves.values() for n in ns]
        assert {r.title for r in index.get(every, ids).values()} == allowed
        assert len(index.visible(every, ids)) == sum(len(all_leaves[doc_ids[t]]) for t in allowed)
        for name in STRATEGIES:
            for hit in retrieve(index, "quarterly harbour memo quokka tundra", 6, strategy=name, identities=ids):
                assert Path(hit.source).stem.capitalize() in allowed, (name, hit.source, ids)

    check()
    index.close()
