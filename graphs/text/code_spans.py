"""Candidate answer spans of technical text: identifiers, command-line flags, exceptions, versions and
literal values ("7", "True", "'latin-1'", "~/.widgetrc").

Prose spans (`graphs.text.spans`) find names by capitals; API references name things with dots,
underscores, CamelCase and dashes instead, so they need their own surface cues. Pure regular
expressions: nothing here knows a library, a tool or a corpus.
"""

from __future__ import annotations

import re

from graphs.text.lexicon import wordset
from graphs.text.spans import Span

# Longest patterns first: a span claimed by one kind is not offered again by a later one.
_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("value", re.compile(r"(?<![\w.-])[A-Za-z_]\w*=(?:'[^']{0,40}'|\"[^\"]{0,40}\"|[\w.+-]+)")),  # retries=7
    ("flag", re.compile(r"(?<![\w-])--?[A-Za-z][\w-]*(?:=[\w<>.-]+)?")),
    ("exception", re.compile(r"\b(?:[a-z_]\w*\.)*[A-Z]\w*(?:Error|Exception|Warning)\b")),
    ("code", re.compile(r"\b[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+(?:\(\))?")),  # widgetry.open_link, Palette.mix()
    ("code", re.compile(r"\b\w+\(\)")),
    ("code", re.compile(r"\b_?[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b")),  # WIDGETRY_HUB_URL
    ("code", re.compile(r"\b_?[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")),  # open_link
    ("code", re.compile(r"\b[A-Z][A-Za-z0-9]*[a-z][A-Za-z0-9]*[A-Z][A-Za-z0-9]*\b|\b[A-Z]{2,}[a-z][A-Za-z0-9]*\b")),
    ("version", re.compile(r"(?<![\w.])v?\d+\.\d+(?:\.\d+)*\+?(?![\w.]*\w)")),
    ("value", re.compile(r"\b(?:True|False|None)\b")),
    ("value", re.compile(r"(?:~|\$\([a-z]+\))/[\w.-]+(?:/[\w.-]+)*|(?<![\w/])/?(?:[\w.-]+/)+[\w.-]+")),  # paths
    ("value", re.compile(r"(?<![\w/.])\.[a-z]{1,6}\b")),  # a file extension: .txt
    ("value", re.compile(r"'([^'\s][^']{0,38})'|\"([^\"\s][^\"]{0,38})\"")),
]
_ABBREVIATION = re.compile(r"^(?:[a-zA-Z]\.)+[a-zA-Z]?$")  # e.g, i.e, U.S
# "Defaults to 30." / "default is mauve" / "(default: 80)": the value after the word default.
DEFAULT_PHRASE = re.compile(
    r"\b(?:defaults?\s+(?:is\s+|to\s+|value\s+is\s+|of\s+)?|by\s+default\s+(?:is\s+|uses\s+|to\s+)?|"
    r"default:\s*)(?P<value>[`'\"]?[\w~$./+-]+(?:\s+[\w./-]+)?)",
    re.I,
)
# "This defaults to LIMIT_NAME, which is 12.": the value a named constant stands for.
_WHICH_IS = re.compile(r",?\s+which\s+is\s+(?P<value>[`'\"]?[\w~$./+-]*\w)")
_QUOTED_AT = re.compile(r"[`'\"“‘]([^`'\"”’\n]{1,60})[`'\"”’]")
_DEFAULT_STOP = wordset("the a an this that it is are be and or in of for when if which")


def technical_spans(sentence: str) -> list[Span]:
    """Every identifier-, flag-, exception-, version- or literal-shaped span of `sentence`."""
    spans: list[Span] = []
    taken: list[tuple[int, int]] = []
    for kind, pattern in _PATTERNS:
        for m in pattern.finditer(sentence):
            group = next((g for g in range(1, (m.lastindex or 0) + 1) if m.group(g)), 0)
            start, end = m.start(group), m.end(group)
            text = sentence[start:end].rstrip(".,;:")
            end = start + len(text)
            if not text or _ABBREVIATION.match(text) or any(s < end and start < e for s, e in taken):
                continue
            if kind == "code" and "." in text and text.split(".")[-1][:1].isupper() and text[:1].isupper():
                kind_here = "code"  # "Palette.Swatch" stays code, not a sentence break
            else:
                kind_here = kind
            taken.append((start, end))
            spans.append(Span(text, start, end, kind_here))
    return spans


def default_values(sentence: str) -> list[Span]:
    """Values a sentence states as defaults ("Defaults to 30.", "by default is mauve")."""
    out: list[Span] = []
    for m in DEFAULT_PHRASE.finditer(sentence):
        quoted = _QUOTED_AT.match(sentence, m.start("value"))
        if quoted:  # 'Defaults to "Press a key"': the whole quoted string is the value
            text = quoted.group(1)
            out.append(Span(text, quoted.start(1), quoted.end(1), "value"))
            continue
        value = m.group("value").strip("`'\".,;:")
        first = value.split()[0] if value.split() else ""
        if not value or first.lower() in _DEFAULT_STOP:
            continue
        if len(value.split()) > 1 and not any(ch.isdigit() for ch in value.split()[1]):
            value = first.rstrip(".,;:")  # "defaults to mauve unless" -> "mauve"; "to five. this" -> "five"
        start = sentence.find(value, m.start("value"))
        out.append(Span(value, start, start + len(value), "value"))
        stated = _WHICH_IS.match(sentence, start + len(value))
        if stated:
            out.append(Span(stated.group("value").strip("`'\""), stated.start("value"), stated.end("value"), "value"))
    return out
