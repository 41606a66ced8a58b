"""Re-planning after a failed verification (offline): the same subgoal DAG for the next round, with
every answer a rejected claim rests on avoided, so the solver takes its next candidate."""

from __future__ import annotations

import re

from graphs.roles.base import Plan
from graphs.roles.offline.subgoals import new_subgoal
from graphs.state import PlanInfo, Subgoal
from graphs.text.spans import names_in
from policies.limits import Limits


def replan(task: str, limits: Limits, feedback: list[str], previous: dict[str, Subgoal], rnd: int) -> Plan:
    """After failed verification, re-plan with the verifier's feedback: the same DAG, but every answer
    a rejected claim rests on is avoided (the solver takes the next candidate), comparison items look
    their option up by name alone, and a chain that produced nothing is retried as one lookup."""
    last_round = max((sg.get("round", 0) for sg in previous.values()), default=0)
    prior = sorted((sg for sg in previous.values() if sg.get("round", 0) == last_round), key=lambda s: s["id"])
    info = PlanInfo(feedback=feedback, final="")
    if not prior:
        return Plan("refine", [], info)
    if len(prior) > 1 and not any(sg.get("answer") for sg in prior):
        return Plan("lookup", [new_subgoal(1, task.rstrip("?") + "?", "lookup", rnd=rnd)], {**info, "fallback": True})
    rejected = [f.split(": ", 1)[1] for f in feedback if f.startswith("claim not supported: ")]
    rename = {sg["id"]: f"r{rnd}s{i}" for i, sg in enumerate(prior, start=1)}
    subgoals: list[Subgoal] = []
    changed = False
    for sg in prior:
        query = re.sub(r"\{(\w+)\}", lambda m: "{" + rename.get(m.group(1), m.group(1)) + "}", sg["query"])
        kind = sg.get("kind", "lookup")
        avoid = list(sg.get("avoid", []))
        answer = sg.get("answer", "")
        if kind in ("compare_item", "yesno_item"):
            names = sg.get("follow_titles") or names_in(query)
            query = names[0] if names else query
        elif answer and any(answer in claim for claim in rejected):
            avoid.append(answer)
            changed = True
        new = new_subgoal(0, query, kind, [rename.get(d, d) for d in sg.get("depends_on", [])], sg.get("depth", 0), rnd)
        new["id"] = rename[sg["id"]]
        new["avoid"] = avoid
        if kind in ("compare_item", "yesno_item"):
            new["follow_titles"] = list(sg.get("follow_titles") or [])
        subgoals.append(new)
    if not changed:
        # No claim names its culprit (e.g. a checklist failed): doubt the least confident answer.
        open_ = [
            s
            for s, p in zip(subgoals, prior, strict=True)
            if p.get("answer") and p.get("kind") not in ("compare_item", "yesno_item")
        ]
        if open_:
            weakest = min(
                open_, key=lambda s: next(p.get("confidence", 0.0) for p in prior if rename[p["id"]] == s["id"])
            )
            source = next(p for p in prior if rename[p["id"]] == weakest["id"])
            weakest["avoid"] = [*weakest.get("avoid", []), source.get("answer", "")]
            weakest["depth"] = weakest.get("depth", 0) + 1
    return Plan("refine", subgoals[: limits.max_subgoals], info)
