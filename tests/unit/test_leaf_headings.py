"""Which headings go in front of a leaf when it is embedded (`IndexConfig.leaf_heading_path`): a
shorter path records schema 2 in the manifest; an index without the key (schema 1) keeps the whole path."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.embedders import CountingEmbedder
from tools.embeddings import HashingEmbedder
from tools.errors import ConfigError, IndexMismatchError
from tools.index import SCHEMA_VERSION, HierarchicalIndex, IndexConfig
from tools.ingest.pipeline import ingest_paths
from tools.ingest.tree import with_heading_path

PAGE = (
    "# Garden pump\n\n## Maintenance\n\n### Winter storage\n\n"
    "Drain the hose and store the pump indoors before the first frost.\n"
)


def _docs(folder: Path, text: str = PAGE) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "pump.md").write_text(text)
    return folder


def test_heading_path_parts() -> None:
    path = ["Garden pump", "Maintenance", "Winter storage"]
    assert with_heading_path(path, "Drain it.", "full") == "Garden pump > Maintenance > Winter storage. Drain it."
    assert with_heading_path(path, "Drain it.", "last") == "Winter storage. Drain it."
    assert with_heading_path(path, "Drain it.", "page_and_last") == "Garden pump > Winter storage. Drain it."
    assert with_heading_path(path[:2], "Drain it.", "page_and_last") == "Garden pump > Maintenance. Drain it."
    assert with_heading_path([], "Drain it.", "last") == "Drain it."
    with pytest.raises(ConfigError, match="leaf_heading_path"):
        IndexConfig(leaf_heading_path="first")


def test_a_shorter_heading_path_is_embedded_and_recorded(tmp_path: Path) -> None:
    emb = CountingEmbedder()
    config = IndexConfig(embed_sentences=False, leaf_heading_path="last")
    index = HierarchicalIndex(tmp_path / "idx", emb, config=config)
    ingest_paths(index, [_docs(tmp_path / "docs")])
    assert emb.seen == ["Winter storage. Drain the hose and store the pump indoors before the first frost."]
    manifest = json.loads((tmp_path / "idx" / "manifest.json").read_text())
    assert manifest["leaf_heading_path"] == "last" and manifest["schema_version"] == SCHEMA_VERSION == 4
    # BM25 still indexes the whole path: a word of an upper heading finds the leaf.
    assert index.bm25("garden maintenance", 3, frozenset())
    index.close()
    reopened = HierarchicalIndex(tmp_path / "idx", HashingEmbedder(), config=IndexConfig(embed_sentences=False))
    assert reopened.config.leaf_heading_path == "last"  # the manifest's choice, not the caller's default


def test_the_whole_path_keeps_schema_1_and_an_index_from_before_keeps_it(tmp_path: Path) -> None:
    docs = _docs(tmp_path / "docs")
    config = IndexConfig(embed_sentences=False, leaf_heading_path="full")
    index = HierarchicalIndex(tmp_path / "idx", HashingEmbedder(), config=config)
    ingest_paths(index, [docs])
    index.close()
    manifest_path = tmp_path / "idx" / "manifest.json"
    old = json.loads(manifest_path.read_text())
    # Schema 4, not 1: the embedded tree keeps sentences as offsets and lets one-leaf sections share
    # their leaf's vector (#20), which an older hragent would not find; the heading path alone would
    # have kept schema 1.
    assert old["schema_version"] == 4
    assert IndexConfig(leaf_heading_path="full").manifest_schema() == 1
    del old["leaf_heading_path"]  # as a schema-1 hragent wrote it
    manifest_path.write_text(json.dumps(old))

    emb = CountingEmbedder()
    reopened = HierarchicalIndex(
        tmp_path / "idx", emb, config=IndexConfig(embed_sentences=False, leaf_heading_path="last")
    )
    assert reopened.config.leaf_heading_path == "full"
    _docs(docs, PAGE.replace("first frost", "first hard frost"))
    ingest_paths(reopened, [docs])
    assert emb.seen == [
        "Garden pump > Maintenance > Winter storage. Drain the hose and store the pump indoors before the first hard frost."
    ]
    assert reopened.check().ok


def test_an_unknown_heading_path_in_a_manifest_is_refused(tmp_path: Path) -> None:
    HierarchicalIndex(tmp_path / "idx", HashingEmbedder()).close()
    manifest_path = tmp_path / "idx" / "manifest.json"
    manifest_path.write_text(json.dumps({**json.loads(manifest_path.read_text()), "leaf_heading_path": "middle"}))
    with pytest.raises(IndexMismatchError, match="heading path"):
        HierarchicalIndex(tmp_path / "idx", HashingEmbedder())


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    index = HierarchicalIndex(tmp_path / "idx", HashingEmbedder())
    index.close()
    manifest_path = tmp_path / "idx" / "manifest.json"
    manifest_path.write_text(
        json.dumps({**json.loads(manifest_path.read_text()), "schema_version": SCHEMA_VERSION + 1})
    )
    with pytest.raises(IndexMismatchError, match="newer"):
        HierarchicalIndex(tmp_path / "idx", HashingEmbedder())


def test_an_agent_follows_the_heading_path_its_index_was_created_with(tmp_path: Path) -> None:
    from agent import Agent
    from tests.conftest import offline_settings

    config = IndexConfig(embed_sentences=False, leaf_heading_path="page_and_last")
    HierarchicalIndex(tmp_path / "idx", HashingEmbedder(), config=config).close()
    emb = CountingEmbedder()
    agent = Agent(tmp_path / "idx", settings=offline_settings(checkpointer="none"), embedder=emb)
    agent.ingest(_docs(tmp_path / "docs"))
    assert emb.seen == [
        "Garden pump > Winter storage. Drain the hose and store the pump indoors before the first frost."
    ]
    agent.close()


def test_settings_choose_the_heading_path_of_a_new_index(tmp_path: Path) -> None:
    from agent import Agent
    from tests.conftest import offline_settings

    settings = offline_settings(checkpointer="none").model_copy(deep=True)
    settings.index.leaf_heading_path = "last"
    emb = CountingEmbedder()
    with Agent(tmp_path / "idx", settings=settings, embedder=emb) as agent:
        agent.ingest(_docs(tmp_path / "docs"))
    assert emb.seen == ["Winter storage. Drain the hose and store the pump indoors before the first frost."]
    manifest = json.loads((tmp_path / "idx" / "manifest.json").read_text())
    assert manifest["leaf_heading_path"] == "last"


def test_settings_refuse_an_unknown_heading_path() -> None:
    from pydantic import ValidationError

    from agent import Settings

    with pytest.raises(ValidationError):
        Settings(index={"leaf_heading_path": "first"})  # type: ignore[arg-type]
