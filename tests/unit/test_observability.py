from __future__ import annotations

import json

import pytest
import structlog

from agent import Agent, StepEvent
from agent.logging import configure_logging


@pytest.fixture
def json_logs() -> object:
    configure_logging("INFO", "json", force=True)
    yield
    structlog.reset_defaults()
    configure_logging("WARNING", "auto", force=True)


def test_node_events_carry_run_and_thread_ids(
    sample_agent: Agent, json_logs: object, capsys: pytest.CaptureFixture[str]
) -> None:
    result = sample_agent.run("Who was born earlier, Mira Okafor or Tomas Lindqvist?", thread_id="obs-1")
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")]
    finished = [e for e in lines if e.get("event") == "node.finished"]
    assert {e["node"] for e in finished} >= {"plan", "retrieve", "solve", "verify", "compose"}
    assert all(e["run_id"] == "obs-1" and e["thread_id"] == "obs-1" and "ms" in e for e in finished)
    assert [t.node for t in result.trace].count("retrieve") == sum(1 for e in finished if e["node"] == "retrieve")


def test_stream_yields_typed_steps_then_result(sample_agent: Agent) -> None:
    events = list(sample_agent.stream("Which has a longer maximum flight time, the Kestrel or the Harrier?"))
    assert all(isinstance(e, StepEvent) for e in events)
    kinds = [e.kind for e in events]
    assert kinds[0] == "plan_made" and kinds[-1] == "result"
    assert kinds.count("subgoal_retrieved") >= 2 and "claims_verified" in kinds and "answer_composed" in kinds
    final = events[-1].result
    assert final is not None and final.answer == next(e.data["answer"] for e in events if e.kind == "answer_composed")


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.mark.anyio
async def test_astream_and_arun(sample_agent: Agent) -> None:
    kinds = [e.kind async for e in sample_agent.astream("In what year was Halden Robotics founded?")]
    assert kinds[0] == "plan_made" and kinds[-1] == "result"
    result = await sample_agent.arun("In what year was Halden Robotics founded?")
    assert result.halt_reason


def test_batch_keeps_order(sample_agent: Agent) -> None:
    tasks = ["In what year was Halden Robotics founded?", "On which port does the Osprey API listen by default?"]
    results = sample_agent.batch(tasks, max_concurrency=2)
    assert [r.task for r in results] == tasks


def test_graph_validates_task_for_sdk_callers(sample_agent: Agent) -> None:
    out = sample_agent.graph.invoke({"task": "   "}, {"configurable": {"thread_id": "empty"}})
    assert out["halt_reason"] == "invalid_task"
    assert out["outcome"] == "not_found" and out["short_answer"] == "" and "do not answer" in out["answer"]
