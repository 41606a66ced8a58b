"""Enumerations end to end on the LLM path, against a stub OpenAI-compatible server on 127.0.0.1:
the planner's count is read, the sibling entries of a list are retrieved, the drafter returns one
item per claim, and `RunResult.items`, `short_answer` and `to_markdown()` show the list, each item
with its own citation. Invented mini-documents; the stub's "model" is the ceiling check's oracle
(`benchmarks.oracle_reader`) given an invented answer key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from agent import Agent, Settings
from benchmarks.oracle_reader import OracleReader
from tests.support.ferry_pages import FERRY_TIE_MODES, write_ferry_tie
from tests.support.stub_openai import StubOpenAI
from tools.embeddings import HashingEmbedder

pytestmark = pytest.mark.integration

TASK = "List the six knot modes of ferry tie."
KEY = {TASK: [(mode,) for mode in FERRY_TIE_MODES]}


def _agent(tmp_path: Path, base_url: str) -> Agent:
    docs = write_ferry_tie(tmp_path / "docs")
    llm: dict[str, Any] = {"backend": "openai", "base_url": base_url, "api_key": "stub", "max_retries": 0}
    settings = Settings(checkpointer="memory", llm=llm, retrieval={"k": 2})  # type: ignore[arg-type]
    agent = Agent(tmp_path / "idx", settings=settings, embedder=HashingEmbedder())
    agent.ingest(docs)
    return agent


def test_an_llm_enumeration_returns_every_item_each_with_its_own_citation(tmp_path: Path) -> None:
    oracle = OracleReader(KEY)
    with StubOpenAI(oracle) as stub:
        agent = _agent(tmp_path, stub.base_url)
        try:
            result = agent.run(TASK, thread_id="enum-1")  # kept checkpoints: the plan can be read back
            state = agent.graph.get_state({"configurable": {"thread_id": "enum-1"}}).values
        finally:
            agent.close()
    assert result.degraded == [] and result.engines.get("solver", "").startswith("llm")
    assert state["plan_kind"] == "enumeration" and state["plan_info"]["count"] == 6  # the planner's count is read
    # k = 2 finds two entries; the other four come in as siblings of the list, and every item is cited.
    assert [i.text for i in result.items] == FERRY_TIE_MODES
    assert result.short_answer == ", ".join(FERRY_TIE_MODES) and result.outcome == "answered"
    for item in result.items:
        cited = result.citations[item.citation - 1]
        assert item.text in cited.quote or item.text in cited.section[-1]
    assert len({i.citation for i in result.items}) == 6
    markdown = result.to_markdown()
    for item in result.items:
        assert f"- {item.text} [^{item.citation}]" in markdown


def test_an_llm_enumeration_short_of_its_count_is_partial(tmp_path: Path) -> None:
    # The key names a seventh mode no page has: the oracle can cite six, so the answer says it is partial.
    task = "List the seven knot modes of ferry tie."
    oracle = OracleReader({task: [*KEY[TASK], ("--clove",)]})
    with StubOpenAI(oracle) as stub:
        agent = _agent(tmp_path, stub.base_url)
        try:
            result = agent.run(task)
        finally:
            agent.close()
    assert len(result.items) == 6 and result.outcome == "partial"
    assert "--clove" not in result.short_answer
