"""Offline solver (L-level): extract a typed answer span from evidence sentences, decide whether
another hop is needed (and which entities and document titles it should chase), and combine subgoal
answers (bridge, choice, yes/no) into a draft whose claims each cite the sentences they rest on."""

from __future__ import annotations

import re
from collections.abc import Sequence

from graphs.roles.base import Reading, Usage
from graphs.roles.offline.candidates import gather_candidates, rank_sentences
from graphs.roles.offline.claims import about, about_option, claim_text, filled, unique_claims
from graphs.roles.offline.compare import choose, yes_no
from graphs.roles.offline.entry_meaning import EntryMeaning, read_by_meaning
from graphs.roles.offline.evidence import Ranked, citation, sentences_of
from graphs.roles.offline.item_groups import GROUP_FLOOR, structural_items
from graphs.roles.offline.pool import CandidatePool, Extraction
from graphs.roles.offline.relevance import (
    followable,
)
from graphs.roles.offline.statements import statement
from graphs.roles.offline.support import covering_support
from graphs.state import ClaimDict, Draft, EvidenceItem, PlanInfo, Subgoal
from graphs.text.answer_types import AnswerType, answer_type
from graphs.text.normalize import normalize_answer, title_key
from graphs.text.spans import candidate_spans, names_in
from graphs.text.words import content_terms
from policies.offline import OfflineThresholds
from tools.embeddings import Embedder
from tools.logs import get_logger

log = get_logger(__name__)

FOLLOW_KINDS = frozenset(["person", "name", "org", "entity", "place", "quoted"])
# Which named things a bridge usually runs through: people and works more than countries.
_FOLLOW_PRIOR = {"person": 1.0, "name": 1.0, "quoted": 0.9, "org": 0.85, "entity": 0.8, "place": 0.5}


class OfflineSolver:
    """Deterministic reader. Scores each candidate span by sentence relevance (dense similarity plus
    weighted term overlap), answer-type fit, closeness to query terms and agreement across hits."""

    def __init__(self, thresholds: OfflineThresholds | None = None, embedder: Embedder | None = None) -> None:
        # No per-run attributes: one solver serves concurrent runs (#17), so a run's ranking is a
        # debug log line, never state on `self`.
        self.t = thresholds or OfflineThresholds()
        # Plain-word how-to questions answered by the entry closest in meaning (off unless t.entry_meaning).
        self.meaning = EntryMeaning(
            embedder, min_margin=self.t.entry_meaning_margin, min_entries=self.t.entry_meaning_entries
        )

    # ------------------------------------------------------------------ reading
    def rank_sentences(self, query: str, evidence: list[EvidenceItem]) -> list[Ranked]:
        return rank_sentences(self.t, query, evidence)

    def extract(
        self, query: str, evidence: list[EvidenceItem], atype: AnswerType | None = None, avoid: Sequence[str] = ()
    ) -> Extraction:
        """Best answer span for `query`, its confidence, and the sentences that carry it."""
        by_meaning = read_by_meaning(self.meaning, query, evidence) if self.t.entry_meaning else None
        if by_meaning is not None and by_meaning.answer not in avoid:
            log.debug("solver.by_meaning", answer=by_meaning.answer, confidence=by_meaning.confidence)
            return by_meaning
        pool = self._candidates(query, evidence, atype or answer_type(query))
        combined = pool.combined(self.t.agreement)
        ranked = sorted(combined.items(), key=lambda kv: -kv[1])[:8]
        log.debug("solver.candidates", ranked=[(pool.surface[k], round(v, 4)) for k, v in ranked])
        return pool.best(avoid, self.t.agreement)

    def enumerate_items(self, query: str, evidence: list[EvidenceItem], count: int) -> list[Extraction]:
        """The `count` best distinct answers of one kind ("list the three …"); with no count, every
        answer scoring at least half the best, up to five. Each item carries its own support. A list
        the evidence lays out (sibling entries, field rows, a sentence naming its members) answers first
        (`item_groups`); candidate spans are the fallback."""
        by_structure = structural_items(query, evidence, count, GROUP_FLOOR)
        if by_structure:
            return by_structure
        return self._candidates(query, evidence, answer_type(query)).top(count, self.t.agreement)

    def _candidates(self, query: str, evidence: list[EvidenceItem], atype: AnswerType) -> CandidatePool:
        """Every candidate answer with its best score per sentence, shortest surface form and support."""
        return gather_candidates(self.t, query, evidence, atype)

    def bridge_entities(self, query: str, ranked: list[Ranked], limit: int) -> list[str]:
        """Names in the best sentences that the query does not mention: the next hop's targets."""
        q_norm = f" {normalize_answer(query)} "
        scored: dict[str, float] = {}
        for rank, r in enumerate(ranked[:6]):
            for span in candidate_spans(r.sent["text"]):
                key = normalize_answer(span.text)
                if span.kind not in FOLLOW_KINDS or not key or f" {key} " in q_norm or not followable(span.text):
                    continue
                score = r.score * _FOLLOW_PRIOR.get(span.kind, 0.5) / (1 + 0.15 * rank)
                scored[span.text] = max(scored.get(span.text, 0.0), score)
        return sorted(scored, key=lambda t: scored[t], reverse=True)[:limit]

    # ------------------------------------------------------------------ per subgoal
    def read(
        self, task: str, subgoal: Subgoal, query: str, evidence: list[EvidenceItem], *, last_hop: bool
    ) -> tuple[Reading, Usage]:
        # Later hops retrieve with a widened query; the question being answered stays the first one.
        question = (subgoal.get("queries") or [query])[0]
        if subgoal.get("kind") in ("compare_item", "yesno_item"):
            return self._read_item(subgoal, question, evidence, last_hop), Usage()
        ex = self.extract(question, evidence, avoid=subgoal.get("avoid", []))
        follow_query = None
        follow_titles: list[str] = []
        if ex.confidence < self.t.follow_below and not last_hop:
            ranked = self.rank_sentences(question, evidence)
            follow_titles = self.bridge_entities(question, ranked, self.t.follow_entities)
            if ex.answer and ex.answer not in follow_titles and followable(ex.answer):
                follow_titles.insert(0, ex.answer)
            follow_titles = follow_titles[: self.t.follow_entities]
            if follow_titles:
                follow_query = f"{question.rstrip('?')} {' '.join(follow_titles[:2])}?"
                if follow_query in (subgoal.get("queries") or []) or follow_query == query:
                    follow_query, follow_titles = None, []  # the same hop again would find the same pages
        reading = Reading(
            ex.answer, ex.confidence, [r.sent["node_id"] for r in ex.support], follow_query, follow_titles
        )
        return reading, Usage()

    def _read_item(self, subgoal: Subgoal, query: str, evidence: list[EvidenceItem], last_hop: bool) -> Reading:
        """A comparison item: find the sentences about this option; hop once more if none name it."""
        ranked = self.rank_sentences(query, evidence)
        option_terms = set(content_terms(" ".join(re.findall(r"[A-Z][\w'’.-]*", query))))
        about = [r for r in ranked if option_terms & set(content_terms(r.sent["text"] + " " + r.ev["title"]))] or ranked
        best = about[:3]
        conf = min(1.0, best[0].score) if best else 0.0
        follow = query if conf < 0.5 and not last_hop else None
        return Reading(
            answer=best[0].sent["text"] if best else "",
            confidence=round(conf, 4),
            support=[r.sent["node_id"] for r in best],
            follow_query=follow,
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
        ordered = sorted(subgoals.values(), key=lambda s: (s.get("round", 0), s.get("id", "")))
        latest_round = max((s.get("round", 0) for s in ordered), default=0)
        current = [s for s in ordered if s.get("round", 0) == latest_round] or ordered
        all_evidence = [e for items in evidence.values() for e in items]
        missing = [s["id"] for s in current if s.get("status") != "answered" or not s.get("answer")]
        if plan_kind in ("choice", "both", "same"):
            return self._compare(task, plan_kind, plan_info, current, evidence), Usage()
        if plan_kind == "enumeration" and current:
            return self._enumerate(current[0], plan_info.get("count", 0), evidence, all_evidence), Usage()
        if not current:
            return Draft(short_answer="", claims=[], confidence=0.0, missing=["plan"]), Usage()
        by_node = {s["node_id"]: (s, e) for e in all_evidence for s in sentences_of(e)}
        task_names = {title_key(n) for n in names_in(task)}
        claims: list[ClaimDict] = []
        for sg in current:
            query = filled(sg, subgoals)
            chosen = [Ranked(0.0, *by_node[nid], 0) for nid in sg.get("support", []) if nid in by_node][:2]
            if sg.get("answer") and chosen:
                text = claim_text(query, sg["answer"], chosen, pages=self.t.entry_meaning)
                # The answer's own sentences, plus those stating the rest of the claim (often another page).
                question = (sg.get("queries") or [query])[0]
                pool = self.rank_sentences(question, evidence.get(sg["id"], []))[: self.t.read_sentences]
                named = frozenset(
                    e["doc_id"] for e in evidence.get(sg["id"], []) if title_key(e["title"]) in task_names
                )
                cites = [citation(r.sent, r.ev) for r in covering_support(text, chosen, pool, named)]
                claims.append(ClaimDict(text=text, citations=cites, confidence=sg.get("confidence", 0.0)))
        final_id = str(plan_info.get("final", ""))
        final = next((s for s in current if s["id"].endswith(final_id)), None) if final_id else None
        final = final or current[-1]
        answer = final.get("answer", "")
        conf = min([s.get("confidence", 0.0) for s in current] or [0.0])
        if plan_kind == "conjunction":
            answer = " and ".join(s.get("answer", "") for s in current if s.get("answer"))
        if not answer:
            # The chain broke: answer the whole task from everything retrieved.
            ex = self.extract(task, all_evidence)
            answer, conf = ex.answer, ex.confidence * 0.5
            claims = (
                [
                    ClaimDict(
                        text=statement(task, ex.answer),
                        citations=[citation(r.sent, r.ev) for r in ex.support],
                        confidence=conf,
                    )
                ]
                if ex.answer
                else []
            )
        return Draft(short_answer=answer, claims=unique_claims(claims), confidence=conf, missing=missing), Usage()

    def _enumerate(
        self, sg: Subgoal, count: int, evidence: dict[str, list[EvidenceItem]], all_evidence: list[EvidenceItem]
    ) -> Draft:
        """N items, each cited: one claim per item, the sentence that names it (its section heading
        travels in the citation), so the verifier checks every item against its own evidence."""
        question = (sg.get("queries") or [sg["query"]])[0]
        items = self.enumerate_items(question, evidence.get(sg["id"]) or all_evidence, count)
        claims: list[ClaimDict] = []
        names: list[str] = []
        for item in items:
            if not item.support:
                continue
            r = item.support[0]
            names.append(item.answer)
            # The claim carries its item: a sentence that names it only through its entry's heading is led by it.
            text = r.sent["text"] if item.answer in r.sent["text"] else f"{item.answer}: {r.sent['text']}"
            claims.append(ClaimDict(text=text, citations=[citation(r.sent, r.ev)], confidence=item.confidence))
        missing = [f"{count - len(names)} of {count} items"] if count and len(names) < count else []
        conf = min((i.confidence for i in items), default=0.0)
        return Draft(short_answer=", ".join(names), claims=claims, confidence=conf, missing=missing, items=names)

    def _compare(
        self,
        task: str,
        kind: str,
        info: PlanInfo,
        current: list[Subgoal],
        evidence: dict[str, list[EvidenceItem]],
    ) -> Draft:
        options: list[str] = list(info.get("options", []))
        per_option: list[tuple[str, list[Ranked]]] = []
        for opt, sg in zip(options, current, strict=False):
            ranked = self.rank_sentences(sg.get("query", opt), evidence.get(sg["id"], []))
            per_option.append((opt, about(opt, ranked)))
        if kind == "choice":
            answer, conf, picked = choose(task, info, per_option)
        else:
            answer, conf, picked = yes_no(kind, info, per_option)
        claims: list[ClaimDict] = [
            ClaimDict(text=about_option(r, per_option), citations=[citation(r.sent, r.ev)], confidence=conf)
            for r in picked
        ]
        missing = [opt for opt, ranked in per_option if not ranked]
        return Draft(short_answer=answer, claims=unique_claims(claims), confidence=conf, missing=missing)
