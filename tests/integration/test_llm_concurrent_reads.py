"""Reads of independent subgoals overlap (#16): against a slow stub model, a plan of three
independent subgoals has its three reads in flight at once, on the sync and the async path, with
the same result as reading them one after another, inside the run's call budget, and cancellable.

Overlap is shown by the stub's own request log (each request's arrival `t` and answer `t_end`),
never by a wall-clock threshold. On a loaded machine a thread can take longer to send its read than
the stub's delay, so the stub holds each read until all three have arrived (`ReadGate`, bounded):
concurrent reads then always overlap, and reads sent one after another still never do."""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from agent import Agent, Limits, Settings
from graphs.roles.llm.solver import LLMSolver
from tests.conftest import SAMPLE
from tests.support.llm_responder import respond
from tests.support.stub_openai import StubOpenAI
from tools.embeddings import HashingEmbedder

pytestmark = pytest.mark.integration

TASK = "Tell me where Lakeside Works is, who leads the Halden Research Lab, and what the Kestrel is."
PARTS = ["Where is Lakeside Works located?", "Who leads the Halden Research Lab?", "What is the Kestrel?"]


class ReadGate:
    """Holds each read until `expected` reads have arrived, or `wait_s` has passed: reads in flight
    together are answered together however slowly their threads were scheduled, while a read sent
    alone is answered after `wait_s`, before the next one can arrive."""

    def __init__(self, expected: int = 3, wait_s: float = 10.0) -> None:
        self.expected, self.wait_s, self.enabled = expected, wait_s, True
        self._arrived = 0
        self._cond = threading.Condition()

    def reset(self, enabled: bool = True, expected: int = 3) -> None:
        with self._cond:
            self._arrived, self.enabled, self.expected = 0, enabled, expected

    def wait(self) -> None:
        if not self.enabled:
            return
        with self._cond:
            self._arrived += 1
            self._cond.notify_all()
            self._cond.wait_for(lambda: self._arrived >= self.expected, timeout=self.wait_s)


GATE = ReadGate()


def three_part_plan(body: dict[str, Any]) -> dict[str, Any]:
    """`respond`, with a plan of three subgoals that depend on nothing; reads pass the gate."""
    name = (body.get("tools") or [{}])[0].get("function", {}).get("name")
    if name == "submit_plan":
        plan = {"kind": "conjunction", "subgoals": [{"query": q, "kind": "lookup", "depends_on": []} for q in PARTS]}
        return {"content": None, "tool_calls": [{"name": "submit_plan", "arguments": plan}]}
    if name == "submit_reading":
        GATE.wait()
    return respond(body)


@pytest.fixture(scope="module")
def slow_model() -> Iterator[StubOpenAI]:
    with StubOpenAI(responder=three_part_plan) as server:
        server.latency_s, server.chat_delay_s = 0.0, 0.25
        yield server


@pytest.fixture(autouse=True)
def _gate_open_per_test() -> Iterator[None]:
    GATE.reset()
    yield
    GATE.reset()


@pytest.fixture(scope="module")
def agent(slow_model: StubOpenAI, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Agent]:
    llm = {"backend": "openai", "base_url": slow_model.base_url, "api_key": "sk-stub", "max_retries": 0}
    settings = Settings(checkpointer="memory", llm=llm)  # type: ignore[arg-type]
    with Agent(tmp_path_factory.mktemp("reads") / "idx", settings=settings, embedder=HashingEmbedder()) as made:
        made.ingest(SAMPLE)
        yield made


def _reads(stub: StubOpenAI) -> list[dict[str, Any]]:
    return [
        r
        for r in stub.requests
        if r["json"] and (r["json"].get("tools") or [{}])[0].get("function", {}).get("name") == "submit_reading"
    ]


def _chat(stub: StubOpenAI) -> list[dict[str, Any]]:
    return [r for r in stub.requests if r["path"] == "/v1/chat/completions"]


def _all_in_flight_at_once(reads: list[dict[str, Any]]) -> bool:
    """Every read arrived before any read was answered."""
    return max(r["t"] for r in reads) < min(r["t_end"] for r in reads)


def test_sync_run_reads_independent_subgoals_concurrently(agent: Agent, slow_model: StubOpenAI) -> None:
    slow_model.reset()
    result = agent.run(TASK)
    reads = _reads(slow_model)
    assert len(reads) == 3
    assert _all_in_flight_at_once(reads)
    assert result.degraded == [] and result.engines["solver"].startswith("llm:")
    assert [s.status for s in result.subgoals] == ["answered"] * 3


def test_async_run_reads_independent_subgoals_concurrently(agent: Agent, slow_model: StubOpenAI) -> None:
    slow_model.reset()
    result = asyncio.run(agent.arun(TASK))
    reads = _reads(slow_model)
    assert len(reads) == 3 and _all_in_flight_at_once(reads)
    assert result.degraded == []


def test_concurrent_reads_give_the_sequential_result(
    agent: Agent, slow_model: StubOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    slow_model.reset()
    together = agent.run(TASK)
    monkeypatch.setattr(LLMSolver, "reads_concurrently", False)
    GATE.reset(enabled=False)  # one after another: nothing to wait for
    slow_model.reset()
    one_by_one = agent.run(TASK)
    reads = _reads(slow_model)
    assert not _all_in_flight_at_once(reads)  # the control really ran them one after another
    assert all(a["t_end"] <= b["t"] for a, b in itertools.pairwise(reads))
    assert [(s.id, s.query, s.answer, s.status) for s in together.subgoals] == [
        (s.id, s.query, s.answer, s.status) for s in one_by_one.subgoals
    ]
    assert together.short_answer == one_by_one.short_answer and together.answer == one_by_one.answer
    assert together.stats.llm_calls == one_by_one.stats.llm_calls
    assert together.stats.tokens == one_by_one.stats.tokens


def test_concurrent_reads_never_overdraw_the_call_budget(agent: Agent, slow_model: StubOpenAI) -> None:
    """1 plan + 3 reads wanted, 3 calls allowed: exactly two reads reach the model, the third is
    refused before it is sent and read offline, labelled."""
    GATE.reset(expected=2)  # only two reads may be sent
    slow_model.reset()
    result = agent.run(TASK, limits=Limits(max_llm_calls=3))
    sent = _chat(slow_model)
    assert len(sent) == 3 == result.stats.llm_calls
    assert len(_reads(slow_model)) == 2
    assert any(d.reason == "max_llm_calls" for d in result.degraded)
    assert len(result.subgoals) == 3


def test_cancelling_arun_during_concurrent_reads_sends_nothing_more(agent: Agent, slow_model: StubOpenAI) -> None:
    async def scenario() -> float:
        task = asyncio.ensure_future(agent.arun(TASK))
        deadline = time.monotonic() + 15
        while len(_reads(slow_model)) < 3 and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        cancelled_at = time.monotonic()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await asyncio.sleep(slow_model.chat_delay_s * 3)  # the in-flight reads land, nothing follows
        return cancelled_at

    slow_model.reset()
    cancelled_at = asyncio.run(scenario())
    assert len(_reads(slow_model)) == 3
    assert [r for r in _chat(slow_model) if r["t"] > cancelled_at] == []
