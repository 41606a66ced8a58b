"""The `verify` node: check every claim against its evidence and the checklists, then decide:
halt early (confident), refine (re-plan with feedback, bounded), or compose what is supported."""

from __future__ import annotations

import time
from typing import Any

from graphs.common import event, limits_of, usage_update
from graphs.deps import GraphDeps
from graphs.state import AgentState, Report
from tools.logs import get_logger

log = get_logger(__name__)
REPLACE_MARGIN = 0.1


def report_score(report: Report) -> float:
    """Order drafts across rounds: passing first, then confidence, then the share of supported claims,
    then how close the claims came to support; a contradicted claim costs a draft."""
    claims = report.get("claims", [])
    supported = sum(1 for c in claims if c.get("verdict") == "supported") / len(claims) if claims else 0.0
    # Among failing drafts, the one whose claims came closest to support (coverage/similarity) wins.
    closeness = sum(float(c.get("confidence", 0.0)) for c in claims) / len(claims) if claims else 0.0
    contradicted = any(c.get("verdict") == "contradicted" for c in claims)
    score = (1.0 if report.get("passed") else 0.0) + float(report.get("confidence", 0.0)) + 0.5 * supported
    return score + 0.25 * closeness - (0.25 if contradicted else 0.0)


def make_verify_node(deps: GraphDeps) -> Any:
    def verify(state: AgentState) -> dict[str, Any]:
        from policies.limits import budget_exhausted

        t0 = time.perf_counter()
        limits = limits_of(state)
        rnd = int(state.get("refinements", 0))
        draft = state.get("draft") or {}
        counters: dict[str, float] = {"llm_calls": 0, "tokens": 0}
        engines: dict[str, str] = {}
        if draft.get("round") != rnd:  # stopped before the solver finished this round
            draft, usage = deps.roles.solver.finalize(
                state["task"],
                state.get("plan_kind", "lookup"),
                state.get("plan_info") or {},
                dict(state.get("subgoals") or {}),
                state.get("evidence") or {},
            )
            extra = usage_update("solver", usage)
            counters = extra["counters"]
            engines.update(extra["engines"])
        report, usage = deps.roles.verifier.verify(state["task"], draft, state.get("evidence") or {})
        extra = usage_update("verifier", usage)
        counters = {k: counters.get(k, 0) + v for k, v in extra["counters"].items()}
        engines.update(extra["engines"])
        all_counters = {k: (state.get("counters") or {}).get(k, 0) + v for k, v in counters.items()}
        spent = budget_exhausted(all_counters, limits, state.get("started_at", time.time()))
        confident = report.get("passed", False) and report.get("confidence", 0.0) >= limits.early_exit_threshold
        limits_hit: list[str] = []
        update: dict[str, Any] = {}
        if state.get("halt_reason") in {"rejected", "invalid_task"}:
            halt = str(state["halt_reason"])  # a rejected plan or an unusable task is final: never re-plan
        elif confident:
            halt = "confident"
        elif spent:
            halt = spent
            limits_hit.append(spent)
        elif rnd < limits.max_refinements:
            halt = ""  # refine: back to the planner with the verifier's feedback
            update["refinements"] = rnd + 1
            update["feedback"] = list(report.get("feedback", []))
        elif report.get("passed"):
            halt = "verified"
        else:
            halt = "max_refinements"
            if limits.max_refinements > 0:
                limits_hit.append("max_refinements")
        score = report_score(report)
        best = state.get("best") or {}
        # A later round replaces an earlier best only when clearly better: its answers are second choices.
        if not best or score > float(best.get("score", -1.0)) + REPLACE_MARGIN:
            best = {"draft": draft, "report": report, "round": rnd, "score": score}
        update["best"] = best
        log.info("claims.verified", round=rnd, passed=report.get("passed"), halt=halt or "refine")
        update.update(
            draft=draft,
            report=report,
            halt_reason=halt,
            limits_hit=limits_hit,
            counters=counters,
            engines=engines,
            trace=event(
                "verify",
                t0,
                round=rnd,
                passed=report.get("passed"),
                confidence=report.get("confidence"),
                verdicts=[c.get("verdict") for c in report.get("claims", [])],
                decision=halt or "refine",
                short_answer=draft.get("short_answer", ""),
                acceptance=report.get("acceptance"),
            ),
        )
        return update

    return verify
