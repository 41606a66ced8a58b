"""Streaming people can watch: with `llm.composer="prose"` the answer streams token by token
under LangGraph's `stream_mode="messages"` and as `answer_token` events of `Agent.stream` /
`astream` (the stub sends it as SSE chunks), and the internal JSON calls of the other roles (tagged
`nostream`, never streamed on the wire) never appear in either. Without a prose model the composed
answer arrives in chunks instead, so a watcher sees the same event kinds."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agent import Agent, Settings, StepEvent
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
    # The four JSON calls were made, not streamed on the wire, and never reached the stream.
    json_calls = [r["json"] for r in stub.requests if r["json"].get("tools")]
    assert len(json_calls) == 4 and not any(body.get("stream") for body in json_calls)


def _check_watchable(events: list[StepEvent], stub: StubOpenAI) -> None:
    kinds = [e.kind for e in events]
    tokens = [e for e in events if e.kind == "answer_token"]
    assert len(tokens) > 2 and {t.data["origin"] for t in tokens} == {"model"}
    streamed = "".join(t.data["text"] for t in tokens)
    assert streamed.startswith("The answer is ") and streamed.endswith("[1].")
    assert "{" not in streamed and "submit_" not in streamed  # no tool-call JSON of any role
    # Tokens arrive while the compose node runs: after the verdicts, before the composed answer.
    first, last = kinds.index("answer_token"), len(kinds) - 1 - kinds[::-1].index("answer_token")
    assert kinds.index("claims_verified") < first and last < kinds.index("answer_composed") < kinds.index("result")
    assert kinds[-1] == "result" and events[-1].result is not None
    assert events[-1].result.answer.startswith("The answer is ") and events[-1].result.degraded == []
    prose = [r["json"] for r in stub.requests if not r["json"].get("tools")]
    assert len(prose) == 1 and prose[0].get("stream") is True  # the composer's text came as SSE chunks


def test_agent_stream_yields_the_composers_tokens_as_they_arrive(prose_agent: tuple[Agent, StubOpenAI]) -> None:
    agent, stub = prose_agent
    stub.reset()
    _check_watchable(list(agent.stream(TASK)), stub)


def test_agent_astream_yields_the_composers_tokens_as_they_arrive(prose_agent: tuple[Agent, StubOpenAI]) -> None:
    agent, stub = prose_agent
    stub.reset()

    async def collect() -> list[StepEvent]:
        return [e async for e in agent.astream(TASK)]

    _check_watchable(asyncio.run(collect()), stub)


@pytest.mark.parametrize("engine", ["offline", "structured composer"])
def test_without_a_prose_model_the_composed_answer_streams_in_chunks(
    engine: str, prose_agent: tuple[Agent, StubOpenAI]
) -> None:
    prose, stub = prose_agent
    llm: dict[str, Any] = {"backend": "offline"}
    if engine != "offline":
        llm = {"backend": "openai", "base_url": stub.base_url, "api_key": "sk-stream", "composer": "structured"}
    settings = Settings(checkpointer="memory", llm=llm)  # type: ignore[arg-type]
    with Agent(prose.index_dir, settings=settings, embedder=HashingEmbedder()) as agent:
        events = list(agent.stream(TASK))
    tokens = [e for e in events if e.kind == "answer_token"]
    result = events[-1].result
    assert result is not None and result.answer
    assert len(tokens) > 2 and {t.data["origin"] for t in tokens} == {"composed"}
    assert "".join(t.data["text"] for t in tokens) == result.answer
    kinds = [e.kind for e in events]
    assert kinds.index("answer_token") > kinds.index("claims_verified") and kinds[-2:] == ["answer_composed", "result"]
