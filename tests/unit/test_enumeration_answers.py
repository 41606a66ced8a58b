"""A list answer as the caller sees it: `RunResult.items` (each item with the number of the citation
that names it), `short_answer` and `to_markdown()`; the LLM planner's count reaches the plan.
Invented mini-documents, hashing embedder, offline engine."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agent import AnswerItem, Citation, RunResult
from graphs.roles.llm.planner import to_plan
from graphs.roles.llm.schemas import PlanOutput
from graphs.roles.offline.planner import asked_count
from tests.conftest import offline_settings

OPTIONS = """<html><head><title>ferry-moor(1)</title></head><body><div role="main">
<h1>ferry-moor(1)</h1>
<h2>OPTIONS</h2>
<dl>
<dt>--stern</dt><dd><p>Moor the vessel stern first against the quay.</p></dd>
<dt>--raft</dt><dd><p>Moor alongside another vessel instead of the quay.</p></dd>
<dt>--buoy</dt><dd><p>Moor to a buoy in the harbour basin.</p></dd>
</dl>
</div></body></html>
"""


def test_the_count_a_list_question_asks_for() -> None:
    assert asked_count("List the three mooring options of ferry moor.") == 3
    assert asked_count("Which 4 knots does ferry tie know?") == 4
    assert asked_count("List the options of ferry moor.") == 0  # as many as the evidence names
    assert asked_count("Which option moors to a buoy?") is None


def test_the_llm_planners_count_reaches_the_plan() -> None:
    out = PlanOutput.model_validate(
        {"kind": "enumeration", "count": "3", "subgoals": [{"query": "Which options does ferry moor have?"}]}
    )
    plan = to_plan(out, 0, [])
    assert plan.kind == "enumeration" and plan.info == {"count": 3}


def test_an_offline_list_answer_carries_each_item_with_its_citation(make_agent: Any, tmp_path: Path) -> None:
    docs = tmp_path / "moor"
    docs.mkdir()
    (docs / "ferry-moor.html").write_text(OPTIONS, encoding="utf-8")
    agent = make_agent("moor", settings=offline_settings(retrieval={"k": 1}))
    agent.ingest(docs)
    result = agent.run("List the three options of ferry moor.")
    assert {i.text for i in result.items} == {"--stern", "--raft", "--buoy"}
    assert result.short_answer == ", ".join(i.text for i in result.items)
    for item in result.items:  # each item points at the sentence or entry heading that names it
        cited = result.citations[item.citation - 1]
        assert item.text in cited.quote or item.text in cited.section[-1]
    markdown = result.to_markdown()
    assert all(f"- {i.text} [^{i.citation}]" in markdown for i in result.items)


def test_markdown_lists_items_under_the_answer() -> None:
    result = RunResult(
        answer="--stern [1]; --raft [2].",
        short_answer="--stern, --raft",
        outcome="answered",
        citations=[
            Citation(source="moor.html", section=["OPTIONS", "--stern"], quote="Moor stern first."),
            Citation(source="moor.html", section=["OPTIONS", "--raft"], quote="Moor alongside."),
        ],
        items=[AnswerItem(text="--stern", citation=1), AnswerItem(text="--raft", citation=2)],
        halt_reason="verified",
    )
    lines = result.to_markdown().splitlines()
    assert lines[:5] == ["--stern [1]; --raft [2].", "", "- --stern [^1]", "- --raft [^2]", ""]
    assert lines[5].startswith('[^1]: moor.html — OPTIONS > --stern: "Moor stern first."')
