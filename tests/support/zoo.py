"""The server zoo's fixtures (#16): one stub per real server's documented behaviour
(`tests.support.personalities`) and an `Agent` on a shared sample index that talks to it; used by
the zoo tests of `run` and of `arun` (registered for tests/integration in its conftest)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agent import Agent, Settings
from tests.conftest import SAMPLE
from tests.support.llm_responder import respond
from tests.support.stub_openai import Responder, StubOpenAI
from tools.embeddings import HashingEmbedder


@pytest.fixture(scope="module")
def zoo_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("zoo") / "idx"
    settings = Settings(checkpointer="memory", llm={"backend": "offline"})  # type: ignore[arg-type]
    with Agent(path, settings=settings, embedder=HashingEmbedder()) as agent:
        agent.ingest(SAMPLE)
    return path


@pytest.fixture
def zoo(zoo_index: Path) -> Iterator[Any]:
    stubs: list[StubOpenAI] = []
    agents: list[Agent] = []

    def make(personality: str, llm: dict[str, Any], responder: Responder = respond) -> tuple[Agent, StubOpenAI]:
        stub = StubOpenAI(responder=responder, personality=personality)
        stubs.append(stub)
        settings = {"base_url": stub.base_url, "api_key": "sk-zoo", "backoff_initial_s": 0.01, "backoff_max_s": 0.02}
        root = stub.base_url.removesuffix("/v1")
        settings.update({k: v.format(root=root) if isinstance(v, str) else v for k, v in llm.items()})
        agent = Agent(
            zoo_index,
            settings=Settings(checkpointer="memory", llm=settings),  # type: ignore[arg-type]
            embedder=HashingEmbedder(),
        )
        agents.append(agent)
        return agent, stub

    yield make
    for agent in agents:
        agent.close()
    for stub in stubs:
        stub.close()


def chats(stub: StubOpenAI) -> list[dict[str, Any]]:
    return [r for r in stub.requests if r["path"].endswith("/chat/completions")]
