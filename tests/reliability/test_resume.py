"""A run SIGKILLed mid-graph resumes from its SQLite checkpoint with the same thread id and finishes
with the uninterrupted run's answer, without redoing the subgoals it had completed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from agent import AccessDeniedError, InvalidTaskError
from tests.conftest import SAMPLE
from tests.reliability.helpers import assert_grounded
from tests.reliability.resume_child import Recorder, make_agent

ROOT = Path(__file__).resolve().parents[2]
CHILD = Path(__file__).with_name("resume_child.py")
TASK = "In which city was the chief executive of the company that makes the Kestrel drone born?"

pytestmark = pytest.mark.integration


def run_and_kill(index_dir: Path, thread_id: str, park_at: str) -> list[str]:
    """Run the task in a child process, SIGKILL it when it reaches `park_at`; return its completed calls."""
    proc = subprocess.Popen(
        [sys.executable, str(CHILD), str(index_dir), thread_id, park_at, TASK],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        cwd=ROOT,
    )
    assert proc.stdout is not None
    calls: list[str] = []
    for raw in proc.stdout:
        line = raw.strip()
        if line == f"AT {park_at}":
            proc.send_signal(signal.SIGKILL)
            break
        if line not in ("START", "DONE"):
            calls.append(line)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, f"child finished before reaching {park_at}: {calls}"
    return calls


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("resume") / "idx"
    with make_agent(path, Recorder()) as agent:
        agent.ingest(SAMPLE)
    return path


@pytest.fixture(scope="module")
def baseline(index_dir: Path) -> tuple[list[str], object]:
    recorder = Recorder()
    with make_agent(index_dir, recorder) as agent:
        result = agent.run(TASK, thread_id="baseline")
    return recorder.calls, result


def retrieves(result: object) -> Counter[str]:
    return Counter(e.detail.get("subgoal") for e in result.trace if e.node == "retrieve")  # type: ignore[attr-defined]


@pytest.mark.parametrize("park_at", ["READ s3", "VERIFY"])
def test_killed_run_resumes_without_redoing_completed_subgoals(
    index_dir: Path, baseline: tuple[list[str], object], park_at: str
) -> None:
    base_calls, base_result = baseline
    assert park_at in base_calls  # the kill point is on the uninterrupted run's path
    thread = f"crash-{park_at.replace(' ', '-')}"
    before = run_and_kill(index_dir, thread, park_at)
    done_reads = {c for c in before if c.startswith("READ ")}
    assert done_reads and "PLAN 0" in before

    recorder = Recorder()
    with make_agent(index_dir, recorder) as agent:
        config = {"configurable": {"thread_id": thread}}
        assert agent.graph.get_state(config).next, "the killed run left a resumable checkpoint"
        if park_at == "VERIFY":  # `run` with the same thread id and task also resumes
            result = agent.run(TASK, thread_id=thread)
        else:
            result = agent.resume(thread)
        history = list(agent.graph.get_state_history(config))
    after = recorder.calls
    assert "PLAN 0" not in after, "planning was redone"
    assert not done_reads & set(after), f"completed subgoals were read again: {done_reads & set(after)}"
    assert after[0] == park_at, "resume starts with the step that was interrupted"
    # Calls finished before the crash + calls after it = exactly the calls of the uninterrupted run
    # (the interrupted call never finished, so it is made once, after the resume).
    assert Counter(before) + Counter(after) == Counter(base_calls)
    assert result.short_answer == base_result.short_answer  # type: ignore[attr-defined]
    assert [c.quote for c in result.citations] == [c.quote for c in base_result.citations]  # type: ignore[attr-defined]
    assert retrieves(result) == retrieves(base_result)  # each hop appears once in the resumed trace
    assert len(history) > 5
    assert_grounded(result, agent.index)


def test_threads_belong_to_their_principal_and_task(index_dir: Path) -> None:
    thread = "owned"
    run_and_kill(index_dir, thread, "VERIFY")
    with make_agent(index_dir, Recorder()) as agent:
        with pytest.raises(AccessDeniedError):
            agent.run(TASK, thread_id=thread, principal=["mallory"])
        with pytest.raises(AccessDeniedError):
            agent.resume(thread, principal="mallory")
        with pytest.raises(InvalidTaskError, match="another task"):
            agent.run("Where is Halden Robotics headquartered?", thread_id=thread)
        finished = agent.resume(thread, principal=None)
        assert finished.halt_reason
        # A finished thread starts over for a new task: nothing of the old run carries over.
        fresh = agent.run("Where is Halden Robotics headquartered?", thread_id=thread)
        state = agent.graph.get_state({"configurable": {"thread_id": thread}}).values
        assert state["task"] == fresh.task
        old_words = ("Kestrel", "chief executive", "born")
        assert not [sg["query"] for sg in state["subgoals"].values() if any(w in sg["query"] for w in old_words)]
        queries = [e["query"] for items in state["evidence"].values() for e in items]
        assert queries and not [q for q in queries if any(w in q for w in old_words)]
        assert [e.node for e in fresh.trace].count("plan") == fresh.stats.refinements + 1
