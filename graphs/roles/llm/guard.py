"""The fallback every LLM role shares: refuse when the run is already offline for good or its
budget is spent, and on a typed LLM failure answer with the offline role instead, labelled as
degraded. Invalid output falls back for that call only; the next call tries the model again.
A configuration error (`LLMConfigError`) stops the run under `on_failure="auto"` (the default):
finishing offline would hide a setting the user must fix."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Literal, TypeVar

from graphs.roles.base import Usage
from graphs.roles.budget import current_budget
from graphs.roles.llm.client import Meter, StructuredLLM
from tools.errors import LLMBudgetError, LLMConfigError, LLMError
from tools.logs import get_logger

log = get_logger(__name__)

R = TypeVar("R")
OnFailure = Literal["auto", "degrade", "raise"]


class LLMRole:
    """Base of the four LLM roles. `on_failure`: "auto" raises configuration errors and degrades on
    the rest; "degrade" always degrades; "raise" propagates every model failure (budgets still degrade)."""

    role = "role"

    def __init__(self, llm: StructuredLLM, *, on_failure: OnFailure = "auto") -> None:
        self.llm = llm
        self.on_failure = on_failure
        self.limits = llm.prompt_limits

    def _guarded(self, with_llm: Callable[[Meter], R], offline: Callable[[], tuple[R, Usage]]) -> tuple[R, Usage]:
        budget = current_budget()
        if budget is not None and budget.down:
            return self._already_down(offline())
        meter = Meter(budget)
        try:
            result = with_llm(meter)
        except LLMError as exc:
            reason = self._fell_back(exc, meter)
        else:
            return result, self._used(meter)
        return self._degraded(meter, reason, offline())

    async def _aguarded(
        self, with_llm: Callable[[Meter], Awaitable[R]], offline: Callable[[], tuple[R, Usage]]
    ) -> tuple[R, Usage]:
        """`_guarded` for a coroutine: the offline fallback runs in a worker thread (it computes)."""
        budget = current_budget()
        if budget is not None and budget.down:
            return self._already_down(await asyncio.to_thread(offline))
        meter = Meter(budget)
        try:
            result = await with_llm(meter)
        except LLMError as exc:
            reason = self._fell_back(exc, meter)
        else:
            return result, self._used(meter)
        return self._degraded(meter, reason, await asyncio.to_thread(offline))

    def _already_down(self, fallback: tuple[R, Usage]) -> tuple[R, Usage]:
        budget = current_budget()
        down = budget.down if budget is not None else ""
        if budget is not None:
            budget.record(self.role, down, "the run had already switched to the offline engine")
        out, usage = fallback
        return out, Usage(usage.llm_calls, usage.tokens, "offline", degraded=True, note=down)

    def _used(self, meter: Meter) -> Usage:
        return Usage(meter.calls, meter.tokens, self.llm.label if meter.calls else "offline")

    def _fell_back(self, exc: LLMError, meter: Meter) -> str:
        """Why this call falls back (and its record in the run's budget), or re-raise `exc`."""
        if isinstance(exc, LLMBudgetError):
            reason, detail = exc.limit, str(exc)
        elif self.on_failure == "raise" or (self.on_failure == "auto" and isinstance(exc, LLMConfigError)):
            raise exc
        else:
            reason, detail = exc.reason, str(exc)
        log.warning("llm.fallback", role=self.role, reason=reason, calls=meter.calls, detail=detail)
        budget = current_budget()
        if budget is not None:
            budget.record(self.role, reason, detail)
        return reason

    @staticmethod
    def _degraded(meter: Meter, reason: str, fallback: tuple[R, Usage]) -> tuple[R, Usage]:
        out, usage = fallback
        return out, Usage(
            meter.calls + usage.llm_calls, meter.tokens + usage.tokens, "offline", degraded=True, note=reason
        )
