"""#17: lazy parts built once under concurrency, `close()` releasing every connection and pool, and
the per-index title cache seeing documents another handle (another process) ingested."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from agent import Agent
from tests.conftest import SAMPLE, offline_settings
from tools.embeddings import HashingEmbedder
from tools.index import HierarchicalIndex
from tools.ingest.pipeline import ingest_paths
from tools.retrieval.titles import title_matcher


def _bm25_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("hragent-bm25")]


def test_lazy_index_roles_and_graph_are_built_once_under_a_thread_race(tmp_path: Path) -> None:
    agent = Agent(tmp_path / "idx", settings=offline_settings(), embedder=HashingEmbedder())
    barrier = threading.Barrier(16)

    def grab(_: int) -> tuple[int, int, int]:
        barrier.wait()
        return id(agent.graph), id(agent.index), id(agent._roles(agent.index))

    with ThreadPoolExecutor(max_workers=16) as pool:
        seen = set(pool.map(grab, range(16)))
    assert len(seen) == 1
    agent.close()


def test_close_releases_every_thread_connection_the_pool_and_chroma(tmp_path: Path) -> None:
    before = len(_bm25_threads())
    agent = Agent(tmp_path / "idx", settings=offline_settings(checkpointer="sqlite"), embedder=HashingEmbedder())
    agent.ingest(SAMPLE / "01-company-overview.md")
    assert len(_bm25_threads()) == before  # no pool before the first `auto` query
    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(agent.run, ["When was Halden Robotics founded?"] * 4))
    index: Any = agent.index
    conns = list(index._conns)
    assert len(conns) >= 2 and len(_bm25_threads()) > before  # several threads' connections, a live pool
    saver = agent.graph.checkpointer
    agent.close()
    assert len(_bm25_threads()) == before
    assert index._conns == [] and index._chroma is None
    for conn in [*conns, saver.conn]:
        try:
            conn.execute("SELECT 1")
        except Exception as exc:  # sqlite3.ProgrammingError: closed
            assert "closed" in str(exc)
        else:
            raise AssertionError("a connection survived close()")
    # Closed is not broken: the next call reopens what it needs.
    assert agent.run("When was Halden Robotics founded?").answer
    agent.close()


def test_context_manager_closes(tmp_path: Path) -> None:
    with Agent(tmp_path / "idx", settings=offline_settings(), embedder=HashingEmbedder()) as agent:
        agent.ingest(SAMPLE / "01-company-overview.md")
        index: Any = agent.index
        assert index._conns
    assert index._conns == [] and agent._index is None


def test_title_cache_sees_documents_another_handle_ingested(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.md").write_text("# Osterby Mill\n\nA mill on the river.\n")
    reader = HierarchicalIndex(tmp_path / "idx", HashingEmbedder())
    ingest_paths(reader, [docs])
    assert len(title_matcher(reader).find("Osterby Mill and Quayside Hall")) == 1
    writer = HierarchicalIndex(tmp_path / "idx", HashingEmbedder())  # as another process would open it
    (docs / "b.md").write_text("# Quayside Hall\n\nA hall by the quay.\n")
    ingest_paths(writer, [docs])
    assert len(title_matcher(reader).find("Osterby Mill and Quayside Hall")) == 2
    assert title_matcher(writer) is not title_matcher(reader)  # per index, never shared
    reader.close()
    writer.close()
