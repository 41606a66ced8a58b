"""What a failed request means, read from the error the OpenAI client raised: worth retrying, a
configuration the user must fix, or a refusal of this one request.

Servers say different things for the same mistake, so the classes are built from their documented
error bodies: OpenAI's `{"error": {"message", "type", "param", "code"}}` (e.g. `code:
"unsupported_value"`, `param: "temperature"` for an o-series model), Azure's `{"error": {"code":
"DeploymentNotFound", ...}}`, llama.cpp's HTTP 500 `"tools param requires --jinja flag"` (a
configuration, not an outage: retrying it three times only wastes the user's time), vLLM's 400 for
`tool_choice: "auto"` without `--enable-auto-tool-choice`, Ollama's 404 `model "x" not found, try
pulling it first`, and `transformers serve`'s FastAPI `{"detail": "..."}` (422 "Unexpected fields in
the request", 400 "Server is pinned to 'X'; requested 'Y'").

`describe` gives the log-safe label: class, status, the server's code and parameter, and for
non-auth errors the first words of the server's message (a 401 message echoes part of the key, so
it is never shown; no prompt text is ever part of a label).
"""

from __future__ import annotations

import re
from typing import Any, Literal

from tenacity import RetryError

Kind = Literal["transient", "config", "request"]

# A server that cannot do tool calling, in the words the servers use.
_NO_TOOLS = re.compile(
    r"--jinja|unsupported param(eter)?:? ['\"]?tools|tools? (are|is) not supported|does not support tools|"
    r"tool.?choice.{0,40}requires --enable-auto-tool-choice|auto.? tool choice requires",
    re.I,
)
# A server that cannot do `response_format: json_schema`.
_NO_JSON_SCHEMA = re.compile(r"response_format|json_schema", re.I)
_CONTEXT = re.compile(r"context.?length|maximum context|context size|too many tokens|exceeds the available", re.I)
_AUTH = frozenset({401, 403})
_SHOWN_CHARS = 160


def unwrap(exc: BaseException) -> BaseException:
    if isinstance(exc, RetryError) and exc.last_attempt.failed:
        inner = exc.last_attempt.exception()
        if inner is not None:
            return inner
    return exc


def status_of(exc: BaseException) -> int | None:
    status = getattr(exc, "status_code", None)
    return int(status) if isinstance(status, int) else None


def error_body(exc: BaseException) -> dict[str, Any]:
    """The server's error object (openai-python keeps `body["error"]` as `exc.body`)."""
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        inner = body.get("error")
        return inner if isinstance(inner, dict) else body
    return {}


def server_message(exc: BaseException) -> str:
    """The server's own words: OpenAI's `error.message`, or FastAPI's `detail` (`transformers
    serve`: a string; request validation: a list of `{"loc", "msg"}`)."""
    body = error_body(exc)
    message = body.get("message")
    if not message and (detail := body.get("detail")):
        items = detail if isinstance(detail, list) else [detail]
        message = "; ".join(str(d.get("msg", d)) if isinstance(d, dict) else str(d) for d in items)
    return " ".join(str(message).split()) if message else ""


def server_code(exc: BaseException) -> str:
    code = getattr(exc, "code", None) or error_body(exc).get("code")
    return str(code) if code not in (None, "") else ""


def server_param(exc: BaseException) -> str:
    param = getattr(exc, "param", None) or error_body(exc).get("param")
    return str(param) if param not in (None, "") else ""


def lacks_tools(exc: BaseException) -> bool:
    """The server refused tool calling itself (llama.cpp without `--jinja`, vLLM without auto tool choice)."""
    exc = unwrap(exc)
    status = status_of(exc)
    return status is not None and status >= 400 and bool(_NO_TOOLS.search(server_message(exc)))


def lacks_json_schema(exc: BaseException) -> bool:
    exc = unwrap(exc)
    status = status_of(exc)
    return status in (400, 422, 500) and bool(_NO_JSON_SCHEMA.search(server_message(exc))) and not lacks_tools(exc)


def classify(exc: BaseException) -> Kind:
    """`transient`: the same request may work later; `config`: it never will until a setting changes;
    `request`: this request was refused (too long for the context), the next one may pass."""
    exc = unwrap(exc)
    status = status_of(exc)
    if status is None:
        return "transient"
    if lacks_tools(exc):
        return "config"
    if status in (400, 413, 422) and (
        server_code(exc) == "context_length_exceeded" or _CONTEXT.search(server_message(exc))
    ):
        return "request"
    if status in _AUTH or status in (400, 404, 405, 422):
        return "config"
    if status == 429 and server_code(exc) == "insufficient_quota":
        return "config"
    return "transient"


def describe(exc: BaseException) -> str:
    """A log-safe label: class, HTTP status, the server's code and parameter, and (except for auth
    errors, whose message echoes part of the key) the start of the server's message."""
    exc = unwrap(exc)
    status = status_of(exc)
    label = type(exc).__name__ + (f" (HTTP {status})" if status else "")
    parts = []
    if code := server_code(exc):
        parts.append(f"code={code}")
    if param := server_param(exc):
        parts.append(f"param={param}")
    if status is not None and status not in _AUTH and (message := server_message(exc)):
        clipped = message if len(message) <= _SHOWN_CHARS else message[: _SHOWN_CHARS - 1] + "…"
        parts.append(f"message={clipped!r}")
    return label + (": " + ", ".join(parts) if parts else "")


def advice(exc: BaseException) -> str:
    """What to change, for the configuration errors users meet first."""
    exc = unwrap(exc)
    status, code, param = status_of(exc), server_code(exc), server_param(exc)
    message = server_message(exc).lower()
    if lacks_tools(exc):
        return (
            "the server cannot do tool calling as started: start llama.cpp with --jinja, or set "
            "llm.structured_output='json_schema' (or llm.provider='llamacpp' / 'vllm')"
        )
    if param == "temperature" or "temperature" in message:
        return "this model rejects temperature: set llm.provider='openai_reasoning' (or llm.temperature=null)"
    if param in ("max_tokens", "max_completion_tokens") or "max_completion_tokens" in message:
        return "set llm.provider to match the server (reasoning models need max_completion_tokens)"
    if param == "reasoning_effort" or "reasoning_effort" in message:
        return "this model does not take reasoning_effort: unset llm.reasoning_effort"
    if param == "response_format" or "response_format" in message:
        return "the server rejects this response_format: set llm.structured_output='json_mode' or 'function_calling'"
    if "unexpected fields" in message:  # transformers serve: a 422 for any body field it does not know
        return (
            "the server rejects a request field: remove it from llm.extra_body, or set llm.provider to match the server"
        )
    if "pinned to" in message:  # transformers serve started with a model: only that name is accepted
        return "the server serves one model: set llm.model to the id GET /v1/models lists"
    if status in _AUTH:
        return "check the API key (OPENAI_API_KEY / HRAGENT_LLM__API_KEY) or the Azure token provider"
    if code == "DeploymentNotFound":
        return "no such Azure deployment: set llm.azure_deployment to the deployment's name (not the model's)"
    if status == 404 or code == "model_not_found" or "not found" in message:
        return "check llm.model (for Ollama: `ollama pull MODEL`) and llm.base_url (it usually ends in /v1)"
    if code == "insufficient_quota":
        return "the account is out of credit"
    return "check llm.model, llm.base_url and llm.provider"
