"""Candidate answers of one question: evidence sentences ranked by relevance, then every span they
offer (typed spans, entry names, signature and slot values, table cells, page subjects) scored by
answer-type fit, closeness to the question's terms and agreement across hits. The solver
(`solver.py`) decides hops and composes drafts from what this module offers."""

from __future__ import annotations

import re

from graphs.roles.offline.evidence import Ranked, clean_title, sentences_of
from graphs.roles.offline.pool import CandidatePool
from graphs.roles.offline.reader_model import WEIGHTS_PATH, LearnedScorer, load_scorer, offer_features
from graphs.roles.offline.relevance import (
    CONTRASTED,
    PY_LITERAL,
    heading_terms,
    mentions,
    proximity,
    term_positions,
    term_weights,
    wh_preposition,
)
from graphs.roles.offline.slots import OTHER_SLOT, SlotFocus, asked_rows, rows_in_order
from graphs.roles.offline.span_shape import AskedShape
from graphs.roles.offline.structure import (
    asks_default,
    asks_for_a_default,
    entry_of,
    heading_ref,
    looks_like_code,
    named_entry_focus,
    structural_offers,
)
from graphs.roles.offline.type_fit import TYPE_FIT
from graphs.state import EvidenceItem
from graphs.text.answer_types import TECH_KINDS, AnswerType
from graphs.text.code_spans import technical_spans
from graphs.text.dates import YEAR_RANGE_RE, YEAR_RE
from graphs.text.normalize import normalize_answer, title_key
from graphs.text.spans import candidate_spans, classify_span, names_in
from graphs.text.tables import parse_table
from graphs.text.words import PRONOUN_START, content_terms, negates, stem, words
from policies.offline import OfflineThresholds

_PERSON_OPENING = re.compile(
    r"^[^()]{0,80}\((?:born\b|b\.|c\.|[A-Z][a-z]+ \d{1,2}, \d{4}|\d{1,2} [A-Z][a-z]+ \d{4}|\d{4}\s*[–-])"
)
# Span kinds of technical text: matched against the question verbatim, not after normalisation
# (normalising "--brief" to "brief" would find it in "--format=brief").
STRUCTURAL_KINDS = frozenset(["entry", "code", "flag", "exception", "value", "version"])
# Span kinds that fill a parameter slot (a value, not a name): judged by the slot they sit in.
SLOT_KINDS = frozenset(["value", "number", "version", "quoted"])
_ASSIGNMENT = re.compile(r"([A-Za-z_]\w*)=")


def _entry_name(r: Ranked) -> str | None:
    entry = entry_of(r)
    return entry.name if entry is not None else None


def _without_and(normalized: str) -> str:
    """A normalised name without its "and"s: normalising drops "&", so "Salt & Stone" and
    "Salt and Stone" compare equal only this way."""
    return " ".join(w for w in normalized.split() if w != "and")


def rank_sentences(t: OfflineThresholds, query: str, evidence: list[EvidenceItem]) -> list[Ranked]:
    """Evidence sentences by relevance to `query`: dense similarity plus weighted term overlap, with
    the entry the question names and the page of an entity it names weighed up."""
    weights = term_weights(query)
    if asks_default(query) and "default" not in weights:
        weights["default"] = 1.0  # "when no speed is specified": the entry that says "the default" answers
    total = sum(weights.values()) or 1.0
    focus_keys = {title_key(n) for n in names_in(query)}
    focus_docs = {ev["doc_id"] for ev in evidence if title_key(ev["title"]) in focus_keys}
    focus_names = [n for n in names_in(query) if title_key(n) in focus_keys]
    best: dict[str, Ranked] = {}
    entry_focus = named_entry_focus(query, evidence)
    for ev in evidence:
        title_terms = heading_terms(ev["title"] + " " + " ".join(ev["section"][-1:]))
        for pos, sent in enumerate(sentences_of(ev)):
            terms = set(content_terms(sent["text"])) | title_terms
            lexical = sum(w for t, w in weights.items() if t in terms) / total
            sim = sent.get("sim")
            score = lexical if sim is None else (1 - t.dense_weight) * lexical + t.dense_weight * sim
            score -= 0.004 * pos
            score *= entry_focus.get(ev["node_id"], 1.0)
            # The query names an entity with its own document: other pages count only where they name it.
            off_page = focus_docs and ev["doc_id"] not in focus_docs
            if off_page and not any(mentions(sent["text"], n) for n in focus_names):
                score *= t.off_focus
            have = best.get(sent["node_id"])
            if have is None or score > have.score:
                best[sent["node_id"]] = Ranked(score, sent, ev, pos)
    return sorted(best.values(), key=lambda r: r.score, reverse=True)


def gather_candidates(
    t: OfflineThresholds, query: str, evidence: list[EvidenceItem], atype: AnswerType
) -> CandidatePool:
    """Every candidate answer with its best score per sentence, shortest surface form and support."""
    if atype.kind in ("entity", "text", "person", "place", "org") and asks_for_a_default(query, evidence):
        atype = AnswerType("value", atype.noun)  # the question names a parameter with a default
    fit_table = TYPE_FIT.get(atype.kind, TYPE_FIT["entity"])
    q_norm = " " + normalize_answer(query) + " "
    q_loose = f" {_without_and(q_norm)} "
    q_content = set(content_terms(query))
    weights = term_weights(query)
    # Where the answer sits: near the question's verbs, nouns and numbers, not near its subject's name.
    predicate = {t for t, w in weights.items() if w < 2.0 or t[:1].isdigit()}
    asks_life = bool(re.search(r"\b(born|birth|die|died|death|age|old|older|younger)\b", query, re.I))
    wh_prep = wh_preposition(query)
    noun = stem(atype.noun) if atype.noun else ""
    shape = AskedShape.of(query, atype)
    wants_range = atype.kind == "date" and atype.noun in {"years", "timeframe", "period", "era", "span"}
    named = {title_key(n) for n in names_in(query)}
    slots = SlotFocus.of(query, evidence)  # the parameter the question names, if the evidence declares it
    # Entities with a page of their own in the evidence are likelier answers (and bridges).
    pages = {title_key(ev["title"]) for ev in evidence} - named
    pool = CandidatePool()
    surface, support, kinds = pool.surface, pool.support, pool.kinds
    # True/False/None answer a question about a value or a yes/no one, never "how do I …?" or "which …?".
    literal_unwanted = atype.kind not in ("value", "option", "yesno")
    everything = rank_sentences(t, query, evidence)
    ranked = [r for r in everything[: t.read_sentences] if r.score > 0]
    rows = {nid: row for ev in evidence for nid, row in rows_in_order(ev).items()} if slots.asked else {}

    hit_rank: dict[str, int] = {}
    for i, ev in enumerate(evidence):
        hit_rank.setdefault(ev["node_id"], i)
    tech_question = atype.kind in TECH_KINDS
    reading = {"rank": 0, "example": False}  # the sentence being read: its rank, whether it is code

    def offer(
        text: str, kind: str, r: Ranked, factor: float, near: str, *, exact: bool = False, source: str = "span"
    ) -> None:
        key = normalize_answer(text)
        if not key:
            return
        if kind in STRUCTURAL_KINDS:
            if re.search(rf"(?<![\w-]){re.escape(text)}(?![\w-])", query, re.I):
                return  # the question names it ("--pretty=oneline" in the question is not its answer)
        elif f" {key} " in q_norm or f" {_without_and(key)} " in q_loose:
            return  # the question names it ("Tunnels & Trolls" is named by "Tunnels and Trolls")
        fit = fit_table.get(kind, 0.05)
        if fit <= 0.05 or (literal_unwanted and PY_LITERAL.fullmatch(text)):
            return
        if text == "None" and atype.kind == "value":
            fit *= 0.6  # "defaults to None" mostly means "worked out at run time", said elsewhere
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
            fit *= t.own_page
        novelty = 1.0 - 0.35 * (len(span_terms & q_content) / len(span_terms) if span_terms else 0.0)
        score = r.score * fit * factor * novelty
        nid = r.sent["node_id"]
        features = offer_features(
            relevance=r.score,
            sentence=r.sent,
            sentence_rank=int(reading["rank"]),
            sentence_pos=r.pos,
            hit_rank=hit_rank.get(r.ev["node_id"], 20),
            fit=fit,
            factor=factor,
            novelty=novelty,
            in_example=bool(reading["example"]),
            tech_question=tech_question,
            text=text,
            kind=kind,
            source=source,
        )
        pool.offer(key, nid, score, features, r.ev["doc_id"])
        # The shortest spelling, except that a technical spelling (".txt", "--all") beats a prose one.
        structural = kind in STRUCTURAL_KINDS
        known = kinds.get(key)
        if (
            key not in surface
            or exact  # read from a signature: its spelling (".txt", not "txt")
            or (structural and known not in STRUCTURAL_KINDS)
            or (
                len(text) < len(surface[key])
                and (structural or known not in STRUCTURAL_KINDS)
                and not surface[key].endswith("+")  # "2.4+" says "and later"; "2.4" does not
            )
        ):
            surface[key] = text
            kinds[key] = kind
        support[key].append(r)

    for r, value in asked_rows(slots, rows, everything):  # the asked parameter's own rows: `limit=5 – …`
        name = rows[r.sent["node_id"]].name
        factor = 1.5 * slots.factor(name, _entry_name(r)) * (0.5 if value == "None" else 1.0)
        offer(value, "value", r, factor, name, exact=True, source="signature")
    spelled_count = atype.kind == "number" and not re.search(r"\bhow\s+(?:many|much)\b", query, re.I)
    lowercase = "occupation" if atype.kind == "occupation" else ""
    seen_titles: set[str] = set()
    seen_entries: set[str] = set()
    for rank, r in enumerate(ranked):
        text = r.sent["text"]
        where = term_positions(text, weights)
        anchors = {t: p for t, p in where.items() if t in predicate}
        entry = entry_of(r)
        spans = candidate_spans(text, lowercase=lowercase)
        if atype.kind in TECH_KINDS or entry is not None:
            spans += technical_spans(text)
        if atype.kind in ("value", "number", "version") and parse_table(text) is not None:
            spans = []  # a table's values are read as cells under their row and column (`structural_offers`)
        example = looks_like_code(text)
        reading["rank"], reading["example"] = rank, example
        row = rows.get(r.sent["node_id"])
        option = entry.name if entry is not None and entry.kind == "option" else None
        entry_name = entry.name if entry is not None else None
        for span in spans:
            if span.kind == "number" and re.match(r"-[a-z]", text[span.end : span.end + 2]):
                continue  # "2-phase", "4-wheel": a number inside a compound word is not a quantity
            factor = 0.5 + proximity(span.start, span.end, anchors)
            if example:
                factor *= 0.6  # a name in an example is weaker evidence than the entry that documents it
            before = text[max(0, span.start - 14) : span.start].lower()
            if wh_prep and re.search(rf"\b{wh_prep}\s+(?:the\s+)?$", before):
                factor *= 1.15
            if CONTRASTED.search(text[max(0, span.start - 40) : span.start]):
                factor *= 0.5  # "writes to X rather than the harbour log Y": Y is what it does not do
            if spelled_count and span.text.isalpha():
                factor *= 0.5  # a code or limit is written in digits; "two" answers "how many"
            if text[: span.start].count("(") > text[: span.start].count(")"):
                # "(Finnish: Kestävä)": asides rarely answer; "(born 1962)" does when birth is asked.
                keep = span.kind == "number" or (span.kind == "date" and asks_life)
                factor *= 1.0 if keep else 0.5
            near = text[max(0, span.start - 12) : span.start] + " " + text[span.end : span.end + 25]
            if atype.kind == "number" and predicate & set(content_terms(text[span.start : span.end + 12])):
                factor *= 1.3  # "can seat how many" -> "4,210 seated"
            factor *= shape.factor(text, span.start, span.end)  # "X is a coastal area …", "written by X"
            span_text = span.text
            if span.kind in SLOT_KINDS and slots.asked:
                # A value of another parameter (the next row, the next `name=` of a signature) is a neighbour.
                assigned = _ASSIGNMENT.match(span_text)
                owner = assigned.group(1) if assigned else slots.owner(text, span.start, row, option)
                # `name=None` says "worked out at run time": it is never boosted as the asked value.
                factor *= (
                    min(1.0, slots.factor(owner, entry_name, text))
                    if span_text.endswith("None")
                    else slots.factor(owner, entry_name, text)
                )
                if assigned and owner in slots.asked:
                    span_text = span_text[assigned.end() :].strip("'\"")  # `limit=5` answers with 5
            offer(span_text, span.kind, r, factor, near)
        # An entry's name and defaults rest on its best-ranked sentence that negates nothing (a claim
        # "X is the default" checked against "X will not …" reads as a contradiction).
        # (A signature line negates nothing: its "None" is a value.)
        denies = r.sent.get("kind") != "heading" and negates(text)
        first_of_entry = r.ev["node_id"] not in seen_entries and not denies
        if first_of_entry:
            seen_entries.add(r.ev["node_id"])
        for o in structural_offers(query, atype, r, first_of_entry=first_of_entry):
            head = heading_ref(r.ev) if o.signature else None
            factor = o.factor
            if o.source == "default" and slots.asked:  # "…, which defaults to 5": whose default it is
                factor *= slots.factor(slots.owner(text, max(0, text.find(o.text)), row, option), entry_name, text)
            elif o.source == "signature" and entry_name and slots.other_entry(entry_name, o.near):
                factor *= OTHER_SLOT  # the same parameter in a sibling entry's signature
            # A default read from the signature rests on the signature line, not on the body sentence.
            offer(
                o.text,
                o.kind,
                Ranked(r.score, head, r.ev, 0) if head else r,
                factor,
                o.near,
                exact=o.signature,
                source=o.source,
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
            at = text.find(title)
            factor = shape.factor(text, at, at + len(title)) if at >= 0 else 1.0
            offer(title, kind, r, factor, text[:40], source="title")
    pool.settle(candidate_scorer(t))
    return pool


def candidate_scorer(t: OfflineThresholds) -> LearnedScorer | None:
    """The learned candidate model when `scorer="learned"`; None ranks by the hand-set factors."""
    return load_scorer(t.reader_weights or WEIGHTS_PATH) if t.scorer == "learned" else None
