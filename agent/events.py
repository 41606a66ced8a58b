"""Typed step events for `Agent.stream`: one per finished node, then the final result."""

from __future__ import annotations

import time
from typing import Any, Literal

from pydantic import BaseModel, Field

from agent.results import RunResult

EventKind = Literal[
    "plan_made", "plan_review", "subgoal_retrieved", "subgoal_solved", "claims_verified", "answer_composed", "result"
]


class StepEvent(BaseModel):
    """What just happened in a run. `data` holds the node's salient fields; `result` only on `result`."""

    kind: EventKind
    node: str
    data: dict[str, Any] = Field(default_factory=dict)
    result: RunResult | None = None
    at: float = Field(default_factory=time.time)


def event_from_update(node: str, update: dict[str, Any]) -> StepEvent | None:
    """Translate one LangGraph `updates` chunk into a typed event (None for bookkeeping-only steps).
    A step where a role fell back to the offline engine carries `data["degraded"]`."""
    event = _event(node, update or {})
    if event is not None and update and update.get("degraded"):
        event.data["degraded"] = list(update["degraded"])
    return event


def _event(node: str, update: dict[str, Any]) -> StepEvent | None:
    if node == "plan":
        subgoals = update.get("subgoals") or {}
        return StepEvent(
            kind="plan_made",
            node=node,
            data={
                "subgoals": [
                    {"id": s.get("id"), "query": s.get("query"), "depends_on": s.get("depends_on", [])}
                    for s in subgoals.values()
                ],
                "halt_reason": update.get("halt_reason"),
            },
        )
    if node == "__interrupt__":
        return StepEvent(kind="plan_review", node="review_plan", data={"interrupt": [str(i) for i in update]})
    if node == "retrieve":
        evidence = update.get("evidence") or {}
        (sid, items), *_ = evidence.items() if evidence else [("", [])]
        return StepEvent(
            kind="subgoal_retrieved",
            node=node,
            data={
                "subgoal": sid,
                "query": items[0]["query"] if items else "",
                "hop": items[0]["hop"] if items else 0,
                "hits": [{"source": e["source"], "section": e["section"], "score": e["score"]} for e in items],
            },
        )
    if node == "solve":
        return StepEvent(
            kind="subgoal_solved",
            node=node,
            data={
                "subgoals": {
                    k: {"status": v.get("status"), "answer": v.get("answer"), "confidence": v.get("confidence")}
                    for k, v in (update.get("subgoals") or {}).items()
                }
            },
        )
    if node == "verify":
        report = update.get("report") or {}
        return StepEvent(
            kind="claims_verified",
            node=node,
            data={
                "claims": [{"text": c.get("text"), "verdict": c.get("verdict")} for c in report.get("claims", [])],
                "passed": report.get("passed"),
                "decision": update.get("halt_reason") or "refine",
            },
        )
    if node == "compose":
        return StepEvent(kind="answer_composed", node=node, data={"answer": update.get("answer", "")})
    return None
