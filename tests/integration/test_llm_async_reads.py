"""Native async reads (#16): under `arun` the reads of independent subgoals are `ainvoke`d on the
caller's event loop, each run on async HTTP clients of its own, so a second `asyncio.run` and two
threads' loops at once both work; the run's call budget stays exact.

Which client sent a request is the OpenAI SDK's own header (`X-Stainless-Async: async:asyncio`
from its async client, `false` from the sync one), as the stub recorded it; overlap is the stub's
own request log, never a wall-clock threshold."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from agent import Agent, Limits, Settings
from agent.llm import async_model_factory, make_chat_model
from agent.llm_profiles import resolve_profile
from agent.settings import LLMSettings
from graphs.roles.llm import StructuredLLM, async_models
from graphs.roles.llm.client import Meter
from graphs.roles.llm.schemas import ReadingOutput
from tests.conftest import SAMPLE
from tests.integration.test_llm_concurrent_reads import TASK, three_part_plan
from tests.integration.test_llm_zoo import AZURE_ENTRA, PROFILED
from tests.support.stub_openai import StubOpenAI
from tests.support.zoo import chats
from tools.embeddings import HashingEmbedder

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def stub() -> Iterator[StubOpenAI]:
    with StubOpenAI(responder=three_part_plan) as server:
        server.latency_s, server.chat_delay_s = 0.0, 0.2
        yield server


def _settings(stub: StubOpenAI) -> Settings:
    llm = {"backend": "openai", "base_url": stub.base_url, "api_key": "sk-stub", "max_retries": 0}
    return Settings(checkpointer="memory", llm=llm)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def agent(stub: StubOpenAI, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Agent]:
    with Agent(tmp_path_factory.mktemp("aio") / "idx", settings=_settings(stub), embedder=HashingEmbedder()) as made:
        made.ingest(SAMPLE)
        yield made


def _schema_of(request: dict[str, Any]) -> str:
    tools = (request["json"] or {}).get("tools") or [{}]
    return str(tools[0].get("function", {}).get("name", ""))


def _reads(stub: StubOpenAI) -> list[dict[str, Any]]:
    return [r for r in stub.requests if _schema_of(r) == "submit_reading"]


def _async_client(request: dict[str, Any]) -> bool:
    headers = {k.lower(): v for k, v in request["headers"].items()}
    return str(headers.get("x-stainless-async", "")).startswith("async:")


def test_arun_sends_the_reads_from_the_event_loop_together(agent: Agent, stub: StubOpenAI) -> None:
    stub.reset()
    result = asyncio.run(agent.arun(TASK))
    reads = _reads(stub)
    assert len(reads) == 3 and all(_async_client(r) for r in reads)
    assert max(r["t"] for r in reads) < min(r["t_end"] for r in reads)  # all three in flight at once
    others = [r for r in stub.requests if r["path"] == "/v1/chat/completions" and r not in reads]
    assert others and not any(_async_client(r) for r in others)  # plan and draft: worker threads
    assert result.degraded == [] and [s.status for s in result.subgoals] == ["answered"] * 3


def test_sync_run_still_reads_on_threads(agent: Agent, stub: StubOpenAI) -> None:
    stub.reset()
    result = agent.run(TASK)
    reads = _reads(stub)
    assert len(reads) == 3 and not any(_async_client(r) for r in reads)
    assert result.degraded == []


def test_one_agent_serves_one_event_loop_after_another(agent: Agent, stub: StubOpenAI) -> None:
    """langchain-openai's shared async client would fail the second loop ("Event loop is closed")."""
    answers = []
    for _ in range(3):
        stub.reset()
        result = asyncio.run(agent.arun(TASK))
        assert result.degraded == [], result.degraded
        assert len(_reads(stub)) == 3 and all(_async_client(r) for r in _reads(stub))
        answers.append(result.answer)
    assert answers[0] and answers.count(answers[0]) == 3


def test_one_agent_serves_two_threads_event_loops_at_once(agent: Agent, stub: StubOpenAI) -> None:
    stub.reset()
    start = threading.Barrier(2)
    results: dict[int, Any] = {}

    def one(n: int) -> None:
        start.wait()
        results[n] = asyncio.run(agent.arun(TASK))

    threads = [threading.Thread(target=one, args=(n,)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(results) == [0, 1]
    assert all(r.degraded == [] for r in results.values())
    assert results[0].answer == results[1].answer and results[0].answer
    reads = _reads(stub)
    assert len(reads) == 6 and all(_async_client(r) for r in reads)
    # How far the two runs overlap depends on the machine's load; that both loops' runs answered
    # on their own clients while both were alive is the point (one shared client fails here).


def test_async_reads_never_overdraw_the_call_budget(agent: Agent, stub: StubOpenAI) -> None:
    """1 plan + 3 reads wanted, 3 calls allowed: two reads reach the model, the third is refused
    before it is sent and read offline, labelled."""
    stub.reset()
    result = asyncio.run(agent.arun(TASK, limits=Limits(max_llm_calls=3)))
    chat = [r for r in stub.requests if r["path"] == "/v1/chat/completions"]
    assert len(chat) == 3 == result.stats.llm_calls
    assert len(_reads(stub)) == 2
    assert any(d.reason == "max_llm_calls" for d in result.degraded)


def test_astream_reads_from_the_event_loop(agent: Agent, stub: StubOpenAI) -> None:
    async def watch() -> list[str]:
        return [event.kind async for event in agent.astream(TASK)]

    stub.reset()
    kinds = asyncio.run(watch())
    assert kinds[-1] == "result"
    assert len(_reads(stub)) == 3 and all(_async_client(r) for r in _reads(stub))


def _reading_prompt() -> tuple[str, str]:
    return "Read the evidence.", "Question: what is the Kestrel?\n[S1] The Kestrel is a drone."


def test_a_run_scope_closes_the_clients_it_opened(stub: StubOpenAI) -> None:
    settings = LLMSettings(backend="openai", base_url=stub.base_url, api_key="sk-stub")  # type: ignore[arg-type]
    opened: list[Any] = []
    factory = async_model_factory(settings, resolve_profile(settings))

    def recording() -> Any:
        model, close = factory()
        opened.append(model.http_async_client)  # type: ignore[attr-defined]
        return model, close

    llm = StructuredLLM(make_chat_model(settings), open_async=recording)

    async def two_calls_in_one_run() -> None:
        async with async_models():
            for _ in range(2):
                await llm.acall(ReadingOutput, *_reading_prompt(), meter=Meter(), role="reader")
            assert len(opened) == 1 and not opened[0].is_closed  # one client for the whole run

    asyncio.run(two_calls_in_one_run())
    assert opened[0].is_closed

    async def a_thread_with_its_own_loop_inside_a_run() -> None:
        async with async_models():
            await llm.acall(ReadingOutput, *_reading_prompt(), meter=Meter(), role="reader")
            # to_thread copies the run's context into a thread whose loop may not use its clients
            coroutine = llm.acall(ReadingOutput, *_reading_prompt(), meter=Meter(), role="reader")
            await asyncio.to_thread(asyncio.run, coroutine)
            assert len(opened) == 3 and opened[2].is_closed and not opened[1].is_closed

    asyncio.run(a_thread_with_its_own_loop_inside_a_run())
    assert opened[1].is_closed
    opened.clear()
    asyncio.run(llm.acall(ReadingOutput, *_reading_prompt(), meter=Meter(), role="reader"))  # no run scope
    assert len(opened) == 1 and opened[0].is_closed  # a client for that call alone, closed after it


# ---------------------------------------------------------------- the server zoo, through `arun`
ZOO_TASK = "In which city is the plant that manufactures the Kestrel located?"


def _arun_llm_answer(agent: Agent, stub: StubOpenAI) -> Any:
    result = asyncio.run(agent.arun(ZOO_TASK))
    assert result.degraded == [], result.degraded
    assert all(e.startswith("llm:") for e in result.engines.values())
    assert result.answer and result.citations
    reads = _reads(stub) or [r for r in chats(stub) if "submit_reading" in json.dumps(r["json"])]
    assert reads and all(_async_client(r) for r in reads)
    return result


@pytest.mark.parametrize(("personality", "llm"), PROFILED, ids=[p for p, _ in PROFILED])
def test_every_server_answers_arun_under_its_profile(zoo: Any, personality: str, llm: dict[str, Any]) -> None:
    agent, stub = zoo(personality, llm)
    if personality == "ollama":
        stub.models.append("qwen2.5:7b")
    _arun_llm_answer(agent, stub)
    assert len(chats(stub)) == 5 and all(r["fault"] == "ok" for r in chats(stub))


def test_azure_entra_id_token_reaches_async_reads(zoo: Any) -> None:
    agent, stub = zoo("azure", AZURE_ENTRA)
    _arun_llm_answer(agent, stub)
    for request in chats(stub):
        headers = {k.lower(): v for k, v in request["headers"].items()}
        assert headers["authorization"] == "Bearer entra-token-for-tests"


def test_async_reads_fall_back_per_call_when_ollama_ignores_tool_choice(zoo: Any) -> None:
    # The chat profile keeps tool calling (no fallback method): each role falls back for its call.
    agent, stub = zoo("ollama", {"model": "qwen2.5:7b", "provider": "openai"})
    stub.models.append("qwen2.5:7b")
    result = asyncio.run(agent.arun(ZOO_TASK))
    assert result.answer
    assert {d.reason for d in result.degraded} == {"llm_invalid_output"}
    assert "solver" in {d.role for d in result.degraded}
    reads = [r for r in chats(stub) if "submit_reading" in json.dumps(r["json"])]
    assert len(reads) >= 2 and all(_async_client(r) for r in reads)  # the read and its repair, from the loop


def test_async_reads_switch_to_json_when_the_generic_profile_meets_ignored_tool_choice(zoo: Any) -> None:
    agent, stub = zoo("ollama", {"model": "qwen2.5:7b", "provider": "generic"})
    stub.models.append("qwen2.5:7b")
    result = asyncio.run(agent.arun(ZOO_TASK))
    assert result.answer and result.degraded == []
    reads = [r for r in chats(stub) if "submit_reading" in json.dumps(r["json"])]
    assert reads and all(_async_client(r) and "tools" not in r["json"] for r in reads)  # json_schema, from the loop


def test_async_reads_retry_a_transient_error(zoo: Any) -> None:
    agent, stub = zoo("openai", {"provider": "openai", "max_retries": "2"})
    stub.script(["ok", "503"])  # the plan, then the first read: overloaded once
    result = _arun_llm_answer(agent, stub)
    requests = chats(stub)
    refused = [i for i, r in enumerate(requests) if r["fault"] == "503"]
    assert len(refused) == 1 and "submit_reading" in json.dumps(requests[refused[0]]["json"])
    again = requests[refused[0] + 1]
    assert "submit_reading" in json.dumps(again["json"]) and _async_client(again)  # retried from the loop
    assert result.stats.llm_calls == len(requests) == 6
