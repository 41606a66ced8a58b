"""The `review_plan` node: an opt-in human approval of the plan before any retrieval runs
(on for every run with `build_graph(approve_plans=True)`, or per run with input `approve_plan: true`).

With approval on, it pauses the run (`interrupt`) showing the subgoals; resume with `True` to accept,
`False` to stop, or a list of subgoal queries to replace the planned ones (same order, same slots)."""

from __future__ import annotations

from typing import Any

from langgraph.types import interrupt

from graphs.common import round_subgoals
from graphs.state import AgentState


def make_review_node(require_approval: bool) -> Any:
    def review_plan(state: AgentState) -> dict[str, Any]:
        wanted = require_approval or bool(state.get("approve_plan"))
        if not wanted or state.get("refinements", 0) > 0:
            return {}
        planned = round_subgoals(state)
        decision = interrupt(
            {"task": state.get("task"), "subgoals": [{"id": s["id"], "query": s["query"]} for s in planned]}
        )
        if decision is False:
            return {
                "subgoals": {s["id"]: {"status": "failed"} for s in planned},
                "halt_reason": "rejected",
                "limits_hit": [],
            }
        if isinstance(decision, list):
            return {"subgoals": {s["id"]: {"query": str(q)} for s, q in zip(planned, decision, strict=False)}}
        return {}

    return review_plan
