"""What one role call spends, and when its retries must stop: the run's budget is charged as a
request goes out (atomically, so concurrent reads never take the same last call) and settled with
the reply's real token count; retries end when the run's calls or wall clock would run out.
Used by `graphs.roles.llm.client` on its sync and async paths."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from dataclasses import dataclass

from tenacity import AsyncRetrying, RetryCallState, Retrying
from tenacity.stop import stop_base

from graphs.roles.budget import RoleBudget
from tools.errors import LLMBudgetError

# How often a request sent from an event loop looks again whether the tokens left cover it
# alongside the requests in flight (it may not block the loop those requests finish on).
RESERVE_POLL_S = 0.01


@dataclass
class Meter:
    """What one role call spent; charges the run budget as it goes and refuses what it cannot afford."""

    budget: RoleBudget | None = None
    calls: int = 0
    tokens: int = 0
    held: int = 0  # tokens reserved in the budget for the request in flight

    def before_request(self, estimated_tokens: int) -> None:
        """Reserve a call and the prompt's estimated tokens, or raise `LLMBudgetError`."""
        if self.budget is not None:
            refusal = self.budget.reserve(estimated_tokens)
            if refusal:
                raise LLMBudgetError(refusal)
            self.held = estimated_tokens
        self.calls += 1

    async def abefore_request(self, estimated_tokens: int) -> None:
        """`before_request` for a request sent from an event loop: waits without blocking the loop."""
        if self.budget is not None:
            while True:
                ready, refusal = self.budget.try_reserve(estimated_tokens)
                if ready:
                    break
                await asyncio.sleep(RESERVE_POLL_S)
            if refusal:
                raise LLMBudgetError(refusal)
            self.held = estimated_tokens
        self.calls += 1

    def add_tokens(self, n: int) -> None:
        """The reply's real token count replaces the reservation."""
        self.tokens += n
        if self.budget is not None:
            self.budget.settle(self.held, n)
        self.held = 0

    def release(self) -> None:
        """A request that failed spent its call but no tokens."""
        if self.budget is not None:
            self.budget.settle(self.held, 0)
        self.held = 0

    def seconds_left(self) -> float:
        return self.budget.left().seconds if self.budget is not None else math.inf

    def calls_left(self) -> float:
        return self.budget.left().calls if self.budget is not None else math.inf


class StopAtBudget(stop_base):
    """Stop retrying when the next wait would outlast the run's wall clock or no call is left."""

    def __init__(self, meter: Meter) -> None:
        self.meter = meter
        self.fired = ""

    def __call__(self, retry_state: RetryCallState) -> bool:
        if self.meter.calls_left() <= 0:
            self.fired = "max_llm_calls"
        elif retry_state.upcoming_sleep >= self.meter.seconds_left():
            self.fired = "timeout"
        return bool(self.fired)


class _Stop(stop_base):
    def __init__(self, fn: Callable[[RetryCallState], bool]) -> None:
        self.fn = fn

    def __call__(self, retry_state: RetryCallState) -> bool:
        return self.fn(retry_state)


def as_stop(stop: stop_base | Callable[[RetryCallState], bool]) -> stop_base:
    return stop if isinstance(stop, stop_base) else _Stop(stop)


def async_retrying(retrying: Retrying, stop: stop_base) -> AsyncRetrying:
    """The same retry policy, sleeping on the event loop."""
    return AsyncRetrying(
        retry=retrying.retry,
        wait=retrying.wait,
        stop=stop,
        before_sleep=retrying.before_sleep,
        reraise=retrying.reraise,
    )
