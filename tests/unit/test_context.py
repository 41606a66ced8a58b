"""#17 per-assistant configuration through LangGraph's runtime context, in process: one served
graph, two contexts over two indexes; run values over an agent's own graph; no import-time work."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from agent import Agent
from agent.studio import ServedAgents, make_graph
from tests.conftest import offline_settings
from tests.support.two_corpora import FERRY_Q, LIGHTHOUSE_Q, write_corpora
from tools.embeddings import HashingEmbedder
from tools.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def two_indexes(tmp_path: Path) -> tuple[Path, Path]:
    ferry_docs, light_docs = write_corpora(tmp_path)
    dirs = (tmp_path / "ferry-idx", tmp_path / "light-idx")
    for docs, index_dir in zip((ferry_docs, light_docs), dirs, strict=True):
        with Agent(index_dir, settings=offline_settings(embedder="hashing"), embedder=HashingEmbedder()) as agent:
            agent.ingest(docs)
    return dirs


def _sources(out: dict[str, object]) -> set[str]:
    return {Path(c["source"]).name for c in out["citations"]}  # type: ignore[attr-defined, index]


def test_one_served_graph_answers_each_context_from_its_own_index(two_indexes: tuple[Path, Path]) -> None:
    ferry, light = two_indexes
    graph = make_graph(ServedAgents(offline_settings(embedder="hashing", checkpointer="none")))
    a = graph.invoke({"task": FERRY_Q}, context={"index_dir": str(ferry)})
    b = graph.invoke({"task": LIGHTHOUSE_Q}, context={"index_dir": str(light), "strategy": "bm25", "k": 3})
    assert "Oarmakers Guild" in a["answer"] and _sources(a) == {"ferry.md"}
    assert "Oren Tamm" in b["answer"] and _sources(b) == {"lighthouse.md"}
    crossed = graph.invoke({"task": LIGHTHOUSE_Q}, context={"index_dir": str(ferry)})
    assert "Oren Tamm" not in crossed["answer"] and "lighthouse.md" not in _sources(crossed)


def test_unknown_context_keys_are_named(two_indexes: tuple[Path, Path]) -> None:
    graph = make_graph(ServedAgents(offline_settings(embedder="hashing", checkpointer="none")))
    with pytest.raises(TypeError, match="index_dri"):  # LangGraph builds the dataclass and names the key
        graph.invoke({"task": FERRY_Q}, context={"index_dri": str(two_indexes[0])})


def test_an_agents_graph_takes_run_values_but_not_another_index(
    sample_agent: Agent, two_indexes: tuple[Path, Path]
) -> None:
    question = "What is the maximum payload of the Harrier?"
    ctx = {"strategy": "bm25", "k": 2, "max_hops": 1}
    out = sample_agent.graph.invoke({"task": question}, {"configurable": {"thread_id": "c1"}}, context=ctx)
    plain = sample_agent.graph.invoke({"task": question}, {"configurable": {"thread_id": "c0"}})
    assert out["answer"]
    details = [t["detail"] for t in out["trace"] if t["node"] == "retrieve"]
    assert details and all(d["hop"] == 1 for d in details)  # max_hops=1 from the context
    assert all(d["hits"] <= 2 for d in details if not d["followed"])  # k=2 (followed titles add leaves)
    default_hits = [t["detail"]["hits"] for t in plain["trace"] if t["node"] == "retrieve"]
    assert max(d["hits"] for d in details) < max(default_hits)
    with pytest.raises(ConfigError, match="one index"):
        sample_agent.graph.invoke(
            {"task": question}, {"configurable": {"thread_id": "c2"}}, context={"index_dir": str(two_indexes[1])}
        )


def test_importing_the_served_graph_reads_no_settings_and_opens_nothing(tmp_path: Path) -> None:
    # Settings that could not even load: the import must not touch them.
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "HRAGENT_EMBEDDER": "no-such-model",
        "HRAGENT_INDEX_DIR": str(tmp_path / "idx"),
    }
    code = "import agent.studio, sys; print(type(agent.studio.graph).__name__)"
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "CompiledStateGraph"
    assert not (tmp_path / "idx").exists()
