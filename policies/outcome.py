"""Abstention: what a run may headline, and whether it answered at all.

A span becomes the headline (`short_answer`) only when a supported claim carries it, and a claim is
support only when its evidence is not text written to steer an assistant. When nothing is carried,
the run says the indexed documents do not answer and points at the nearest sections instead of
headlining an unverified span (a program reading `short_answer` must never mistake a guess for an
answer). Shared by both engines' composers and the `compose` node.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

from policies.injection import looks_injected

Outcome = Literal["answered", "partial", "not_found"]
OUTCOMES: tuple[Outcome, ...] = ("answered", "partial", "not_found")

NOT_FOUND_TEXT = "The indexed documents do not answer this question."
YES_NO = frozenset({"yes", "no"})
# Items of a list answer ("a, b and c"; "x; y"), tried only when the whole span is not carried.
_ITEM_SPLIT = re.compile(r"\s*;\s*|\s*,\s*(?:and\s+|or\s+)?|\s+and\s+")
_NORM = re.compile(r"[^0-9a-z]+")


def _norm(text: str) -> str:
    return " ".join(_NORM.sub(" ", text.lower()).split())


def is_support(claim: Mapping[str, Any]) -> bool:
    """A supported verdict resting on at least one citation that is not a planted instruction."""
    if claim.get("verdict") != "supported":
        return False
    cites = claim.get("citations") or []
    return any(not looks_injected(str(c.get("quote", ""))) for c in cites)


def _carries(item: str, supporting: Sequence[Mapping[str, Any]]) -> bool:
    key = _norm(item)
    if not key:
        return False
    padded = f" {key} "
    for claim in supporting:
        texts = [str(claim.get("text", ""))]
        texts += [
            str(c.get("quote", "")) for c in claim.get("citations") or [] if not looks_injected(str(c.get("quote", "")))
        ]
        if any(padded in f" {_norm(t)} " for t in texts):
            return True
    return False


def carried_answer(short: str, claims: Sequence[Mapping[str, Any]]) -> tuple[str, bool]:
    """The part of `short` that supported claims carry, and whether that is all of it.

    Yes/no is derived, not quoted: it stands only when every claim behind it is supported."""
    short = short.strip()
    supporting = [c for c in claims if is_support(c)]
    if not short or not supporting:
        return "", False
    if _norm(short) in YES_NO:
        whole = all(is_support(c) for c in claims)
        return (short, True) if whole else ("", False)
    if _carries(short, supporting):
        return short, True
    items = [i for i in _ITEM_SPLIT.split(short) if i.strip()]
    if len(items) < 2:
        return "", False
    kept = [i for i in items if _carries(i, supporting)]
    # A list whose every item some supported claim carries (one claim per item) is carried whole.
    return ", ".join(kept), len(kept) == len(items)


def decide(short: str, claims: Sequence[Mapping[str, Any]], missing: Iterable[object] = ()) -> tuple[str, Outcome]:
    """(headline, outcome): `answered` when the whole headline is carried and no claim or subgoal
    was left out, `partial` when some of it is, `not_found` (empty headline) when none is."""
    headline, whole = carried_answer(short, claims)
    if not headline:
        return "", "not_found"
    complete = whole and all(is_support(c) for c in claims) and not list(missing)
    return headline, "answered" if complete else "partial"


def nearest_sections(evidence: Iterable[Mapping[str, Any]], limit: int = 3) -> list[str]:
    """Where the closest evidence was (source › heading path), best first, without repeats."""
    ranked = sorted(evidence, key=lambda e: float(e.get("score", 0.0)), reverse=True)
    out: list[str] = []
    for item in ranked:
        headings = [str(h) for h in item.get("section") or []]
        if any(looks_injected(h) for h in headings):
            continue  # a planted heading must not reach the answer through the pointer either
        where = " › ".join([str(item.get("source", "")), *headings])
        if where and where not in out:
            out.append(where)
        if len(out) >= limit:
            break
    return out


def not_found_answer(nearest: Sequence[str]) -> str:
    """The abstention text: no answer, and where a person could look next."""
    if not nearest:
        return NOT_FOUND_TEXT
    return NOT_FOUND_TEXT + " Nearest sections: " + "; ".join(nearest) + "."
