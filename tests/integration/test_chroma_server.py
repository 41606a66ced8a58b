"""Scale-out: the same agent against a `chroma run` server on 127.0.0.1 (vectors move to the server;
manifest, tree and BM25 stay in the index directory)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent import Agent
from tests.conftest import SAMPLE, offline_settings
from tools.embeddings import HashingEmbedder

pytestmark = pytest.mark.integration


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    chroma = Path(sys.executable).with_name("chroma")
    if not chroma.exists():
        pytest.skip("the chroma CLI ships with chromadb; reinstall hragent")
    data = tmp_path_factory.mktemp("chroma-server")
    port = _free_port()
    proc = subprocess.Popen(
        [str(chroma), "run", "--path", str(data), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                time.sleep(0.3)
        else:
            pytest.fail("chroma server did not start")
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=15)
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
