"""What is left of a run's LLM budget, so model-backed roles can refuse a call before it is sent
(the graph's own `budget_exhausted` only checks between steps)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from policies.limits import Limits

BUDGET_REASONS = frozenset({"max_llm_calls", "max_tokens", "timeout"})


@dataclass(frozen=True)
class Remaining:
    """Calls, tokens and seconds a run may still spend (`math.inf` when unbounded)."""

    calls: float
    tokens: float
    seconds: float

    def refusal(self, estimated_tokens: int = 0) -> str | None:
        """Name the spent budget, or None when one more call of about `estimated_tokens` fits."""
        if self.calls <= 0:
            return "max_llm_calls"
        if self.tokens <= 0 or estimated_tokens > self.tokens:
            return "max_tokens"
        if self.seconds <= 0:
            return "timeout"
        return None


def remaining(limits: Limits, *, calls_used: float, tokens_used: float, deadline: float, now: float) -> Remaining:
    """`max_tokens=0` means no token bound (as in `budget_exhausted`); `max_llm_calls=0` means no calls."""
    tokens = math.inf if not limits.max_tokens else limits.max_tokens - tokens_used
    return Remaining(calls=limits.max_llm_calls - calls_used, tokens=tokens, seconds=deadline - now)


class PromptLimits(BaseModel):
    """How much evidence one prompt may carry: bounds prompt tokens per call independently of the model."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    read_sentences: int = Field(30, ge=1, le=500, description="Evidence sentences shown when reading one subgoal.")
    draft_sentences: int = Field(40, ge=1, le=500, description="Evidence sentences shown when drafting the answer.")
    sentence_chars: int = Field(600, ge=40, le=10_000, description="Longer sentences are cut for the prompt only.")
    max_claims: int = Field(5, ge=1, le=50, description="Claims a drafted answer may make.")
    bad_output_chars: int = Field(1_500, ge=100, description="Invalid output echoed back in the repair prompt.")
    follow_up_evidence: Literal["new", "all"] = Field(
        "new",
        description="What a follow-up hop's read shows: new (that hop's evidence plus the sentences already relied "
        "on) or all (everything gathered for the subgoal so far).",
    )
