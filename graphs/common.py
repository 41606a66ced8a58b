"""Small helpers the nodes share: limits from state, slot filling, the current round, trace events."""

from __future__ import annotations

import re
import time
from typing import Any

from graphs.roles.base import Usage
from graphs.state import AgentState, Subgoal
from policies.limits import Limits
from tools.logs import get_logger

_SLOT = re.compile(r"\{(s\d+|r\d+s\d+)\}")
TERMINAL = frozenset({"answered", "failed"})


def limits_of(state: AgentState) -> Limits:
    return Limits.model_validate(state.get("run_limits") or {})


def current_round(state: AgentState) -> int:
    return int(state.get("refinements", 0))


def round_subgoals(state: AgentState) -> list[Subgoal]:
    rnd = current_round(state)
    return sorted(
        (sg for sg in (state.get("subgoals") or {}).values() if sg.get("round", 0) == rnd), key=lambda s: s["id"]
    )


def fill_slots(query: str, subgoals: dict[str, Subgoal]) -> str:
    """Put earlier answers into `{sN}` slots (the bridge entity of a dependent subgoal)."""

    def repl(m: re.Match[str]) -> str:
        dep = subgoals.get(m.group(1), {})
        return dep.get("answer") or ""

    return " ".join(_SLOT.sub(repl, query).split())


def deps_ready(sg: Subgoal, subgoals: dict[str, Subgoal]) -> bool:
    return all(subgoals.get(d, {}).get("status") in TERMINAL for d in sg.get("depends_on", []))


def deps_failed(sg: Subgoal, subgoals: dict[str, Subgoal]) -> bool:
    return any(subgoals.get(d, {}).get("status") == "failed" for d in sg.get("depends_on", []))


_log = get_logger("graphs")


def event(node: str, started: float, **detail: Any) -> list[dict[str, Any]]:
    """One trace entry for `RunResult.trace`, also logged (with the run's bound run_id/thread_id)."""
    ms = round((time.perf_counter() - started) * 1000, 2)
    _log.info("node.finished", node=node, ms=ms)
    return [{"node": node, "ms": ms, "detail": detail}]


def usage_update(role: str, usage: Usage) -> dict[str, Any]:
    """Counter increments and engine label for one role call."""
    engine = usage.engine + (" (degraded)" if usage.degraded else "")
    return {"counters": {"llm_calls": usage.llm_calls, "tokens": usage.tokens}, "engines": {role: engine}}
