"""PostgreSQL BM25 with a bound on the postings read per term (`HRAGENT_PG_BM25_POSTINGS`): exactly the
unbounded scores when no kept term is in more leaves than the bound, and otherwise a change only where
a leaf falls outside some term's best postings — its score then lacks that term's share, never more."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.support.postgres import fresh_schema
from tools.embeddings import HashingEmbedder
from tools.index import HierarchicalIndex
from tools.ingest.pipeline import ingest_paths
from tools.store.fts import fts_query, query_terms
from tools.store.postgres import PostgresStore
from tools.store.postgres.bm25 import K1, B, bm25_search, general
from tools.store.postgres.postings import term_key
from tools.store.postgres.schema import has_impact_index

pytest.importorskip("psycopg")

WORDS = ["amber", "basalt", "cobalt", "dune", "ember", "fjord"]
QUERIES = ["amber basalt", "cobalt dune ember", "amber fjord", "basalt dune fjord", "amber cobalt ember fjord"]
EVERYONE = frozenset({"crew"})
PAGES = 48


def page_text(i: int) -> str:
    """Word j on every (j+2)-th page, repeated on some pages, with filler of varying length, so that
    term frequency and leaf length both vary and each word has its own document frequency (8 to 24)."""
    words = [" ".join([w] * (1 + (i // (j + 2)) % 3)) for j, w in enumerate(WORDS) if i % (j + 2) == 0]
    filler = " ".join(["quiet"] * (3 + (i * 7) % 23))
    return f"# Page {i}\n\nThe {' and the '.join(words or ['calm'])} sit among {filler} stones.\n"


@pytest.fixture
def pages(postgres_dsn: str, tmp_path: Path) -> Any:
    folder = tmp_path / "docs"
    folder.mkdir()
    paths = []
    for i in range(PAGES):
        path = folder / f"p{i:02d}.md"
        path.write_text(page_text(i))
        paths.append(path)
    schema = fresh_schema()
    bounded = PostgresStore(postgres_dsn, schema, bm25_postings=5)  # `prepare` builds the impact index
    index = HierarchicalIndex(tmp_path / "idx", HashingEmbedder(), store=bounded)
    ingest_paths(index, paths[1::2])
    ingest_paths(index, paths[0::2], acl=["crew"])
    exact = PostgresStore(postgres_dsn, schema, bm25_postings=0)
    yield index, bounded, exact
    exact.close()  # its connections too: other tests count the server's connections
    index.close()


def run(store: PostgresStore, query: str, k: int, ids: frozenset[str], per_term: int) -> tuple[Any, Any]:
    """(bounded, exact) top-k of one query on one connection."""
    match = fts_query(query)
    with store.reading() as db:
        bounded = bm25_search(db, match, k, ids, None, 1000, per_term)
        exact = bm25_search(db, match, k, ids, None, 1000, 0)
    return bounded, exact


def same(a: list[tuple[str, float]], b: list[tuple[str, float]]) -> bool:
    """The same leaves in the same order with the same scores (up to the last bits: the bounded
    query adds a leaf's term scores in another order)."""
    return [n for n, _ in a] == [n for n, _ in b] and all(
        abs(x - y) < 1e-9 for (_, x), (_, y) in zip(a, b, strict=True)
    )


def document_frequencies(store: PostgresStore) -> dict[str, int]:
    keys = {term_key(w): w for w in WORDS}
    with store.reading() as db:
        rows = db.execute("SELECT term, count(*) FROM postings WHERE term = ANY(%s) GROUP BY term", (list(keys),))
        return {keys[t]: int(n) for t, n in rows.fetchall()}


def test_prepare_builds_the_impact_index_and_the_store_reads_with_the_bound(pages: Any) -> None:
    _, bounded, exact = pages
    with bounded.reading() as db:
        assert has_impact_index(db)
    assert bounded.bm25_bound() == 5 and exact.bm25_bound() == 0
    with pytest.raises(Exception, match="bm25_postings"):
        PostgresStore(bounded.dsn, fresh_schema(), bm25_postings=-1)


@pytest.mark.parametrize("ids", [frozenset(), EVERYONE])
@pytest.mark.parametrize("k", [1, 3, 10])
def test_a_bound_at_least_every_document_frequency_is_exact(pages: Any, ids: frozenset[str], k: int) -> None:
    _, bounded, _ = pages
    bound = max(document_frequencies(bounded).values())
    for query in QUERIES:
        fast, exact = run(bounded, query, k, ids, bound)
        assert same(fast, exact) and fast, query


def test_the_store_searches_with_its_bound(pages: Any) -> None:
    """Through the index facade: the store built with a bound answers as the bounded search does, the
    one built without as the exact search does, and for some query the two differ."""
    index, bounded, exact = pages
    differ = 0
    for query in QUERIES:
        fast, full = run(bounded, query, 10, EVERYONE, 5)
        assert index.bm25(query, 10, EVERYONE) == fast
        assert exact.bm25(fts_query(query), 10, EVERYONE, None, 1000) == full
        differ += not same(fast, full)
    assert differ


def exact_scores(store: PostgresStore, query: str) -> dict[str, float]:
    keys = [term_key(t) for t in query_terms(fts_query(query))]
    with store.reading() as db:
        return dict(general(db, keys, PAGES, EVERYONE, None, 1000, 0))


def best_leaves(store: PostgresStore, word: str, n: int) -> tuple[set[str], set[str]]:
    """(leaves surely among the word's n highest-impact postings, leaves surely not), from tf and
    length as stored (ties at the n-th impact are in neither set)."""
    with store.reading() as db:
        rows = db.execute(
            "SELECT l.node_id, p.tf, p.len FROM postings p JOIN leaf_lengths l ON l.lid = p.lid WHERE p.term = %s",
            (term_key(word),),
        ).fetchall()
    impact = {node: tf / (tf + K1 * (1 - B) + K1 * B * length / 100) for node, tf, length in rows}
    cut = sorted(impact.values(), reverse=True)[n - 1]
    return {k for k, v in impact.items() if v > cut + 1e-12}, {k for k, v in impact.items() if v < cut - 1e-12}


def test_a_smaller_bound_only_lowers_scores_of_leaves_outside_a_terms_best(pages: Any) -> None:
    _, bounded, _ = pages
    n = 5
    assert min(document_frequencies(bounded).values()) > n  # the bound cuts every word's postings
    changed = 0
    for query in QUERIES:
        full = exact_scores(bounded, query)
        fast, exact = run(bounded, query, 10, EVERYONE, n)
        changed += not same(fast, exact)
        assert [s for _, s in fast] == sorted((s for _, s in fast), reverse=True)
        words = query.split()
        inside = [best_leaves(bounded, w, n) for w in words]
        for node, score in fast:
            assert score <= full[node] + 1e-9, (query, node)
            # A leaf in the best postings of every query word it holds gets its whole score.
            holds = [w for w, (best, rest) in zip(words, inside, strict=True) if node in best | rest]
            if all(node in best for w, (best, _) in zip(words, inside, strict=True) if w in holds):
                assert score == pytest.approx(full[node], abs=1e-9), (query, node)
        # The exact best leaf stays first when it is among every one of its words' best postings.
        top, _ = exact[0]
        if all(top in best for best, rest in inside if top in best | rest):
            assert fast[0][0] == top, query
    assert changed  # the bound does change some rankings here (this is not the exact path again)


def test_too_few_visible_leaves_in_the_bounded_read_falls_back_to_every_posting(pages: Any) -> None:
    """The even pages are the crew's: a caller without that identity sees fewer than k of the 2 best
    postings per word, so the query is scored over every posting and returns what exact BM25 returns
    (for some of them more leaves than the bounded read could have seen)."""
    _, bounded, _ = pages
    more = 0
    for query in QUERIES:
        fast, exact = run(bounded, query, 10, frozenset(), 2)
        assert same(fast, exact), query
        more += len(exact) > 2 * len(query.split())
    assert more
