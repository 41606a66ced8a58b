"""The real default stack: bundled MiniLM, Chroma PersistentClient, offline engine."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent import Agent
from agent.cli import DEMO_QUESTION
from tests.conftest import FIXTURES

pytestmark = pytest.mark.integration


def test_demo_question_is_answered_from_two_documents(minilm_agent: Agent) -> None:
    result = minilm_agent.run(DEMO_QUESTION)
    assert result.halt_reason
    assert len(result.subgoals) >= 2
    assert result.short_answer == "Bergen"
    assert result.citations
    sources = {Path(c.source).name for c in result.citations}
    assert {"02-founders-and-leadership.md", "03-products.md"} <= sources, (
        "a bridge answer cites the documents it crosses"
    )
    assert all(c.verdict == "supported" for c in result.claims)
    assert result.outcome == "answered"
    for cit in result.citations:
        text = Path(cit.source).read_text(encoding="utf-8")
        assert text[cit.start : cit.end] == cit.quote


def test_sample_questions_accuracy_floor(minilm_agent: Agent) -> None:
    """The offline engine must beat trivial baselines on the bundled questions (not a canned answer:
    the questions come from a fixture file the engine never reads)."""
    questions = json.loads((FIXTURES / "sample_corpus_questions.json").read_text())
    correct = 0
    for q in questions:
        result = minilm_agent.run(q["question"])
        correct += int(q["answer"].lower() in result.short_answer.lower())
    # Trivial baselines score 1/12 ("yes") and 0/12 (first sentence of the top hit); the offline engine
    # answered 11/12 when this floor was set (#5), the floor leaves room for retrieval changes.
    assert correct / len(questions) >= 0.75


def test_minilm_retrieval_finds_the_birthplace(minilm_agent: Agent) -> None:
    hits = minilm_agent.retrieve("Where was Mira Okafor born?", k=5)
    assert any("Bergen" in h.text for h in hits)


@pytest.mark.parametrize("task", ["What is the capital of France?", "Who won the 1998 chess olympiad?"])
def test_questions_the_corpus_cannot_answer_are_declined(minilm_agent: Agent, task: str) -> None:
    result = minilm_agent.run(task)
    assert result.outcome == "not_found" and result.short_answer == ""
    assert result.answer.startswith("The indexed documents do not answer this question.")
