"""The PostgreSQL backend's reader pool: many threads share a bounded number of server connections and
get the same answers as one thread alone; without the pool every thread holds its own connection."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from tests.support.postgres import fresh_schema
from tools.embeddings import HashingEmbedder
from tools.errors import ConfigError
from tools.index import HierarchicalIndex
from tools.ingest.pipeline import ingest_paths

pytest.importorskip("psycopg_pool")

THREADS = 8
DOCS = {
    "kites.md": "# Kites\n\nA box kite flies steadily in strong coastal wind.\n",
    "canoes.md": "# Canoes\n\nA cedar canoe glides across the calm lake at dawn.\n",
    "lamps.md": "# Lamps\n\nAn oil lamp glows in the lighthouse keeper's window.\n",
}


def server_connections(dsn: str) -> int:
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
            " AND backend_type = 'client backend'"
        ).fetchone()
        assert row is not None
        return int(row[0])


def hammer(index: HierarchicalIndex, queries: list[str]) -> list[list[list[tuple[str, float]]]]:
    """Every query from THREADS threads at once; each thread's answers, in query order."""
    embedder = HashingEmbedder()
    vectors = embedder.embed(queries)
    out: list[list[list[tuple[str, float]]]] = [[] for _ in range(THREADS)]
    start = threading.Barrier(THREADS)

    def client(i: int) -> None:
        start.wait()
        for q, v in zip(queries, vectors, strict=True):
            out[i].append(index.bm25(q, 3, frozenset()))
            out[i].append(index.dense("leaf", v, 3, frozenset()))

    threads = [threading.Thread(target=client, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


@pytest.mark.parametrize("pool_size", [2, 0])
def test_readers_share_a_bounded_pool(postgres_dsn: str, tmp_path: Path, pool_size: int) -> None:
    from tools.store.postgres import PostgresStore

    docs = tmp_path / "docs"
    docs.mkdir()
    for name, text in DOCS.items():
        (docs / name).write_text(text, encoding="utf-8")
    before = server_connections(postgres_dsn)
    store = PostgresStore(postgres_dsn, fresh_schema(), pool_size=pool_size)
    index = HierarchicalIndex(tmp_path / "idx", HashingEmbedder(), store=store)
    ingest_paths(index, [docs])
    ingested = server_connections(postgres_dsn)
    queries = ["coastal wind kite", "calm lake canoe", "lighthouse lamp"]
    answers = hammer(index, queries)
    assert all(a == answers[0] for a in answers)  # every thread saw the same hits
    for query, hits in zip(queries, answers[0][0::2], strict=True):  # the BM25 answers
        top = store.get([hits[0][0]], frozenset())[hits[0][0]]
        assert query.split()[-1] in top.text.lower()
    opened = server_connections(postgres_dsn) - ingested  # by the reading threads
    if pool_size:
        assert opened <= pool_size
    else:
        assert opened >= THREADS  # one per reading thread
    index.close()
    assert settled_connections(postgres_dsn, before) == before


def settled_connections(dsn: str, want: int, wait_s: float = 10.0) -> int:
    """Server connections once closed ones are gone: a backend leaves `pg_stat_activity` a moment
    after its client disconnects (seconds on a loaded machine), so poll instead of reading once."""
    deadline = time.monotonic() + wait_s
    while (now := server_connections(dsn)) != want and time.monotonic() < deadline:
        time.sleep(0.1)
    return now


def test_a_bad_pool_size_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from tools.store.postgres.settings import read_pool_size

    monkeypatch.setenv("HRAGENT_PG_POOL", "many")
    with pytest.raises(ConfigError, match="HRAGENT_PG_POOL"):
        read_pool_size()
    monkeypatch.setenv("HRAGENT_PG_POOL", "0")
    assert read_pool_size() == 0
