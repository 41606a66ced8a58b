"""Offline solver (L-level): extract a typed answer span from evidence sentences, decide whether
another hop is needed (and which entities and document titles it should chase), and combine subgoal
answers (bridge, choice, yes/no) into a draft whose claims each cite the sentences they rest on."""

from __future__ import annotations

import math
import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from graphs.roles.base import Reading, Usage
from graphs.roles.offline.compare import choose, yes_no
from graphs.roles.offline.statements import statement
from graphs.roles.offline.text import (
    PRONOUN_START,
    TYPE_FIT,
    YEAR_RE,
    AnswerType,
    answer_type,
    candidate_spans,
    classify_span,
    content_terms,
    normalize_answer,
    stem,
    words,
)
from graphs.state import CitationDict, ClaimDict, Draft, EvidenceItem, SentenceRef, Subgoal
from policies.offline import OfflineThresholds

_PAREN = re.compile(r"\s*\([^)]*\)\s*$")
_PERSON_OPENING = re.compile(
    r"^[^()]{0,80}\((?:born\b|b\.|c\.|[A-Z][a-z]+ \d{1,2}, \d{4}|\d{1,2} [A-Z][a-z]+ \d{4}|\d{4}\s*[–-])"
)
FOLLOW_KINDS = frozenset(["person", "name", "org", "entity", "place", "quoted"])


@dataclass
class Ranked:
    """One evidence sentence with its relevance to the query being read."""

    score: float
    sent: SentenceRef
    ev: EvidenceItem
    pos: int


@dataclass
class Extraction:
    answer: str
    confidence: float
    support: list[Ranked] = field(default_factory=list)
    runner_up: str = ""


def sentences_of(ev: EvidenceItem) -> list[SentenceRef]:
    return ev["sentences"] or [SentenceRef(node_id=ev["node_id"], text=ev["text"], start=ev["start"], end=ev["end"])]


def citation(sent: SentenceRef, ev: EvidenceItem) -> CitationDict:
    return {
        "source": ev["source"],
        "section": list(ev["section"]),
        "quote": sent["text"],
        "node_id": sent["node_id"],
        "start": sent["start"],
        "end": sent["end"],
    }


def clean_title(title: str) -> str:
    return _PAREN.sub("", title).strip()


def _term_weights(query: str) -> dict[str, float]:
    """Content terms of the query; words of names count double (they pick the right document)."""
    weights: dict[str, float] = {}
    for raw in re.findall(r"[\w'’.-]+", query):
        w = raw.lower().strip("'’.")
        terms = content_terms(w)
        if not terms:
            continue
        weights[terms[0]] = max(weights.get(terms[0], 0.0), 2.0 if raw[:1].isupper() or raw[:1].isdigit() else 1.0)
    return weights


class OfflineSolver:
    """Deterministic reader. Scores each candidate span by sentence relevance (dense similarity plus
    weighted term overlap), answer-type fit, closeness to query terms and agreement across hits."""

    def __init__(self, thresholds: OfflineThresholds | None = None) -> None:
        self.t = thresholds or OfflineThresholds()

    # ------------------------------------------------------------------ reading
    def rank_sentences(self, query: str, evidence: list[EvidenceItem]) -> list[Ranked]:
        weights = _term_weights(query)
        total = sum(weights.values()) or 1.0
        best: dict[str, Ranked] = {}
        for ev in evidence:
            title_terms = set(content_terms(ev["title"] + " " + " ".join(ev["section"][-1:])))
            for pos, sent in enumerate(sentences_of(ev)):
                terms = set(content_terms(sent["text"])) | title_terms
                lexical = sum(w for t, w in weights.items() if t in terms) / total
                sim = sent.get("sim")
                score = lexical if sim is None else (1 - self.t.dense_weight) * lexical + self.t.dense_weight * sim
                score -= 0.004 * pos
                have = best.get(sent["node_id"])
                if have is None or score > have.score:
                    best[sent["node_id"]] = Ranked(score, sent, ev, pos)
        return sorted(best.values(), key=lambda r: r.score, reverse=True)

    def extract(
        self, query: str, evidence: list[EvidenceItem], atype: AnswerType | None = None, exclude: str = ""
    ) -> Extraction:
        """Best answer span for `query`, its confidence, and the sentences that carry it."""
        atype = atype or answer_type(query)
        fit_table = TYPE_FIT.get(atype.kind, TYPE_FIT["entity"])
        q_words = set(words(query + " " + exclude))
        q_norm = normalize_answer(query + " " + exclude)
        q_stems = set(_term_weights(query))
        noun = stem(atype.noun) if atype.noun else ""
        scores: dict[str, dict[str, float]] = defaultdict(dict)  # answer -> sentence -> best score there
        surface: dict[str, str] = {}
        support: dict[str, list[Ranked]] = defaultdict(list)
        ranked = [r for r in self.rank_sentences(query, evidence)[: self.t.read_sentences] if r.score > 0]

        def offer(text: str, kind: str, r: Ranked, proximity: float, near: str) -> None:
            key = normalize_answer(text)
            span_words = set(words(text))
            if not key or not span_words or span_words <= q_words or f" {key} " in f" {q_norm} ":
                return
            fit = fit_table.get(kind, 0.05)
            if fit <= 0.05:
                return
            if atype.kind == "date" and atype.noun == "year" and not YEAR_RE.search(text):
                fit *= 0.5
            if noun and (noun in {stem(w) for w in span_words} or noun in {stem(w) for w in words(near)}):
                fit *= 1.3
            novelty = 1.0 - 0.6 * len(span_words & q_words) / len(span_words)
            score = r.score * fit * (0.5 + proximity) * novelty
            nid = r.sent["node_id"]
            scores[key][nid] = max(scores[key].get(nid, 0.0), score)
            if key not in surface or len(text) < len(surface[key]):
                surface[key] = text
            support[key].append(r)

        lowercase = "occupation" if atype.kind == "occupation" else ""
        seen_titles: set[str] = set()
        for r in ranked:
            text = r.sent["text"]
            lower = text.lower()
            term_pos = [
                m.start() for w in words(text) if stem(w) in q_stems for m in [re.search(re.escape(w), lower)] if m
            ]
            for span in candidate_spans(text, lowercase=lowercase):
                dist = min((abs(p - span.start) for p in term_pos), default=len(text))
                near = text[max(0, span.start - 12) : span.start] + " " + text[span.end : span.end + 25]
                offer(span.text, span.kind, r, 1.0 / (1.0 + dist / 40.0), near)
            # The document's subject is a candidate too: "He/She/It …" sentences and opening lines are about it.
            title = clean_title(r.ev["section"][-1] if r.ev["section"] else r.ev["title"])
            opening = r.sent["start"] <= len(r.ev["title"]) + 8
            if title and title not in seen_titles and (opening or PRONOUN_START.match(text)):
                seen_titles.add(title)
                kind = "person" if _PERSON_OPENING.match(text) else classify_span(title + " is", 0, title)
                offer(title, kind, r, 0.5, text[:40])
        if not scores:
            return Extraction("", 0.0)
        # The best mention counts fully; agreement from other sentences adds a little. (Summing would
        # crown whatever entity the evidence mentions most, e.g. the company every page is about.)
        combined = {}
        for k, per_sentence in scores.items():
            v = sorted(per_sentence.values())
            combined[k] = v[-1] + 0.25 * sum(v[-4:-1])
        order = sorted(combined, key=lambda k: combined[k], reverse=True)
        best = order[0]
        total = sum(combined.values())
        share = combined[best] / total if total else 0.0
        margin = (combined[best] - combined[order[1]]) / combined[best] if len(order) > 1 else 1.0
        strength = 1.0 - math.exp(-3.0 * combined[best])
        confidence = round(min(1.0, 0.35 * share + 0.35 * strength + 0.3 * margin), 4)
        cites = sorted(support[best], key=lambda r: r.score, reverse=True)
        return Extraction(surface[best], confidence, cites[:2], surface[order[1]] if len(order) > 1 else "")

    def bridge_entities(self, query: str, ranked: list[Ranked], limit: int) -> list[str]:
        """Names in the best sentences that the query does not mention: the next hop's targets."""
        q_norm = normalize_answer(query)
        out: list[str] = []
        for r in ranked[:4]:
            for span in candidate_spans(r.sent["text"]):
                key = normalize_answer(span.text)
                if span.kind in FOLLOW_KINDS and key and f" {key} " not in f" {q_norm} " and span.text not in out:
                    out.append(span.text)
        return out[:limit]

    # ------------------------------------------------------------------ per subgoal
    def read(
        self, task: str, subgoal: Subgoal, query: str, evidence: list[EvidenceItem], *, last_hop: bool
    ) -> tuple[Reading, Usage]:
        # Later hops retrieve with a widened query; the question being answered stays the first one.
        question = (subgoal.get("queries") or [query])[0]
        if subgoal.get("kind") in ("compare_item", "yesno_item"):
            return self._read_item(subgoal, question, evidence, last_hop), Usage()
        ex = self.extract(question, evidence)
        follow_query = None
        follow_titles: list[str] = []
        if ex.confidence < self.t.follow_below and not last_hop:
            ranked = self.rank_sentences(question, evidence)
            follow_titles = self.bridge_entities(question, ranked, self.t.follow_entities)
            if ex.answer and ex.answer not in follow_titles:
                follow_titles.insert(0, ex.answer)
            follow_titles = follow_titles[: self.t.follow_entities]
            if follow_titles:
                follow_query = f"{question.rstrip('?')} {' '.join(follow_titles[:2])}?"
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
        plan_info: dict[str, Any],
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
        if not current:
            return Draft(short_answer="", claims=[], confidence=0.0, missing=["plan"]), Usage()
        by_node = {s["node_id"]: (s, e) for e in all_evidence for s in sentences_of(e)}
        claims: list[ClaimDict] = []
        for sg in current:
            query = _filled(sg, subgoals)
            cites = [citation(*by_node[nid]) for nid in sg.get("support", []) if nid in by_node][:2]
            if sg.get("answer") and cites:
                claims.append(
                    ClaimDict(
                        text=statement(query, sg["answer"]), citations=cites, confidence=sg.get("confidence", 0.0)
                    )
                )
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
        return Draft(short_answer=answer, claims=_unique_claims(claims), confidence=conf, missing=missing), Usage()

    def _compare(
        self,
        task: str,
        kind: str,
        info: dict[str, Any],
        current: list[Subgoal],
        evidence: dict[str, list[EvidenceItem]],
    ) -> Draft:
        options: list[str] = list(info.get("options", []))
        per_option: list[tuple[str, list[Ranked]]] = []
        for opt, sg in zip(options, current, strict=False):
            ranked = self.rank_sentences(sg.get("query", opt), evidence.get(sg["id"], []))
            per_option.append((opt, _about(opt, ranked)))
        if kind == "choice":
            answer, conf, picked = choose(task, info, per_option)
        else:
            answer, conf, picked = yes_no(kind, info, per_option)
        claims: list[ClaimDict] = [
            ClaimDict(text=r.sent["text"], citations=[citation(r.sent, r.ev)], confidence=conf) for r in picked
        ]
        missing = [opt for opt, ranked in per_option if not ranked]
        return Draft(short_answer=answer, claims=_unique_claims(claims), confidence=conf, missing=missing)


def _about(option: str, ranked: list[Ranked]) -> list[Ranked]:
    """Sentences about one option: from its own document first, then any that name it."""
    key = normalize_answer(option)
    own = [r for r in ranked if normalize_answer(clean_title(r.ev["title"])) == key]
    terms = set(content_terms(option))
    naming = [r for r in ranked if r not in own and terms and terms <= set(content_terms(r.sent["text"]))]
    return own + naming or ranked[:3]


def _filled(sg: Subgoal, subgoals: dict[str, Subgoal]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: subgoals.get(m.group(1), {}).get("answer", "") or m.group(0), sg["query"])


def _unique_claims(claims: list[ClaimDict]) -> list[ClaimDict]:
    seen: set[str] = set()
    out: list[ClaimDict] = []
    for c in claims:
        if c["text"] in seen:
            continue
        seen.add(c["text"])
        out.append(c)
    return out
