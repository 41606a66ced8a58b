"""The `compose` node: the final answer, every sentence carrying its citations."""

from __future__ import annotations

import time
from typing import Any

from graphs.common import event, usage_update
from graphs.deps import GraphDeps
from graphs.state import AgentState
from policies.outcome import nearest_sections, not_found_answer


def make_compose_node(deps: GraphDeps) -> Any:
    def compose(state: AgentState) -> dict[str, Any]:
        t0 = time.perf_counter()
        halt = state.get("halt_reason") or "verified"
        best = state.get("best") or {}
        draft = best.get("draft") or state.get("draft") or {}
        report = best.get("report") or state.get("report") or {}
        composed, usage = deps.roles.composer.compose(state["task"], draft, report, halt)
        composed.setdefault("outcome", "answered" if composed.get("short_answer") else "not_found")
        if composed["outcome"] == "not_found":
            # Abstain in words a person can act on: no headline, and where the closest evidence was.
            evidence = [e for items in (state.get("evidence") or {}).values() for e in items]
            rest = composed.get("answer", "").split("\n")[1:]
            composed = {
                **composed,
                "short_answer": "",
                "citations": [],
                "items": [],
                "answer": "\n".join([not_found_answer(nearest_sections(evidence)), *rest]).strip(),
            }
        return {
            **composed,
            "halt_reason": halt,
            **usage_update("composer", usage),
            "trace": event("compose", t0, citations=len(composed.get("citations", [])), round=best.get("round")),
        }

    return compose
