"""Concurrent runs on one index (threads and asyncio), with and without an ingestion running: no
errors, and results identical to the same questions run one at a time. Short version of
`python -m benchmarks.concurrency` (which also measures memory over 1,000 runs)."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from agent import Agent, RunResult, Settings
from tests.conftest import FIXTURES, SAMPLE
from tests.reliability.helpers import assert_grounded, write
from tools.embeddings import HashingEmbedder

QUESTIONS = [q["question"] for q in json.loads((FIXTURES / "sample_corpus_questions.json").read_text())][:8]


def fingerprint(result: RunResult) -> tuple[Any, ...]:
    """What must not differ between a concurrent and a sequential run of the same question."""
    return (
        result.short_answer,
        result.halt_reason,
        tuple((c.source, c.quote, c.start, c.end) for c in result.citations),
        tuple((c.text, c.verdict) for c in result.claims),
    )


@pytest.fixture(scope="module")
def agent(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Agent]:
    settings = Settings(checkpointer="sqlite", llm={"backend": "offline"})  # type: ignore[arg-type]
    agent = Agent(tmp_path_factory.mktemp("conc") / "idx", settings=settings, embedder=HashingEmbedder())
    agent.ingest(SAMPLE)
    yield agent
    agent.close()


@pytest.fixture(scope="module")
def sequential(agent: Agent) -> dict[str, tuple[Any, ...]]:
    return {q: fingerprint(agent.run(q)) for q in QUESTIONS}


def test_threads_and_asyncio_match_sequential_runs(agent: Agent, sequential: dict[str, tuple[Any, ...]]) -> None:
    with ThreadPoolExecutor(max_workers=8) as pool:
        threaded = list(pool.map(agent.run, QUESTIONS * 2))
    for q, result in zip(QUESTIONS * 2, threaded, strict=True):
        assert fingerprint(result) == sequential[q], q

    async def gather() -> list[RunResult]:
        return await asyncio.gather(*(agent.arun(q) for q in QUESTIONS))

    for q, result in zip(QUESTIONS, asyncio.run(gather()), strict=True):
        assert fingerprint(result) == sequential[q], q


def test_runs_during_an_ingestion_stay_correct(agent: Agent, tmp_path: Path) -> None:
    extra = tmp_path / "extra"
    for i in range(12):
        write(extra, f"memo{i:02d}.md", f"# Memo {i}\n\nThe canteen menu for week {i} lists soup {i} and bread.\n")
    errors: list[BaseException] = []

    def ingest() -> None:
        try:
            agent.ingest(extra)
        except BaseException as exc:
            errors.append(exc)

    writer = threading.Thread(target=ingest)
    writer.start()
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(agent.run, QUESTIONS))
    writer.join(timeout=120)
    assert not errors
    for result in results:
        assert result.halt_reason and result.answer
        assert_grounded(result, agent.index)
    check = agent.check_index()
    assert check["ok"] and check["documents"] == 22, check
