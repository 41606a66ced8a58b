"""PostgreSQL BM25 with the document frequencies the writers keep (`doc_freq`): after inserts, deletes,
re-ingests of changed text, a writer SIGKILLed inside its transaction and a compaction, the kept df of
every term equals its postings counted, and BM25 returns what a query that counts every df from the
postings returns (same ids, scores and order). An index written before the df tables existed gets them
built on first open, and `check()` reports a kept df that disagrees with the postings."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.bm25_reference import counted_df, counting_bm25, kept_df, write_pages
from tests.support.postgres import fresh_schema
from tools.embeddings import HashingEmbedder
from tools.index import HierarchicalIndex
from tools.ingest.pipeline import ingest_paths
from tools.store.fts import fts_query
from tools.store.postgres import PostgresStore
from tools.store.postgres.doc_freq import compact
from tools.store.postgres.postings import term_key

pytest.importorskip("psycopg")

ROOT = Path(__file__).resolve().parents[2]
CHILD = Path(__file__).with_name("writer_child.py")
# Several terms (some kept, some common at the small cut below), all-common ones, and single terms.
QUERIES = [
    "cedar birch alder damson ginkgo",
    "alder ginkgo",
    "birch cedar hazel",
    "alder birch",
    "cedar",
    "alder",
    "fir damson elder",
    "hazel ginkgo",
]
CUTS = (3, 6, 1000)  # BM25_COMMON_DF stand-ins: most terms common, some, none


def assert_exact(store: PostgresStore) -> None:
    with store.reading() as db:
        assert kept_df(db) == counted_df(db)
        checked = 0
        for query in QUERIES:
            match = fts_query(query)
            for cut in CUTS:
                for ids in (frozenset(), frozenset({"crew"})):
                    got = store.bm25(match, 10, ids, None, cut)
                    want = counting_bm25(db, match, 10, ids, cut)
                    assert [r[0] for r in got] == [r[0] for r in want], (query, cut, ids)
                    assert [r[1] for r in got] == pytest.approx([r[1] for r in want], rel=1e-12)
                    checked += bool(want)
        assert checked > len(QUERIES) * len(CUTS)  # most probes find something


def open_index(dsn: str, schema: str, where: Path) -> tuple[HierarchicalIndex, PostgresStore]:
    store = PostgresStore(dsn, schema)
    return HierarchicalIndex(where, HashingEmbedder(), store=store), store


def test_kept_df_follows_every_write_and_bm25_equals_the_counting_query(postgres_dsn: str, tmp_path: Path) -> None:
    schema, folder = fresh_schema(), tmp_path / "docs"
    index, store = open_index(postgres_dsn, schema, tmp_path / "idx")
    public = write_pages(folder, range(0, 24))
    ingest_paths(index, public)
    ingest_paths(index, write_pages(folder, range(24, 36)), acl=["crew"])
    assert_exact(store)

    for path in public[:5]:  # deletes
        path.unlink()
    ingest_paths(index, [folder], prune=True)
    assert_exact(store)

    ingest_paths(index, write_pages(folder, range(10, 20), round_=1))  # re-ingest with other words
    assert_exact(store)
    with store.reading() as db:  # so far the dfs are deltas (the first open folded nothing)
        assert db.execute("SELECT count(*) FROM bm25_df_delta").fetchone()[0] > 0

    # A writer killed inside its transaction (its postings and df rows written, not committed).
    changed = write_pages(folder, range(12, 16), round_=2)
    victim = subprocess.Popen(
        [sys.executable, str(CHILD), str(tmp_path / "idx"), *map(str, changed)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "HRAGENT_INDEX__BACKEND": "postgres",
            "HRAGENT_INDEX__DSN": postgres_dsn,
            "HRAGENT_INDEX__SCHEMA_NAME": schema,
            "HRAGENT_TEST_PARK": "after_publish",
        },
        cwd=ROOT,
    )
    assert victim.stdout is not None
    assert any(line.startswith("AT ") for line in victim.stdout)
    victim.send_signal(signal.SIGKILL)
    victim.communicate(timeout=60)
    assert_exact(store)
    ingest_paths(index, changed)  # finish what the victim began
    assert_exact(store)

    ingest_paths(index, write_pages(folder, range(30, 33), round_=3))  # deltas after the victim's open folded
    compact(store.db(), force=True)
    with store.reading() as db:
        assert db.execute("SELECT count(*) FROM bm25_df_delta").fetchone()[0] == 0
    assert_exact(store)
    assert index.check().ok
    index.close()


def test_an_index_without_df_tables_gets_them_built_on_open(postgres_dsn: str, tmp_path: Path) -> None:
    schema = fresh_schema()
    index, store = open_index(postgres_dsn, schema, tmp_path / "idx")
    ingest_paths(index, write_pages(tmp_path / "docs", range(0, 20)))
    store.db().execute("DROP TABLE bm25_df, bm25_df_delta")  # as an index written before them
    index.close()
    index, store = open_index(postgres_dsn, schema, tmp_path / "idx")
    with store.reading() as db:
        assert db.execute("SELECT count(*) FROM bm25_df").fetchone()[0] > 0
    assert_exact(store)
    index.close()


def test_check_reports_a_kept_df_that_differs_from_the_postings(postgres_dsn: str, tmp_path: Path) -> None:
    index, store = open_index(postgres_dsn, fresh_schema(), tmp_path / "idx")
    ingest_paths(index, write_pages(tmp_path / "docs", range(0, 8)))
    assert index.check().ok
    store.db().execute("INSERT INTO bm25_df_delta(term, df) VALUES (%s, 1)", (term_key("alder"),))
    check = index.check()
    assert not check.ok and any("document frequency" in p for p in check.problems)
    index.close()
