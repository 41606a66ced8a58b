"""Offline solver (L-level): extract a typed answer span from evidence sentences, decide whether
another hop is needed (and which entities and document titles it should chase), and combine subgoal
answers (bridge, choice, yes/no) into a draft whose claims each cite the sentences they rest on."""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from graphs.roles.base import Reading, Usage
from graphs.roles.offline.compare import choose, names_option, yes_no
from graphs.roles.offline.evidence import Ranked, citation, clean_title, sentences_of
from graphs.roles.offline.statements import statement
from graphs.roles.offline.structure import (
    asks_for_a_default,
    entry_of,
    heading_ref,
    looks_like_code,
    signature_default,
    structural_offers,
)
from graphs.roles.offline.support import covering_support
from graphs.roles.offline.type_fit import TYPE_FIT
from graphs.state import ClaimDict, Draft, EvidenceItem, PlanInfo, Subgoal
from graphs.text.answer_types import TECH_KINDS, AnswerType, answer_type
from graphs.text.code_spans import technical_spans
from graphs.text.dates import YEAR_RANGE_RE, YEAR_RE
from graphs.text.normalize import normalize_answer, title_key
from graphs.text.spans import candidate_spans, classify_span, names_in
from graphs.text.words import NEGATIONS, PRONOUN_START, content_terms, stem, words
from policies.offline import OfflineThresholds
from tools.logs import get_logger

log = get_logger(__name__)

_PERSON_OPENING = re.compile(
    r"^[^()]{0,80}\((?:born\b|b\.|c\.|[A-Z][a-z]+ \d{1,2}, \d{4}|\d{1,2} [A-Z][a-z]+ \d{4}|\d{4}\s*[–-])"
)
# Span kinds of technical text: matched against the question verbatim, not after normalisation
# (normalising "--brief" to "brief" would find it in "--format=brief").
STRUCTURAL_KINDS = frozenset(["entry", "code", "flag", "exception", "value", "version"])
FOLLOW_KINDS = frozenset(["person", "name", "org", "entity", "place", "quoted"])
# Which named things a bridge usually runs through: people and works more than countries.
_FOLLOW_PRIOR = {"person": 1.0, "name": 1.0, "quoted": 0.9, "org": 0.85, "entity": 0.8, "place": 0.5}


@dataclass
class Extraction:
    answer: str
    confidence: float
    support: list[Ranked] = field(default_factory=list)
    runner_up: str = ""


@dataclass
class _Pool:
    """Scored answer candidates of one extraction: per answer key, its score in each sentence, its
    shortest surface form, its span kind and the sentences naming it."""

    scores: dict[str, dict[str, float]] = field(default_factory=lambda: defaultdict(dict))
    surface: dict[str, str] = field(default_factory=dict)
    support: dict[str, list[Ranked]] = field(default_factory=lambda: defaultdict(list))
    kinds: dict[str, str] = field(default_factory=dict)
    entries: dict[str, Ranked] = field(default_factory=dict)  # keys offered as an entry's name -> its sentence

    def combined(self, agreement: float) -> dict[str, float]:
        """The best mention counts fully; agreement from other sentences adds a little. (Summing would
        crown whatever entity the evidence mentions most, e.g. the company every page is about.)"""
        out = {}
        for k, per_sentence in self.scores.items():
            v = sorted(per_sentence.values())
            out[k] = v[-1] + agreement * sum(v[-3:-1])
        return out

    def cites(self, key: str) -> list[Ranked]:
        """The sentences naming an answer, best first; an entry's own sentence leads (its heading names it)."""
        ranked = list({r.sent["node_id"]: r for r in sorted(self.support[key], key=lambda r: r.score)}.values())[::-1]
        own = self.entries.get(key)
        return [own, *(r for r in ranked if r is not own)] if own is not None else ranked

    def best(self, avoid: Sequence[str], agreement: float) -> Extraction:
        if not self.scores:
            return Extraction("", 0.0)
        combined = self.combined(agreement)
        ranking = sorted(combined, key=lambda k: combined[k], reverse=True)
        # Answers a verifier rejected cannot be chosen, but still count against the confidence of the
        # runner-up that replaces them: a second choice is a second choice.
        avoid_keys = {normalize_answer(a) for a in avoid}
        order = [k for k in ranking if k not in avoid_keys]
        if not order:
            return Extraction("", 0.0)
        best = order[0]
        rival = next((k for k in ranking if k != best), None)
        total = sum(combined.values())
        share = combined[best] / total if total else 0.0
        margin = max(0.0, (combined[best] - combined[rival]) / combined[best]) if rival else 1.0
        strength = 1.0 - math.exp(-3.0 * combined[best])
        confidence = round(min(1.0, 0.35 * share + 0.35 * strength + 0.3 * margin), 4)
        return Extraction(
            self.surface[best], confidence, self.cites(best)[:2], self.surface[order[1]] if len(order) > 1 else ""
        )

    def top(self, count: int, agreement: float) -> list[Extraction]:
        """Distinct answers of the best one's kind, best first: `count` of them (as many as there are,
        down to a tenth of the best score), or with no count those within half of the best, up to five."""
        if not self.scores:
            return []
        combined = self.combined(agreement)
        ranking = sorted(combined, key=lambda k: combined[k], reverse=True)
        kind = self.kinds.get(ranking[0], "")
        # Items of a list are entries of one kind: when the best is an entry, so are the rest (a flag
        # mentioned in an example is not one of the documented options).
        entries_only = ranking[0] in self.entries
        floor = combined[ranking[0]] * (0.1 if count else 0.5)
        limit = count or 5
        picked: list[str] = []
        for k in ranking:
            if len(picked) >= limit or combined[k] < floor:
                break
            if (
                self.kinds.get(k) != kind
                or (entries_only and k not in self.entries)
                or any(k in p or p in k for p in picked)
            ):
                continue  # one kind of item; "--quiet" and "quiet" are one item
            picked.append(k)
        return [Extraction(self.surface[k], round(min(1.0, combined[k]), 4), self.cites(k)[:1]) for k in picked]


def heading_terms(heading: str) -> set[str]:
    """Content terms of a heading, with the parts of compound names too: "ferry-dock(1)" and
    "max_hops" also match questions that spell them "ferry dock", "max hops"."""
    terms = set(content_terms(heading))
    for t in list(terms):
        if any(ch in t for ch in "-_."):
            terms.update(content_terms(re.sub(r"[-_.]+", " ", t)))
    return terms


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


def _term_positions(text: str, weights: dict[str, float]) -> dict[str, list[int]]:
    """Character positions of every occurrence of each query term in `text`."""
    out: dict[str, list[int]] = defaultdict(list)
    for m in re.finditer(r"[\w'’.-]+", text):
        terms = content_terms(m.group(0))
        if terms and terms[0] in weights:
            out[terms[0]].append(m.start())
    return out


def _proximity(start: int, end: int, anchors: dict[str, list[int]]) -> float:
    """Closeness of a span to the query's terms in its sentence (mean over terms of the nearest hit;
    numbers count double: "from 1988 to 1996" pins an answer down better than "known")."""
    if not anchors:
        return 0.3
    total = weight = 0.0
    for term, ps in anchors.items():
        d = min(min(abs(p - start), abs(p - end)) for p in ps)
        w = 2.0 if term[:1].isdigit() else 1.0
        total += w / (1.0 + d / 30.0)
        weight += w
    return total / weight


# Literals and numbers name no document: following "None" or "512" finds pages that happen to say it.
_LITERAL = re.compile(r"True|False|None|[\d.,:+-]+")


_PY_LITERAL = re.compile(r"True|False|None")


def _followable(text: str) -> bool:
    return not _LITERAL.fullmatch(text.strip("'\"`"))


def _mentions(text: str, name: str) -> bool:
    """`text` names `name` as a name: capitalised ("Winner", not "the winner"), any case for longer names."""
    hits = re.finditer(rf"\b{re.escape(name)}\b", text, re.I)
    return any(" " in name or m.group(0)[:1].isupper() for m in hits)


def _wh_preposition(query: str) -> str:
    """The preposition governing the wh-word ("formed by who", "based in what city"): answers follow it."""
    m = re.search(
        r"\b(by|in|at|from|for|with|of|during|since|on|to|as|under)\s+(?:what|which|who|whom|where)\b", query, re.I
    )
    return m.group(1).lower() if m else ""


class OfflineSolver:
    """Deterministic reader. Scores each candidate span by sentence relevance (dense similarity plus
    weighted term overlap), answer-type fit, closeness to query terms and agreement across hits."""

    def __init__(self, thresholds: OfflineThresholds | None = None) -> None:
        # No per-run attributes: one solver serves concurrent runs (#17), so a run's ranking is a
        # debug log line, never state on `self`.
        self.t = thresholds or OfflineThresholds()

    # ------------------------------------------------------------------ reading
    def rank_sentences(self, query: str, evidence: list[EvidenceItem]) -> list[Ranked]:
        weights = _term_weights(query)
        total = sum(weights.values()) or 1.0
        focus_keys = {title_key(n) for n in names_in(query)}
        focus_docs = {ev["doc_id"] for ev in evidence if title_key(ev["title"]) in focus_keys}
        focus_names = [n for n in names_in(query) if title_key(n) in focus_keys]
        best: dict[str, Ranked] = {}
        for ev in evidence:
            title_terms = heading_terms(ev["title"] + " " + " ".join(ev["section"][-1:]))
            for pos, sent in enumerate(sentences_of(ev)):
                terms = set(content_terms(sent["text"])) | title_terms
                lexical = sum(w for t, w in weights.items() if t in terms) / total
                sim = sent.get("sim")
                score = lexical if sim is None else (1 - self.t.dense_weight) * lexical + self.t.dense_weight * sim
                score -= 0.004 * pos
                # The query names an entity with its own document: other pages count only where they name it.
                off_page = focus_docs and ev["doc_id"] not in focus_docs
                if off_page and not any(_mentions(sent["text"], n) for n in focus_names):
                    score *= self.t.off_focus
                have = best.get(sent["node_id"])
                if have is None or score > have.score:
                    best[sent["node_id"]] = Ranked(score, sent, ev, pos)
        return sorted(best.values(), key=lambda r: r.score, reverse=True)

    def extract(
        self, query: str, evidence: list[EvidenceItem], atype: AnswerType | None = None, avoid: Sequence[str] = ()
    ) -> Extraction:
        """Best answer span for `query`, its confidence, and the sentences that carry it."""
        pool = self._candidates(query, evidence, atype or answer_type(query))
        combined = pool.combined(self.t.agreement)
        ranked = sorted(combined.items(), key=lambda kv: -kv[1])[:8]
        log.debug("solver.candidates", ranked=[(pool.surface[k], round(v, 4)) for k, v in ranked])
        return pool.best(avoid, self.t.agreement)

    def enumerate_items(self, query: str, evidence: list[EvidenceItem], count: int) -> list[Extraction]:
        """The `count` best distinct answers of one kind ("list the three …"); with no count, every
        answer scoring at least half the best, up to five. Each item carries its own support."""
        return self._candidates(query, evidence, answer_type(query)).top(count, self.t.agreement)

    def _candidates(self, query: str, evidence: list[EvidenceItem], atype: AnswerType) -> _Pool:
        """Every candidate answer with its best score per sentence, shortest surface form and support."""
        if atype.kind in ("entity", "text", "person", "place", "org") and asks_for_a_default(query, evidence):
            atype = AnswerType("value", atype.noun)  # the question names a parameter with a default
        fit_table = TYPE_FIT.get(atype.kind, TYPE_FIT["entity"])
        q_norm = " " + normalize_answer(query) + " "
        q_content = set(content_terms(query))
        weights = _term_weights(query)
        # Where the answer sits: near the question's verbs, nouns and numbers, not near its subject's name.
        predicate = {t for t, w in weights.items() if w < 2.0 or t[:1].isdigit()}
        asks_life = bool(re.search(r"\b(born|birth|die|died|death|age|old|older|younger)\b", query, re.I))
        wh_prep = _wh_preposition(query)
        noun = stem(atype.noun) if atype.noun else ""
        wants_range = atype.kind == "date" and atype.noun in {"years", "timeframe", "period", "era", "span"}
        named = {title_key(n) for n in names_in(query)}
        # Entities with a page of their own in the evidence are likelier answers (and bridges).
        pages = {title_key(ev["title"]) for ev in evidence} - named
        pool = _Pool()
        scores, surface, support, kinds = pool.scores, pool.surface, pool.support, pool.kinds
        # True/False/None answer a question about a value or a yes/no one, never "how do I …?" or "which …?".
        literal_unwanted = atype.kind not in ("value", "option", "yesno")
        ranked = [r for r in self.rank_sentences(query, evidence)[: self.t.read_sentences] if r.score > 0]

        def offer(text: str, kind: str, r: Ranked, factor: float, near: str, *, exact: bool = False) -> None:
            key = normalize_answer(text)
            if not key:
                return
            if kind in STRUCTURAL_KINDS:
                if re.search(rf"(?<![\w-]){re.escape(text)}(?![\w-])", query, re.I):
                    return  # the question names it ("--pretty=oneline" in the question is not its answer)
            elif f" {key} " in q_norm:
                return
            fit = fit_table.get(kind, 0.05)
            if fit <= 0.05 or (literal_unwanted and _PY_LITERAL.fullmatch(text)):
                return
            span_terms = set(content_terms(text))
            if atype.kind == "date" and atype.noun == "year" and not YEAR_RE.search(text):
                fit *= 0.5
            if wants_range and YEAR_RANGE_RE.search(text):
                fit *= 1.4
            if noun and noun in span_terms:
                fit *= 1.5  # "Port Lanby City" for "what city"
            elif noun and noun in {stem(w) for w in words(near)}:
                fit *= 1.2
            if title_key(text) in pages and kind not in ("date", "number"):
                fit *= self.t.own_page
            novelty = 1.0 - 0.35 * (len(span_terms & q_content) / len(span_terms) if span_terms else 0.0)
            score = r.score * fit * factor * novelty
            nid = r.sent["node_id"]
            scores[key][nid] = max(scores[key].get(nid, 0.0), score)
            # The shortest spelling, except that a technical spelling (".txt", "--all") beats a prose one.
            structural = kind in STRUCTURAL_KINDS
            known = kinds.get(key)
            if (
                key not in surface
                or exact  # read from a signature: its spelling (".txt", not "txt")
                or (structural and known not in STRUCTURAL_KINDS)
                or (len(text) < len(surface[key]) and (structural or known not in STRUCTURAL_KINDS))
            ):
                surface[key] = text
                kinds[key] = kind
            support[key].append(r)

        lowercase = "occupation" if atype.kind == "occupation" else ""
        seen_titles: set[str] = set()
        seen_entries: set[str] = set()
        for r in ranked:
            text = r.sent["text"]
            where = _term_positions(text, weights)
            anchors = {t: p for t, p in where.items() if t in predicate}
            entry = entry_of(r)
            spans = candidate_spans(text, lowercase=lowercase)
            if atype.kind in TECH_KINDS or entry is not None:
                spans += technical_spans(text)
            example = looks_like_code(text)
            for span in spans:
                factor = 0.5 + _proximity(span.start, span.end, anchors)
                if example:
                    factor *= 0.6  # a name in an example is weaker evidence than the entry that documents it
                before = text[max(0, span.start - 14) : span.start].lower()
                if wh_prep and re.search(rf"\b{wh_prep}\s+(?:the\s+)?$", before):
                    factor *= 1.15
                if text[: span.start].count("(") > text[: span.start].count(")"):
                    # "(Finnish: Kestävä)": asides rarely answer; "(born 1962)" does when birth is asked.
                    keep = span.kind == "number" or (span.kind == "date" and asks_life)
                    factor *= 1.0 if keep else 0.5
                near = text[max(0, span.start - 12) : span.start] + " " + text[span.end : span.end + 25]
                if atype.kind == "number" and predicate & set(content_terms(text[span.start : span.end + 12])):
                    factor *= 1.3  # "can seat how many" -> "4,210 seated"
                offer(span.text, span.kind, r, factor, near)
            # An entry's name and defaults rest on its best-ranked sentence that negates nothing (a claim
            # "X is the default" checked against "X will not …" reads as a contradiction).
            # (A signature line negates nothing: its "None" is a value.)
            negates = r.sent.get("kind") != "heading" and NEGATIONS.search(text)
            first_of_entry = r.ev["node_id"] not in seen_entries and not negates
            if first_of_entry:
                seen_entries.add(r.ev["node_id"])
            for o in structural_offers(query, atype, r, first_of_entry=first_of_entry):
                head = heading_ref(r.ev) if o.signature else None
                # A default read from the signature rests on the signature line, not on the body sentence.
                offer(
                    o.text, o.kind, Ranked(r.score, head, r.ev, 0) if head else r, o.factor, o.near, exact=o.signature
                )
                if o.entry:
                    pool.entries.setdefault(normalize_answer(o.text), r)
            if entry is not None:
                continue  # an entry's subject is its name, offered above
            # The document's subject is a candidate too: "He/She/It …" sentences and opening lines are about it.
            title = clean_title(r.ev["section"][-1] if r.ev["section"] else r.ev["title"])
            opening = r.sent["start"] <= len(r.ev["title"]) + 8
            # Only a title that names something ("Halden Robotics is …"), not a heading ("Products of …").
            title_terms = set(content_terms(title))
            found = len(title_terms & set(content_terms(r.ev["text"])))
            names_thing = bool(title_terms) and found >= 0.75 * len(title_terms)
            if title and names_thing and title not in seen_titles and (opening or PRONOUN_START.match(text)):
                seen_titles.add(title)
                kind = "person" if _PERSON_OPENING.match(text) else classify_span(title + " is", 0, title)
                offer(title, kind, r, 1.0, text[:40])
        return pool

    def bridge_entities(self, query: str, ranked: list[Ranked], limit: int) -> list[str]:
        """Names in the best sentences that the query does not mention: the next hop's targets."""
        q_norm = f" {normalize_answer(query)} "
        scored: dict[str, float] = {}
        for rank, r in enumerate(ranked[:6]):
            for span in candidate_spans(r.sent["text"]):
                key = normalize_answer(span.text)
                if span.kind not in FOLLOW_KINDS or not key or f" {key} " in q_norm or not _followable(span.text):
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
            if ex.answer and ex.answer not in follow_titles and _followable(ex.answer):
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
            query = _filled(sg, subgoals)
            chosen = [Ranked(0.0, *by_node[nid], 0) for nid in sg.get("support", []) if nid in by_node][:2]
            if sg.get("answer") and chosen:
                text = _claim_text(query, sg["answer"], chosen)
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
        return Draft(short_answer=answer, claims=_unique_claims(claims), confidence=conf, missing=missing), Usage()

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
            per_option.append((opt, _about(opt, ranked)))
        if kind == "choice":
            answer, conf, picked = choose(task, info, per_option)
        else:
            answer, conf, picked = yes_no(kind, info, per_option)
        claims: list[ClaimDict] = [
            ClaimDict(text=_about_option(r, per_option), citations=[citation(r.sent, r.ev)], confidence=conf)
            for r in picked
        ]
        missing = [opt for opt, ranked in per_option if not ranked]
        return Draft(short_answer=answer, claims=_unique_claims(claims), confidence=conf, missing=missing)


def _about_option(r: Ranked, per_option: list[tuple[str, list[Ranked]]]) -> str:
    """A comparison's claim: the sentence, led by the option it is about when only its entry's
    heading names it ("--retain-logs: Leaves the old logs in place."), so the claim carries the option chosen."""
    text = r.sent["text"]
    for option, ranked in per_option:
        if any(x is r for x in ranked) and option not in text and names_option(r, option):
            return f"{option}: {text}"
    return text


def _about(option: str, ranked: list[Ranked]) -> list[Ranked]:
    """Sentences about one option: from its own document first, then any that name it."""
    key = normalize_answer(option)
    own = [r for r in ranked if normalize_answer(clean_title(r.ev["title"])) == key or names_option(r, option)]
    terms = set(content_terms(option))
    naming = [r for r in ranked if r not in own and terms and terms <= set(content_terms(r.sent["text"]))]
    return own + naming or ranked[:3]


def _claim_text(query: str, answer: str, chosen: list[Ranked]) -> str:
    """The claim an answer makes. A default read from a signature says which entry and parameter it
    belongs to, in the signature's own notation ("In ferrylib.dock, timeout = 5.0."), so it is checked
    against that line; anything else is the question restated with its answer."""
    head = chosen[0].sent
    body = "\n".join(s["text"] for s in chosen[0].ev["sentences"])
    found = signature_default(head["text"], answer, query, body) if head.get("kind") == "heading" else None
    if found is not None:
        entry, param = found
        return f"In {entry.name}, {param} = {entry.defaults[param]}."
    return statement(query, answer)


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
