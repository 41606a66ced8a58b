"""Model factory: the chat model (`ChatOpenAI` for OpenAI and any OpenAI-compatible server,
`AzureChatOpenAI` for Azure) and the one retry layer around it.

The OpenAI clients are built with `max_retries=0`; tenacity retries timeouts, dropped connections,
408/409/429 (waiting what Retry-After asks) and 5xx with exponential backoff and jitter, and never
retries 400/401/403/404/422 or an exhausted quota. Keys stay `SecretStr` up to the client, and
nothing here logs a message or body from the API (a 401 message echoes part of the key).
"""

from __future__ import annotations

import email.utils
import functools
import json
import ssl
import time
from collections.abc import Callable
from typing import Any

from langchain_core.language_models import BaseChatModel
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt, wait_exponential_jitter
from tenacity.stop import stop_base
from tenacity.wait import wait_base

from agent.llm_profiles import Profile, resolve_profile
from agent.settings import LLMSettings, Settings
from graphs.roles.base import Roles
from graphs.roles.llm import StructuredLLM, llm_roles
from graphs.roles.llm.client import OpenedModel
from graphs.roles.llm.failures import classify, describe, status_of
from graphs.roles.offline import offline_roles
from tools.embeddings import Embedder
from tools.errors import ConfigError
from tools.logs import get_logger

log = get_logger(__name__)

RETRY_STATUSES = frozenset({408, 409, 429})
_NO_KEY = "not-needed"  # local OpenAI-compatible servers (vLLM, Ollama, llama.cpp) accept any key


# ---------------------------------------------------------------- what to retry
def is_transient(exc: BaseException) -> bool:
    """Worth another attempt: the request may succeed unchanged (network, overload, rate limit).
    A 5xx that names a configuration problem (llama.cpp's "tools param requires --jinja flag") is not."""
    import httpx
    import openai

    if isinstance(exc, openai.APIConnectionError | httpx.TransportError):  # includes timeouts and drops
        return True
    if isinstance(exc, openai.APIResponseValidationError | json.JSONDecodeError):  # a truncated body
        return True
    status = status_of(exc)
    if status is None:
        return bool(getattr(exc, "is_retryable", False))  # langchain_core.exceptions.ModelError
    if classify(exc) != "transient":
        return False  # out of credit, a refused parameter, a missing capability: waiting will not help
    return status in RETRY_STATUSES or status >= 500


def retry_after_s(exc: BaseException | None) -> float | None:
    """Seconds the server asked us to wait (`retry-after-ms`, `Retry-After` seconds or HTTP date)."""
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None)
    if headers is None:
        return None
    try:
        if (ms := headers.get("retry-after-ms")) is not None:
            return max(0.0, float(ms) / 1000.0)
        value = headers.get("retry-after")
        if value is None:
            return None
        try:
            return max(0.0, float(value))
        except ValueError:
            when = email.utils.parsedate_to_datetime(value)
            return max(0.0, when.timestamp() - time.time())
    except (TypeError, ValueError):
        return None


class wait_retry_after(wait_base):
    """Exponential backoff with jitter, but never less than the server's Retry-After."""

    def __init__(self, backoff: wait_base) -> None:
        self.backoff = backoff

    def __call__(self, retry_state: RetryCallState) -> float:
        exc = retry_state.outcome.exception() if retry_state.outcome else None
        asked = retry_after_s(exc)
        return asked if asked is not None else float(self.backoff(retry_state))


class stop_if_retry_after_exceeds(stop_base):
    """A server asking for a longer pause than we are willing to wait means: give up now."""

    def __init__(self, max_s: float) -> None:
        self.max_s = max_s

    def __call__(self, retry_state: RetryCallState) -> bool:
        exc = retry_state.outcome.exception() if retry_state.outcome else None
        asked = retry_after_s(exc)
        return asked is not None and asked > self.max_s


def _log_retry(retry_state: RetryCallState) -> None:
    exc = retry_state.outcome.exception() if retry_state.outcome else None
    log.info(
        "llm.retrying",
        attempt=retry_state.attempt_number,
        wait_s=round(retry_state.upcoming_sleep, 3),
        error=describe(exc) if exc else "",
    )


def make_retrying(llm: LLMSettings) -> Retrying:
    """The retry policy for chat and embedding requests (the clients themselves never retry)."""
    backoff = wait_exponential_jitter(
        initial=llm.backoff_initial_s, max=llm.backoff_max_s, jitter=max(llm.backoff_initial_s, 0.01)
    )
    return Retrying(
        retry=retry_if_exception(is_transient),
        wait=wait_retry_after(backoff),
        stop=stop_after_attempt(llm.max_retries + 1) | stop_if_retry_after_exceeds(llm.retry_after_max_s),
        before_sleep=_log_retry,
        reraise=True,
    )


# ---------------------------------------------------------------- the chat model
def _token_provider(spec: str) -> Any:
    """An Entra ID bearer-token callable: 'azure-identity' (DefaultAzureCredential) or 'module:callable'."""
    import importlib

    if spec in ("azure-identity", "azure_identity", "default"):
        try:
            identity = importlib.import_module("azure.identity")
        except ImportError as exc:
            raise ConfigError("llm.azure_ad_token_provider needs azure-identity: pip install azure-identity") from exc
        credential = identity.DefaultAzureCredential()
        return identity.get_bearer_token_provider(credential, "https://cognitiveservices.azure.com/.default")
    module, _, name = spec.partition(":")
    try:
        provider = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError, ValueError) as exc:
        raise ConfigError(f"llm.azure_ad_token_provider {spec!r} is not an importable 'module:callable'") from exc
    if not callable(provider):
        raise ConfigError(f"llm.azure_ad_token_provider {spec!r} is not callable")
    return provider


def request_options(llm: LLMSettings, profile: Profile) -> dict[str, Any]:
    """Constructor arguments every chat client gets, shaped by the profile: no temperature for
    reasoning models, the output cap where the server looks for it, extra body passed through."""
    common: dict[str, Any] = {"timeout": llm.timeout_s, "max_retries": 0}
    if profile.send_temperature:
        common["temperature"] = llm.temperature
    extra = dict(llm.extra_body)
    if llm.max_output_tokens is not None:
        if profile.token_param == "max_completion_tokens":
            common["max_tokens"] = llm.max_output_tokens  # langchain-openai sends it as max_completion_tokens
        else:
            extra.setdefault("max_tokens", llm.max_output_tokens)  # older local servers know only max_tokens
    if llm.reasoning_effort is not None:
        common["reasoning_effort"] = llm.reasoning_effort
    if extra:
        common["extra_body"] = extra
    return common


def make_chat_model(
    llm: LLMSettings, profile: Profile | None = None, *, http_async_client: Any | None = None
) -> BaseChatModel:
    """`ChatOpenAI` (OpenAI or any OpenAI-compatible `base_url`) or `AzureChatOpenAI`, never
    retrying itself. `http_async_client`: the async HTTP client its `ainvoke` uses (default:
    langchain-openai's process-wide one, whose connections belong to the first event loop)."""
    import os

    profile = profile or resolve_profile(llm)
    backend = llm.resolved_backend()
    common = request_options(llm, profile)
    if http_async_client is not None:
        common["http_async_client"] = http_async_client
    if backend == "azure":
        from langchain_openai import AzureChatOpenAI

        endpoint = llm.azure_endpoint or os.environ.get("AZURE_OPENAI_ENDPOINT")
        if not endpoint:
            raise ConfigError("llm.backend is 'azure' but no endpoint: set HRAGENT_LLM__AZURE_ENDPOINT")
        azure_kwargs: dict[str, Any] = {
            "azure_endpoint": endpoint,
            "azure_deployment": llm.azure_deployment or llm.model,
            "api_version": llm.api_version or os.environ.get("OPENAI_API_VERSION") or "2024-10-21",
            "model": llm.model,
        }
        if llm.azure_ad_token_provider:
            azure_kwargs["azure_ad_token_provider"] = _token_provider(llm.azure_ad_token_provider)
        elif llm.api_key is not None:
            azure_kwargs["api_key"] = llm.api_key
        return AzureChatOpenAI(**azure_kwargs, **common)
    if backend == "openai":
        from langchain_openai import ChatOpenAI
        from pydantic import SecretStr

        base_url = llm.effective_base_url()
        key = llm.api_key
        if key is None and not os.environ.get("OPENAI_API_KEY"):
            if not base_url:
                raise ConfigError("llm.backend is 'openai' but no API key: set OPENAI_API_KEY or HRAGENT_LLM__API_KEY")
            key = SecretStr(_NO_KEY)
        openai_kwargs: dict[str, Any] = {"model": llm.model, "use_responses_api": False}
        if base_url:
            openai_kwargs["base_url"] = base_url
        if key is not None:
            openai_kwargs["api_key"] = key
        return ChatOpenAI(**openai_kwargs, **common)
    raise ConfigError(f"no chat model for backend {backend!r}")


def async_model_factory(llm: LLMSettings, profile: Profile) -> Callable[[], OpenedModel]:
    """Opens the same chat model on an async HTTP client of its own (openai's defaults, the
    request timeout from settings), for the event loop that asks; closing it closes the client."""

    def open_model() -> OpenedModel:
        import openai

        # No connection until a request; the TLS context is the process's (building one loads the
        # CA bundle, ~0.2 s of CPU per client), the pool is this client's alone.
        client = openai.DefaultAsyncHttpxClient(timeout=llm.timeout_s, verify=_tls_context())
        return make_chat_model(llm, profile, http_async_client=client), client.aclose

    return open_model


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """The TLS context httpx would build for a new client (CA bundle, `SSL_CERT_FILE` honoured),
    built once: an `SSLContext` belongs to no event loop and is safe to share."""
    import importlib
    import importlib.util

    name = "httpx2" if importlib.util.find_spec("httpx2") else "httpx"  # what the openai SDK is built on
    context: ssl.SSLContext = importlib.import_module(name).create_ssl_context()
    return context


def structured_llm(
    llm: LLMSettings, *, embedder: Embedder | None = None, model: BaseChatModel | None = None
) -> StructuredLLM:
    """The model as the roles call it, under its provider profile. Tokens the response does not
    report are counted with the index's embedder tokenizer (never tiktoken)."""
    profile = resolve_profile(llm)
    prompt = llm.prompt if "prompt" in llm.model_fields_set or profile.prompt is None else profile.prompt
    return StructuredLLM(
        model if model is not None else make_chat_model(llm, profile),
        retrying=make_retrying(llm),
        method=profile.method,
        strict=profile.strict_schema,
        tools_fallback=profile.tools_fallback,
        request_timeout_s=llm.timeout_s,
        count_tokens=embedder.count_tokens if embedder is not None else None,
        prompt_limits=prompt,
        label=f"llm:{llm.model}",
        open_async=async_model_factory(llm, profile) if model is None else None,
    )


def build_roles(settings: Settings, embedder: Embedder, *, model: BaseChatModel | None = None) -> Roles:
    """The roles a run uses: offline when no model is configured, else the LLM roles with the
    offline engine as their labelled fallback."""
    fallback = offline_roles(embedder)
    if settings.llm.resolved_backend() == "offline" and model is None:
        return fallback
    llm = structured_llm(settings.llm, embedder=embedder, model=model)
    profile = resolve_profile(settings.llm)
    log.info(
        "llm.configured",
        backend=settings.llm.resolved_backend(),
        provider=profile.provider,
        method=profile.method,
        model=settings.llm.model,
    )
    for note in profile.notes:
        log.info("llm.profile_note", provider=profile.provider, note=note)
    return llm_roles(llm, fallback, on_failure=settings.llm.on_failure, composer=settings.llm.composer)
