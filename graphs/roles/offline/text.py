"""Light-weight text analysis for the offline engine: words, answer types, candidate spans.

Deterministic and dependency-free on purpose: this is what runs with no model at all.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

STOPWORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "of",
        "in",
        "on",
        "at",
        "to",
        "for",
        "from",
        "by",
        "with",
        "and",
        "or",
        "but",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "being",
        "as",
        "that",
        "this",
        "these",
        "those",
        "it",
        "its",
        "which",
        "who",
        "whom",
        "whose",
        "what",
        "when",
        "where",
        "why",
        "how",
        "do",
        "does",
        "did",
        "has",
        "have",
        "had",
        "not",
        "no",
        "than",
        "then",
        "there",
        "their",
        "they",
        "them",
        "he",
        "she",
        "his",
        "her",
        "i",
        "you",
        "your",
        "we",
        "our",
        "us",
        "me",
        "my",
        "into",
        "about",
        "over",
        "under",
        "also",
        "both",
        "either",
        "same",
        "one",
        "any",
        "all",
        "some",
        "can",
        "could",
        "would",
        "should",
        "will",
        "shall",
        "may",
        "might",
        "must",
        "such",
        "only",
        "other",
        "another",
        "more",
        "most",
        "many",
        "much",
        "if",
        "so",
        "very",
        "name",
        "named",
        "called",
        "known",
    ]
)
WH_WORDS = frozenset(["what", "which", "who", "whom", "whose", "when", "where", "why", "how"])
AUX_START = re.compile(r"^(is|are|was|were|do|does|did|can|could|has|have|had|will|would|should)\b", re.I)
_WORD = re.compile(r"[A-Za-z0-9][\w'’.-]*[A-Za-z0-9]|[A-Za-z0-9]", re.UNICODE)
MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
DATE_RE = re.compile(
    rf"\b(?:(?:\d{{1,2}}\s+)?(?:{MONTHS})(?:\s+\d{{1,2}})?,?\s+\d{{3,4}}|(?:{MONTHS})\s+\d{{1,2}}|1[0-9]\d\d|20\d\d)\b"
)
YEAR_RE = re.compile(r"\b(1[0-9]\d\d|20\d\d)\b")
UNITS = (
    r"%|percent|per cent|million|billion|thousand|kilograms?|kg|grams?|tonnes?|tons?|pounds?|lbs?|minutes?|"
    r"hours?|seconds?|days?|weeks?|months?|years?|km|kilometres?|kilometers?|metres?|meters?|m|miles?|feet|ft|"
    r"inches|cm|mm|euros?|dollars?|people|employees|members|seats|episodes|copies|games|points|goals|km/h|mph"
)
NUMBER_RE = re.compile(
    rf"(?:[$€£]\s?)?\b\d[\d,]*(?:\.\d+)?(?:\s*(?:{UNITS})\b)?(?:\s+(?:million|billion)\s+\w+)?", re.I
)
CAP_SPAN = re.compile(
    r"(?:[A-Z][\w'’.&-]*|\d+)(?:(?:\s+(?:of|the|de|da|del|di|von|van|der|du|la|le|and|&|for|on|in)){0,2}\s+"
    r"(?:[A-Z][\w'’.&-]*|\d+))*"
)
QUOTED = re.compile(r"[\"“]([^\"”]{2,80})[\"”]")
ORG_WORDS = frozenset(
    [
        "inc",
        "inc.",
        "corp",
        "corporation",
        "company",
        "co",
        "ltd",
        "limited",
        "group",
        "university",
        "college",
        "school",
        "institute",
        "robotics",
        "records",
        "band",
        "club",
        "fc",
        "party",
        "airlines",
        "airline",
        "bank",
        "studios",
        "studio",
        "network",
        "channel",
        "magazine",
        "newspaper",
        "council",
        "agency",
        "association",
        "society",
        "foundation",
        "works",
        "plant",
        "lab",
        "laboratory",
        "team",
        "league",
        "church",
    ]
)
PLACE_PREPS = frozenset(["in", "at", "near", "from", "to", "of", "outside", "into"])
PERSON_CUES = re.compile(
    r"\b(born|died|married|son|daughter|wife|husband|actor|actress|singer|writer|director|"
    r"founder|founded|chief|ceo|president|manager|led|leads|managed|directed|wrote|played)\b",
    re.I,
)
SENT_INITIAL = frozenset(
    [
        "The",
        "A",
        "An",
        "In",
        "On",
        "At",
        "He",
        "She",
        "It",
        "They",
        "His",
        "Her",
        "Its",
        "Their",
        "This",
        "That",
        "These",
        "Those",
        "As",
        "After",
        "Before",
        "During",
        "When",
        "While",
        "From",
        "For",
        "By",
        "With",
        "Since",
        "Although",
        "Both",
        "Each",
    ]
)


def words(text: str) -> list[str]:
    return [w.lower().strip("'’.") for w in _WORD.findall(text)]


def stem(word: str) -> str:
    """A tiny suffix stripper: enough to match 'founded'/'founder'/'founding' and plurals."""
    w = word.lower()
    for suffix in (
        "ational",
        "ation",
        "ments",
        "ment",
        "ingly",
        "ings",
        "ing",
        "edly",
        "ies",
        "ers",
        "er",
        "ed",
        "es",
        "s",
    ):
        if w.endswith(suffix) and len(w) - len(suffix) >= 3:
            return w[: -len(suffix)] + ("y" if suffix == "ies" else "")
    return w


def content_terms(text: str) -> list[str]:
    """Stemmed content words, in order, without stopwords."""
    return [stem(w) for w in words(text) if w not in STOPWORDS and w not in WH_WORDS and len(w) > 1]


def overlap(query_terms: set[str], text: str) -> float:
    """Share of the query's content terms found in `text`."""
    if not query_terms:
        return 0.0
    return len(query_terms & set(content_terms(text))) / len(query_terms)


@dataclass(frozen=True)
class AnswerType:
    """What kind of span answers a question: person, place, date, number, yesno, choice, entity, text."""

    kind: str
    noun: str = ""  # e.g. 'city' in "which city", 'company' in "what company"


_WH_NOUN = re.compile(r"^(?:in |at |on |for |from |of |by |to )?(?:what|which)\s+([a-z]+)", re.I)
_PLACE_NOUNS = frozenset(
    [
        "city",
        "town",
        "country",
        "state",
        "county",
        "region",
        "province",
        "place",
        "island",
        "village",
        "capital",
        "continent",
    ]
)
_DATE_NOUNS = frozenset(["year", "date", "decade", "century", "month", "day"])
_PERSON_NOUNS = frozenset(
    [
        "person",
        "man",
        "woman",
        "actor",
        "actress",
        "singer",
        "player",
        "author",
        "writer",
        "director",
        "musician",
        "politician",
        "artist",
        "founder",
    ]
)
_ORG_NOUNS = frozenset(
    [
        "company",
        "band",
        "team",
        "organization",
        "organisation",
        "university",
        "school",
        "club",
        "firm",
        "party",
        "label",
    ]
)


_MEASURES = re.compile(
    r"^(?:what|which)\s+(?:is|was|are|were)\s+the\s+(?:[a-z]+\s+){0,2}?(payload|weight|height|length|width|depth|"
    r"population|revenue|profit|income|cost|price|budget|speed|range|capacity|size|area|distance|duration|time|"
    r"flight time|age|number|count|amount|total|salary|score|rate|percentage|share|headcount|temperature|port|"
    r"value|volume|altitude|mass|power|voltage|runtime|endurance|limit)\b",
    re.I,
)


def answer_type(question: str) -> AnswerType:
    """Rule-based answer typing from the question's opening words."""
    q = question.strip()
    ql = q.lower()
    if AUX_START.match(q):
        return AnswerType("yesno")
    measure = _MEASURES.match(ql)
    if measure:
        return AnswerType("number", measure.group(1))
    m = _WH_NOUN.match(ql)
    if m:
        noun = m.group(1)
        noun_stem = noun.rstrip("s")
        if noun_stem in _PLACE_NOUNS:
            return AnswerType("place", noun_stem)
        if noun_stem in _DATE_NOUNS:
            return AnswerType("date", noun_stem)
        if noun_stem in _PERSON_NOUNS:
            return AnswerType("person", noun_stem)
        if noun_stem in _ORG_NOUNS:
            return AnswerType("org", noun_stem)
        if noun in {"is", "was", "are", "were", "does", "did", "do", "has", "had"}:
            return AnswerType("entity")
        return AnswerType("entity", noun_stem)
    if re.match(r"^(?:in |at |from )?where\b", ql):
        return AnswerType("place")
    if re.match(r"^(?:in |since |until )?when\b", ql) or "what year" in ql:
        return AnswerType("date")
    if re.match(r"^how (many|much|long|old|far|big|tall|large|high|fast|heavy)\b", ql):
        return AnswerType("number")
    if re.match(r"^(who|whom|whose)\b", ql):
        return AnswerType("person")
    return AnswerType("entity")


@dataclass(frozen=True)
class Span:
    text: str
    start: int
    end: int
    kind: str  # person | place | org | date | number | entity | quoted


def candidate_spans(sentence: str) -> list[Span]:
    """Every plausible answer span in a sentence, typed by surface cues."""
    spans: list[Span] = []
    taken: list[tuple[int, int]] = []

    def add(text: str, start: int, end: int, kind: str) -> None:
        if any(s < end and start < e for s, e in taken):
            return
        taken.append((start, end))
        spans.append(Span(text, start, end, kind))

    for m in DATE_RE.finditer(sentence):
        add(m.group(0), m.start(), m.end(), "date")
    for m in NUMBER_RE.finditer(sentence):
        text = m.group(0).strip()
        if text:
            add(text, m.start(), m.start() + len(text), "number")
    for m in QUOTED.finditer(sentence):
        add(m.group(1), m.start(1), m.end(1), "quoted")
    for m in CAP_SPAN.finditer(sentence):
        text, start = m.group(0), m.start()
        parts = text.split()
        while parts and parts[0] in SENT_INITIAL:
            start += len(parts[0]) + 1
            parts = parts[1:]
        while parts and parts[-1].lower() in {"of", "the", "and", "for", "on", "in", "&"}:
            parts = parts[:-1]
        if not parts or (len(parts) == 1 and parts[0].isdigit()):
            continue
        text = " ".join(parts).rstrip(".,;:")
        if not text or text in SENT_INITIAL:
            continue
        add(text, start, start + len(text), _classify(sentence, start, text))
    return spans


def _classify(sentence: str, start: int, text: str) -> str:
    lower = {w.lower().strip(".,") for w in text.split()}
    if lower & ORG_WORDS:
        return "org"
    before = sentence[:start].rstrip().split()
    prev = before[-1].lower() if before else ""
    after = sentence[start + len(text) :]
    if prev in PLACE_PREPS or re.match(r"^,\s*[A-Z][a-z]+", after):
        return "place"
    parts = text.split()
    if 2 <= len(parts) <= 4 and all(p[:1].isupper() for p in parts):
        return "person"
    return "entity"


TYPE_FIT: dict[str, dict[str, float]] = {
    "person": {"person": 1.0, "entity": 0.5, "org": 0.3, "quoted": 0.2, "place": 0.15},
    "place": {"place": 1.0, "entity": 0.6, "org": 0.35, "person": 0.2},
    "org": {"org": 1.0, "entity": 0.7, "person": 0.3, "place": 0.3, "quoted": 0.4},
    "date": {"date": 1.0, "number": 0.3},
    "number": {"number": 1.0, "date": 0.4},
    "entity": {"entity": 1.0, "person": 0.8, "org": 0.85, "place": 0.75, "quoted": 0.9, "date": 0.25, "number": 0.25},
}


def normalize_answer(text: str) -> str:
    """HotpotQA's official normalisation: lower-case, drop punctuation and articles, squeeze spaces."""
    text = text.lower()
    text = re.sub(r"[^\w\s]", " ", text)
    text = re.sub(r"\b(a|an|the)\b", " ", text)
    return " ".join(text.split())


def numbers_in(text: str) -> list[float]:
    out: list[float] = []
    for m in re.finditer(r"\d[\d,]*(?:\.\d+)?", text):
        try:
            out.append(float(m.group(0).replace(",", "")))
        except ValueError:
            continue
    return out


NEGATIONS = re.compile(
    r"\b(not|never|no|none|neither|nor|without|n't|cannot|isn't|wasn't|aren't|weren't|didn't|doesn't)\b", re.I
)
