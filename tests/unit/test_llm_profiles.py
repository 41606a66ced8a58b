"""Provider profiles and what a failed request means: detection from base URL and model, the
request options each profile sends, and the classification and log-safe labels of real openai
exception objects built from each server's documented error body."""

from __future__ import annotations

from typing import Any

import httpx
import openai
import pytest

from agent import LLMSettings
from agent.llm import is_transient, make_chat_model, request_options, structured_llm
from agent.llm_profiles import detect_provider, is_reasoning_model, resolve_profile
from graphs.roles.llm.failures import advice, classify, describe, lacks_tools

REQUEST = httpx.Request("POST", "http://127.0.0.1:9/v1/chat/completions")


def error(status: int, body: dict[str, Any]) -> openai.APIStatusError:
    classes: dict[int, type[openai.APIStatusError]] = {
        400: openai.BadRequestError,
        401: openai.AuthenticationError,
        404: openai.NotFoundError,
        422: openai.UnprocessableEntityError,
        429: openai.RateLimitError,
    }
    cls = classes.get(status, openai.InternalServerError if status >= 500 else openai.APIStatusError)
    response = httpx.Response(status, json=body, request=REQUEST)
    return cls(f"Error code: {status}", response=response, body=body.get("error", body))


O_SERIES_TEMPERATURE = {
    "error": {
        "message": "Unsupported value: 'temperature' does not support 0.0 with this model.",
        "type": "invalid_request_error",
        "param": "temperature",
        "code": "unsupported_value",
    }
}
LLAMACPP_NO_JINJA = {"error": {"code": 500, "message": "tools param requires --jinja flag", "type": "server_error"}}


@pytest.mark.parametrize(
    ("settings", "provider"),
    [
        ({}, "openai"),
        ({"base_url": "https://api.openai.com/v1"}, "openai"),
        ({"model": "o3-mini"}, "openai_reasoning"),
        ({"model": "gpt-5-mini"}, "openai_reasoning"),
        ({"model": "gpt-5-chat-latest"}, "openai"),
        ({"model": "openai/o4-mini", "base_url": "https://proxy.example/v1"}, "openai_reasoning"),
        ({"base_url": "http://127.0.0.1:11434/v1", "model": "llama3.1"}, "ollama"),
        ({"base_url": "http://ollama.internal:80/v1"}, "ollama"),
        ({"base_url": "http://vllm-gpu:8000/v1"}, "vllm"),
        ({"base_url": "http://llama-cpp.lan:8080/v1"}, "llamacpp"),
        ({"base_url": "http://127.0.0.1:8000/v1"}, "generic"),
        ({"base_url": "http://transformers-serve:8000/v1"}, "transformers"),
        ({"base_url": "http://127.0.0.1:8000/v1", "provider": "transformers"}, "transformers"),
        ({"backend": "azure", "azure_endpoint": "https://x.openai.azure.com"}, "azure"),
        ({"base_url": "http://127.0.0.1:11434/v1", "provider": "vllm"}, "vllm"),
    ],
)
def test_provider_detection(settings: dict[str, Any], provider: str, monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("OPENAI_BASE_URL", "AZURE_OPENAI_ENDPOINT"):
        monkeypatch.delenv(var, raising=False)
    assert detect_provider(LLMSettings(**settings)) == provider


def test_reasoning_model_names() -> None:
    assert all(is_reasoning_model(m) for m in ("o1", "o3-mini", "o4-mini-2025-04-16", "gpt-5", "gpt-5-nano"))
    assert not any(is_reasoning_model(m) for m in ("gpt-4o-mini", "gpt-5-chat-latest", "qwen2.5:7b", "olmo-2"))


def test_each_profile_defaults_to_what_its_server_does_reliably() -> None:
    def method(**kw: Any) -> str:
        return resolve_profile(LLMSettings(**kw)).method

    assert method(provider="openai") == "function_calling"
    assert method(provider="vllm") == method(provider="ollama") == method(provider="llamacpp") == "json_schema"
    assert method(provider="ollama", structured_output="json_mode") == "json_mode"  # the user wins
    assert resolve_profile(LLMSettings(provider="generic")).tools_fallback
    assert not resolve_profile(LLMSettings(provider="generic", structured_output="function_calling")).tools_fallback
    ollama = structured_llm(LLMSettings(provider="ollama", base_url="http://127.0.0.1:11434/v1"))
    assert ollama.prompt_limits.read_sentences < 30  # a small default context: fewer sentences per prompt
    mine = structured_llm(
        LLMSettings(provider="ollama", base_url="http://127.0.0.1:11434/v1", prompt={"read_sentences": 40})  # type: ignore[arg-type]
    )
    assert mine.prompt_limits.read_sentences == 40


def test_reasoning_requests_drop_temperature_and_carry_effort_and_the_new_cap() -> None:
    llm = LLMSettings(model="o3-mini", api_key="k", max_output_tokens=500, reasoning_effort="low")  # type: ignore[arg-type]
    options = request_options(llm, resolve_profile(llm))
    assert "temperature" not in options
    assert options["max_tokens"] == 500 and options["reasoning_effort"] == "low"  # sent as max_completion_tokens
    model = make_chat_model(llm)
    payload = model._get_request_payload([("user", "hi")])  # type: ignore[attr-defined]
    assert "temperature" not in payload and payload["max_completion_tokens"] == 500
    assert payload["reasoning_effort"] == "low"


def test_local_servers_get_max_tokens_and_extra_body_passes_through() -> None:
    llm = LLMSettings(
        provider="vllm",
        base_url="http://127.0.0.1:8000/v1",
        max_output_tokens=256,
        extra_body={"top_k": 20, "repetition_penalty": 1.05},
    )
    options = request_options(llm, resolve_profile(llm))
    assert options["temperature"] == 0.0
    assert options["extra_body"] == {"top_k": 20, "repetition_penalty": 1.05, "max_tokens": 256}


# ---------------------------------------------------------------- failures
def test_o_series_temperature_error_is_a_config_error_with_code_param_and_advice() -> None:
    err = error(400, O_SERIES_TEMPERATURE)
    assert classify(err) == "config" and not is_transient(err)
    label = describe(err)
    assert "HTTP 400" in label and "code=unsupported_value" in label and "param=temperature" in label
    assert "openai_reasoning" in advice(err)


def test_llamacpp_500_without_jinja_is_not_retried() -> None:
    err = error(500, LLAMACPP_NO_JINJA)
    assert lacks_tools(err) and classify(err) == "config" and not is_transient(err)
    assert "--jinja" in advice(err)
    assert is_transient(error(500, {"error": {"message": "The server had an error", "code": "internal_error"}}))


def test_auth_messages_never_reach_the_label() -> None:
    err = error(401, {"error": {"message": "Incorrect API key provided: sk-abc***wxyz", "code": "invalid_api_key"}})
    assert classify(err) == "config"
    assert describe(err) == "AuthenticationError (HTTP 401): code=invalid_api_key"


def test_context_overflow_is_a_refusal_of_one_request() -> None:
    err = error(400, {"error": {"message": "maximum context length is 8192 tokens", "code": "context_length_exceeded"}})
    assert classify(err) == "request"


def test_azure_and_ollama_not_found_advice() -> None:
    azure = error(404, {"error": {"code": "DeploymentNotFound", "message": "The API deployment ... does not exist."}})
    assert "azure_deployment" in advice(azure)
    ollama = error(404, {"error": {"message": 'model "x" not found, try pulling it first', "code": None}})
    assert "ollama pull" in advice(ollama)


def test_transformers_serve_fastapi_errors_show_the_detail_and_what_to_change() -> None:
    # FastAPI's error body is {"detail": ...}, not OpenAI's {"error": {"message": ...}}.
    unknown = error(422, {"detail": "Unexpected fields in the request: {'top_k'}"})
    assert classify(unknown) == "config" and not is_transient(unknown)
    assert "Unexpected fields in the request" in describe(unknown) and "llm.extra_body" in advice(unknown)
    pinned = error(400, {"detail": "Server is pinned to '/models/smol'; requested 'gpt-4o-mini'."})
    assert "pinned to '/models/smol'" in describe(pinned) and "/v1/models" in advice(pinned)
    validation = error(422, {"detail": [{"loc": ["body", "messages"], "msg": "Field required", "type": "missing"}]})
    assert "Field required" in describe(validation)


def test_transformers_profile_pastes_the_schema() -> None:
    profile = resolve_profile(LLMSettings(provider="transformers", base_url="http://127.0.0.1:8000/v1"))
    assert profile.method == "json_schema" and profile.token_param == "max_tokens" and profile.send_temperature
