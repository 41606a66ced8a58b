"""Typed events for `Agent.stream`: one per finished node, `answer_token` events while the answer
is written, then the final result.

Answer tokens come from LangGraph's `stream_mode="messages"`, kept only for the compose node's
prose request (tagged `hragent:answer`); every other model request is tagged `nostream` and its
tool-call JSON never becomes an event. When no model writes prose (the offline engine, the
structured composer, a fallback) the composed answer is sent in word-sized chunks instead, just
before `answer_composed`, so a watcher sees the same kinds of events whichever engine ran."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator, Mapping
from typing import Any, Literal

from pydantic import BaseModel, Field

from agent.results import RunResult

EventKind = Literal[
    "plan_made",
    "plan_review",
    "subgoal_retrieved",
    "subgoal_solved",
    "claims_verified",
    "answer_token",
    "answer_composed",
    "result",
]
ANSWER_TAG = "hragent:answer"  # graphs.roles.llm.client tags the composer's prose request with it
_WORDS = re.compile(r"\s*\S+\s*")


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


def token_event(message: Any, metadata: Mapping[str, Any]) -> StepEvent | None:
    """An `answer_token` event for one `messages`-mode chunk of the answer prose, else None
    (another role's request, a message a node wrote to state, an empty delta)."""
    if metadata.get("langgraph_node") != "compose" or ANSWER_TAG not in (metadata.get("tags") or []):
        return None
    text = message.content if isinstance(message.content, str) else getattr(message, "text", "")
    if not text:
        return None
    return StepEvent(kind="answer_token", node="compose", data={"text": text, "origin": "model"})


def composed_chunks(answer: str) -> Iterator[StepEvent]:
    """The finished answer as `answer_token` events, one word (with its spacing) each."""
    for m in _WORDS.finditer(answer):
        yield StepEvent(kind="answer_token", node="compose", data={"text": m.group(0), "origin": "composed"})
