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


# How far a real token count may exceed its estimate before concurrent requests could overdraw a
# token budget together (the estimate is the prompt's characters / 4, or the embedder's tokenizer).
TOKEN_SLACK = 2.0


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
    # Reads of independent subgoals share one budget from several threads: checking what is left
    # and charging for a request must be one step, or two requests could both take the last call.
    _lock: threading.Condition = field(default_factory=threading.Condition, repr=False, compare=False)
    _in_flight: int = field(default=0, repr=False, compare=False)
    _held: float = field(default=0, repr=False, compare=False)

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
        with self._lock:
            self.calls_used += calls
            self.tokens_used += tokens

    def reserve(self, estimated_tokens: int) -> str | None:
        """Take one call and `estimated_tokens` for a request about to be sent, or name the spent
        budget (and take nothing). The estimate is held until `settle` puts the reply's real count
        in its place.

        A prompt's real count is only known from its reply, so a request that would run alongside
        others goes ahead only while the tokens left cover every request in flight at
        `TOKEN_SLACK` times its estimate; otherwise it waits for them and is judged on what they
        really spent, exactly as one sent after them would be. Calls are exact either way."""
        with self._lock:
            while self._in_flight and not self._fits_alongside(estimated_tokens):
                waited = self._lock.wait(timeout=max(0.01, min(1.0, self.deadline - time.time())))
                if not waited and time.time() >= self.deadline:
                    break
            return self._take(estimated_tokens)

    def try_reserve(self, estimated_tokens: int) -> tuple[bool, str | None]:
        """`reserve` without blocking, for requests sent from an event loop (a blocked loop could
        never see the requests in flight finish): `(False, None)` means "wait and ask again";
        otherwise `(True, refusal)` exactly as `reserve` would answer."""
        with self._lock:
            busy = self._in_flight and not self._fits_alongside(estimated_tokens)
            if busy and time.time() < self.deadline:
                return False, None
            return True, self._take(estimated_tokens)

    def _take(self, estimated_tokens: int) -> str | None:
        refusal = self.left().refusal(estimated_tokens)
        if refusal is None:
            self.calls_used += 1
            self.tokens_used += estimated_tokens
            self._held += estimated_tokens
            self._in_flight += 1
        return refusal

    def settle(self, estimated_tokens: int, real_tokens: int) -> None:
        """A reserved request ended: its real token count (0 when it failed) replaces the estimate."""
        with self._lock:
            self.tokens_used += real_tokens - estimated_tokens
            self._held -= estimated_tokens
            self._in_flight -= 1
            self._lock.notify_all()

    def _fits_alongside(self, estimated_tokens: int) -> bool:
        if self.cancelled is not None and self.cancelled.is_set():
            return True  # refused at once below
        left = self.left().tokens - self._held * (TOKEN_SLACK - 1)
        return left >= estimated_tokens * TOKEN_SLACK

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
