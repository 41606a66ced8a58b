"""The run's remaining LLM budget and degradation state, as seen by model-backed roles.

The graph opens one `RoleBudget` around every node that calls roles (`graphs.budget.budgeted`);
LLM roles read it with `current_budget()` to refuse a request the run cannot afford and to record
that they fell back to the offline engine. Outside a graph (unit tests, direct use) there is no
budget and nothing is refused. A context variable keeps the role protocols unchanged.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

from policies.budget import Remaining, remaining
from policies.limits import Limits

# Failures of one call: the next role (or the next call of the same role) tries the model again.
# Everything else (a spent budget, a model that stayed down, a configuration error) holds for the run.
PER_CALL_REASONS = frozenset({"llm_invalid_output", "llm_request_refused"})


def is_sticky(reason: str) -> bool:
    """Whether a fallback for `reason` sends the rest of the run offline."""
    return bool(reason) and reason not in PER_CALL_REASONS


_CURRENT: ContextVar[RoleBudget | None] = ContextVar("hragent_role_budget", default=None)
# Set by an async node for the worker thread that runs it: set() when the awaiting task is cancelled.
_CANCEL: ContextVar[threading.Event | None] = ContextVar("hragent_cancel", default=None)


@dataclass
class RoleBudget:
    """Budget for the role calls of one node execution; `down` is why the run went offline for good
    (a spent budget, a model that stayed down); per-call failures are recorded but leave it empty."""

    limits: Limits
    calls_used: float = 0
    tokens_used: float = 0
    deadline: float = float("inf")
    down: str = ""
    events: list[dict[str, str]] = field(default_factory=list)
    cancelled: threading.Event | None = field(default_factory=_CANCEL.get)

    def left(self) -> Remaining:
        if self.cancelled is not None and self.cancelled.is_set():
            return Remaining(calls=0, tokens=0, seconds=0.0)  # a cancelled run may not call the model again
        return remaining(
            self.limits,
            calls_used=self.calls_used,
            tokens_used=self.tokens_used,
            deadline=self.deadline,
            now=time.time(),
        )

    def charge(self, *, calls: int = 0, tokens: int = 0) -> None:
        self.calls_used += calls
        self.tokens_used += tokens

    def record(self, role: str, reason: str, detail: str = "") -> None:
        """Note that `role` fell back to the offline engine; after a sticky reason later calls in the
        run skip the model, after a per-call one (invalid output) they try it again."""
        if is_sticky(reason):
            self.down = self.down or reason
        self.events.append({"role": role, "reason": reason, "detail": detail})


def current_budget() -> RoleBudget | None:
    return _CURRENT.get()


@contextmanager
def bind_cancel_event(event: threading.Event) -> Iterator[None]:
    """Make `event` the cancel signal of budgets created in this context (and copies of it)."""
    token = _CANCEL.set(event)
    try:
        yield
    finally:
        _CANCEL.reset(token)


@contextmanager
def role_budget(budget: RoleBudget) -> Iterator[RoleBudget]:
    token = _CURRENT.set(budget)
    try:
        yield budget
    finally:
        _CURRENT.reset(token)
