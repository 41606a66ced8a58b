"""Scale-out: the same agent against a `chroma run` server on 127.0.0.1 (vectors move to the server;
manifest, tree and BM25 stay in the index directory)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent import Agent
from tests.conftest import SAMPLE, offline_settings
from tests.support.servers import free_port, stop, wait_for_port
from tools.embeddings import HashingEmbedder

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    chroma = Path(sys.executable).with_name("chroma")
    if not chroma.exists():
        pytest.skip("the chroma CLI ships with chromadb; reinstall hragent")
    data = tmp_path_factory.mktemp("chroma-server")
    port = free_port()
    proc = subprocess.Popen(
        [str(chroma), "run", "--path", str(data), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        error = wait_for_port(port, proc, 60)
        if error:
            pytest.fail(f"chroma server did not start: {error}")
        yield port
    finally:
        stop(proc)
        shutil.rmtree(data, ignore_errors=True)


def test_agent_runs_against_chroma_server(chroma_server: int, tmp_path: Path) -> None:
    import chromadb

    settings = offline_settings(chroma_host="127.0.0.1", chroma_port=chroma_server)
    agent = Agent(tmp_path / "idx", settings=settings, embedder=HashingEmbedder())
    report = agent.ingest(SAMPLE)
    assert report.documents == 10
    result = agent.run("Who was born earlier, Mira Okafor or Tomas Lindqvist?")
    assert result.short_answer == "Tomas Lindqvist"
    assert result.citations
    assert not (tmp_path / "idx" / "chroma").exists(), "vectors must live on the server"
    assert (tmp_path / "idx" / "tree.sqlite").exists() and (tmp_path / "idx" / "manifest.json").exists()
    client = chromadb.HttpClient(host="127.0.0.1", port=chroma_server)
    names = {c.name for c in client.list_collections()}
    leaf = next(n for n in names if n.endswith("_leaf"))
    assert client.get_collection(leaf).count() == agent.index.stats()["levels"]["leaf"]
    # A second index on the same server gets its own collections.
    other = Agent(tmp_path / "idx2", settings=settings, embedder=HashingEmbedder())
    other.ingest(SAMPLE / "01-company-overview.md")
    assert len({c.name for c in client.list_collections()}) == 2 * len(names)
