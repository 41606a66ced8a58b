"""`hragent migrate --to postgresql://…`: an embedded index copied into PostgreSQL without re-embedding
answers identically (check() on both, same top-10 for BM25 and dense probes)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent.cli import main
from tests.conftest import SAMPLE
from tests.support.postgres import fresh_schema
from tools.embeddings import HashingEmbedder
from tools.index import HierarchicalIndex
from tools.ingest.loaders import load_file
from tools.ingest.pipeline import ingest_paths
from tools.store.postgres import PostgresStore


def test_migrate_copies_tree_postings_and_vectors(
    tmp_path: Path, postgres_dsn: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HRAGENT_EMBEDDER", "hashing")
    index = HierarchicalIndex(tmp_path / "idx", HashingEmbedder())
    ingest_paths(index, [SAMPLE])
    secret = tmp_path / "secret.md"
    secret.write_text("# Vault\n\nThe zorblat vault code is kept by finance.\n", encoding="utf-8")
    index.ingest(load_file(secret), acl=["finance"])
    index.close()
    schema = fresh_schema()
    code = main(["migrate", "--index", str(tmp_path / "idx"), "--to", postgres_dsn, "--schema", schema])
    out = capsys.readouterr().out
    report = json.loads(out[out.index("{\n") :])  # after the ingest log lines
    assert code == 0 and report["identical"], json.dumps(report)
    assert report["documents"] == 11 and report["queries"] >= 40 and report["vectors"] > report["nodes"] / 2
    copy = HierarchicalIndex(tmp_path / "idx", HashingEmbedder(), store=PostgresStore(postgres_dsn, schema))
    assert copy.bm25("zorblat", 3, frozenset()) == []  # the ACL came along
    assert copy.bm25("zorblat", 3, frozenset({"finance"}))
    again = main(["migrate", "--index", str(tmp_path / "idx"), "--to", postgres_dsn, "--schema", schema])
    assert again == 2  # the schema already holds an index: a typed error, nothing overwritten
    assert copy.check().ok
    copy.close()


def test_rankings_compare_equal_up_to_tied_scores() -> None:
    from tools.store.postgres.migrate import same_ranking

    assert same_ranking([("a", 0.9), ("b", 0.5), ("c", 0.5)], [("a", 0.9), ("c", 0.5), ("b", 0.5)])
    assert same_ranking([("a", 0.9), ("b", 0.5)], [("a", 0.9), ("z", 0.5)])  # tied at the cut-off
    assert not same_ranking([("a", 0.9), ("b", 0.8), ("c", 0.5)], [("b", 0.9), ("a", 0.8), ("c", 0.5)])
    assert not same_ranking([("a", 0.9), ("b", 0.5)], [("a", 0.9), ("b", 0.4)])
    assert not same_ranking([("a", 0.9)], [("a", 0.9), ("b", 0.5)])
