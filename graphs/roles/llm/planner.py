"""LLM planner (H-level): task → subgoal DAG through `PlanOutput`, in the same shapes the offline
engine uses (so an offline solver can take over mid-run)."""

from __future__ import annotations

import re

from graphs.roles.base import Plan, Planner, Usage
from graphs.roles.llm.client import Meter, StructuredLLM
from graphs.roles.llm.evidence import clean, data_block, new_nonce
from graphs.roles.llm.guard import LLMRole, OnFailure
from graphs.roles.llm.prompts import PLANNER_SYSTEM, PLANNER_USER, REPLANNER_USER
from graphs.roles.llm.schemas import PlanOutput
from graphs.state import PlanInfo, Subgoal, pending_subgoal
from graphs.text.answer_types import answer_type
from policies.limits import Limits

_SLOT = re.compile(r"\{s(\d+)\}")


def to_plan(out: PlanOutput, rnd: int, feedback: list[str]) -> Plan:
    """Our subgoal ids (`s1`, or `r1s1` in refinement round 1) with slots renamed to match."""

    def sid(n: int) -> str:
        return f"s{n}" if rnd == 0 else f"r{rnd}s{n}"

    subgoals: list[Subgoal] = []
    for i, spec in enumerate(out.subgoals, start=1):
        query = _SLOT.sub(lambda m: "{" + sid(int(m.group(1))) + "}", spec.query)
        kind = spec.kind if spec.depends_on or spec.kind != "bridge" else "lookup"
        depends = [sid(d) for d in spec.depends_on]
        subgoals.append(
            pending_subgoal(sid(i), query, kind, answer_type(query).kind, depends, 0 if rnd == 0 else 1, rnd)
        )
    info = PlanInfo()
    if out.kind == "choice":
        info = PlanInfo(options=out.options[:2], attribute=out.attribute, comparator=out.comparator)
    elif out.kind in ("both", "same"):
        info = PlanInfo(options=out.options[:2], property=out.yes_no_property)
    elif out.kind == "enumeration":
        info = PlanInfo(count=out.count)  # the solver returns that many items, each cited
    if rnd > 0:
        info["feedback"] = feedback
    return Plan(out.kind, subgoals, info)


class LLMPlanner(LLMRole):
    role = "planner"

    def __init__(self, llm: StructuredLLM, fallback: Planner, *, on_failure: OnFailure = "auto") -> None:
        super().__init__(llm, on_failure=on_failure)
        self.fallback = fallback

    def plan(
        self, task: str, *, limits: Limits, feedback: list[str], previous: dict[str, Subgoal], round: int
    ) -> tuple[Plan, Usage]:
        return self._guarded(
            lambda meter: self._plan(meter, task, limits, feedback, previous, round),
            lambda: self.fallback.plan(task, limits=limits, feedback=feedback, previous=previous, round=round),
        )

    def _plan(
        self, meter: Meter, task: str, limits: Limits, feedback: list[str], previous: dict[str, Subgoal], rnd: int
    ) -> Plan:
        if rnd == 0:
            user = PLANNER_USER.format(task=task)
        else:
            last = max((sg.get("round", 0) for sg in previous.values()), default=0)
            history = [f"feedback: {clean(f, 300)}" for f in feedback]
            history += [
                f"subgoal {sg['id']}: {clean(sg.get('query', ''), 300)} → "
                f"{clean(sg.get('answer') or '(nothing found)', 200)} [{sg.get('status', '')}]"
                for sg in sorted(previous.values(), key=lambda s: s["id"])
                if sg.get("round", 0) == last
            ]
            user = REPLANNER_USER.format(task=task, history=data_block("previous_attempt", history, new_nonce()))
        out = self.llm.call(
            PlanOutput,
            PLANNER_SYSTEM.format(max_subgoals=limits.max_subgoals),
            user,
            meter=meter,
            context={"max_subgoals": limits.max_subgoals},
            role="planner",
        )
        return to_plan(out, rnd, feedback)
