"""The `solve` node (L-level): read each freshly retrieved subgoal, then answer it or ask for
another hop; when no subgoal can move any more, combine the answers into a draft.

The subgoals read in one step are independent (a dependent one is only retrieved once what it
depends on is settled), so a solver whose reads wait on a model (`reads_concurrently`) reads them
concurrently, at most `READ_WORKERS` at a time, in the caller's context (the run's shared LLM
budget, its cancel signal, LangGraph's callbacks): under `invoke` on a small thread pool, under
`ainvoke` as coroutines on the caller's event loop (`aread`, the model's `ainvoke`). Results are
merged in subgoal order, so the update is the same whichever read finishes first."""

from __future__ import annotations

import asyncio
import contextvars
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from graphs.asyncnodes import in_worker
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


async def aread_each(
    items: list[Subgoal], aread: Callable[[Subgoal], Awaitable[tuple[Reading, Usage]]], *, concurrent: bool
) -> list[tuple[Reading, Usage]]:
    """`aread` of every item, in item order, at most `READ_WORKERS` at once on this event loop
    (one at a time unless `concurrent`). Each read is a task in a copy of this context; when one
    fails, the others are cancelled."""
    gate = asyncio.Semaphore(READ_WORKERS if concurrent else 1)

    async def one(sg: Subgoal) -> tuple[Reading, Usage]:
        async with gate:
            return await aread(sg)

    tasks = [asyncio.ensure_future(one(sg)) for sg in items]
    try:
        return list(await asyncio.gather(*tasks))
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise


class SolveStep:
    """One execution of the solve node: which subgoals read now, how each is read, and the state
    update once their readings are in (the draft too, when every subgoal is settled)."""

    def __init__(self, deps: GraphDeps, state: AgentState) -> None:
        self.deps, self.state = deps, state
        self.t0 = time.perf_counter()
        self.limits = limits_of(state)
        self.spent = budget_exhausted(state.get("counters") or {}, self.limits, state.get("started_at", time.time()))
        self.evidence = state.get("evidence") or {}
        self.solver = deps.roles.solver
        self.ready = [sg for sg in round_subgoals(state) if sg.get("status") == "retrieved"]
        self.concurrent = bool(getattr(self.solver, "reads_concurrently", False))

    def _last_hop(self, sg: Subgoal) -> bool:
        return sg.get("hops", 0) >= self.limits.max_hops or self.spent is not None

    def read(self, sg: Subgoal) -> tuple[Reading, Usage]:
        query = sg.get("hop_query", sg["query"])
        return self.solver.read(
            self.state["task"], sg, query, self.evidence.get(sg["id"], []), last_hop=self._last_hop(sg)
        )

    async def aread(self, sg: Subgoal) -> tuple[Reading, Usage]:
        query = sg.get("hop_query", sg["query"])
        reading: tuple[Reading, Usage] = await self.solver.aread(  # type: ignore[attr-defined]
            self.state["task"], sg, query, self.evidence.get(sg["id"], []), last_hop=self._last_hop(sg)
        )
        return reading

    def finish(self, readings: list[tuple[Reading, Usage]]) -> dict[str, Any]:
        state, deps = self.state, self.deps
        subgoals = dict(state.get("subgoals") or {})
        updates: dict[str, Subgoal] = {}
        llm_calls = tokens = 0
        engines: dict[str, str] = {}
        for sg, (reading, usage) in zip(self.ready, readings, strict=True):
            query = sg.get("hop_query", sg["query"])
            last_hop = self._last_hop(sg)
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
            "trace": event("solve", self.t0, read=sorted(updates)),
            "counters": {"llm_calls": llm_calls, "tokens": tokens},
            "engines": engines,
        }
        current = [sg for sg in merged.values() if sg.get("round", 0) == state.get("refinements", 0)]
        if all(sg.get("status") in TERMINAL for sg in current):
            draft, usage = deps.roles.solver.finalize(
                state["task"], state.get("plan_kind", "lookup"), state.get("plan_info") or {}, merged, self.evidence
            )
            update["draft"] = {**draft, "round": state.get("refinements", 0)}
            extra = usage_update("solver", usage)
            update["counters"] = {
                "llm_calls": llm_calls + extra["counters"]["llm_calls"],
                "tokens": tokens + extra["counters"]["tokens"],
            }
        return update


def make_solve_node(deps: GraphDeps) -> Any:
    def solve(state: AgentState) -> dict[str, Any]:
        step = SolveStep(deps, state)
        return step.finish(read_each(step.ready, step.read, concurrent=step.concurrent))

    return solve


def make_asolve_node(deps: GraphDeps) -> Any:
    """The solve node under `ainvoke`: a solver with `aread` reads on the event loop; the rest
    (a solver without it, the merge and the draft) runs in a worker thread, as every node does."""

    async def solve(state: AgentState) -> dict[str, Any]:
        step = SolveStep(deps, state)
        if hasattr(step.solver, "aread"):
            readings = await aread_each(step.ready, step.aread, concurrent=step.concurrent)
        else:
            readings = await in_worker(read_each, step.ready, step.read, concurrent=step.concurrent)
        result: dict[str, Any] = await in_worker(step.finish, readings)
        return result

    return solve
