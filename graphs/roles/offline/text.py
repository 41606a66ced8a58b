"""Light-weight text analysis for the offline engine: words, answer types, typed candidate spans, dates.

Deterministic and dependency-free on purpose: this is what runs with no model at all.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from graphs.roles.offline.lexicon import (
    COUNTRY_DEMONYMS,
    DATE_NOUNS,
    DEMONYM_COUNTRY,
    NUMBER_NOUNS,
    ORG_HEADS,
    ORG_NOUNS,
    PERSON_NOUNS,
    PLACE_HEADS,
    PLACE_NOUNS,
    US_STATES,
    is_person_noun,
    wordset,
)

STOPWORDS = wordset("""a an the of in on at to for from by with and or but is are was were be been being as that this these
    those it its which who whom whose what when where why how do does did has have had not no than then there
    their they them he she his her i you your we our us me my into about over under also both either same one
    any all some can could would should will shall may might must such only other another more most many much
    if so very name named called known""")
WH_WORDS = frozenset(["what", "which", "who", "whom", "whose", "when", "where", "why", "how"])
AUX = wordset(
    """is are was were be been do does did has have had can could will would should shall may might must 's"""
)
AUX_START = re.compile(r"^(is|are|was|were|do|does|did|can|could|has|have|had|will|would|should)\b", re.I)
_WORD = re.compile(r"[A-Za-z0-9][\w'’.-]*[A-Za-z0-9]|[A-Za-z0-9]", re.UNICODE)
MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
_MONTH_NUM = {m.lower(): i for i, m in enumerate(MONTHS.split("|"), start=1)}
YEAR = r"(?:1[0-9]\d\d|20\d\d)"
DATE_RE = re.compile(
    rf"\b(?:\d{{1,2}}\s+(?:{MONTHS}),?\s+{YEAR}|(?:{MONTHS})\s+\d{{1,2}},?\s+{YEAR}|(?:{MONTHS}),?\s+{YEAR}"
    rf"|(?:{MONTHS})\s+\d{{1,2}}|{YEAR}s?)\b"
)
YEAR_RANGE_RE = re.compile(rf"\b{YEAR}\s*(?:–|-|—|to|until|till|through)\s*(?:{YEAR}|present)\b")
YEAR_RE = re.compile(r"\b(1[0-9]\d\d|20\d\d)\b")
UNITS = (
    r"%|percent|per cent|million|billion|thousand|kilograms?|kg|grams?|tonnes?|tons?|pounds?|lbs?|minutes?|"
    r"hours?|seconds?|days?|weeks?|months?|years?|km|kilometres?|kilometers?|metres?|meters?|m|miles?|feet|ft|"
    r"inches|cm|mm|euros?|dollars?|people|employees|members|seats|episodes|copies|games|points|goals|km/h|mph|"
    r"inhabitants|residents|countries|students|spectators|seated|litres?|liters?|hectares?|acres?|square \w+"
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
QUOTED = re.compile(r"[\"“]([^\"”]{2,80})[\"”]")
PLACE_PREPS = frozenset(["in", "at", "near", "from", "outside", "into", "across", "throughout"])
PERSON_CUES = re.compile(
    r"\b(born|died|married|son|daughter|wife|husband|actor|actress|singer|writer|director|starring|stars|"
    r"founder|founded by|chief|ceo|president|manager|led by|managed by|directed by|written by|played by|"
    r"portrayed by|produced by|composed by|voiced by|hosted by)\s*$",
    re.I,
)
SENT_INITIAL = wordset("""The A An In On At He She It They His Her Its Their This That These Those As After Before During When While
    From For By With Since Although Both Each Some Many Most Other Another There Here However Also What Which Who
    Whom Whose When Where Why How Is Are Was Were Do Does Did Has Have Had Can Could One Two Three Four Five Six
    Seven Eight Nine Ten Originally Later Today Currently Instead Following Though Despite Because Unlike Like
    Upon Throughout Within Between Among Under Over Until Then Thus Hence""")
NEGATIONS = re.compile(
    r"\b(not|never|no|none|neither|nor|without|n't|cannot|isn't|wasn't|aren't|weren't|didn't|doesn't|don't|"
    r"hasn't|haven't|hadn't|won't|wouldn't|couldn't|shouldn't)\b|n't\b",
    re.I,
)
PRONOUN_START = re.compile(r"^(He|She|It|They|His|Her|Its|Their)\b")


def words(text: str) -> list[str]:
    return [w.lower().strip("'’.") for w in _WORD.findall(text)]


def stem(word: str) -> str:
    """A tiny suffix stripper: enough to match 'founded'/'founder'/'founding' and plurals."""
    w = word.lower()
    for suffix in ("ational", "ation", "ments", "ment", "ingly", "ings", "ing", "edly", "ies", "ers", "er", "ed"):
        if w.endswith(suffix) and len(w) - len(suffix) >= 3:
            return w[: -len(suffix)] + ("y" if suffix == "ies" else "")
    for suffix in ("es", "s"):
        if w.endswith(suffix) and not w.endswith("ss") and len(w) - len(suffix) >= 3:
            return w[: -len(suffix)]
    return w


def content_terms(text: str) -> list[str]:
    """Stemmed content words, in order, without stopwords."""
    return [stem(w) for w in words(text) if w not in STOPWORDS and w not in WH_WORDS and len(w) > 1]


def overlap(query_terms: set[str], text: str) -> float:
    """Share of the query's content terms found in `text`."""
    if not query_terms:
        return 0.0
    return len(query_terms & set(content_terms(text))) / len(query_terms)


# --------------------------------------------------------------------------- answer types
@dataclass(frozen=True)
class AnswerType:
    """What kind of span answers a question: person, place, org, date, number, nationality, occupation,
    yesno, entity (a named thing) or text."""

    kind: str
    noun: str = ""  # the wh-phrase's head noun: 'city' in "which city", 'company' in "what company"


_NP_STOP = wordset(
    "who's "
    + """of in on at by for with from to that which who whom whose where when did does do is are was were has have
    had can could will would should and or but as than if born"""
)
_GENERIC_HEADS = frozenset(["name", "title", "type", "kind", "sort", "form", "part", "one", "variety", "genre"])


def _noun_phrase(tokens: list[str]) -> list[str]:
    """Words of the noun phrase that opens `tokens` (stops at a preposition, verb or punctuation)."""
    out: list[str] = []
    for i, tok in enumerate(tokens):
        if re.match(r"^[,.;:?!)\"“”]", tok) or tok.lower() in _NP_STOP:
            break
        nxt = tokens[i + 1].lower() if i + 1 < len(tokens) else ""
        if out and tok[:1].islower() and nxt in {"the", "a", "an", "his", "her", "its", "their"}:
            break  # "which plant builds the Harrier": a verb taking an object ends the noun phrase
        if out and tok.lower().endswith("ed") and tok[:1].islower() and "-" not in tok:
            break
        out.append(tok)
        if len(out) >= 8:
            break
    # "which company Sachin Warrier worked for": the head is the known class noun, not the name after it.
    for i in range(len(out) - 1, -1, -1):
        if out[i][:1].islower() and classify_noun(out[i]) != "entity":
            # "which company Sachin Warrier worked for", "which Italian physicist wrote it"
            return out[: i + 1]
    return out


def _head_after_wh(tokens: list[str]) -> str:
    """Head noun of a 'what/which ...' phrase: "what New York city" -> city; "what is the name of the
    fight song" -> song; "what sort of products" -> products."""
    i = 0
    if tokens and tokens[0].lower() in AUX | {"'s"}:
        i = 1
        while i < len(tokens) and tokens[i].lower() in {"the", "a", "an"}:
            i += 1
    np = _noun_phrase(tokens[i:])
    if not np:
        return ""
    head = np[-1].lower()
    j = i + len(np)
    while head in _GENERIC_HEADS and j + 1 < len(tokens) and tokens[j].lower() in ("of", "for"):
        k = j + 1
        while k < len(tokens) and tokens[k].lower() in {"the", "a", "an", "this", "his", "her", "its", "their"}:
            k += 1
        more = _noun_phrase(tokens[k:])
        if not more:
            break
        if head not in {"name", "title"} or not more[-1][:1].isupper():
            head = more[-1].lower()
        j = k + len(more)
    return head.strip("'’")


_TOKENS = re.compile(r"[\w'’.&-]+|[^\w\s]")


def classify_noun(noun: str) -> str:
    n = noun.lower()
    singular = n[:-1] if n.endswith("s") and not n.endswith("ss") else n
    if n in {"nationality", "nationalities", "citizenship"}:
        return "nationality"
    if n in {"occupation", "profession", "job", "career"}:
        return "occupation"
    if singular in DATE_NOUNS or n == "years":
        return "date"
    if singular in NUMBER_NOUNS:
        return "number"
    if singular in PLACE_NOUNS:
        return "place"
    if is_person_noun(n):
        return "person"
    if singular in ORG_NOUNS:
        return "org"
    return "entity"


_RELATIVE_PREV = wordset(
    "in on at by for from with to of under during since after before about into is was are were and or but"
)


def _question_word(ql: str) -> re.Match[str] | None:
    """The wh-word that asks, skipping relative pronouns ("the university which was founded…")."""
    for m in re.finditer(r"\b(what|which|who|whom|whose|when|where|how)\b", ql):
        before = ql[: m.start()].split()
        if m.group(1) in {"which", "who", "whose", "where", "whom"} and before:
            prev = before[-1].strip(",")
            if prev not in _RELATIVE_PREV and not before[-1].endswith(","):
                continue
        return m
    return None


def answer_type(question: str) -> AnswerType:
    """Rule-based answer typing from the question's wh-phrase, wherever it stands ("... is based in
    what city?" asks for a place as much as "In which city ...?" does)."""
    q = question.strip()
    ql = q.lower()
    first_wh = _question_word(ql)
    if AUX_START.match(q) and (first_wh is None or " or " in ql[: first_wh.start()] or first_wh.start() > 0):
        head_clause = ql.split(",")[0]
        if not re.search(r"\b(what|which|who|whom|whose|when|where|how)\b", head_clause):
            return AnswerType("yesno")
    if first_wh is None:
        return AnswerType("entity")
    wh = first_wh.group(1)
    rest = _TOKENS.findall(q[first_wh.end() :])
    if wh in {"what", "which"}:
        if rest and rest[0].lower() in {"year", "years"}:
            return AnswerType("date", rest[0].lower())
        head = _head_after_wh(rest)
        if not head:
            return AnswerType("entity")
        kind = classify_noun(head)
        return AnswerType(kind, head)
    if wh == "when":
        return AnswerType("date")
    if wh == "where":
        return AnswerType("place")
    if wh == "how":
        nxt = rest[0].lower() if rest else ""
        if nxt in {"many", "much", "long", "old", "far", "big", "tall", "large", "high", "fast", "heavy", "any"}:
            noun = rest[1].lower() if len(rest) > 1 and rest[1][:1].isalpha() else ""
            return AnswerType("number", noun)
        return AnswerType("text")
    return AnswerType("person")


# --------------------------------------------------------------------------- spans
@dataclass(frozen=True)
class Span:
    text: str
    start: int
    end: int
    kind: str  # person | place | org | date | number | nationality | occupation | entity | quoted


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
    for m in NUMBER_RE.finditer(sentence):
        text = m.group(0).strip()
        if text and re.search(r"\d", text):
            add(text, m.start(), m.start() + len(text), "number")
    for m in QUOTED.finditer(sentence):
        add(m.group(1).strip(" ,."), m.start(1), m.end(1), "quoted")
    for m in CAP_SPAN.finditer(sentence):
        text, start = m.group(0), m.start()
        parts = text.split()
        while parts and (
            parts[0] in SENT_INITIAL
            or parts[0].lower() in _CONNECT_WORDS
            or (parts[0][:1].isdigit() and len(parts) > 1 and parts[1].lower() in _CONNECT_WORDS)
        ):
            start += len(parts[0]) + 1  # "1988 and the North Atlantic Conference" -> the name after the date
            parts = parts[1:]
        while parts and parts[-1].lower() in {"of", "the", "and", "for", "on", "in", "&", "de", "y"}:
            parts = parts[:-1]
        if not parts or (len(parts) == 1 and parts[0][:1].isdigit()):
            continue
        text = " ".join(parts).rstrip(".,;:")
        possessive = re.search(r"['’]s\b", text)
        if possessive:  # "Nelson Rockefeller's Committee": the owner is the entity
            text = text[: possessive.start()]
        if not text or text in SENT_INITIAL:
            continue
        words_ = text.split()
        titled = next(
            (i for i, w in enumerate(words_[:-1]) if w.lower() in TITLE_WORDS and words_[i + 1][:1].isupper()), None
        )
        if titled is not None and len(words_) - titled - 1 >= 2:
            # "New York Governor Nelson Rockefeller": the person after the title
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


_PAREN_TAIL = re.compile(r"\s*\([^)]*\)\s*$")


def title_key(text: str) -> str:
    """Titles and names compare without case, a trailing '(film)'-style qualifier, articles or punctuation."""
    text = _PAREN_TAIL.sub("", text).lower().replace("&amp;", "&")
    text = re.sub(r"[^\w\s]", " ", text)
    text = re.sub(r"^(the|a|an)\s+", "", text.strip())
    return " ".join(text.split())


def names_in(text: str) -> list[str]:
    """Names a question mentions (capitalised spans, quoted titles): documents worth opening directly."""
    return list(
        dict.fromkeys(
            s.text
            for s in candidate_spans(text)
            if s.kind not in ("date", "number") and not re.fullmatch(r"\{\w+\}", s.text)
        )
    )


def place_name(text: str) -> bool:
    t = text.lower().strip()
    return t in COUNTRY_DEMONYMS or t in US_STATES or t.split()[-1] in PLACE_HEADS


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


# How well a span kind fits each answer type. 'name' is a capitalised 2-4 word span: person or thing.
TYPE_FIT: dict[str, dict[str, float]] = {
    "person": {"person": 1.0, "name": 0.85, "entity": 0.45, "org": 0.6, "quoted": 0.15, "place": 0.1},
    "place": {"place": 1.0, "entity": 0.55, "name": 0.45, "org": 0.3, "nationality": 0.2, "person": 0.1},
    "org": {"org": 1.0, "name": 0.7, "entity": 0.75, "person": 0.3, "place": 0.3, "quoted": 0.4},
    "date": {"date": 1.0, "number": 0.25},
    "number": {"number": 1.0, "date": 0.3},
    "nationality": {"nationality": 1.0, "place": 0.4},
    "occupation": {"occupation": 1.0},
    "entity": {
        "entity": 1.0,
        "name": 0.85,
        "quoted": 1.0,
        "org": 0.85,
        "person": 0.7,
        "place": 0.7,
        "nationality": 0.5,
        "date": 0.2,
        "number": 0.2,
    },
    "text": {"entity": 0.8, "name": 0.6, "quoted": 0.8, "org": 0.6, "place": 0.6, "person": 0.5},
}


def normalize_answer(text: str) -> str:
    """HotpotQA's official normalisation: lower-case, drop punctuation and articles, squeeze spaces."""
    text = text.lower()
    text = re.sub(r"[^\w\s]", " ", text)
    text = re.sub(r"\b(a|an|the)\b", " ", text)
    return " ".join(text.split())


def numbers_in(text: str) -> list[float]:
    out: list[float] = []
    for m in re.finditer(r"(?<![\w.])\d[\d,]*(?:\.\d+)?", text):
        try:
            out.append(float(m.group(0).replace(",", "").rstrip(".")))
        except ValueError:
            continue
    return out


def parse_date(text: str) -> tuple[int, int, int] | None:
    """(year, month, day) of the first date in `text`; month/day are 0 when unknown."""
    m = re.search(rf"\b(\d{{1,2}})\s+({MONTHS}),?\s+({YEAR})\b", text)
    if m:
        return int(m.group(3)), _MONTH_NUM[m.group(2).lower()], int(m.group(1))
    m = re.search(rf"\b({MONTHS})\s+(\d{{1,2}}),?\s+({YEAR})\b", text)
    if m:
        return int(m.group(3)), _MONTH_NUM[m.group(1).lower()], int(m.group(2))
    m = re.search(rf"\b({MONTHS}),?\s+({YEAR})\b", text)
    if m:
        return int(m.group(2)), _MONTH_NUM[m.group(1).lower()], 0
    m = YEAR_RE.search(text)
    if m:
        return int(m.group(1)), 0, 0
    return None


def nationalities(text: str) -> set[str]:
    """Countries a text ties its subject to, through demonyms ("an American actor") or names."""
    out: set[str] = set()
    low = " " + normalize_answer(text) + " "
    for demonym, country in DEMONYM_COUNTRY.items():
        if f" {demonym} " in low:
            out.add(country)
    for country in COUNTRY_DEMONYMS:
        if len(country) > 2 and f" {country} " in low:
            out.add(country)
    return out
