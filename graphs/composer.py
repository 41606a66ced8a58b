"""The `compose` node: the final answer, every sentence carrying its citations."""

from __future__ import annotations

import time
from typing import Any

from graphs.common import event, usage_update
from graphs.deps import GraphDeps
from graphs.state import AgentState


def make_compose_node(deps: GraphDeps) -> Any:
    def compose(state: AgentState) -> dict[str, Any]:
        t0 = time.perf_counter()
        halt = state.get("halt_reason") or "verified"
        best = state.get("best") or {}
        draft = best.get("draft") or state.get("draft") or {}
        report = best.get("report") or state.get("report") or {}
        composed, usage = deps.roles.composer.compose(state["task"], draft, report, halt)
        return {
            **composed,
            "halt_reason": halt,
            **usage_update("composer", usage),
            "trace": event("compose", t0, citations=len(composed.get("citations", [])), round=best.get("round")),
        }

    return compose
