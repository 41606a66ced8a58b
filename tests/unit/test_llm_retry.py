"""The retry policy on real openai exception objects: what is retried, how long it waits
(Retry-After wins over backoff), when it gives up. Sleeping is recorded, not done."""

from __future__ import annotations

import email.utils
import time
from typing import Any

import httpx
import openai
import pytest

from agent import LLMSettings
from agent.llm import is_transient, make_retrying, retry_after_s

REQUEST = httpx.Request("POST", "http://127.0.0.1:9/v1/chat/completions")


def status_error(status: int, headers: dict[str, str] | None = None, code: str | None = None) -> openai.APIStatusError:
    response = httpx.Response(status, headers=headers or {}, request=REQUEST)
    body = {"error": {"message": "stub", "code": code}} if code else None
    classes: dict[int, type[openai.APIStatusError]] = {
        400: openai.BadRequestError,
        401: openai.AuthenticationError,
        403: openai.PermissionDeniedError,
        404: openai.NotFoundError,
        409: openai.ConflictError,
        422: openai.UnprocessableEntityError,
        429: openai.RateLimitError,
    }
    cls = classes.get(status, openai.InternalServerError if status >= 500 else openai.APIStatusError)
    err = cls("stub", response=response, body=body)
    if code:
        err.code = code
    return err


@pytest.mark.parametrize("status", [408, 409, 429, 500, 502, 503, 504])
def test_transient_statuses_are_retried(status: int) -> None:
    assert is_transient(status_error(status))


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
def test_client_errors_are_not_retried(status: int) -> None:
    assert not is_transient(status_error(status))


def test_network_failures_are_retried_but_quota_and_bugs_are_not() -> None:
    assert is_transient(openai.APITimeoutError(request=REQUEST))
    assert is_transient(openai.APIConnectionError(request=REQUEST))
    assert is_transient(httpx.RemoteProtocolError("server disconnected"))
    assert not is_transient(status_error(429, code="insufficient_quota"))
    assert not is_transient(ValueError("a bug"))


def test_retry_after_forms() -> None:
    assert retry_after_s(status_error(429, {"retry-after": "2"})) == 2.0
    assert retry_after_s(status_error(429, {"retry-after-ms": "250"})) == 0.25
    http_date = email.utils.formatdate(time.time() + 30, usegmt=True)
    assert 25 < (retry_after_s(status_error(503, {"retry-after": http_date})) or 0) <= 30
    assert retry_after_s(status_error(429)) is None
    assert retry_after_s(status_error(429, {"retry-after": "soon"})) is None
    assert retry_after_s(ValueError()) is None


def run_policy(errors: list[BaseException], **settings: Any) -> tuple[int, list[float], BaseException | None]:
    """Attempts made, waits requested, and the error that escaped (if any)."""
    waits: list[float] = []
    retrying = make_retrying(LLMSettings(backoff_initial_s=0.1, backoff_max_s=1.0, **settings)).copy(sleep=waits.append)
    calls = 0

    def call() -> str:
        nonlocal calls
        calls += 1
        if errors:
            raise errors.pop(0)
        return "ok"

    try:
        retrying(call)
    except Exception as exc:
        return calls, waits, exc
    return calls, waits, None


def test_retry_after_is_honoured_over_backoff() -> None:
    calls, waits, err = run_policy([status_error(429, {"retry-after": "3"}), status_error(500)])
    assert err is None and calls == 3
    assert waits[0] == 3.0
    assert 0 < waits[1] <= 0.2 + 0.1  # first backoff step: initial 0.1 plus up to 0.1 jitter


def test_backoff_grows_and_attempts_are_bounded() -> None:
    calls, waits, err = run_policy([status_error(503) for _ in range(10)], max_retries=3)
    assert calls == 4 and isinstance(err, openai.InternalServerError)
    assert len(waits) == 3 and waits[2] >= 0.4  # 0.1, 0.2, 0.4 (+ jitter)


def test_no_retry_on_auth_or_validation_errors() -> None:
    for status in (400, 401):
        calls, waits, err = run_policy([status_error(status)])
        assert calls == 1 and waits == [] and isinstance(err, openai.APIStatusError)


def test_gives_up_when_retry_after_exceeds_the_cap() -> None:
    calls, waits, err = run_policy([status_error(429, {"retry-after": "120"})], retry_after_max_s=30)
    assert calls == 1 and waits == [] and isinstance(err, openai.RateLimitError)
