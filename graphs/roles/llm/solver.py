"""LLM solver (L-level): read one subgoal's evidence (`ReadingOutput`) and draft the task's answer
(`DraftOutput`). The model names sentences by id; support and citations are our node ids and
stored text, so quotes stay verbatim; sentences flagged as instructions never become either.

A follow-up hop shows the reader only that hop's new evidence plus what earlier hops established
(the sentences an earlier read relied on, first and outside the sentence cap, not everything
gathered so far), and always asks the subgoal's question, with the rewritten search query as
context. A reading that found an answer never asks for another hop."""

from __future__ import annotations

import json

from graphs.roles.base import Reading, Solver, Usage
from graphs.roles.llm.client import Meter, StructuredLLM
from graphs.roles.llm.evidence import EvidenceView, clean, data_block, new_nonce
from graphs.roles.llm.guard import LLMRole, OnFailure
from graphs.roles.llm.prompts import (
    DRAFTER_SYSTEM,
    DRAFTER_USER,
    READER_ITEM_NOTE,
    READER_LAST_HOP,
    READER_MORE_HOPS,
    READER_QUESTION,
    READER_QUESTION_AND_SEARCH,
    READER_SEARCH_LINE,
    READER_SYSTEM,
    READER_TASK,
    READER_TASK_IS_QUESTION,
    READER_USER,
)
from graphs.roles.llm.schemas import DraftOutput, ReadingOutput
from graphs.state import ClaimDict, Draft, EvidenceItem, PlanInfo, Subgoal
from policies.budget import PromptLimits

# A follow-up read is shown at most this many sentences earlier reads relied on (their summary).
EARLIER_SENTENCES = 5


def _current(subgoals: dict[str, Subgoal]) -> list[Subgoal]:
    ordered = sorted(subgoals.values(), key=lambda s: (s.get("round", 0), s.get("id", "")))
    latest = max((s.get("round", 0) for s in ordered), default=0)
    return [s for s in ordered if s.get("round", 0) == latest] or ordered


def relied_on(subgoal: Subgoal) -> list[str]:
    """The sentences earlier reads of this subgoal relied on (its support), at most
    `EARLIER_SENTENCES`: what a follow-up read is shown of the earlier hops."""
    return list(dict.fromkeys(subgoal.get("support") or []))[:EARLIER_SENTENCES]


def hop_evidence(subgoal: Subgoal, evidence: list[EvidenceItem]) -> list[EvidenceItem]:
    """What a read of this hop needs: what earlier hops established (the sentences an earlier read
    of the subgoal relied on), plus the newest hop's sentences that no earlier hop showed (the
    model already read those and asked for more). On the first hop that is everything."""
    # The subgoal's own hop count: a follow-up search that found only sections earlier hops had
    # already shown adds no item of its hop, and the read then shows what earlier reads relied on
    # (it used to show everything again, the prompt the model had just read and asked more after).
    latest = max(subgoal.get("hops") or 0, *(e.get("hop", 0) for e in evidence), 0)
    if latest <= 1:
        return evidence
    relied = set(relied_on(subgoal))
    seen = {s["node_id"] for e in evidence if e.get("hop", 0) < latest for s in e["sentences"]}
    kept_items: list[EvidenceItem] = []
    for item in evidence:
        new = item.get("hop", 0) == latest
        if new and not item["sentences"]:  # shown whole (no sentence split)
            kept_items.append(item)
            continue
        kept = [s for s in item["sentences"] if s["node_id"] in relied or (new and s["node_id"] not in seen)]
        if kept:
            kept_items.append(EvidenceItem(**{**item, "sentences": kept}))
    return kept_items


def reading_view(subgoal: Subgoal, evidence: list[EvidenceItem], limits: PromptLimits) -> EvidenceView:
    """The sentences one read shows. A follow-up read shows the relied-on sentences first and on
    top of the `read_sentences` cap, so the new hop's sentences are never pushed out by old ones."""
    query = subgoal.get("query", "")  # a long table shows the rows this question's words pick
    if limits.follow_up_evidence == "all":
        first = subgoal.get("support") or []
        return EvidenceView(
            evidence, limit=limits.read_sentences, chars=limits.sentence_chars, first=first, query=query
        )
    shown = hop_evidence(subgoal, evidence)
    relied = relied_on(subgoal)
    present = {s["node_id"] for e in shown for s in e["sentences"]}
    follow_up = (subgoal.get("hops") or 0) > 1 or any(e.get("hop", 0) > 1 for e in evidence)
    limit = limits.read_sentences + (sum(1 for nid in relied if nid in present) if follow_up else 0)
    return EvidenceView(shown, limit=limit, chars=limits.sentence_chars, first=relied, query=query)


def subgoal_question(subgoal: Subgoal, query: str) -> str:
    """The question the subgoal asks (its first search, with slots filled), not a rewritten query."""
    queries = subgoal.get("queries") or []
    return queries[0] if queries else query


class LLMSolver(LLMRole):
    role = "solver"
    reads_concurrently = True  # reads wait on the model: the solve node overlaps independent ones

    def __init__(self, llm: StructuredLLM, fallback: Solver, *, on_failure: OnFailure = "auto") -> None:
        super().__init__(llm, on_failure=on_failure)
        self.fallback = fallback

    # ------------------------------------------------------------------ one subgoal
    def read(
        self, task: str, subgoal: Subgoal, query: str, evidence: list[EvidenceItem], *, last_hop: bool
    ) -> tuple[Reading, Usage]:
        def offline() -> tuple[Reading, Usage]:
            return self.fallback.read(task, subgoal, query, evidence, last_hop=last_hop)

        view = reading_view(subgoal, evidence, self.limits)
        if not view:  # nothing to read: the model could only guess
            return offline()

        def with_llm(meter: Meter) -> Reading:
            system, user, role = self._reading_request(task, subgoal, query, view, last_hop)
            out = self.llm.call(ReadingOutput, system, user, role=role, meter=meter, context={"ids": view.ids})
            return self._reading(out, view, last_hop)

        return self._guarded(with_llm, offline)

    async def aread(
        self, task: str, subgoal: Subgoal, query: str, evidence: list[EvidenceItem], *, last_hop: bool
    ) -> tuple[Reading, Usage]:
        """`read` as a coroutine: the request is `ainvoke`d on the caller's event loop, so the
        reads of one solve step wait on the model together without a thread each."""

        def offline() -> tuple[Reading, Usage]:
            return self.fallback.read(task, subgoal, query, evidence, last_hop=last_hop)

        view = reading_view(subgoal, evidence, self.limits)
        if not view:
            return offline()

        async def with_llm(meter: Meter) -> Reading:
            system, user, role = self._reading_request(task, subgoal, query, view, last_hop)
            out = await self.llm.acall(ReadingOutput, system, user, role=role, meter=meter, context={"ids": view.ids})
            return self._reading(out, view, last_hop)

        return await self._aguarded(with_llm, offline)

    def _reading_request(
        self, task: str, subgoal: Subgoal, query: str, view: EvidenceView, last_hop: bool
    ) -> tuple[str, str, str]:
        """The reader's system prompt, user prompt and role label for one read."""
        item = subgoal.get("kind") in ("compare_item", "yesno_item")
        nonce = new_nonce()
        question = subgoal_question(subgoal, query)
        same = " ".join(task.split()).casefold() == " ".join(question.split()).casefold()
        lines = [clean(question, 400)]
        if query != question:
            lines.append(READER_SEARCH_LINE.format(search=clean(query, 400)))
        user = READER_USER.format(
            task_line=READER_TASK_IS_QUESTION if same else READER_TASK.format(task=task),
            question_note=READER_QUESTION_AND_SEARCH if len(lines) > 1 else READER_QUESTION,
            question=data_block("subgoal_question", lines, nonce),
            item_note=READER_ITEM_NOTE if item else "",
            evidence=view.render(nonce),
            hop_note=READER_LAST_HOP if last_hop else READER_MORE_HOPS,
        )
        follow_up = (subgoal.get("hops") or 0) > 1 or bool(subgoal.get("queries"))
        return READER_SYSTEM.format(), user, "reader.follow_up" if follow_up else "reader"

    @staticmethod
    def _reading(out: ReadingOutput, view: EvidenceView, last_hop: bool) -> Reading:
        support = view.usable(out.support)  # a flagged sentence is never support
        answer = out.answer if support and not out.not_found else ""
        follow = out.follow_query if out.follow_query and not last_hop and not answer else None
        return Reading(
            answer=answer,
            confidence=round(out.confidence, 4) if answer else 0.0,
            support=[view.node_id(a) for a in support],
            follow_query=follow,
            follow_titles=[t for t in out.follow_titles if t] if follow else [],
            not_found=not answer,
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
        view = EvidenceView(
            items, limit=self.limits.draft_sentences, chars=self.limits.sentence_chars, first=support, query=task
        )
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
        shown_keys = ("options", "attribute", "comparator", "property", "count")
        plan = {k: v for k, v in plan_info.items() if k in shown_keys and v}
        nonce = new_nonce()
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
            plan=data_block("plan", [clean(json.dumps(plan, ensure_ascii=False), 600)], nonce) if plan else "",
            answers=data_block("subgoal_answers", answers, nonce),
            evidence=view.render(nonce),
        )
        out = self.llm.call(
            DraftOutput,
            DRAFTER_SYSTEM.format(max_claims=self.limits.max_claims),
            user,
            meter=meter,
            context={"ids": view.ids},
            role="drafter",
        )
        listed = plan_kind == "enumeration" and bool(out.items)
        max_claims = max(self.limits.max_claims, len(out.items)) if listed else self.limits.max_claims
        claims: list[ClaimDict] = []
        items: list[str] = []
        seen: set[str] = set()
        for i, spec in enumerate(out.claims[:max_claims]):
            cites = view.usable(spec.citations)  # flagged sentences never count as a claim's support
            if spec.text in seen or not cites or (listed and (i >= len(out.items) or not out.items[i].strip())):
                continue  # an enumeration keeps item i only with its own cited claim i
            seen.add(spec.text)
            claims.append(
                ClaimDict(
                    text=spec.text,
                    citations=[view.citation(a) for a in cites],
                    verdict="",
                    confidence=round(out.confidence, 4),
                )
            )
            if listed:
                items.append(out.items[i].strip())
        short = (", ".join(items) if listed else out.short_answer) if claims else ""  # unsupported: no answer
        missing = [s["id"] for s in current if s.get("status") != "answered" or not s.get("answer")]
        count = int(plan_info.get("count") or 0)
        if listed and count and len(items) < count:
            missing.append(f"{count - len(items)} of {count} items")
        draft = Draft(
            short_answer=short,
            claims=claims,
            confidence=round(out.confidence, 4) if short else 0.0,
            missing=missing,
            not_found=out.not_found or not short,
        )
        if items:
            draft["items"] = items
        return draft
