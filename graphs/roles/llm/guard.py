"""The fallback every LLM role shares: refuse when the run is already offline for good or its
budget is spent, and on a typed LLM failure answer with the offline role instead, labelled as
degraded. Invalid output falls back for that call only; the next call tries the model again.
A configuration error (`LLMConfigError`) stops the run under `on_failure="auto"` (the default):
finishing offline would hide a setting the user must fix."""

from __future__ import annotations

from collections.abc import Callable
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
            budget.record(self.role, budget.down, "the run had already switched to the offline engine")
            out, usage = offline()
            return out, Usage(usage.llm_calls, usage.tokens, "offline", degraded=True, note=budget.down)
        meter = Meter(budget)
        try:
            result = with_llm(meter)
        except LLMBudgetError as exc:
            reason, detail = exc.limit, str(exc)
        except LLMError as exc:
            if self.on_failure == "raise" or (self.on_failure == "auto" and isinstance(exc, LLMConfigError)):
                raise
            reason, detail = exc.reason, str(exc)
        else:
            engine = self.llm.label if meter.calls else "offline"
            return result, Usage(meter.calls, meter.tokens, engine)
        log.warning("llm.fallback", role=self.role, reason=reason, calls=meter.calls, detail=detail)
        if budget is not None:
            budget.record(self.role, reason, detail)
        out, usage = offline()
        return out, Usage(
            meter.calls + usage.llm_calls, meter.tokens + usage.tokens, "offline", degraded=True, note=reason
        )
