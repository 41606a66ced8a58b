"""Streaming people can watch: with `llm.composer="prose"` the answer streams token by token
under LangGraph's `stream_mode="messages"`, and the internal JSON calls of the other roles (tagged
`nostream`) never appear in that stream."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agent import Agent, Settings
from tests.conftest import SAMPLE
from tests.support.llm_responder import respond
from tests.support.stub_openai import StubOpenAI
from tools.embeddings import HashingEmbedder

pytestmark = pytest.mark.integration

TASK = "In which city is the plant that manufactures the Kestrel located?"


@pytest.fixture(scope="module")
def prose_agent(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Agent, StubOpenAI]]:
    path: Path = tmp_path_factory.mktemp("stream") / "idx"
    offline = Settings(checkpointer="memory", llm={"backend": "offline"})  # type: ignore[arg-type]
    with Agent(path, settings=offline, embedder=HashingEmbedder()) as builder:
        builder.ingest(SAMPLE)
    with StubOpenAI(responder=respond) as stub:
        llm = {"backend": "openai", "base_url": stub.base_url, "api_key": "sk-stream", "composer": "prose"}
        agent = Agent(path, settings=Settings(checkpointer="memory", llm=llm), embedder=HashingEmbedder())  # type: ignore[arg-type]
        yield agent, stub
        agent.close()


def test_prose_composer_answers_with_checked_markers(prose_agent: tuple[Agent, StubOpenAI]) -> None:
    agent, stub = prose_agent
    stub.reset()
    result = agent.run(TASK)
    assert result.degraded == [] and result.engines["composer"].startswith("llm:")
    assert result.answer.startswith("The answer is ") and "[1]" in result.answer
    composer = [r["json"] for r in stub.requests if "tools" not in r["json"]]
    assert len(composer) == 1 and "response_format" not in composer[0]


def test_only_the_answer_streams_under_messages_mode(prose_agent: tuple[Agent, StubOpenAI]) -> None:
    agent, stub = prose_agent
    stub.reset()
    chunks: list[tuple[Any, dict[str, Any]]] = []
    config = {"configurable": {"thread_id": "stream-1"}}
    for message, metadata in agent.graph.stream({"task": TASK}, config, stream_mode="messages"):
        chunks.append((message, metadata))
    assert len(chunks) > 2  # token by token, not one block
    assert all("hragent:answer" in (meta.get("tags") or []) for _, meta in chunks)
    assert not any(getattr(m, "tool_call_chunks", None) for m, _ in chunks)  # no JSON arguments streamed
    text = "".join(str(m.content) for m, _ in chunks)
    assert text.startswith("The answer is ") and text.endswith("[1].")
    # The four JSON calls were made (streamed on the wire too) but never reached the stream.
    assert len([r for r in stub.requests if r["json"].get("tools")]) == 4
