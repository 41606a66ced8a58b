"""One exception tree, defined low so every layer can raise it; `agent.errors` re-exports it."""

from __future__ import annotations


class HragentError(Exception):
    """Base of every error hragent raises on purpose."""


class ConfigError(HragentError):
    """Settings or arguments are invalid; fix the named setting."""


class InvalidTaskError(HragentError):
    """The task is empty, too long or not text; send a question of reasonable size."""


class IndexStoreError(HragentError):
    """Base for problems with the index directory or its stores."""


class IndexNotFoundError(IndexStoreError):
    """No index at the given directory; run `hragent ingest PATH --index DIR` first."""


class IndexMismatchError(IndexStoreError):
    """The index was built by another embedder, head or schema; rebuild it or use the matching one."""


class VectorSegmentError(IndexStoreError):
    """A vector segment lost vectors its metadata still lists (`hragent check` exits 3); re-ingest
    the sources into a new index directory."""


class EncoderError(HragentError):
    """The local encoder failed on a pass (its runtime raised); the batch being embedded was not
    written, so the index is as it was before the call."""


class IngestError(HragentError):
    """A file could not be ingested; the report says which and why."""


class LLMError(HragentError):
    """The chat model failed after retries or returned output that could not be repaired.

    `reason` is a short machine-readable label (it lands in `RunResult.degraded`); the message
    never carries API keys or response bodies."""

    reason = "llm_error"

    def __init__(self, message: str, *, reason: str | None = None) -> None:
        super().__init__(message)
        if reason is not None:
            self.reason = reason


class LLMUnavailableError(LLMError):
    """The model endpoint stayed down (timeouts, 429, 5xx) past the retry budget, or refused the
    request (401/403/400); check the endpoint, key and model name, or run offline."""

    reason = "llm_unavailable"


class LLMOutputError(LLMError):
    """The model's structured output was invalid even after one repair attempt; try a stronger
    model or `llm.structured_output="json_mode"` for servers without tool calling."""

    reason = "llm_invalid_output"


class LLMConfigError(LLMError, ConfigError):
    """The server refused the request as configured (wrong key, unknown model or deployment, a
    parameter the model does not accept, tools without llama.cpp's `--jinja`): retrying cannot help.
    The message names the server's error code and parameter and the setting to change; with the
    default `llm.on_failure="auto"` the run stops with it instead of finishing offline."""

    reason = "llm_config"
    lacks_tools = False  # the server cannot do tool calling as started (a json_schema profile can)


class LLMBudgetError(LLMError):
    """A per-run budget (LLM calls, tokens, wall clock) is spent; the run continues offline."""

    def __init__(self, limit: str) -> None:
        super().__init__(f"run budget {limit} is spent; no further LLM calls", reason=limit)
        self.limit = limit


class AccessDeniedError(HragentError):
    """The principal may not see the requested document."""
