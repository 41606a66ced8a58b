"""A server zoo: one stub per real server's documented behaviour (`tests.support.personalities`),
and for each a full `agent.run` through the genuine OpenAI / Azure clients that must end with an
LLM-made, cited answer and nothing degraded under the matching profile. Where the wrong profile
meets a server, the failure must be one a user can act on, or a switch that keeps the run on the
model (llama.cpp without `--jinja`)."""

from __future__ import annotations

import json
from typing import Any

import pytest
import structlog

from agent import Agent, LLMConfigError
from tests.support.llm_responder import sloppy
from tests.support.zoo import chats

pytestmark = pytest.mark.integration

TASK = "In which city is the plant that manufactures the Kestrel located?"
ROLES = {"planner", "solver", "verifier", "composer"}


def assert_llm_answer(agent: Agent) -> Any:
    result = agent.run(TASK)
    assert result.degraded == []
    assert set(result.engines) == ROLES and all(e.startswith("llm:") for e in result.engines.values())
    assert result.answer and result.short_answer and result.citations  # the stub model is no oracle: shape only
    stored = agent.index.get([c.node_id for c in result.citations], None)
    assert all(c.quote == stored[c.node_id].text for c in result.citations)
    return result


# ---------------------------------------------------------------- each server under its profile
# Azure with a Microsoft Entra ID token provider instead of a key (the stub's deployment).
AZURE_ENTRA: dict[str, Any] = {
    "backend": "azure",
    "azure_endpoint": "{root}",
    "azure_deployment": "prod-chat",
    "azure_ad_token_provider": "tests.support.personalities:fake_entra_token",
}

PROFILED = [
    ("openai", {"provider": "openai"}),
    ("openai_reasoning", {"provider": "openai_reasoning", "model": "o3-mini", "max_output_tokens": "400"}),
    ("vllm", {"provider": "vllm"}),
    ("ollama", {"provider": "ollama", "model": "qwen2.5:7b"}),
    ("llamacpp", {"provider": "llamacpp"}),
    ("transformers", {"provider": "transformers"}),
    ("azure", {"backend": "azure", "azure_endpoint": "{root}", "azure_deployment": "prod-chat"}),
]


@pytest.mark.parametrize(("personality", "llm"), PROFILED, ids=[p for p, _ in PROFILED])
def test_every_server_answers_under_its_profile(zoo: Any, personality: str, llm: dict[str, Any]) -> None:
    agent, stub = zoo(personality, llm)
    if personality == "ollama":
        stub.models.append("qwen2.5:7b")
    assert_llm_answer(agent)
    requests = chats(stub)
    assert len(requests) == 5 and all(r["fault"] == "ok" for r in requests)


def test_reasoning_profile_sends_no_temperature_and_the_new_token_parameter(zoo: Any) -> None:
    agent, stub = zoo("openai_reasoning", {"model": "o4-mini", "max_output_tokens": "300", "reasoning_effort": "low"})
    assert_llm_answer(agent)  # detected from the model name (the base URL is a local stub)
    body = chats(stub)[0]["json"]
    assert "temperature" not in body and "max_tokens" not in body
    assert body["max_completion_tokens"] == 300 and body["reasoning_effort"] == "low"


def test_a_reasoning_model_under_the_chat_profile_fails_fast_naming_the_parameter(zoo: Any) -> None:
    agent, stub = zoo("openai_reasoning", {"provider": "openai", "model": "o3-mini"})
    with pytest.raises(LLMConfigError) as caught:
        agent.run(TASK)
    message = str(caught.value)
    assert "code=unsupported_value" in message and "param=temperature" in message
    assert "openai_reasoning" in message  # what to change
    assert len(chats(stub)) == 1  # a 400 is never retried


def test_vllm_gets_a_guided_json_schema_without_references(zoo: Any) -> None:
    agent, stub = zoo("vllm", {"provider": "vllm"})
    assert_llm_answer(agent)
    for request in chats(stub):
        fmt = request["json"]["response_format"]
        assert fmt["type"] == "json_schema" and "tools" not in request["json"]
        text = json.dumps(fmt["json_schema"]["schema"])
        assert "$ref" not in text and "$defs" not in text


def test_vllm_without_auto_tool_choice_still_honours_a_named_tool_choice(zoo: Any) -> None:
    agent, stub = zoo("vllm", {"structured_output": "function_calling"})
    assert_llm_answer(agent)
    assert all(r["json"]["tool_choice"]["type"] == "function" for r in chats(stub))


def test_azure_url_shape_api_version_and_key_header(zoo: Any) -> None:
    agent, stub = zoo(
        "azure", {"backend": "azure", "azure_endpoint": "{root}", "azure_deployment": "prod-chat", "model": "gpt-4o"}
    )
    assert_llm_answer(agent)
    request = chats(stub)[0]
    assert request["path"] == "/openai/deployments/prod-chat/chat/completions"
    headers = {k.lower(): v for k, v in request["headers"].items()}
    assert headers["api-key"] == "sk-zoo"


def test_azure_with_an_entra_id_token_provider(zoo: Any) -> None:
    agent, stub = zoo("azure", AZURE_ENTRA)
    assert_llm_answer(agent)
    headers = {k.lower(): v for k, v in chats(stub)[0]["headers"].items()}
    assert headers["authorization"] == "Bearer entra-token-for-tests" and "api-key" not in headers


def test_azure_unknown_deployment_names_the_setting(zoo: Any) -> None:
    agent, _ = zoo("azure", {"backend": "azure", "azure_endpoint": "{root}", "azure_deployment": "gpt-4o"})
    with pytest.raises(LLMConfigError, match=r"DeploymentNotFound.*llm\.azure_deployment"):
        agent.run(TASK)


# ---------------------------------------------------------------- the wrong profile, handled
@pytest.mark.parametrize("personality", ["ollama", "transformers"])
def test_a_server_ignoring_tool_choice_under_the_generic_profile_switches_to_json(zoo: Any, personality: str) -> None:
    agent, stub = zoo(personality, {"model": "gpt-4o-mini", "provider": "generic"})
    assert_llm_answer(agent)  # nothing degraded: the first call's second request already asked for JSON
    requests = chats(stub)
    assert "tools" in requests[0]["json"]  # answered in prose, no tool call ...
    assert all("tools" not in r["json"] for r in requests[1:])  # ... so every later request is json_schema
    assert all(r["json"]["response_format"]["type"] == "json_schema" for r in requests[1:])
    assert len(requests) == 6  # 1 prose reply + 5 role calls


def test_ignored_tool_choice_under_a_profile_without_fallback_falls_back_per_call(zoo: Any) -> None:
    agent, stub = zoo("ollama", {"model": "gpt-4o-mini", "provider": "openai"})
    result = agent.run(TASK)
    assert result.answer  # the offline engine answered each call the model could not
    assert {d.reason for d in result.degraded} == {"llm_invalid_output"}
    # Per-call fallback: every role still tried the model (prose, then one repair each).
    assert {d.role for d in result.degraded} == ROLES
    assert len(chats(stub)) >= 2 * len(ROLES)


def test_transformers_serve_gets_the_schema_in_the_prompt_and_a_last_line_asking_for_json(zoo: Any) -> None:
    agent, stub = zoo("transformers", {"provider": "transformers"})
    assert_llm_answer(agent)
    for request in chats(stub):
        system, user = request["json"]["messages"][0]["content"], request["json"]["messages"][-1]["content"]
        assert '"title":"submit_' in system  # the server ignores response_format: the prompt carries the schema
        assert user.endswith("Reply with the JSON object only, starting with {")


def test_transformers_serve_rejections_name_the_field_or_the_served_model(zoo: Any) -> None:
    agent, _ = zoo("transformers", {"provider": "transformers", "extra_body": {"top_k": 5}})  # type: ignore[dict-item]
    with pytest.raises(LLMConfigError, match=r"Unexpected fields in the request: \{'top_k'\}.*llm\.extra_body"):
        agent.run(TASK)
    agent, stub = zoo("transformers", {"provider": "transformers", "model": "smollm2"})
    with pytest.raises(LLMConfigError, match=r"pinned to 'gpt-4o-mini'.*GET /v1/models"):
        agent.run(TASK)
    assert len(chats(stub)) == 1  # a 400 is never retried


def test_ollama_unknown_model_says_to_pull_it(zoo: Any) -> None:
    agent, _ = zoo("ollama", {"provider": "ollama", "model": "llama9:1b"})
    with pytest.raises(LLMConfigError, match=r"not found, try pulling it first.*ollama pull"):
        agent.run(TASK)


def test_llamacpp_without_jinja_switches_to_json_schema_instead_of_retrying(zoo: Any) -> None:
    agent, stub = zoo("llamacpp", {"provider": "generic"})
    assert_llm_answer(agent)
    requests = chats(stub)
    assert "tools" in requests[0]["json"]  # tried once, refused with HTTP 500 "--jinja" ...
    assert all(r["json"]["response_format"]["type"] == "json_schema" for r in requests[1:])  # ... then switched
    assert len(requests) == 6  # not retried: 1 refused + 5 role calls


def test_a_sloppy_small_model_is_understood_without_repairs(zoo: Any) -> None:
    agent, stub = zoo("openai", {"provider": "generic"}, responder=sloppy)
    assert_llm_answer(agent)
    assert len(chats(stub)) == 5  # no repair round was needed


def test_a_sloppy_small_model_in_json_schema_mode(zoo: Any) -> None:
    agent, stub = zoo("llamacpp", {"provider": "llamacpp"}, responder=sloppy)
    assert_llm_answer(agent)
    assert len(chats(stub)) == 5


def test_ollama_silent_truncation_is_reported(zoo: Any) -> None:
    agent, stub = zoo("ollama", {"provider": "ollama", "model": "qwen2.5:7b"})
    stub.models.append("qwen2.5:7b")
    with structlog.testing.capture_logs() as control:
        agent.run(TASK)
    assert not [e for e in control if e["event"] == "llm.prompt_truncated"]  # no false alarm
    stub.context_tokens = 200  # far below what a reading prompt needs
    with structlog.testing.capture_logs() as events:
        agent.run(TASK)
    cut = [e for e in events if e["event"] == "llm.prompt_truncated"]
    assert cut and all(e["server_read"] == 200 and e["sent_estimate"] > 200 for e in cut)
    assert "OLLAMA_CONTEXT_LENGTH" in cut[0]["hint"]


@pytest.mark.parametrize("personality", ["transformers", "llamacpp"])
def test_a_reply_cut_at_the_output_limit_is_repaired_per_call_not_an_outage(zoo: Any, personality: str) -> None:
    # With response_format, openai's parse() raises LengthFinishReasonError on finish_reason "length";
    # it once read as "model unavailable" and sent the rest of the run offline.
    agent, stub = zoo(personality, {"provider": personality, "max_output_tokens": 16})  # type: ignore[dict-item]
    result = agent.run(TASK)
    assert result.answer
    assert {d.reason for d in result.degraded} == {"llm_invalid_output"}  # never llm_unavailable
    assert {"planner", "solver", "verifier"} <= {d.role for d in result.degraded}  # each still asked the model
    requests = chats(stub)
    repairs = [r for r in requests if len(r["json"]["messages"]) > 2]
    assert len(repairs) >= 3 and all(r["fault"] == "ok" for r in requests)
    assert all("cut off at the output-token limit" in r["json"]["messages"][-1]["content"] for r in repairs)
