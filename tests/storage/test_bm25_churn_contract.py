"""BM25 statistics after churn, on every backend (`backend` fixture): after inserts, prunes and
re-ingests of changed text, every query — several terms, all-common at a small common-term cut, one
term — returns what an index that only ever held the final corpus returns (ids and scores). On
PostgreSQL that covers the document frequencies the writers keep (`doc_freq`); on the embedded backend,
FTS5's own."""

from __future__ import annotations

from pathlib import Path

from tests.support.backends import Backend
from tests.support.bm25_reference import write_pages
from tools.ingest.pipeline import ingest_paths
from tools.store.fts import fts_query

QUERIES = ["alder ginkgo", "birch cedar hazel", "cedar birch alder damson ginkgo", "cedar", "fir damson elder"]


def fresh_like(backend: Backend, where: Path) -> object:
    if backend.name == "embedded":
        return backend.open(where)
    from tests.support.postgres import fresh_schema

    return Backend("postgres", {**backend.env, "HRAGENT_INDEX__SCHEMA_NAME": fresh_schema()}).open(where)


def test_bm25_after_churn_equals_an_index_of_the_final_corpus(backend: Backend, tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    index = backend.open(tmp_path / "idx")
    ingest_paths(index, write_pages(folder, range(0, 30)))
    for path in sorted(folder.iterdir())[:6]:
        path.unlink()
    ingest_paths(index, [folder], prune=True)
    ingest_paths(index, write_pages(folder, range(10, 22), round_=1))
    fresh = fresh_like(backend, tmp_path / "idx2")
    ingest_paths(fresh, [folder])
    found = 0
    for query in QUERIES:
        for cut in (3, 1000):
            a = index._store.bm25(fts_query(query), 5, frozenset(), None, cut)
            b = fresh._store.bm25(fts_query(query), 5, frozenset(), None, cut)  # type: ignore[attr-defined]
            assert [(n, round(s, 9)) for n, s in a] == [(n, round(s, 9)) for n, s in b], (query, cut)
            found += bool(a)
    assert found == len(QUERIES) * 2
    index.close()
    fresh.close()  # type: ignore[attr-defined]
