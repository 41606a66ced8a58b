"""Candidate answer spans of a sentence, typed by surface cues (names, dates, numbers, quotes)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from graphs.text.dates import DATE_RE, YEAR_RANGE_RE
from graphs.text.lexicon import DEMONYM_COUNTRY, ORG_HEADS, PERSON_NOUNS, wordset
from graphs.text.places import place_name
from graphs.text.words import DOC_FIELD_WORDS, SENT_INITIAL

UNITS = (
    r"%|percent|per cent|million|billion|thousand|kilograms?|kg|grams?|tonnes?|tons?|pounds?|lbs?|minutes?|"
    r"hours?|seconds?|days?|weeks?|months?|years?|km|kilometres?|kilometers?|metres?|meters?|m|miles?|feet|ft|"
    r"inches|cm|mm|euros?|dollars?|people|employees|members|seats|episodes|copies|games|points|goals|km/h|mph|"
    r"inhabitants|residents|countries|students|spectators|seated|litres?|liters?|hectares?|acres?|square \w+|"
    r"cubic \w+|degrees?(?: Celsius| Fahrenheit| C| F)?|°[CF]?|watts?|kilowatts?|megawatts?|kW|MW|W|volts?|V|"
    r"amperes?|amps?|hertz|Hz|kHz|MHz|GHz|bytes?|KB|MB|GB|TB|KiB|MiB|GiB|ms|milliseconds?|knots|bar|psi|"
    r"kWh|calories|kcal|rpm"
)
NUMBER_RE = re.compile(
    rf"(?:more than |over |about |around |nearly |almost |approximately )?(?:[$€£]\s?)?\b\d[\d,]*(?:\.\d+)?"
    rf"(?:\s+(?:million|billion|thousand|hundred))?(?:\s*(?:{UNITS})\b)?",
    re.I,
)
_CONNECT = r"(?:of|the|de|da|del|di|von|van|der|du|la|le|and|&|for|y|al|el|bin|ibn)"
TITLE_WORDS = wordset(
    "governor president senator king queen prince princess emperor general admiral sir lord lady pope bishop "
    "mayor judge chancellor premier minister secretary director captain colonel saint dr. mr. mrs. ms."
)
_CONNECT_WORDS = wordset("of the de da del di von van der du la le and & for y al el bin ibn")
CAP_SPAN = re.compile(
    rf"(?<![\w'’])(?:[A-Z][\w'’.&!–-]*|\d+[A-Za-z]*)(?:(?:\s+{_CONNECT}){{0,2}}\s+(?:[A-Z][\w'’.&!–-]*|\d+[A-Za-z]*))*"
)
# Times of day keep their minutes and clock words ("22:40", "8 o'clock", "9.30 pm"): a bare "22" is
# half an answer.
TIME_RE = re.compile(
    r"\b\d{1,2}[:.]\d{2}(?::\d{2})?(?:\s?[ap]\.?m\.?(?!\w))?|\b\d{1,2}\s?(?:o'clock|o’clock|[ap]\.m\.|[ap]m\b)",
    re.I,
)
# Counts spelt as words ("twelve books", "four berths"); "one" is left out (mostly a pronoun).
NUMBER_WORDS = (
    "two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|"
    "eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred|dozen"
)
NUMBER_WORD_RE = re.compile(rf"\b(?:{NUMBER_WORDS})(?:[ -](?:{NUMBER_WORDS}))?\b(?=\s+[a-z])", re.I)
# A name given in lower case after "named"/"called" ("a folder named vault").
NAMED_RE = re.compile(
    r"\b(?:named|called)\s+(?!(?:after|for|by|in|on|the|a|an|as|to|from|with|that|this|it|its)\b)"
    r"([a-z][\w.-]*[a-z0-9])\b"
)
# How something is done: the phrase after "by"/"via"/"through" that ends the clause ("connects to
# the unit by two refrigerant lines."). Only `text` questions ("how does …") want it.
MANNER_RE = re.compile(
    r"\b(?:by|via|through|using)\s+((?:(?:a|an|the|two|three|four|five|\d+)\s+)?[a-z][\w-]*(?:\s+[a-z][\w-]*){1,3})"
    r"(?=\s*[.;,]|\s*$)"
)
QUOTED = re.compile(r"[\"“]([^\"”]{2,80})[\"”]")
PLACE_PREPS = frozenset(["in", "at", "near", "from", "outside", "into", "across", "throughout"])
PERSON_CUES = re.compile(
    r"\b(born|died|married|son|daughter|wife|husband|actor|actress|singer|writer|director|starring|stars|"
    r"founder|founded by|chief|ceo|president|manager|led by|managed by|directed by|written by|played by|"
    r"portrayed by|produced by|composed by|voiced by|hosted by)\s*$",
    re.I,
)


@dataclass(frozen=True)
class Span:
    text: str
    start: int
    end: int
    kind: str  # person | place | org | date | number | nationality | occupation | entity | quoted | manner


def candidate_spans(sentence: str, *, lowercase: str = "") -> list[Span]:
    """Every plausible answer span in a sentence, typed by surface cues. `lowercase` adds common-noun
    candidates a question may want ('occupation': 'director', 'writer')."""
    spans: list[Span] = []
    taken: list[tuple[int, int]] = []

    def add(text: str, start: int, end: int, kind: str) -> None:
        if any(s < end and start < e for s, e in taken):
            return
        taken.append((start, end))
        spans.append(Span(text, start, end, kind))

    for m in YEAR_RANGE_RE.finditer(sentence):
        add(m.group(0), m.start(), m.end(), "date")
    for m in DATE_RE.finditer(sentence):
        add(m.group(0), m.start(), m.end(), "date")
    for m in TIME_RE.finditer(sentence):
        add(m.group(0), m.start(), m.end(), "date")
    for m in NUMBER_RE.finditer(sentence):
        text = m.group(0).strip()
        if text and re.search(r"\d", text):
            add(text, m.start(), m.start() + len(text), "number")
    for m in NUMBER_WORD_RE.finditer(sentence):
        add(m.group(0), m.start(), m.end(), "number")
    for m in NAMED_RE.finditer(sentence):
        add(m.group(1), m.start(1), m.end(1), "quoted")
    for m in MANNER_RE.finditer(sentence):
        # Overlaps what it contains ("two" in "by two lines"), so it is not registered as taken.
        spans.append(Span(m.group(1), m.start(1), m.end(1), "manner"))
    for m in QUOTED.finditer(sentence):
        add(m.group(1).strip(" ,."), m.start(1), m.end(1), "quoted")
    for m in CAP_SPAN.finditer(sentence):
        text, start = m.group(0), m.start()
        parts = text.split()
        while parts and (
            parts[0] in SENT_INITIAL
            or parts[0] in DOC_FIELD_WORDS
            or parts[0].lower() in _CONNECT_WORDS
            or (parts[0][:1].isdigit() and len(parts) > 1 and parts[1].lower() in _CONNECT_WORDS)
        ):
            start += len(parts[0]) + 1  # "1974 and the Western Plains Conference" -> the name after the date
            parts = parts[1:]
        while parts and parts[-1].lower() in {"of", "the", "and", "for", "on", "in", "&", "de", "y"}:
            parts = parts[:-1]
        if not parts or (len(parts) == 1 and parts[0][:1].isdigit()):
            continue
        text = " ".join(parts).rstrip(".,;:")
        possessive = re.search(r"['’]s\b", text)
        if possessive:  # "Daniel Whitcombe's Committee": the owner is the entity
            text = text[: possessive.start()]
        if not text or text in SENT_INITIAL:
            continue
        words_ = text.split()
        titled = next(
            (i for i, w in enumerate(words_[:-1]) if w.lower() in TITLE_WORDS and words_[i + 1][:1].isupper()), None
        )
        if titled is not None and len(words_) - titled - 1 >= 2:
            # "Ohio Governor Daniel Whitcombe": the person after the title
            offset = len(" ".join(words_[: titled + 1])) + 1
            start, text = start + offset, " ".join(words_[titled + 1 :])
            add(text, start, start + len(text), "person")
            continue
        kind = classify_span(sentence, start, text)
        add(text, start, start + len(text), kind)
    if lowercase == "occupation":
        for m in re.finditer(r"\b[a-z][a-z-]+\b", sentence):
            if m.group(0) in PERSON_NOUNS and m.group(0) not in {"man", "woman", "people", "person", "child"}:
                add(m.group(0), m.start(), m.end(), "occupation")
    return spans


def names_in(text: str) -> list[str]:
    """Names a question mentions (capitalised spans, quoted titles): documents worth opening directly."""
    return list(
        dict.fromkeys(
            s.text
            for s in candidate_spans(text)
            if s.kind not in ("date", "number", "manner") and not re.fullmatch(r"\{\w+\}", s.text)
        )
    )


def classify_span(sentence: str, start: int, text: str) -> str:
    lower_words = [w.lower().strip(".,") for w in text.split()]
    low = " ".join(lower_words)
    if low in DEMONYM_COUNTRY:
        return "nationality"
    if place_name(text):
        return "place"
    if set(lower_words) & ORG_HEADS:
        return "org"
    before = sentence[:start].rstrip()
    prev = before.split()[-1].lower() if before.split() else ""
    after = sentence[start + len(text) :]
    if re.match(r"^,\s*(?:[A-Z][a-z]+\s?){1,3}(?:,|\.|\s+(?:in|on|and|is|was)\b|$)", after) and (
        prev in PLACE_PREPS or place_name(re.match(r"^,\s*((?:[A-Z][a-z]+\s?){1,3})", after).group(1))  # type: ignore[union-attr]
    ):
        return "place"
    if PERSON_CUES.search(before[-40:]) or re.match(
        r"^\s*\((?:born\b|\w+ \d{1,2}, \d{4}|\d{1,2} \w+ \d{4}|c\.)", after
    ):
        return "person"
    if prev in PLACE_PREPS and len(lower_words) <= 3:
        return "place"
    parts = text.split()
    initials = any(re.fullmatch(r"[A-Z]\.", p) for p in parts[1:-1])
    if (
        2 <= len(parts) <= 4
        and all(p[:1].isupper() for p in parts)
        and (initials or lower_words[-1] not in PERSON_NOUNS)
    ):
        return "name"
    return "entity"
