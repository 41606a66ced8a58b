"""The `solve` node (L-level): read each freshly retrieved subgoal, then answer it or ask for
another hop; when no subgoal can move any more, combine the answers into a draft.

The subgoals read in one step are independent (a dependent one is only retrieved once what it
depends on is settled), so a solver whose reads wait on a model (`reads_concurrently`) reads them
concurrently on a small thread pool, in the caller's context (the run's shared LLM budget, its
cancel signal, LangGraph's callbacks). Results are merged in subgoal order, so the update is the
same whichever read finishes first."""

from __future__ import annotations

import contextvars
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from graphs.common import TERMINAL, deps_failed, deps_ready, event, limits_of, round_subgoals, usage_update
from graphs.deps import GraphDeps
from graphs.roles.base import Reading, Usage
from graphs.state import AgentState, Subgoal
from policies.limits import budget_exhausted
from tools.logs import get_logger

log = get_logger(__name__)

# At most this many subgoal reads wait on the model at once (plans rarely have more independent subgoals).
READ_WORKERS = 4


def read_each(
    items: list[Subgoal], read: Callable[[Subgoal], tuple[Reading, Usage]], *, concurrent: bool
) -> list[tuple[Reading, Usage]]:
    """`read` of every item, in item order; concurrently (bounded) when asked and worth it. Each
    read runs in a copy of this context, so the budget, cancel event and callbacks are the caller's."""
    if not concurrent or len(items) < 2:
        return [read(sg) for sg in items]
    with ThreadPoolExecutor(max_workers=min(READ_WORKERS, len(items)), thread_name_prefix="hragent-read") as pool:
        futures = [pool.submit(contextvars.copy_context().run, read, sg) for sg in items]
        return [f.result() for f in futures]


def make_solve_node(deps: GraphDeps) -> Any:
    def solve(state: AgentState) -> dict[str, Any]:
        t0 = time.perf_counter()
        limits = limits_of(state)
        spent = budget_exhausted(state.get("counters") or {}, limits, state.get("started_at", time.time()))
        subgoals = dict(state.get("subgoals") or {})
        evidence = state.get("evidence") or {}
        updates: dict[str, Subgoal] = {}
        llm_calls = tokens = 0
        engines: dict[str, str] = {}
        solver = deps.roles.solver
        ready = [sg for sg in round_subgoals(state) if sg.get("status") == "retrieved"]

        def read(sg: Subgoal) -> tuple[Reading, Usage]:
            last_hop = sg.get("hops", 0) >= limits.max_hops or spent is not None
            query = sg.get("hop_query", sg["query"])
            return solver.read(state["task"], sg, query, evidence.get(sg["id"], []), last_hop=last_hop)

        readings = read_each(ready, read, concurrent=bool(getattr(solver, "reads_concurrently", False)))
        for sg, (reading, usage) in zip(ready, readings, strict=True):
            query = sg.get("hop_query", sg["query"])
            last_hop = sg.get("hops", 0) >= limits.max_hops or spent is not None
            llm_calls += usage.llm_calls
            tokens += usage.tokens
            engines["solver"] = usage.engine + (" (degraded)" if usage.degraded else "")
            upd: Subgoal = {
                "queries": [*sg.get("queries", []), query],
                "answer": reading.answer,
                "confidence": reading.confidence,
                "support": reading.support,
            }
            if reading.follow_query and not last_hop:
                upd["status"] = "follow"
                upd["follow_query"] = reading.follow_query
                upd["follow_titles"] = reading.follow_titles
            else:
                upd["status"] = "answered" if reading.answer else "failed"
                upd["follow_titles"] = []
            updates[sg["id"]] = upd
            log.info("subgoal.read", subgoal=sg["id"], status=upd["status"], confidence=reading.confidence)
        merged: dict[str, Subgoal] = {k: Subgoal(**{**v, **updates.get(k, {})}) for k, v in subgoals.items()}
        # A subgoal whose dependency failed cannot be asked; it fails too (and says why).
        changed = True
        while changed:
            changed = False
            for sg in merged.values():
                this_round = sg.get("round", 0) == state.get("refinements", 0)
                blocked = deps_ready(sg, merged) and deps_failed(sg, merged)
                if this_round and sg.get("status") == "pending" and blocked:
                    sg["status"], sg["answer"] = "failed", ""
                    updates[sg["id"]] = Subgoal(**{**updates.get(sg["id"], {}), "status": "failed", "answer": ""})
                    changed = True
        update: dict[str, Any] = {
            "subgoals": updates,
            "trace": event("solve", t0, read=sorted(updates)),
            "counters": {"llm_calls": llm_calls, "tokens": tokens},
            "engines": engines,
        }
        current = [sg for sg in merged.values() if sg.get("round", 0) == state.get("refinements", 0)]
        if all(sg.get("status") in TERMINAL for sg in current):
            draft, usage = deps.roles.solver.finalize(
                state["task"], state.get("plan_kind", "lookup"), state.get("plan_info") or {}, merged, evidence
            )
            update["draft"] = {**draft, "round": state.get("refinements", 0)}
            extra = usage_update("solver", usage)
            update["counters"] = {
                "llm_calls": llm_calls + extra["counters"]["llm_calls"],
                "tokens": tokens + extra["counters"]["tokens"],
            }
        return update

    return solve
