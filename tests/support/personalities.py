"""How real OpenAI-compatible servers differ, for `StubOpenAI(personality=...)`: each personality
refuses or reshapes a chat request the way that server is documented (or reported) to.

- ``openai``: the reference behaviour (tool calls honour a named ``tool_choice``).
- ``openai_reasoning`` (o1/o3/o4-mini, gpt-5): HTTP 400 with OpenAI's error body for ``temperature``
  other than 1 (``code: "unsupported_value"``, ``param: "temperature"``; cline/cline#341,
  BeehiveInnovations/pal-mcp-server#78) and for ``max_tokens`` (``code: "unsupported_parameter"``:
  "Use 'max_completion_tokens' instead"; openai/openai-python#2072).
- ``azure``: routes only ``/openai/deployments/{deployment}/chat/completions?api-version=...``;
  without ``api-version`` HTTP 404 "Resource not found"; an unknown deployment HTTP 404
  ``code: "DeploymentNotFound"``; the key arrives in the ``api-key`` header or as an Entra ID bearer token.
- ``vllm``: a named ``tool_choice`` and ``response_format: json_schema`` are enforced by guided
  decoding; ``tool_choice: "auto"`` (or none) with tools is HTTP 400 unless the server was started with
  ``--enable-auto-tool-choice`` (vLLM tool-calling docs).
- ``ollama``: ``/v1`` ignores a forced ``tool_choice`` and answers in prose (ollama/ollama#8421,
  #17921) but honours ``response_format: json_schema``; an unknown model is HTTP 404 ``model "x" not
  found, try pulling it first``; a prompt past ``num_ctx`` is cut without an error and the usage
  reports only what was read (ollama/ollama#5902, #2722; ``StubOpenAI.context_tokens``).
- ``llamacpp``: ``llama-server`` without ``--jinja`` answers any request with ``tools`` with HTTP 500
  ``tools param requires --jinja flag`` (defilantech/LLMKube#126, containers/ramalama#988;
  ggml-org/llama.cpp#10920 for the older "Unsupported param: tools"); ``response_format: json_schema``
  is turned into a grammar and works.

- ``transformers``: ``transformers serve`` 5.24 (run here against SmolLM2-135M-Instruct, RESULTS.md
  #16; code in ``transformers/cli/serving/chat_completion.py``): ``tool_choice`` and
  ``response_format`` are accepted and ignored (a warning in the server log), ``tools`` go through
  the model's chat template, and a template without tool support drops them, so the model answers
  in prose; a body field outside OpenAI's chat parameters is HTTP 422 ``{"detail": "Unexpected
  fields in the request: {...}"}``; a server started with a model answers any other model name
  with HTTP 400 ``{"detail": "Server is pinned to 'X'; requested 'Y'."}``.

Small-model sloppiness (integer ids, arrays as JSON strings, wrapped arguments, missing fields) is
a responder, `tests.support.llm_responder.sloppy`, usable with any personality.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

from openai.types.chat.completion_create_params import CompletionCreateParamsStreaming

PERSONALITIES = ("openai", "openai_reasoning", "azure", "vllm", "ollama", "llamacpp", "transformers")
# What `transformers serve` accepts: OpenAI's chat parameters plus its own three (its
# `TransformersCompletionCreateParamsStreaming`).
_TRANSFORMERS_FIELDS = frozenset(CompletionCreateParamsStreaming.__mutable_keys__) | {
    "generation_config",
    "seed",
    "chat_template_kwargs",
}
_IGNORED_BY_TRANSFORMERS = ("tools", "tool_choice", "response_format")

Refusal = tuple[int, dict[str, Any]]


def _openai_error(message: str, code: str, param: str | None, typ: str = "invalid_request_error") -> dict[str, Any]:
    return {"error": {"message": message, "type": typ, "param": param, "code": code}}


def chat_path(personality: str, raw_path: str, deployments: set[str]) -> tuple[bool, Refusal | None]:
    """Whether `raw_path` is this server's chat route, or the refusal it answers instead."""
    parts = urlsplit(raw_path)
    if personality != "azure":
        return parts.path == "/v1/chat/completions", None
    prefix, suffix = "/openai/deployments/", "/chat/completions"
    if not (parts.path.startswith(prefix) and parts.path.endswith(suffix)):
        return False, None
    if not parse_qs(parts.query).get("api-version"):
        return True, (404, {"error": {"code": "404", "message": "Resource not found"}})
    deployment = parts.path[len(prefix) : -len(suffix)]
    if deployment not in deployments:
        message = "The API deployment for this resource does not exist. If you created the deployment within the last 5 minutes, please wait a moment and try again."
        return True, (404, {"error": {"code": "DeploymentNotFound", "message": message}})
    return True, None


def refusal(personality: str, body: dict[str, Any], models: list[str]) -> Refusal | None:
    """The error this server answers `body` with, if any."""
    tools = body.get("tools") or []
    if personality == "openai_reasoning":
        temperature = body.get("temperature")
        if temperature is not None and temperature != 1:
            message = (
                f"Unsupported value: 'temperature' does not support {temperature} with this model. "
                "Only the default (1) value is supported."
            )
            return 400, _openai_error(message, "unsupported_value", "temperature")
        if "max_tokens" in body:
            message = "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead."
            return 400, _openai_error(message, "unsupported_parameter", "max_tokens")
    if personality == "vllm" and tools and not isinstance(body.get("tool_choice"), dict):
        message = '"auto" tool choice requires --enable-auto-tool-choice and --tool-call-parser to be set'
        return 400, {"object": "error", "message": message, "type": "BadRequestError", "param": None, "code": 400}
    if personality == "ollama" and body.get("model") not in models:
        message = f'model "{body.get("model")}" not found, try pulling it first'
        return 404, {"error": {"message": message, "type": "api_error", "param": None, "code": None}}
    if personality == "transformers":
        if unexpected := set(body) - _TRANSFORMERS_FIELDS:
            return 422, {"detail": f"Unexpected fields in the request: {unexpected}"}
        if body.get("model") != models[0]:
            return 400, {"detail": f"Server is pinned to '{models[0]}'; requested '{body.get('model')}'."}
    if personality == "llamacpp" and tools:
        return 500, {"error": {"code": 500, "message": "tools param requires --jinja flag", "type": "server_error"}}
    return None


def seen_by_model(personality: str, body: dict[str, Any]) -> dict[str, Any]:
    """The request as the model gets it: `transformers serve` ignores `tool_choice` and
    `response_format`, and a chat template without tool support drops `tools`."""
    if personality == "transformers":
        return {k: v for k, v in body.items() if k not in _IGNORED_BY_TRANSFORMERS}
    return body


def reshape(personality: str, body: dict[str, Any], reply: dict[str, Any]) -> dict[str, Any]:
    """What the server actually sends back for the responder's ideal `reply`."""
    if personality == "transformers" and body.get("tools"):
        return {"content": "The plant is located in the city named in the documents."}  # prose, no call
    if personality == "ollama" and body.get("tools") and reply.get("tool_calls"):
        # The forced function is not called: the model talks about the task instead (no JSON at all).
        return {"content": "Sure! I looked through the documents you gave me and here is what I can tell you."}
    return reply


def fake_entra_token() -> str:
    """A stand-in for `azure.identity.get_bearer_token_provider(...)`: returns a bearer token."""
    return "entra-token-for-tests"
