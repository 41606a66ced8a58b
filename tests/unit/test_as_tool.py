"""#17 `Agent.as_tool()`: a LangChain tool whose content is the cited answer and whose artifact
carries claims, citations and outcome; sync and async; the caller's principal is enforced."""

from __future__ import annotations

import asyncio

from langchain_core.messages import ToolMessage

from agent import Agent
from tests.conftest import SAMPLE

QUESTION = "Which company makes the Kestrel drone?"


def test_tool_call_returns_the_cited_answer_with_an_artifact(sample_agent: Agent) -> None:
    tool = sample_agent.as_tool()
    assert tool.name == "ask_documents" and "question" in tool.args
    message = tool.invoke({"type": "tool_call", "id": "call-1", "name": tool.name, "args": {"question": QUESTION}})
    assert isinstance(message, ToolMessage) and message.tool_call_id == "call-1"
    assert "Halden Robotics" in message.content and "[1]" in message.content
    art = message.artifact
    assert art["short_answer"] == "Halden Robotics" and art["halt_reason"]
    assert art["citations"] and all(c["quote"] for c in art["citations"])
    assert all(c["verdict"] in ("supported", "contradicted", "not_enough_evidence") for c in art["claims"])
    assert "outcome" in art
    assert tool.invoke({"question": QUESTION}) == message.content  # plain call: the content only


def test_async_tool_call(sample_agent: Agent) -> None:
    tool = sample_agent.as_tool(name="halden_docs")
    message = asyncio.run(
        tool.ainvoke({"type": "tool_call", "id": "c2", "name": "halden_docs", "args": {"question": QUESTION}})
    )
    assert "Halden Robotics" in message.content and message.artifact["citations"]


def test_the_tools_principal_is_enforced(make_agent: object, tmp_path: object) -> None:
    agent: Agent = make_agent()  # type: ignore[operator]
    agent.ingest(SAMPLE / "01-company-overview.md", acl=["board"])
    public = agent.as_tool().invoke(
        {"type": "tool_call", "id": "p", "name": "ask_documents", "args": {"question": QUESTION}}
    )
    board = agent.as_tool(principal=["board"]).invoke(
        {"type": "tool_call", "id": "b", "name": "ask_documents", "args": {"question": QUESTION}}
    )
    assert public.artifact["citations"] == []
    assert board.artifact["citations"] and all(
        "01-company-overview" in c["source"] for c in board.artifact["citations"]
    )
