"""Wraps the nodes that call roles: opens the run's remaining LLM budget for them and turns the
fallbacks they record into state (`degraded`, plus `limits_hit` for spent budgets), so a run that
switched to the offline engine always says so."""

from __future__ import annotations

import asyncio
import functools
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any

from graphs.deps import GraphDeps
from graphs.roles.budget import RoleBudget, bind_cancel_event, is_sticky, role_budget
from graphs.state import AgentState
from policies.budget import BUDGET_REASONS
from policies.limits import Limits, resolve_limits
from tools.logs import get_logger

log = get_logger(__name__)

Node = Callable[[AgentState], dict[str, Any]]
AsyncNode = Callable[[AgentState], Awaitable[dict[str, Any]]]


def budget_for(state: AgentState, default: Limits) -> RoleBudget:
    """The budget left for this step of the run, from the counters the graph has kept so far."""
    limits = (
        Limits.model_validate(state["run_limits"])
        if state.get("run_limits")
        else resolve_limits(state.get("limits"), default)
    )
    counters = state.get("counters") or {}
    started = float(state.get("started_at") or time.time())
    prior = list(state.get("degraded") or [])
    return RoleBudget(
        limits=limits,
        calls_used=counters.get("llm_calls", 0),
        tokens_used=counters.get("tokens", 0),
        deadline=started + limits.timeout_s,
        down=next((e["reason"] for e in prior if is_sticky(e["reason"])), ""),
    )


def budgeted(deps: GraphDeps, node: Node) -> Any:
    """`node` run inside the run's LLM budget (typed `Any` like the node makers, for `add_node`)."""

    @functools.wraps(node)
    def wrapped(state: AgentState) -> dict[str, Any]:
        budget = budget_for(state, deps.active().limits)
        with role_budget(budget):
            update = node(state)
        return with_fallbacks(state, budget, update)

    return wrapped


def abudgeted(deps: GraphDeps, node: AsyncNode) -> Any:
    """`budgeted` for a native async node. Cancelling it cancels its requests in flight and
    sets the budget's cancel event, so work it handed to a thread makes no further request."""

    @functools.wraps(node)
    async def wrapped(state: AgentState) -> dict[str, Any]:
        cancel = threading.Event()
        with bind_cancel_event(cancel):
            budget = budget_for(state, deps.active().limits)
        try:
            with role_budget(budget):
                update = await node(state)
        except asyncio.CancelledError:
            cancel.set()
            raise
        return with_fallbacks(state, budget, update)

    return wrapped


def with_fallbacks(state: AgentState, budget: RoleBudget, update: dict[str, Any]) -> dict[str, Any]:
    """`update` plus the fallbacks this step recorded that the run had not recorded yet."""
    seen = {(e.get("role"), e.get("reason")) for e in state.get("degraded") or []}
    events = []
    for e in budget.events:
        if (e["role"], e["reason"]) not in seen:
            seen.add((e["role"], e["reason"]))
            events.append(e)
    if not events:
        return update
    for e in events:
        log.warning("role.degraded", role=e["role"], reason=e["reason"], detail=e["detail"])
    spent = [e["reason"] for e in events if e["reason"] in BUDGET_REASONS]
    return {**update, "degraded": events, "limits_hit": [*update.get("limits_hit", []), *spent]}
