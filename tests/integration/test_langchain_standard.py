"""LangChain's own standard retriever suite (`langchain-tests`) run against `Agent.as_retriever()`'s
class, over a hashing-embedder index of the sample corpus: invoke/ainvoke return `Document`s and
`k` works both as a constructor parameter and as an `invoke` keyword."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from langchain_core.retrievers import BaseRetriever
from langchain_tests.integration_tests import RetrieversIntegrationTests

from agent import Agent
from agent.retriever import HragentRetriever
from tests.conftest import SAMPLE, offline_settings

# The suite's one async test carries no marker of its own; anyio's plugin runs it (sync tests ignore it).
pytestmark = [pytest.mark.integration, pytest.mark.anyio]


@pytest.fixture(scope="module")
def sample_agent(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Agent]:
    with Agent(
        index_dir=tmp_path_factory.mktemp("lc-std") / "idx", settings=offline_settings(embedder="hashing")
    ) as agent:
        agent.ingest(SAMPLE)
        yield agent


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class TestHragentRetrieverStandard(RetrieversIntegrationTests):
    @pytest.fixture(autouse=True)
    def _bind_agent(self, sample_agent: Agent) -> None:
        self._agent = sample_agent

    @property
    def retriever_constructor(self) -> type[BaseRetriever]:
        return HragentRetriever

    @property
    def retriever_constructor_params(self) -> dict[str, Any]:
        return {"agent": self._agent, "k": 4}

    @property
    def retriever_query_example(self) -> str:
        return "Which drone does the company make?"


def test_as_retriever_builds_the_class_under_test(sample_agent: Agent) -> None:
    retriever = sample_agent.as_retriever(k=2)
    assert isinstance(retriever, HragentRetriever)
    docs = retriever.invoke("Kestrel drone")
    assert len(docs) == 2 and all(Path(d.metadata["source"]).parent == SAMPLE.resolve() for d in docs)
