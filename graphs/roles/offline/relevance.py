"""How a sentence relates to the question's words: weighted query terms, their positions, a span's
closeness to them, and the small surface cues (the preposition governing the wh-word, literals that
name no document) the reader scores candidates with."""

from __future__ import annotations

import re
from collections import defaultdict

from graphs.text.words import content_terms


def heading_terms(heading: str) -> set[str]:
    """Content terms of a heading, with the parts of compound names too: "ferry-dock(1)" and
    "max_hops" also match questions that spell them "ferry dock", "max hops"."""
    terms = set(content_terms(heading))
    for t in list(terms):
        if any(ch in t for ch in "-_."):
            terms.update(content_terms(re.sub(r"[-_.]+", " ", t)))
    return terms


def term_weights(query: str) -> dict[str, float]:
    """Content terms of the query; words of names count double (they pick the right document)."""
    weights: dict[str, float] = {}
    for raw in re.findall(r"[\w'’.-]+", query):
        w = raw.lower().strip("'’.")
        terms = content_terms(w)
        if not terms:
            continue
        weights[terms[0]] = max(weights.get(terms[0], 0.0), 2.0 if raw[:1].isupper() or raw[:1].isdigit() else 1.0)
    return weights


def term_positions(text: str, weights: dict[str, float]) -> dict[str, list[int]]:
    """Character positions of every occurrence of each query term in `text`."""
    out: dict[str, list[int]] = defaultdict(list)
    for m in re.finditer(r"[\w'’.-]+", text):
        terms = content_terms(m.group(0))
        if terms and terms[0] in weights:
            out[terms[0]].append(m.start())
    return out


def proximity(start: int, end: int, anchors: dict[str, list[int]]) -> float:
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


PY_LITERAL = re.compile(r"True|False|None")
# The alternative a sentence sets aside: "rather than the harbour log", "instead of a new one".
CONTRASTED = re.compile(r"\b(?:rather\s+than|instead\s+of|other\s+than)\s+(?:\S+\s+){0,2}$", re.I)


def followable(text: str) -> bool:
    return not _LITERAL.fullmatch(text.strip("'\"`"))


def mentions(text: str, name: str) -> bool:
    """`text` names `name` as a name: capitalised ("Winner", not "the winner"), any case for longer names."""
    hits = re.finditer(rf"\b{re.escape(name)}\b", text, re.I)
    return any(" " in name or m.group(0)[:1].isupper() for m in hits)


def wh_preposition(query: str) -> str:
    """The preposition governing the wh-word ("formed by who", "based in what city"): answers follow it."""
    m = re.search(
        r"\b(by|in|at|from|for|with|of|during|since|on|to|as|under)\s+(?:what|which|who|whom|where)\b", query, re.I
    )
    return m.group(1).lower() if m else ""
