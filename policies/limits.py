"""One model for every bound a run obeys, so the graph (not luck) stops runaway loops."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from typing_extensions import TypedDict


class Limits(BaseModel):
    """Hard bounds on a run; `Agent.run(limits=...)` overrides the settings' default."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_depth: int = Field(2, ge=1, le=8, description="How many times a subgoal may be decomposed again.")
    max_hops: int = Field(3, ge=1, le=16, description="Retrieval hops per subgoal.")
    max_subgoals: int = Field(6, ge=1, le=32, description="Subgoals in one plan (a refinement adds more).")
    max_refinements: int = Field(1, ge=0, le=8, description="Re-plans after a failed verification.")
    max_llm_calls: int = Field(40, ge=0, le=10_000, description="Chat-model calls per run.")
    max_tokens: int = Field(200_000, ge=0, description="Prompt + completion tokens per run.")
    timeout_s: float = Field(120.0, gt=0, le=86_400, description="Wall-clock budget per run.")
    early_exit_threshold: float = Field(
        0.8, ge=0.0, le=1.0, description="Halt once every claim is supported and confidence passes this."
    )
    max_task_chars: int = Field(4_000, ge=16, description="Longest task accepted.")


class LimitsOverrides(TypedDict, total=False):
    """Per-run overrides of `Limits` (what a Studio form or an SDK call sends); unset fields keep the default."""

    max_depth: int
    max_hops: int
    max_subgoals: int
    max_refinements: int
    max_llm_calls: int
    max_tokens: int
    timeout_s: float
    early_exit_threshold: float
    max_task_chars: int


class LimitExceeded(Exception):
    """Raised internally when a budget is spent; the graph turns it into `halt_reason`."""

    def __init__(self, limit: str) -> None:
        super().__init__(limit)
        self.limit = limit


def resolve_limits(value: Limits | Mapping[str, Any] | None, default: Limits) -> Limits:
    """Accept a `Limits`, a partial dict of overrides (Studio forms send dicts), or nothing."""
    if value is None:
        return default
    if isinstance(value, Limits):
        return value
    return default.model_copy(update=Limits.model_validate({**default.model_dump(), **value}).model_dump())


def budget_exhausted(counters: Mapping[str, float], limits: Limits, started_at: float) -> str | None:
    """Name the first spent budget, or None; checked by the graph before every costly step."""
    calls = counters.get("llm_calls", 0)
    if calls > 0 and calls >= limits.max_llm_calls:
        return "max_llm_calls"
    if limits.max_tokens and counters.get("tokens", 0) >= limits.max_tokens:
        return "max_tokens"
    if time.time() - started_at >= limits.timeout_s:
        return "timeout"
    return None


def recursion_limit_for(limits: Limits) -> int:
    """LangGraph's step cap, derived so it can never fire before our own limits do."""
    per_round = 2 + limits.max_subgoals * (2 * limits.max_hops + 1) + 2
    return (limits.max_refinements + 1) * per_round * limits.max_depth + 16
