"""PostgreSQL BM25: the one-statement query (`FUSED`) returns exactly what the general two-statement
path returns (same ids, same scores, same order), and hands over to it in the cases it cannot decide
alone: no term rare enough to keep, and too few of the pruned candidates visible to the caller."""

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
from tools.store.postgres.bm25 import FUSED, PRUNE, bm25_search, general
from tools.store.postgres.postings import term_key

pytest.importorskip("psycopg")

WORDS = ["amber", "basalt", "cobalt", "dune", "ember", "fjord", "garnet", "heath", "iris", "juniper"]
QUERIES = ["amber basalt", "cobalt dune ember", "fjord garnet heath", "iris juniper amber", "basalt heath iris"]


class Recorder:
    """A connection that remembers which statements it ran (to tell the fused path from the general one)."""

    def __init__(self, db: Any) -> None:
        self.db = db
        self.sql: list[str] = []

    def execute(self, sql: str, params: Any = None, prepare: bool | None = None) -> Any:
        self.sql.append(sql)
        return self.db.execute(sql, params, prepare=prepare)


@pytest.fixture
def store(postgres_dsn: str, tmp_path: Path) -> Any:
    """60 invented one-paragraph pages over ten words (each word in a different share of the pages);
    every third page is visible to the `crew` identity only."""
    folder = tmp_path / "docs"
    folder.mkdir()
    public, private = [], []
    for i in range(60):
        words = [w for j, w in enumerate(WORDS) if i % (j + 2) == 0] or ["quiet"]
        path = folder / f"p{i:02d}.md"
        path.write_text(f"# Page {i}\n\nThe {' and the '.join(words)} appear here {i % 4 + 1} times.\n")
        (private if i % 3 == 0 else public).append(path)
    backend = PostgresStore(postgres_dsn, fresh_schema())
    index = HierarchicalIndex(tmp_path / "idx", HashingEmbedder(), store=backend)
    ingest_paths(index, public)
    ingest_paths(index, private, acl=["crew"])
    yield backend
    index.close()


def both(store: PostgresStore, query: str, k: int, ids: frozenset[str], common_df: int) -> tuple[Any, Any, Recorder]:
    match = fts_query(query)
    keys = [term_key(t) for t in query_terms(match)]
    with store.reading() as db:
        rec = Recorder(db)
        fused = bm25_search(rec, match, k, ids, None, common_df)
        plain = general(db, keys, k, ids, None, common_df)
    return fused, plain, rec


@pytest.mark.parametrize("ids", [frozenset(), frozenset({"crew"})])
@pytest.mark.parametrize("k", [1, 3, 10])
def test_fused_bm25_equals_the_general_path(store: PostgresStore, ids: frozenset[str], k: int) -> None:
    alone = 0
    for query in QUERIES:
        fused, plain, rec = both(store, query, k, ids, common_df=1000)
        assert fused == plain, query
        assert fused, query
        assert rec.sql[0] == FUSED
        alone += rec.sql == [FUSED]
    if ids:  # every page visible: the pruned candidates always hold k visible ones
        assert alone == len(QUERIES)


def test_all_terms_common_hands_over_to_the_general_path(store: PostgresStore) -> None:
    """With a tiny common-df bound every term is common: the general path scores the rarest ones."""
    fused, plain, rec = both(store, "amber basalt cobalt", 10, frozenset(), common_df=2)
    assert fused == plain and fused
    assert rec.sql[0] == FUSED and len(rec.sql) > 1


def test_too_few_visible_candidates_hands_over_to_the_general_path(store: PostgresStore) -> None:
    """ "basalt" is on every third page, all of them the crew's; "juniper", the rarer word, on every
    eleventh, four of them public. Without the crew identity, the k*PRUNE best candidates (the six
    juniper pages first, then basalt pages) hold only four visible pages, fewer than k = 5, so the
    query is scored in full, as the general path scores it: the four public juniper pages."""
    fused, plain, rec = both(store, "basalt juniper", 5, frozenset(), common_df=1000)
    assert fused == plain
    assert len(fused) == 4
    assert rec.sql[0] == FUSED and len(rec.sql) > 1
    assert PRUNE * 5 < 26  # the 26 postings of the two words are more than the pruned candidate list
