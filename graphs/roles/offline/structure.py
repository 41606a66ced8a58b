"""Answer candidates that come from a document's structure rather than from a sentence's words.

An API reference answers "which function …?" with an entry's *name* (its heading), "what is the
default X?" with a value in the entry's *signature* or a *table* cell, and "which option …?" with a
flag spelled `--like-this`. The sentence-level reader (`solver.OfflineSolver.extract`) offers these
next to its prose spans; each offer names the evidence sentence it rests on, so the claim built from
it cites that sentence and, through `Citation.section`, the heading.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from graphs.roles.offline.evidence import Ranked
from graphs.roles.offline.slots import ASKED_SLOT, question_terms, slot_named
from graphs.state import EvidenceItem, SentenceRef
from graphs.text.answer_types import TECH_KINDS, AnswerType
from graphs.text.code_spans import default_values, technical_spans
from graphs.text.entries import Entry, parse_entry, whatis_name
from graphs.text.tables import cell_answers
from graphs.text.words import content_terms, stem

# Answer types whose answer may be an entry's name (a plain-word question about an API is answered
# by the entry it describes: "how do I open a link to the hub?" -> `open_link`).
ENTRY_TYPES = TECH_KINDS | {"entity", "text"}


@dataclass(frozen=True)
class Offer:
    """One structural candidate: its text, span kind (a `TYPE_FIT` key), and a score factor."""

    text: str
    kind: str
    factor: float
    near: str = ""
    entry: bool = False  # the name of the entry itself (not a value read from it)
    signature: bool = False  # read from the entry's heading line (a default): that line is its evidence
    source: str = "span"  # where it was read (a `reader_model.SOURCES` name): a feature of the learned scorer


_MATCHING = {"option": "flag", "exception": "exception", "identifier": "entry", "command": "entry"}
_CODE_LINE = re.compile(r"[\n$>{}=]|(?<![\w-])--?[a-z]")


def heading_ref(ev: EvidenceItem) -> SentenceRef | None:
    """The citable heading line of a hit's entry (the retrieve node adds it as a `kind="heading"`
    sentence), if the hit carries one."""
    return next((s for s in ev["sentences"] if s.get("kind") == "heading"), None)


def signature_default(heading: str, answer: str, question: str, entry_text: str = "") -> tuple[Entry, str] | None:
    """(entry, parameter) when `heading` is the signature of an entry the question names and gives
    the default `answer` (quotes aside) to a parameter the question names or describes (a line of
    `entry_text`, the entry's field list, documents it in the question's words): the claim a default
    rests on names both. A sibling entry or another parameter with that value is not what it asks."""
    entry = parse_entry(heading)
    asked = question_terms(question)
    if entry is None or not _names_entry(entry, asked):
        return None
    described = {described_param(line, question) for line in entry_text.splitlines()} - {None}
    for param, value in entry.defaults.items():
        if value.strip("'\"") == answer and (_param_named(param, asked) or param in described):
            return entry, param
    return None


# "when no speed is specified", "if omitted", "unless specified": a question about the default in other words.
_IMPLICIT_DEFAULT = re.compile(
    r"\bdefaults?\b|\bwhen\s+(?:no\b|none\b|nothing\b)[^?,]*\b(?:given|specified|passed|set|provided|supplied)\b|"
    r"\bif\s+(?:omitted|not\s+(?:given|specified|passed|set|provided))\b|\bunless\s+(?:given|specified)\b",
    re.I,
)


_STATES_DEFAULT = re.compile(
    r"\b(?:is|was|be|as)\s+the\s+default\b|\bthe\s+default\s+(?:\w+\s+)?(?:when|if|for)\b", re.I
)


def asks_default(question: str) -> bool:
    """Does the question ask for a default, in the word or in other words ("when nothing is passed")?"""
    return bool(_IMPLICIT_DEFAULT.search(question))


def looks_like_code(text: str) -> bool:
    """A code block or command example (kept whole by ingest), not a sentence: no closing punctuation
    and shell or program syntax. Its flags and names are examples, weaker evidence than an entry."""
    stripped = text.rstrip()
    return bool(stripped) and stripped[-1] not in ".!?:" and bool(_CODE_LINE.search(stripped))


def entry_of(r: Ranked) -> Entry | None:
    """The API entry whose section holds this sentence (its innermost heading), if any."""
    section = r.ev["section"]
    return parse_entry(section[-1]) if section else None


def _entry_kind(entry: Entry) -> str:
    return {"option": "flag", "exception": "exception"}.get(entry.kind, "entry")


def _param_named(param: str, asked: set[str]) -> bool:
    parts = {stem(p) for p in param.split("_") if p}
    return bool(parts) and parts <= asked


# A parameter's line in an entry's field list: "timeout (float) – seconds to wait for the master."
_FIELD_LINE = re.compile(r"^\s*\**(?P<param>[A-Za-z_]\w*)\s*(?:\([^)]{0,80}\))?\s*[–—-]\s+(?P<desc>\S.*)", re.S)


def described_param(sentence: str, question: str) -> str | None:
    """The parameter a field-list line documents, when most of its description's terms are the
    question's: "charset (str) – the character set of the output" answers a question that says
    "character set" and never the parameter's name."""
    m = _FIELD_LINE.match(sentence)
    if not m:
        return None
    desc = set(content_terms(m.group("desc")))
    if not desc:
        return None
    shared = desc & question_terms(question)
    return m.group("param") if len(shared) >= 2 and len(shared) >= 0.5 * len(desc) else None


def _names_entry(entry: Entry, asked: set[str]) -> bool:
    """Does the question name this entry (its short name, or every part of it)?"""
    return _param_named(entry.short, asked)


_NAMED_TOKEN = re.compile(r"(?<![\w-])--?[A-Za-z][\w-]*|\b[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+|\b[a-z]+_[a-z_]+\b")
NAMED_ENTRY_BOOST = 1.25  # the entry the question names
SIBLING_ENTRY_FACTOR = 0.8  # another entry of the same kind, when the question names one


def named_entry_focus(question: str, evidence: list[EvidenceItem]) -> dict[str, float]:
    """Relevance factors per evidence item when the question names an entry by its spelling (a flag
    `--frozen`, a dotted or snake_case identifier): that entry's sentences count more, and its
    siblings of the same kind (the other flags, the other functions) less. "Which file does
    `tool --frozen` write?" is answered under `--frozen`, not under `--loose`, however alike they read."""
    named = {t.lower().rstrip(".") for t in _NAMED_TOKEN.findall(question)}
    if not named:
        return {}
    out: dict[str, float] = {}
    for ev in evidence:
        entry = parse_entry(ev["section"][-1]) if ev["section"] else None
        if entry is None:
            continue
        spellings = {n.lower() for n in (entry.name, *entry.aliases)} | {entry.short.lower()}
        if spellings & named:
            out[ev["node_id"]] = NAMED_ENTRY_BOOST
        elif any((n.startswith("-") == entry.name.startswith("-")) for n in named):
            out[ev["node_id"]] = SIBLING_ENTRY_FACTOR
    return out


def asks_for_a_default(question: str, evidence: list[EvidenceItem]) -> bool:
    """The question names a parameter that a retrieved entry's signature gives a default ("what file
    suffix does save() use when none is given?" against `save(…, suffix='.wdg')`)."""
    asked = question_terms(question)
    for ev in evidence:
        entry = parse_entry(ev["section"][-1]) if ev["section"] else None
        if entry is None or not entry.defaults:
            continue
        if any(_param_named(p, asked) for p in entry.defaults):
            return True
        if "default" in question.lower() and any(
            described_param(s["text"], question) in entry.defaults for s in ev["sentences"]
        ):
            return True
    return False


def structural_offers(question: str, atype: AnswerType, r: Ranked, *, first_of_entry: bool) -> Iterator[Offer]:
    """Candidates a sentence's structure adds: its entry's name, and the defaults its signature gives
    the parameters the question names (both once per entry, on `first_of_entry`); table cells under
    the asked column; values the sentence states as defaults. (Identifier/flag/literal spans of the sentence itself are `technical_spans`, which the
    solver scores like prose spans, by closeness to the question's terms.)"""
    text = r.sent["text"]
    wants_default = asks_default(question)
    entry = entry_of(r)
    if entry is not None and first_of_entry and atype.kind in ENTRY_TYPES:
        kind = _entry_kind(entry)
        # An entry of the asked kind (a flag for "which option", an exception for "which exception").
        factor = 1.3 if _MATCHING.get(atype.kind) == kind else 1.1
        if asks_default(question) and _STATES_DEFAULT.search(r.ev["text"]):
            factor *= 1.4  # "which speed is used when none is specified?": the entry that says it is the default
        for name in dict.fromkeys((entry.name, *entry.aliases[1:2])):
            yield Offer(name, kind, factor, text[:40], entry=True, source="entry")
    command = whatis_name(r.ev["section"], text) if atype.kind in ENTRY_TYPES else None
    if command is not None:
        # A manual page's NAME line: "how do I …?" and "which command …?" are answered by the command.
        yield Offer(
            command, "entry", 1.3 if atype.kind in ("command", "text") else 1.1, text[:40], entry=True, source="command"
        )
    if entry is not None and (wants_default or atype.kind in ("value", "number")):
        asked = question_terms(question)
        # The entry the question names holds the answer; a sibling entry with the same parameter does not.
        named = 1.4 if _names_entry(entry, asked) else 1.0
        described = described_param(text, question)
        for param, value in entry.defaults.items():
            if atype.kind == "number" and not any(ch.isdigit() for ch in value):
                continue  # "how many …" is not answered by True or None
            if (first_of_entry and _param_named(param, asked)) or param == described:
                # `None` in a signature means "worked out at run time": the body states the real default.
                computed = 0.5 if value == "None" and atype.kind != "yesno" else 1.0
                yield Offer(
                    value.strip("'\""), "value", 1.5 * named * computed, param, signature=True, source="signature"
                )
    if " | " in text and "\n" in text:
        asked_terms = question_terms(question)
        for cell in cell_answers(text, question, atype.noun):
            spans = technical_spans(cell.text)
            kinds = {s.kind for s in spans if s.text == cell.text}
            if not kinds and spans and all(s.kind == "version" for s in spans):
                kinds = {"version"}  # "3.21, 3.28+": a cell listing versions
            kind = next(iter(kinds), "value" if any(ch.isdigit() for ch in cell.text) else "entity")
            factor = 0.4 + 0.6 * cell.row_match + 0.6 * cell.column_match
            if slot_named(cell.row_key, asked_terms):
                factor *= ASKED_SLOT  # the row the question names by its key (`SPARE_CREW | 10`)
            yield Offer(cell.text, kind, factor, f"{cell.row_key} {cell.header}", source="table")
    if wants_default or atype.kind == "value":
        for span in default_values(text):
            if atype.kind == "number" and not any(ch.isdigit() for ch in span.text):
                continue  # "defaults to LIMIT_NAME, which is 12": a count is the number, not the constant
            yield Offer(span.text, "value", 1.3, text[max(0, span.start - 12) : span.end + 12], source="default")
