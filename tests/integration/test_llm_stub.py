"""The LLM path end to end through the real `ChatOpenAI` / `OpenAIEmbeddings` clients against a
stub OpenAI-compatible server on 127.0.0.1 that injects faults: retries happen as specified,
budgets stop LLM use, degraded runs say so, and the API key never reaches logs or results."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import structlog

from agent import Agent, ConfigError, IndexMismatchError, LLMConfigError, LLMUnavailableError, Settings
from agent.logging import configure_logging
from tests.conftest import SAMPLE
from tests.support.llm_responder import respond
from tests.support.stub_openai import StubOpenAI
from tools.embeddings import HashingEmbedder, OpenAIEmbedder
from tools.index import HierarchicalIndex

pytestmark = pytest.mark.integration

SECRET = "sk-hragent-STUB-SECRET-0123456789"
TASK = "In which city is the plant that manufactures the Kestrel located?"
ALL_LLM = {"planner", "solver", "verifier", "composer"}


@pytest.fixture(scope="module")
def stub() -> Iterator[StubOpenAI]:
    with StubOpenAI(responder=respond) as server:
        server.retry_after = "0.3"
        server.latency_s = 0.05
        yield server


@pytest.fixture(scope="module")
def built_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("llm") / "idx"
    agent = Agent(
        path, settings=Settings(checkpointer="memory", llm={"backend": "offline"}), embedder=HashingEmbedder()
    )  # type: ignore[arg-type]
    agent.ingest(SAMPLE)
    agent.close()
    return path


@pytest.fixture
def make_llm_agent(stub: StubOpenAI, built_index: Path) -> Iterator[Any]:
    stub.reset()
    made: list[Agent] = []

    def factory(*, llm: dict[str, Any] | None = None, **settings: Any) -> Agent:
        llm_settings = {
            "backend": "openai",
            "base_url": stub.base_url,
            "api_key": SECRET,
            "backoff_initial_s": 0.02,
            "backoff_max_s": 0.1,
            **(llm or {}),
        }
        agent = Agent(
            built_index,
            settings=Settings(checkpointer="memory", llm=llm_settings, **settings),  # type: ignore[arg-type]
            embedder=HashingEmbedder(),
        )
        made.append(agent)
        return agent

    yield factory
    for agent in made:
        agent.close()


def chat_requests(stub: StubOpenAI) -> list[dict[str, Any]]:
    return [r for r in stub.requests if r["path"] == "/v1/chat/completions"]


def auth_of(request: dict[str, Any]) -> str:
    return next((v for k, v in request["headers"].items() if k.lower() == "authorization"), "")


def tool_of(request: dict[str, Any]) -> str:
    return str(request["json"]["tools"][0]["function"]["name"])


# ---------------------------------------------------------------- the happy path
def test_all_roles_run_on_the_model_and_citations_quote_stored_text(stub: StubOpenAI, make_llm_agent: Any) -> None:
    agent = make_llm_agent()
    result = agent.run(TASK)
    assert set(result.engines) == ALL_LLM
    assert all(engine == "llm:gpt-4o-mini" for engine in result.engines.values())
    assert result.degraded == [] and result.answer and result.citations
    requests = chat_requests(stub)
    assert [tool_of(r) for r in requests] == [
        "submit_plan",
        "submit_reading",
        "submit_answer",
        "submit_verdicts",
        "submit_answer_text",
    ]
    assert result.stats.llm_calls == len(requests)
    assert result.stats.tokens > 0
    stored = agent.index.get([c.node_id for c in result.citations], None)
    for cit in result.citations:
        assert cit.quote == stored[cit.node_id].text  # verbatim: from the index, not the model
    for request in requests:
        assert request["json"]["tool_choice"]["function"]["name"] == tool_of(request)
        assert auth_of(request) == f"Bearer {SECRET}"


def test_json_mode_for_servers_without_tool_calling(stub: StubOpenAI, make_llm_agent: Any) -> None:
    result = make_llm_agent(llm={"structured_output": "json_mode"}).run(TASK)
    assert result.degraded == [] and set(result.engines.values()) == {"llm:gpt-4o-mini"}
    first = chat_requests(stub)[0]["json"]
    assert "tools" not in first and first["response_format"] == {"type": "json_object"}


# ---------------------------------------------------------------- retries
def test_429_waits_for_retry_after_then_succeeds(stub: StubOpenAI, make_llm_agent: Any) -> None:
    stub.script(["429", "ok"])
    result = make_llm_agent().run(TASK)
    first, second = chat_requests(stub)[:2]
    assert (first["fault"], second["fault"]) == ("429", "ok")
    assert tool_of(first) == tool_of(second) == "submit_plan"
    assert second["t"] - first["t"] >= 0.3  # the stub's Retry-After, not the 0.02 s backoff
    assert result.degraded == [] and result.stats.llm_calls == len(chat_requests(stub))


def test_5xx_timeouts_and_dropped_connections_are_retried(stub: StubOpenAI, make_llm_agent: Any) -> None:
    stub.script(["500", "503", "drop", "ok"])
    result = make_llm_agent(llm={"max_retries": 3}).run(TASK)
    assert [r["fault"] for r in chat_requests(stub)[:4]] == ["500", "503", "drop", "ok"]
    assert result.degraded == [] and result.engines["planner"] == "llm:gpt-4o-mini"


def test_read_timeout_is_retried(stub: StubOpenAI, make_llm_agent: Any) -> None:
    stub.latency_s = 0.6
    try:
        stub.script(["latency", "ok"])
        result = make_llm_agent(llm={"timeout_s": 0.3}).run(TASK)
    finally:
        stub.latency_s = 0.05
    assert [r["fault"] for r in chat_requests(stub)[:2]] == ["latency", "ok"]
    assert result.degraded == []


@pytest.mark.parametrize("fault", ["401", "400"])
def test_auth_and_validation_errors_fail_fast_with_the_server_code(
    stub: StubOpenAI, make_llm_agent: Any, fault: str
) -> None:
    stub.script([fault])
    with pytest.raises(LLMConfigError, match=f"HTTP {fault}") as caught:
        make_llm_agent().run(TASK)
    assert len(chat_requests(stub)) == 1  # not retried, and not hidden behind an offline run
    code = {"401": "invalid_api_key", "400": "bad_request"}[fault]
    assert f"code={code}" in str(caught.value) and SECRET not in str(caught.value)
    assert isinstance(caught.value, ConfigError)


@pytest.mark.parametrize("fault", ["401", "400"])
def test_auth_and_validation_errors_degrade_when_asked(stub: StubOpenAI, make_llm_agent: Any, fault: str) -> None:
    stub.script([fault])
    result = make_llm_agent(llm={"on_failure": "degrade"}).run(TASK)
    assert len(chat_requests(stub)) == 1  # no retry, and no further calls: the run went offline
    assert result.answer and result.halt_reason
    assert set(result.engines.values()) == {"offline (degraded)"}
    first = result.degraded[0]
    assert (first.role, first.reason) == ("planner", "llm_config")
    assert f"HTTP {fault}" in first.detail
    assert {d.role for d in result.degraded} == ALL_LLM


def test_retries_are_bounded_then_the_run_degrades(stub: StubOpenAI, make_llm_agent: Any) -> None:
    stub.script(["503"] * 3)
    result = make_llm_agent(llm={"max_retries": 2}).run(TASK)
    assert [r["fault"] for r in chat_requests(stub)] == ["503"] * 3
    assert result.stats.llm_calls == 3
    assert result.degraded[0].reason == "llm_unavailable" and result.answer


def test_stream_events_say_when_a_step_degraded(stub: StubOpenAI, make_llm_agent: Any) -> None:
    stub.script(["ok", "503", "503"])
    events = list(make_llm_agent(llm={"max_retries": 1}).stream(TASK))
    flagged = [e for e in events if e.data.get("degraded")]
    assert flagged and flagged[0].node == "solve"
    assert flagged[0].data["degraded"][0] == {
        "role": "solver",
        "reason": "llm_unavailable",
        "detail": "submit_reading: model unavailable: OpenAIAPIError (HTTP 503): code=overloaded, "
        "message='The engine is currently overloaded (stub)'",
    }
    result = events[-1].result
    assert result is not None and result.degraded[0].role == "solver"  # the planner had used the model
    assert result.engines["solver"] == "offline (degraded)" and result.answer


def test_on_failure_raise_fails_the_run(stub: StubOpenAI, make_llm_agent: Any) -> None:
    stub.script(["503", "503"])
    with pytest.raises(LLMUnavailableError, match="HTTP 503"):
        make_llm_agent(llm={"on_failure": "raise", "max_retries": 1}).run(TASK)


# ---------------------------------------------------------------- invalid output
def test_malformed_json_is_repaired_with_one_more_call(stub: StubOpenAI, make_llm_agent: Any) -> None:
    stub.script(["malformed_json"])
    result = make_llm_agent().run(TASK)
    first, second = chat_requests(stub)[:2]
    assert tool_of(first) == tool_of(second) == "submit_plan"
    repair = second["json"]["messages"][-1]["content"]
    assert "not valid JSON" in repair and '{"answer": "x"' in repair
    assert result.degraded == []


def test_schema_violation_twice_degrades_that_call_only(stub: StubOpenAI, make_llm_agent: Any) -> None:
    stub.script(["schema_violation", "schema_violation"])
    result = make_llm_agent().run(TASK)
    requests = chat_requests(stub)
    assert [tool_of(r) for r in requests[:3]] == ["submit_plan", "submit_plan", "submit_reading"]
    assert [(d.role, d.reason) for d in result.degraded] == [("planner", "llm_invalid_output")]
    assert "none of the fields" in result.degraded[0].detail
    assert result.engines["planner"] == "offline (degraded)"
    assert {result.engines[r] for r in ("solver", "verifier", "composer")} == {"llm:gpt-4o-mini"}  # tried again
    assert result.answer and result.citations


# ---------------------------------------------------------------- budgets
def test_call_budget_stops_llm_use_and_is_reported(stub: StubOpenAI, make_llm_agent: Any) -> None:
    result = make_llm_agent().run(TASK, limits={"max_llm_calls": 2})
    assert len(chat_requests(stub)) == 2 and result.stats.llm_calls == 2
    assert "max_llm_calls" in result.limits_hit
    assert result.engines["planner"] == "llm:gpt-4o-mini"
    assert result.engines["verifier"] == "offline (degraded)"
    assert {d.reason for d in result.degraded} == {"max_llm_calls"}
    assert result.answer


def test_retries_count_against_the_call_budget(stub: StubOpenAI, make_llm_agent: Any) -> None:
    stub.script(["500", "500", "500"])
    result = make_llm_agent(llm={"max_retries": 5}).run(TASK, limits={"max_llm_calls": 2})
    assert len(chat_requests(stub)) == 2
    assert result.degraded[0].reason == "max_llm_calls" and "max_llm_calls" in result.limits_hit


def test_token_budget(stub: StubOpenAI, make_llm_agent: Any) -> None:
    result = make_llm_agent().run(TASK, limits={"max_tokens": 1500})
    assert "max_tokens" in result.limits_hit
    assert any(d.reason == "max_tokens" for d in result.degraded)
    assert result.stats.tokens < 1500 + 2000  # at most one call past the line


def test_wall_clock_budget_caps_requests_and_retries(stub: StubOpenAI, make_llm_agent: Any) -> None:
    stub.latency_s = 0.4
    try:
        stub.script(["latency"] * 10)
        result = make_llm_agent(llm={"timeout_s": 30}).run(TASK, limits={"timeout_s": 1.0})
    finally:
        stub.latency_s = 0.05
    # The request count is the deterministic check (ten calls are scripted; a 1 s budget at 0.4 s per
    # call starts three, the last one past the line); the wall-clock bound is loose for loaded machines.
    assert len(chat_requests(stub)) <= 4
    assert result.stats.elapsed_s < 4.0
    assert "timeout" in result.limits_hit
    assert any(d.reason == "timeout" for d in result.degraded) and result.answer


# ---------------------------------------------------------------- secrets
def test_api_key_never_appears_in_logs_results_or_reprs(
    stub: StubOpenAI, make_llm_agent: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # openai / httpx debug logging included
    agent = make_llm_agent(log_level="DEBUG", llm={"on_failure": "degrade"})
    configure_logging("DEBUG", force=True)
    stub.script(["429", "500", "malformed_json", "401"])
    try:
        with structlog.testing.capture_logs() as events:
            result = agent.run(TASK)
    finally:
        configure_logging("WARNING", force=True)
    retry_events = [e for e in events if e["event"] == "llm.retrying"]
    assert retry_events and any(e["event"] == "llm.fallback" for e in events)
    assert any(auth_of(r) == f"Bearer {SECRET}" for r in chat_requests(stub))
    texts = [
        repr(events),
        caplog.text,
        result.model_dump_json(),
        repr(agent.settings),
        repr(agent.graph),
        repr(agent._roles(agent.index)),
    ]
    for text in texts:
        assert SECRET not in text
        assert SECRET[-12:] not in text  # nor the tail an OpenAI 401 message would echo


# ---------------------------------------------------------------- embeddings
def test_openai_embedder_through_the_stub_with_retries(stub: StubOpenAI) -> None:
    from agent.llm import make_retrying
    from agent.settings import LLMSettings

    retrying = make_retrying(LLMSettings(backoff_initial_s=0.01, backoff_max_s=0.05))
    embedder = OpenAIEmbedder("text-embedding-3-small", base_url=stub.base_url, api_key=SECRET, retrying=retrying)
    stub.reset()
    stub.script(["429", "500", "ok"])
    vectors = embedder.embed(["alpha", "beta", "alpha"])
    assert vectors.shape == (3, 16)
    assert (vectors[0] == vectors[2]).all() and abs(float(vectors[1] @ vectors[1]) - 1) < 1e-5
    assert [r["fault"] for r in stub.requests] == ["429", "500", "ok"]
    stub.reset()
    stub.script(["401"])
    with pytest.raises(Exception, match=r"401|Incorrect API key"):
        embedder.embed(["gamma"])
    assert len(stub.requests) == 1
    assert SECRET not in repr(embedder)


def test_index_refuses_a_different_embedder(stub: StubOpenAI, tmp_path: Path) -> None:
    stub.reset()
    settings = Settings(
        checkpointer="memory",
        embedder="openai:text-embedding-3-small",
        llm={"backend": "openai", "base_url": stub.base_url, "api_key": SECRET},  # type: ignore[arg-type]
    )
    source = tmp_path / "docs"
    source.mkdir()
    shutil.copy(SAMPLE / "03-products.md", source)
    with Agent(tmp_path / "idx", settings=settings) as agent:
        assert isinstance(agent.embedder, OpenAIEmbedder)
        report = agent.ingest(source)
        assert report.documents == 1 and report.embedded > 0
        assert agent.retrieve("Kestrel manufacturer", k=2)
    manifest = (tmp_path / "idx" / "manifest.json").read_text()
    with pytest.raises(IndexMismatchError, match="openai:text-embedding-3-small"):
        HierarchicalIndex(tmp_path / "idx", HashingEmbedder())
    assert (tmp_path / "idx" / "manifest.json").read_text() == manifest  # nothing rewritten
    assert any(r["path"] == "/v1/embeddings" for r in stub.requests)
