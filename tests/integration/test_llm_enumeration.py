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
from tests.support.stub_openai import StubOpenAI
from tools.embeddings import HashingEmbedder

pytestmark = pytest.mark.integration

MODES = """<html><head><title>ferry-tie(1)</title></head><body><div role="main">
<h1>ferry-tie(1)</h1>
<h2>DESCRIPTION</h2><p>Tie a vessel to its berth in one of four knot modes.</p>
<h2>MODES</h2>
<dl>
<dt>--bowline</dt><dd><p>Tie a fixed loop that never slips under load.</p></dd>
<dt>--hitch</dt><dd><p>Tie a quick knot that is easy to undo by hand.</p></dd>
<dt>--sheet</dt><dd><p>Join two ropes of different thickness.</p></dd>
<dt>--reef</dt><dd><p>Bind a sail around its boom.</p></dd>
</dl>
</div></body></html>
"""
TASK = "List the four knot modes of ferry tie."
KEY = {TASK: [("--bowline",), ("--hitch",), ("--sheet",), ("--reef",)]}


def _agent(tmp_path: Path, base_url: str) -> Agent:
    docs = tmp_path / "docs"
    docs.mkdir(exist_ok=True)
    (docs / "ferry-tie.html").write_text(MODES, encoding="utf-8")
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
    assert state["plan_kind"] == "enumeration" and state["plan_info"]["count"] == 4  # the planner's count is read
    # k = 2 finds two entries; the other two come in as siblings of the list, and every item is cited.
    assert [i.text for i in result.items] == ["--bowline", "--hitch", "--sheet", "--reef"]
    assert result.short_answer == "--bowline, --hitch, --sheet, --reef" and result.outcome == "answered"
    for item in result.items:
        cited = result.citations[item.citation - 1]
        assert item.text in cited.quote or item.text in cited.section[-1]
    assert len({i.citation for i in result.items}) == 4
    markdown = result.to_markdown()
    for item in result.items:
        assert f"- {item.text} [^{item.citation}]" in markdown


def test_an_llm_enumeration_short_of_its_count_is_partial(tmp_path: Path) -> None:
    # The key names a fifth mode no page has: the oracle can cite four, so the answer says it is partial.
    task = "List the five knot modes of ferry tie."
    oracle = OracleReader({task: [*KEY[TASK], ("--clove",)]})
    with StubOpenAI(oracle) as stub:
        agent = _agent(tmp_path, stub.base_url)
        try:
            result = agent.run(task)
        finally:
            agent.close()
    assert len(result.items) == 4 and result.outcome == "partial"
    assert "--clove" not in result.short_answer
