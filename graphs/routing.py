"""Conditional edges: which subgoals get a retrieval hop next (in parallel), and when to stop."""

from __future__ import annotations

import time

from langgraph.types import Send

from graphs.common import deps_failed, deps_ready, fill_slots, limits_of, round_subgoals
from graphs.state import AgentState
from policies.limits import budget_exhausted


def next_hops(state: AgentState) -> list[Send] | str:
    """Send every runnable subgoal to `retrieve`; independent ones run in the same step."""
    limits = limits_of(state)
    if budget_exhausted(state.get("counters") or {}, limits, state.get("started_at", time.time())):
        return "verify"
    subgoals = state.get("subgoals") or {}
    sends: list[Send] = []
    for sg in round_subgoals(state):
        status = sg.get("status")
        if status == "pending" and deps_ready(sg, subgoals) and not deps_failed(sg, subgoals):
            query = fill_slots(sg["query"], subgoals)
            titles = [subgoals[d].get("answer", "") for d in sg.get("depends_on", []) if subgoals.get(d)]
            titles += list(sg.get("follow_titles") or [])  # names the planner found in the query itself
            hop, follow = 1, list(dict.fromkeys(t for t in titles if t))
        elif status == "follow" and sg.get("hops", 0) < limits.max_hops:
            query, hop, follow = sg.get("follow_query", sg["query"]), sg.get("hops", 0) + 1, sg.get("follow_titles", [])
        else:
            continue
        sends.append(
            Send(
                "retrieve",
                {
                    "subgoal_id": sg["id"],
                    "query": query,
                    "hop": hop,
                    "follow_titles": follow,
                    "principal": state.get("principal"),
                    "strategy": state.get("strategy"),
                    "siblings": state.get("plan_kind") == "enumeration",
                },
            )
        )
    return sends or "verify"


def after_verify(state: AgentState) -> str:
    return "plan" if state.get("halt_reason") == "" else "compose"
