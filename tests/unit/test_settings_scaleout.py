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
def test_postgres_checkpointer_resumes(tmp_path: Path, postgres_dsn: str) -> None:
    """Against the test session's PostgreSQL (or HRAGENT_TEST_POSTGRES_DSN's server when set)."""
    from tests.conftest import SAMPLE

    dsn = os.environ.get("HRAGENT_TEST_POSTGRES_DSN") or postgres_dsn
    settings = Settings(checkpointer="postgres", postgres_dsn=dsn, llm={"backend": "offline"})  # type: ignore[arg-type]
    agent = Agent(tmp_path / "idx", settings=settings, embedder=HashingEmbedder(), approve_plans=True)
    agent.ingest(SAMPLE)
    paused = agent.run("In what year was Halden Robotics founded?", thread_id=f"pg-{tmp_path.name}")
    assert paused.halt_reason == "interrupted"
    other = Agent(tmp_path / "idx", settings=settings, embedder=HashingEmbedder(), approve_plans=True)
    done = other.resume(f"pg-{tmp_path.name}", True)
    assert done.halt_reason != "interrupted" and done.short_answer


@pytest.mark.integration
def test_one_postgres_holds_the_index_and_the_checkpoints(tmp_path: Path, postgres_dsn: str) -> None:
    """`index.backend="postgres"`: two agents in different directories share one index through the DSN."""
    settings = Settings(
        checkpointer="memory",
        llm={"backend": "offline"},  # type: ignore[arg-type]
        index={"backend": "postgres", "dsn": postgres_dsn, "schema_name": f"agent_{tmp_path.name[-8:].lower()}"},  # type: ignore[arg-type]
    )
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "kiln.md").write_text("# Kiln\n\nThe Marlow kiln fires glaze at 1240 degrees.\n", encoding="utf-8")
    writer = Agent(tmp_path / "a", settings=settings, embedder=HashingEmbedder())
    assert writer.ingest(docs).added
    reader = Agent(tmp_path / "b", settings=settings, embedder=HashingEmbedder())
    hits = reader.retrieve("Marlow kiln glaze temperature", k=2, strategy="bm25")
    assert hits and "1240" in hits[0].text
    assert reader.check_index()["ok"]
    writer.close()
    reader.close()


def test_postgres_index_backend_needs_a_dsn(tmp_path: Path) -> None:
    agent = Agent(
        tmp_path / "idx",
        settings=Settings(index={"backend": "postgres"}),
        embedder=HashingEmbedder(),  # type: ignore[arg-type]
    )
    with pytest.raises(ConfigError, match="HRAGENT_INDEX__DSN"):
        _ = agent.index


def test_index_dsn_is_secret() -> None:
    settings = Settings(index={"backend": "postgres", "dsn": "postgresql://u:hunter2@h/db"})  # type: ignore[arg-type]
    assert "hunter2" not in repr(settings) and "hunter2" not in settings.model_dump_json()
