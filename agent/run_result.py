"""The graph's final state as the public `RunResult`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from agent.results import AnswerItem, Citation, Claim, Degradation, RunResult, RunStats, SubgoalResult, TraceEvent


def run_result(final: Mapping[str, Any], task: str, tid: str, elapsed: float) -> RunResult:
    """The public `RunResult` of a run from the graph's final state (or its last output)."""
    counters = final.get("counters") or {}
    subgoals = sorted((final.get("subgoals") or {}).values(), key=lambda s: (s.get("round", 0), s.get("id", "")))
    claims = [
        Claim(
            text=c.get("text", ""),
            verdict=c.get("verdict") or "not_enough_evidence",
            citations=[Citation(**cit) for cit in c.get("citations", [])],
            confidence=float(c.get("confidence", 0.0)),
            reasons=list(c.get("reasons", [])),
        )
        for c in final.get("claims") or []
    ]
    return RunResult(
        task=task,
        answer=final.get("answer", ""),
        short_answer=final.get("short_answer", ""),
        outcome=final.get("outcome") or ("answered" if final.get("short_answer") else "not_found"),
        claims=claims,
        citations=[Citation(**c) for c in final.get("citations") or []],
        items=[AnswerItem(**i) for i in final.get("items") or []],
        subgoals=[
            SubgoalResult(
                id=s.get("id", ""),
                query=s.get("query", ""),
                kind=s.get("kind", "lookup"),
                depends_on=list(s.get("depends_on", [])),
                depth=int(s.get("depth", 0)),
                status=s.get("status", "pending"),
                answer=s.get("answer", ""),
                hops=int(s.get("hops", 0)),
                confidence=float(s.get("confidence", 0.0)),
            )
            for s in subgoals
        ],
        halt_reason=final.get("halt_reason") or "interrupted",
        limits_hit=list(final.get("limits_hit") or []),
        engines=dict(final.get("engines") or {}),
        degraded=[Degradation(**d) for d in final.get("degraded") or []],
        stats=RunStats(
            hops=int(counters.get("hops", 0)),
            depth=max([int(s.get("depth", 0)) for s in subgoals] or [0]),
            refinements=int(final.get("refinements", 0)),
            llm_calls=int(counters.get("llm_calls", 0)),
            tokens=int(counters.get("tokens", 0)),
            elapsed_s=round(elapsed, 4),
        ),
        usage={"llm_calls": int(counters.get("llm_calls", 0)), "tokens": int(counters.get("tokens", 0))},
        trace=[TraceEvent(**t) for t in final.get("trace") or []],
        run_id=tid,
        thread_id=tid,
    )
