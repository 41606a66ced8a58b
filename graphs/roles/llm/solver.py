"""LLM solver (L-level): read one subgoal's evidence (`ReadingOutput`) and draft the task's answer
(`DraftOutput`). The model names sentences by id; support and citations are our node ids and
stored text, so quotes stay verbatim."""

from __future__ import annotations

import json

from graphs.roles.base import Reading, Solver, Usage
from graphs.roles.llm.client import Meter, StructuredLLM
from graphs.roles.llm.evidence import EvidenceView, clean, data_block
from graphs.roles.llm.guard import LLMRole, OnFailure
from graphs.roles.llm.prompts import (
    DRAFTER_SYSTEM,
    DRAFTER_USER,
    READER_ITEM_NOTE,
    READER_LAST_HOP,
    READER_MORE_HOPS,
    READER_SYSTEM,
    READER_USER,
)
from graphs.roles.llm.schemas import DraftOutput, ReadingOutput
from graphs.state import ClaimDict, Draft, EvidenceItem, PlanInfo, Subgoal


def _current(subgoals: dict[str, Subgoal]) -> list[Subgoal]:
    ordered = sorted(subgoals.values(), key=lambda s: (s.get("round", 0), s.get("id", "")))
    latest = max((s.get("round", 0) for s in ordered), default=0)
    return [s for s in ordered if s.get("round", 0) == latest] or ordered


class LLMSolver(LLMRole):
    role = "solver"

    def __init__(self, llm: StructuredLLM, fallback: Solver, *, on_failure: OnFailure = "degrade") -> None:
        super().__init__(llm, on_failure=on_failure)
        self.fallback = fallback

    # ------------------------------------------------------------------ one subgoal
    def read(
        self, task: str, subgoal: Subgoal, query: str, evidence: list[EvidenceItem], *, last_hop: bool
    ) -> tuple[Reading, Usage]:
        def offline() -> tuple[Reading, Usage]:
            return self.fallback.read(task, subgoal, query, evidence, last_hop=last_hop)

        view = EvidenceView(evidence, limit=self.limits.read_sentences, chars=self.limits.sentence_chars)
        if not view:  # nothing to read: the model could only guess
            return offline()
        return self._guarded(lambda meter: self._read(meter, task, subgoal, query, view, last_hop), offline)

    def _read(
        self, meter: Meter, task: str, subgoal: Subgoal, query: str, view: EvidenceView, last_hop: bool
    ) -> Reading:
        item = subgoal.get("kind") in ("compare_item", "yesno_item")
        user = READER_USER.format(
            task=task,
            query=query,
            item_note=READER_ITEM_NOTE if item else "",
            evidence=view.render(),
            hop_note=READER_LAST_HOP if last_hop else READER_MORE_HOPS,
        )
        out = self.llm.call(ReadingOutput, READER_SYSTEM, user, meter=meter, context={"ids": view.ids})
        follow = out.follow_query if out.follow_query and not last_hop else None
        return Reading(
            answer=out.answer,
            confidence=round(out.confidence, 4),
            support=[view.node_id(a) for a in out.support],
            follow_query=follow,
            follow_titles=[t for t in out.follow_titles if t] if follow else [],
        )

    # ------------------------------------------------------------------ whole task
    def finalize(
        self,
        task: str,
        plan_kind: str,
        plan_info: PlanInfo,
        subgoals: dict[str, Subgoal],
        evidence: dict[str, list[EvidenceItem]],
    ) -> tuple[Draft, Usage]:
        def offline() -> tuple[Draft, Usage]:
            return self.fallback.finalize(task, plan_kind, plan_info, subgoals, evidence)

        current = _current(subgoals)
        order = [s["id"] for s in current] + [k for k in evidence if k not in {s["id"] for s in current}]
        items = [e for key in order for e in evidence.get(key, [])]
        support = [nid for s in current for nid in s.get("support", [])]
        view = EvidenceView(items, limit=self.limits.draft_sentences, chars=self.limits.sentence_chars, first=support)
        if not view:
            return offline()
        return self._guarded(lambda meter: self._draft(meter, task, plan_kind, plan_info, current, view), offline)

    def _draft(
        self,
        meter: Meter,
        task: str,
        plan_kind: str,
        plan_info: PlanInfo,
        current: list[Subgoal],
        view: EvidenceView,
    ) -> Draft:
        plan = {k: v for k, v in plan_info.items() if k in ("options", "attribute", "comparator", "property") and v}
        answers = []
        for sg in current:
            cited = [a for nid in sg.get("support", []) if (a := view.alias_of(nid))]
            answers.append(
                f"{sg['id']}: {clean(sg.get('query', ''), 300)} → {clean(sg.get('answer') or '(not found)', 200)}"
                + (f" (from {', '.join(cited)})" if cited else "")
            )
        user = DRAFTER_USER.format(
            task=task,
            kind=plan_kind,
            plan=data_block("plan", [clean(json.dumps(plan, ensure_ascii=False), 600)]) if plan else "",
            answers=data_block("subgoal_answers", answers),
            evidence=view.render(),
        )
        out = self.llm.call(
            DraftOutput,
            DRAFTER_SYSTEM.format(max_claims=self.limits.max_claims),
            user,
            meter=meter,
            context={"ids": view.ids},
        )
        claims: list[ClaimDict] = []
        seen: set[str] = set()
        for spec in out.claims[: self.limits.max_claims]:
            if spec.text in seen:
                continue
            seen.add(spec.text)
            claims.append(
                ClaimDict(
                    text=spec.text,
                    citations=[view.citation(a) for a in spec.citations],
                    verdict="",
                    confidence=round(out.confidence, 4),
                )
            )
        missing = [s["id"] for s in current if s.get("status") != "answered" or not s.get("answer")]
        return Draft(short_answer=out.short_answer, claims=claims, confidence=round(out.confidence, 4), missing=missing)
