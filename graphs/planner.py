"""The `plan` node (H-level): task → subgoal DAG, within max_subgoals and max_depth."""

from __future__ import annotations

import time
from typing import Any

from graphs.common import current_round, event, limits_of, usage_update
from graphs.deps import GraphDeps
from graphs.state import AgentState
from policies.limits import resolve_limits
from tools.logs import get_logger

log = get_logger(__name__)


def make_plan_node(deps: GraphDeps) -> Any:
    def plan(state: AgentState) -> dict[str, Any]:
        t0 = time.perf_counter()
        limits = (
            limits_of(state) if state.get("run_limits") else resolve_limits(state.get("limits"), deps.active().limits)
        )
        rnd = current_round(state)
        task = " ".join(str(state.get("task") or "").split())
        if rnd == 0 and (not task or len(task) > limits.max_task_chars):
            reason = "task is empty" if not task else f"task exceeds max_task_chars={limits.max_task_chars}"
            log.warning("plan.rejected_task", reason=reason)
            return {
                "run_limits": limits.model_dump(),
                "started_at": time.time(),
                "halt_reason": "invalid_task",
                "feedback": [reason],
                "trace": event("plan", t0, round=rnd, error=reason),
            }
        result, usage = deps.roles.planner.plan(
            state["task"],
            limits=limits,
            feedback=list(state.get("feedback") or []),
            previous=dict(state.get("subgoals") or {}),
            round=rnd,
        )
        hit: list[str] = []
        subgoals = []
        for sg in result.subgoals:
            if sg.get("depth", 0) >= limits.max_depth:
                hit.append("max_depth")
                continue
            subgoals.append({**sg, "round": rnd})
        if len(subgoals) > limits.max_subgoals:
            subgoals = subgoals[: limits.max_subgoals]
            hit.append("max_subgoals")
        log.info("plan.made", round=rnd, kind=result.kind, subgoals=len(subgoals))
        update: dict[str, Any] = {
            "plan_kind": result.kind if rnd == 0 or result.kind != "refine" else state.get("plan_kind", "lookup"),
            "plan_info": {**(state.get("plan_info") or {}), **result.info} if rnd else result.info,
            "subgoals": {sg["id"]: sg for sg in subgoals},
            "limits_hit": hit,
            "trace": event("plan", t0, round=rnd, kind=result.kind, subgoals=[s["query"] for s in subgoals]),
            **usage_update("planner", usage),
        }
        if rnd == 0:
            update["run_limits"] = limits.model_dump()
            update["started_at"] = state.get("started_at") or time.time()
        return update

    return plan
