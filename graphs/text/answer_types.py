"""Answer typing: what kind of span answers a question, from its wh-phrase (rules, no model)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from graphs.text.lexicon import (
    DATE_NOUNS,
    NUMBER_COMPOUNDS,
    NUMBER_NOUNS,
    ORG_NOUNS,
    PATH_NOUNS,
    PLACE_NOUNS,
    TECH_NOUNS,
    is_person_noun,
    wordset,
)
from graphs.text.words import AUX, AUX_START


@dataclass(frozen=True)
class AnswerType:
    """What kind of span answers a question: person, place, org, date, number, nationality, occupation,
    yesno, entity (a named thing) or text; for technical text also identifier, exception, option (a
    flag or parameter), command, version and value (a literal or default)."""

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
    # "which company Priya Vandermeer worked for": the head is the known class noun, not the name after it.
    for i in range(len(out) - 1, -1, -1):
        if out[i][:1].islower() and classify_noun(out[i]) != "entity":
            # "which company Priya Vandermeer worked for", "which Italian physicist wrote it"
            return out[: i + 1]
    return out


def _head_after_wh(tokens: list[str]) -> str:
    """Head noun of a 'what/which ...' phrase: "what Ontario city" -> city; "what is the name of the
    club anthem" -> anthem; "what sort of products" -> products."""
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
    tech = TECH_NOUNS.get(n) or TECH_NOUNS.get(singular) or TECH_NOUNS.get(n[:-2] if n.endswith("es") else "")
    return tech or "entity"


_RELATIVE_PREV = wordset(
    "in on at by for from with to of under during since after before about into is was are were and or but below above"
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


_QUANTITY = re.compile(
    r"\b(?:what|which)\s+(?:is|was|are|were\s+)?\s*(?:the\s+)?(?:maximum|minimum|average|total|peak)\b"
)
_DEFAULT = re.compile(r"\bdefaults?\b")
TECH_KINDS = frozenset(["identifier", "exception", "option", "command", "version", "value"])


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
        if rest[0].lower() in PATH_NOUNS:
            return AnswerType("value", head)  # "which file …", "what file extension …": a path or literal
        kind = classify_noun(head)
        wh_phrase = ql[first_wh.start() :]
        if any(re.match(rf"\w+\s+(?:\w+\s+)?{c}\b", wh_phrase) for c in NUMBER_COMPOUNDS):
            return AnswerType("number", head)  # "what return code …" asks for a number, not a code span
        if kind == "entity" and _QUANTITY.search(ql):
            return AnswerType("number", head)  # "what is the maximum payload" asks for a quantity
        if kind in ("entity", "text") and _DEFAULT.search(ql):
            return AnswerType("value", head)  # "what is the default width" asks for a literal
        return AnswerType(kind, head)
    if wh == "when":
        return AnswerType("date")
    if wh == "where":
        return AnswerType("place")
    if wh == "how":
        nxt = rest[0].lower() if rest else ""
        if nxt in {
            "many",
            "much",
            "long",
            "old",
            "far",
            "big",
            "tall",
            "large",
            "high",
            "fast",
            "heavy",
            "any",
            "wide",
            "deep",
        }:
            noun = rest[1].lower() if len(rest) > 1 and rest[1][:1].isalpha() else ""
            return AnswerType("number", noun)
        return AnswerType("text")
    return AnswerType("person")
