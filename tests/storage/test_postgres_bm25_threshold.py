"""PostgreSQL BM25's threshold top-k for all-common queries (`threshold.py`): on an index with
`postings_impact`, every query whose terms are all common returns what scoring every posting returns
(same ids, scores and order), for every caller and k, and the bound does prove answers early (it is not
always handing over to full scoring). The invented pages are short (average length far from the impact
order's reference of 100 tokens) and hold some words twice, so the impact-to-score conversion matters."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.support.bm25_reference import counting_bm25, write_pages
from tests.support.postgres import fresh_schema
from tools.embeddings import HashingEmbedder
from tools.index import HierarchicalIndex
from tools.ingest.pipeline import ingest_paths
from tools.store.fts import fts_query
from tools.store.postgres import PostgresStore, threshold
from tools.store.postgres.bm25 import K1

pytest.importorskip("psycopg")

# At the cut of 3 leaves every word below is common: each query takes the all-common fallback.
QUERIES = ["alder birch", "birch cedar damson", "cedar birch alder damson ginkgo", "elder fir", "hazel ginkgo fir"]


@pytest.fixture
def store(postgres_dsn: str, tmp_path: Path) -> Any:
    backend = PostgresStore(postgres_dsn, fresh_schema(), bm25_impact=True)
    index = HierarchicalIndex(tmp_path / "idx", HashingEmbedder(), store=backend)
    ingest_paths(index, write_pages(tmp_path / "docs", range(0, 40)))
    ingest_paths(index, write_pages(tmp_path / "crew", range(40, 60)), acl=["crew"])
    index.close()
    reopened = PostgresStore(postgres_dsn, backend.schema, bm25_impact=True)
    HierarchicalIndex(tmp_path / "idx", HashingEmbedder(), store=reopened)  # prepare builds the impact index
    assert reopened.has_impact()
    yield reopened
    reopened.close()


@pytest.mark.parametrize("depth", [1, 2, 1000])
def test_all_common_queries_get_the_exact_top_k(store: PostgresStore, monkeypatch: Any, depth: int) -> None:
    """Depth 1 and 2 force the bound to work through several rounds; 1000 reads every list to its end."""
    monkeypatch.setattr(threshold, "FIRST_DEPTH", depth)
    monkeypatch.setattr(threshold, "PROBE_COST", 0)  # never hand over for cost on this small corpus
    proved = []
    real_top_k = threshold.top_k

    def recording(*args: Any) -> Any:
        out = real_top_k(*args)
        proved.append(out is not None)
        return out

    monkeypatch.setattr("tools.store.postgres.bm25.top_k", recording)
    with store.reading() as db:
        for query in QUERIES:
            for ids in (frozenset(), frozenset({"crew"})):
                for k in (1, 3, 10):
                    got = store.bm25(fts_query(query), k, ids, None, 3)
                    want = counting_bm25(db, fts_query(query), k, ids, 3)
                    assert [r[0] for r in got] == [r[0] for r in want], (query, ids, k, got, want)
                    assert [r[1] for r in got] == pytest.approx([r[1] for r in want], rel=1e-12)
    assert len(proved) == len(QUERIES) * 2 * 3
    assert all(proved)  # with no cost limit, the bound always ends (at worst with every list read)


def test_the_bound_covers_every_posting_it_has_not_read(store: PostgresStore) -> None:
    """ĝ(v) is at least the tf part of every posting whose impact is at most v, whatever avgdl is."""
    with store.reading() as db:
        rows = db.execute("SELECT tf, len FROM postings").fetchall()
    for avgdl in (5.0, 17.0, 100.0, 400.0):
        for tf, length in rows:
            impact = tf / (tf + 0.3 + 0.009 * length)
            part = tf * (K1 + 1) / (tf + K1 * (1 - 0.75 + 0.75 * length / avgdl))
            assert part <= threshold.tf_bound(impact, avgdl, K1) * (1 + 1e-12), (tf, length, avgdl)
