"""Offline solver (L-level): extract a typed answer span from evidence sentences, decide whether
another hop is needed, and combine subgoal answers (bridge, choice, yes/no) into a draft."""

from __future__ import annotations

import math
import re
from collections import defaultdict
from typing import Any

from graphs.roles.base import Reading, Usage
from graphs.roles.offline.planner import comparator_of
from graphs.roles.offline.text import (
    DATE_RE,
    NEGATIONS,
    TYPE_FIT,
    YEAR_RE,
    answer_type,
    candidate_spans,
    content_terms,
    normalize_answer,
    numbers_in,
    overlap,
    words,
)
from graphs.state import CitationDict, ClaimDict, Draft, EvidenceItem, SentenceRef, Subgoal
from policies.injection import looks_injected


def _sentences(evidence: list[EvidenceItem]) -> list[tuple[SentenceRef, EvidenceItem, int]]:
    """Every evidence sentence with its position, except text written to steer an assistant: an
    extractive reader must never take its answer from an injected instruction."""
    out = []
    for ev in evidence:
        for pos, sent in enumerate(ev["sentences"] or [_as_sentence(ev)]):
            if not looks_injected(sent["text"]):
                out.append((sent, ev, pos))
    return out


def _as_sentence(ev: EvidenceItem) -> SentenceRef:
    return SentenceRef(node_id=ev["node_id"], text=ev["text"], start=ev["start"], end=ev["end"])


def _citation(sent: SentenceRef, ev: EvidenceItem) -> CitationDict:
    return {
        "source": ev["source"],
        "section": list(ev["section"]),
        "quote": sent["text"],
        "node_id": sent["node_id"],
        "start": sent["start"],
        "end": sent["end"],
    }


class OfflineSolver:
    """Deterministic reader. Scores each candidate span by sentence relevance, answer-type fit,
    closeness to query terms and agreement across sentences."""

    min_confidence = 0.35

    def rank_sentences(self, query: str, evidence: list[EvidenceItem]) -> list[tuple[float, SentenceRef, EvidenceItem]]:
        q_terms = set(content_terms(query))
        ranked = []
        for sent, ev, pos in _sentences(evidence):
            title_terms = set(content_terms(" ".join(ev["section"]) + " " + ev["title"]))
            lexical = overlap(q_terms, sent["text"] + " " + " ".join(ev["section"][-1:]))
            title_bonus = 0.15 * overlap(q_terms, " ".join(title_terms)) if title_terms else 0.0
            score = lexical + title_bonus + 0.2 * max(ev["score"], 0.0) - 0.01 * pos
            ranked.append((score, sent, ev))
        ranked.sort(key=lambda r: r[0], reverse=True)
        return ranked

    def extract(
        self, query: str, evidence: list[EvidenceItem]
    ) -> tuple[str, float, list[tuple[SentenceRef, EvidenceItem]]]:
        """Best answer span for `query`, its confidence, and the sentences that carry it."""
        atype = answer_type(query)
        q_words = {w for w in words(query)}
        q_terms = set(content_terms(query))
        scores: dict[str, list[float]] = defaultdict(list)
        surface: dict[str, str] = {}
        support: dict[str, list[tuple[SentenceRef, EvidenceItem]]] = defaultdict(list)
        ranked = self.rank_sentences(query, evidence)[:12]
        for rel, sent, ev in ranked:
            if rel <= 0:
                continue
            text = sent["text"]
            term_pos = [m.start() for t in q_terms for m in re.finditer(re.escape(t), text.lower())]
            for span in candidate_spans(text):
                span_words = set(words(span.text))
                if not span_words or span_words <= q_words:
                    continue
                fit = TYPE_FIT.get(atype.kind, TYPE_FIT["entity"]).get(span.kind, 0.1)
                if (
                    atype.kind == "date"
                    and span.kind == "date"
                    and atype.noun == "year"
                    and not YEAR_RE.search(span.text)
                ):
                    fit *= 0.5
                if atype.kind == "place" and atype.noun in {"city", "town"} and "," in text[span.end : span.end + 2]:
                    fit *= 1.1
                dist = min((abs(p - span.start) for p in term_pos), default=len(text))
                proximity = 1.0 / (1.0 + dist / 40.0)
                novelty = 1.0 - 0.5 * (len(span_words & q_words) / len(span_words))
                key = normalize_answer(span.text)
                if not key:
                    continue
                if atype.noun and atype.noun in {w.rstrip("s") for w in span_words}:
                    fit *= 1.3
                score = rel * fit * (0.5 + proximity) * novelty
                scores[key].append(score)
                if key not in surface or len(span.text) < len(surface[key]):
                    surface[key] = span.text
                support[key].append((sent, ev))
        if not scores:
            return "", 0.0, []
        # The best mention counts fully; agreement from other sentences adds a little. (Summing would
        # crown whatever entity the evidence mentions most, e.g. the company every page is about.)
        combined = {k: max(v) + 0.25 * (sum(v) - max(v)) for k, v in scores.items()}
        best = max(combined, key=lambda k: combined[k])
        total = sum(combined.values())
        share = combined[best] / total if total else 0.0
        strength = 1.0 - math.exp(-2.5 * combined[best])
        confidence = round(min(1.0, 0.5 * share + 0.5 * strength), 4)
        return surface[best], confidence, support[best][:2]

    # ------------------------------------------------------------------ per subgoal
    def read(
        self, task: str, subgoal: Subgoal, query: str, evidence: list[EvidenceItem], *, last_hop: bool
    ) -> tuple[Reading, Usage]:
        if subgoal.get("kind") in ("compare_item", "yesno_item"):
            ranked = self.rank_sentences(query, evidence)
            best = [(s, ev) for score, s, ev in ranked[:3] if score > 0]
            conf = min(1.0, ranked[0][0]) if ranked else 0.0
            follow = None
            if conf < 0.5 and not last_hop:
                follow = query
            return Reading(
                answer=best[0][0]["text"] if best else "",
                confidence=round(conf, 4),
                support=[s["node_id"] for s, _ in best],
                follow_query=follow,
            ), Usage()
        answer, confidence, support = self.extract(query, evidence)
        follow_query = None
        follow_titles: list[str] = []
        if confidence < self.min_confidence and not last_hop:
            ranked = self.rank_sentences(query, evidence)[:3]
            bridge = [
                sp.text
                for _, s, _ in ranked
                for sp in candidate_spans(s["text"])
                if sp.kind in ("person", "org", "entity", "place")
            ]
            q_lower = query.lower()
            bridge = [b for b in dict.fromkeys(bridge) if b.lower() not in q_lower][:3]
            follow_titles = bridge
            follow_query = (query + " " + " ".join(bridge[:2])).strip()
        return Reading(answer, confidence, [s["node_id"] for s, _ in support], follow_query, follow_titles), Usage()

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
        if plan_kind == "refine":
            answer, conf, support = self.extract(task, all_evidence)
            return self._draft(answer, conf, support, missing), Usage()
        final = current[-1] if current else None
        if final is None:
            return Draft(short_answer="", claims=[], confidence=0.0, missing=["plan"]), Usage()
        chain_claims: list[ClaimDict] = []
        by_node = {s["node_id"]: (s, e) for e in all_evidence for s in (e["sentences"] or [_as_sentence(e)])}
        for sg in current:
            cites = [_citation(*by_node[nid]) for nid in sg.get("support", []) if nid in by_node][:2]
            if sg.get("answer") and cites:
                chain_claims.append(
                    ClaimDict(text=cites[0]["quote"], citations=cites, verdict="", confidence=sg.get("confidence", 0.0))
                )
        answer = final.get("answer", "")
        conf = min([s.get("confidence", 0.0) for s in current] or [0.0])
        return Draft(
            short_answer=answer, claims=_unique_claims(chain_claims), confidence=conf, missing=missing
        ), Usage()

    def _draft(
        self, answer: str, conf: float, support: list[tuple[SentenceRef, EvidenceItem]], missing: list[str]
    ) -> Draft:
        claims = [ClaimDict(text=s["text"], citations=[_citation(s, e)], confidence=conf) for s, e in support[:2]]
        return Draft(short_answer=answer, claims=_unique_claims(claims), confidence=conf, missing=missing)

    def _compare(
        self,
        task: str,
        kind: str,
        info: dict[str, Any],
        current: list[Subgoal],
        evidence: dict[str, list[EvidenceItem]],
    ) -> Draft:
        options: list[str] = list(info.get("options", []))
        per_option: list[tuple[str, list[tuple[float, SentenceRef, EvidenceItem]]]] = []
        for opt, sg in zip(options, current, strict=False):
            ranked = self.rank_sentences(sg.get("query", opt), evidence.get(sg["id"], []))
            opt_terms = set(content_terms(opt))
            ranked = [r for r in ranked if overlap(opt_terms, r[1]["text"] + " " + r[2]["title"]) > 0] or ranked
            per_option.append((opt, ranked[:3]))
        claims: list[ClaimDict] = []
        for _opt, ranked in per_option:
            if ranked:
                _, s, e = ranked[0]
                claims.append(ClaimDict(text=s["text"], citations=[_citation(s, e)], confidence=min(1.0, ranked[0][0])))
        missing = [opt for opt, ranked in per_option if not ranked]
        if kind == "choice":
            answer, conf = self._choose(task, info, per_option)
        else:
            answer, conf = self._yes_no(info, per_option, kind)
        return Draft(short_answer=answer, claims=_unique_claims(claims), confidence=conf, missing=missing)

    def _choose(self, task: str, info: dict[str, Any], per_option: list[tuple[str, list[Any]]]) -> tuple[str, float]:
        direction = info.get("comparator") or comparator_of(task)
        attribute = str(info.get("attribute", ""))
        values: list[tuple[str, float | None, float]] = []
        wants_date = bool(
            re.search(
                r"\b(born|founded|started|released|established|first|earlier|later|older|younger|year)\b", task, re.I
            )
        )
        for opt, ranked in per_option:
            value: float | None = None
            rel = ranked[0][0] if ranked else 0.0
            for _, sent, _ev in ranked:
                text = sent["text"]
                if wants_date:
                    years = [float(y) for y in YEAR_RE.findall(text)]
                    dates = DATE_RE.findall(text)
                    if years or dates:
                        value = years[0] if years else None
                        break
                nums = [n for n in numbers_in(text) if not (1000 <= n <= 2100)] or numbers_in(text)
                attr_terms = set(content_terms(attribute))
                if nums and overlap(attr_terms, text) > 0:
                    value = nums[0]
                    break
            values.append((opt, value, rel))
        if direction and all(v is not None for _, v, _ in values) and len({v for _, v, _ in values}) > 1:
            pick = min(values, key=lambda t: t[1]) if direction == "min" else max(values, key=lambda t: t[1])  # type: ignore[arg-type,return-value]
            return pick[0], 0.85
        best = max(values, key=lambda t: t[2]) if values else ("", None, 0.0)
        return best[0], 0.4

    def _yes_no(self, info: dict[str, Any], per_option: list[tuple[str, list[Any]]], kind: str) -> tuple[str, float]:
        prop = str(info.get("property", ""))
        prop_terms = set(content_terms(prop))
        year_match = re.search(r"\b(before|after)\s+(\d{4})\b", prop)
        verdicts: list[bool] = []
        attributes: list[set[str]] = []
        for _opt, ranked in per_option:
            text = " ".join(s["text"] for _, s, _ in ranked[:2])
            if year_match:
                years = [int(y) for y in YEAR_RE.findall(ranked[0][1]["text"])] if ranked else []
                cutoff = int(year_match.group(2))
                ok = bool(years) and (years[0] < cutoff if year_match.group(1) == "before" else years[0] > cutoff)
            else:
                ok = overlap(prop_terms, text) >= 0.5 and not NEGATIONS.search(text)
            verdicts.append(ok)
            attributes.append(set(content_terms(text)))
        if kind == "same" and len(attributes) == 2:
            shared = (attributes[0] & attributes[1]) - prop_terms
            return ("yes" if len(shared) >= 2 else "no"), 0.55
        return ("yes" if verdicts and all(verdicts) else "no"), 0.7 if verdicts else 0.3


def _unique_claims(claims: list[ClaimDict]) -> list[ClaimDict]:
    seen: set[str] = set()
    out: list[ClaimDict] = []
    for c in claims:
        if c["text"] in seen:
            continue
        seen.add(c["text"])
        out.append(c)
    return out
