from __future__ import annotations

import os
from pathlib import Path

import pytest

from agent import Agent, ConfigError, Settings
from tools.embeddings import HashingEmbedder


def test_postgres_checkpointer_needs_a_dsn(tmp_path: Path) -> None:
    agent = Agent(tmp_path / "idx", settings=Settings(checkpointer="postgres"), embedder=HashingEmbedder())
    with pytest.raises(ConfigError, match="HRAGENT_POSTGRES_DSN"):
        _ = agent.graph


def test_dsn_is_secret() -> None:
    settings = Settings(checkpointer="postgres", postgres_dsn="postgresql://u:hunter2@localhost/db")
    assert "hunter2" not in repr(settings) and "hunter2" not in settings.model_dump_json()


@pytest.mark.integration
@pytest.mark.skipif(not os.environ.get("HRAGENT_TEST_POSTGRES_DSN"), reason="set HRAGENT_TEST_POSTGRES_DSN to run")
def test_postgres_checkpointer_resumes(tmp_path: Path) -> None:
    from tests.conftest import SAMPLE

    settings = Settings(
        checkpointer="postgres", postgres_dsn=os.environ["HRAGENT_TEST_POSTGRES_DSN"], llm={"backend": "offline"}
    )  # type: ignore[arg-type]
    agent = Agent(tmp_path / "idx", settings=settings, embedder=HashingEmbedder(), approve_plans=True)
    agent.ingest(SAMPLE)
    paused = agent.run("In what year was Halden Robotics founded?", thread_id=f"pg-{tmp_path.name}")
    assert paused.halt_reason == "interrupted"
    other = Agent(tmp_path / "idx", settings=settings, embedder=HashingEmbedder(), approve_plans=True)
    done = other.resume(f"pg-{tmp_path.name}", True)
    assert done.halt_reason != "interrupted" and done.short_answer
