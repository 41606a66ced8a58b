"""#17 real async: `arun` on the event loop, cancellation that stops work (no further model request,
no thread left running hragent code) and `timeout_s` as a hard stop, against a slow local stub of
an OpenAI-compatible server (127.0.0.1)."""

from __future__ import annotations

import asyncio
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agent import Agent, Settings
from tests.conftest import SAMPLE
from tests.support.llm_responder import respond
from tests.support.stub_openai import StubOpenAI
from tools.embeddings import HashingEmbedder

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
TASK = "In which city was the chief executive of the company that makes the Kestrel drone born?"


@pytest.fixture(scope="module")
def slow_stub() -> Iterator[StubOpenAI]:
    with StubOpenAI(responder=respond) as server:
        server.fault_rate, server.fault_kinds, server.latency_s = 1.0, ["latency"], 0.6  # every answer is slow
        yield server


@pytest.fixture
def agent(slow_stub: StubOpenAI, tmp_path: Path) -> Iterator[Agent]:
    llm = {"backend": "openai", "base_url": slow_stub.base_url, "api_key": "sk-stub", "max_retries": 0}
    settings = Settings(checkpointer="sqlite", llm=llm)  # type: ignore[arg-type]
    with Agent(tmp_path / "idx", settings=settings, embedder=HashingEmbedder()) as made:
        made.ingest(SAMPLE)
        slow_stub.reset()
        yield made


def _chat_calls(stub: StubOpenAI) -> int:
    return sum(1 for r in stub.requests if r["path"] == "/v1/chat/completions")


def _threads_in_hragent_code() -> list[str]:
    """Threads (other than this one) with a frame in hragent's own packages on their stack."""
    ours = tuple(str(ROOT / pkg) for pkg in ("agent", "graphs", "tools", "policies"))
    names = {t.ident: t.name for t in threading.enumerate()}
    busy = []
    for ident, frame in sys._current_frames().items():
        if ident == threading.get_ident():
            continue
        f: Any = frame
        while f is not None:
            if f.f_code.co_filename.startswith(ours):
                busy.append(names.get(ident, str(ident)))
                break
            f = f.f_back
    return busy


def _settle(stub: StubOpenAI, quiet_s: float = 1.5, within_s: float = 10.0) -> int:
    """Wait until no new request arrived for `quiet_s` (the in-flight one may still land)."""
    deadline = time.monotonic() + within_s
    seen, since = _chat_calls(stub), time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.1)
        now = _chat_calls(stub)
        if now != seen:
            seen, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet_s:
            break
    return seen


def test_cancelling_arun_stops_model_calls_and_leaves_no_thread_working(agent: Agent, slow_stub: StubOpenAI) -> None:
    async def scenario() -> None:
        run = asyncio.create_task(agent.arun(TASK))
        while _chat_calls(slow_stub) < 1:
            await asyncio.sleep(0.02)
        run.cancel()
        with pytest.raises(asyncio.CancelledError):
            await run

    asyncio.run(scenario())
    at_cancel = _settle(slow_stub)
    assert at_cancel <= 2  # the request in flight when cancelled (and nothing after it)
    time.sleep(1.0)
    assert _chat_calls(slow_stub) == at_cancel
    assert _threads_in_hragent_code() == []


def test_wait_for_timeout_cancels_the_run(agent: Agent, slow_stub: StubOpenAI) -> None:
    async def scenario() -> None:
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(agent.arun(TASK), timeout=0.3)

    asyncio.run(scenario())
    settled = _settle(slow_stub)
    time.sleep(1.0)
    assert _chat_calls(slow_stub) == settled <= 2
    assert _threads_in_hragent_code() == []


def test_timeout_s_holds_for_an_async_run(agent: Agent, slow_stub: StubOpenAI) -> None:
    t0 = time.monotonic()
    result = asyncio.run(agent.arun(TASK, limits={"timeout_s": 1.0}))
    elapsed = time.monotonic() - t0
    assert elapsed < 1.0 + 2.0 + 2.0  # the limit, the hard-stop grace, slack for a busy machine
    assert "timeout" in result.limits_hit or result.halt_reason == "timeout"
    settled = _settle(slow_stub)
    assert _chat_calls(slow_stub) == settled
    assert _threads_in_hragent_code() == []


def test_sync_run_still_works_with_the_same_agent(agent: Agent, slow_stub: StubOpenAI) -> None:
    slow_stub.fault_rate = 0.0
    try:
        result = agent.run("What is the maximum payload of the Harrier?")
    finally:
        slow_stub.fault_rate = 1.0
    assert result.answer and result.citations
