"""Offline composer: a short answer plus a one-to-three sentence justification assembled from the cited
evidence sentences themselves (verbatim quotes, in reasoning order), each carrying its numbered
citation. Unsupported claims never enter the answer text; they stay flagged in `claims`. The headline
is only what a supported claim carries (`policies.outcome`); with none, the answer abstains."""

from __future__ import annotations

from typing import Any

from graphs.roles.base import Usage
from graphs.state import CitationDict, ClaimDict, Draft, Report
from graphs.text.normalize import normalize_answer
from policies.citations import neutralize_markers, number_citations
from policies.outcome import NOT_FOUND_TEXT, decide, is_support

MAX_JUSTIFICATION = 3


def _key(cit: CitationDict) -> str:
    return cit["node_id"] or cit["quote"]


def justification(claims: list[ClaimDict], short: str) -> list[CitationDict]:
    """One quote per supported claim (the one naming the answer when possible), at most three, keeping
    the chain's order; the final claim always makes it in, since it carries the answer."""
    picked: list[CitationDict] = []
    for claim in claims:
        cites = claim.get("citations", [])
        if not cites:
            continue
        words = {w for w in normalize_answer(claim["text"]).split() if len(w) > 3}
        best = max(cites, key=lambda c: len(words & set(normalize_answer(c["quote"]).split())))
        if _key(best) not in {_key(c) for c in picked}:
            picked.append(best)
    if len(picked) > MAX_JUSTIFICATION:
        picked = [*picked[: MAX_JUSTIFICATION - 1], picked[-1]]
    key = normalize_answer(short)
    if key and picked and not any(key in normalize_answer(c["quote"]) for c in picked):
        naming = [c for cl in claims for c in cl.get("citations", []) if key in normalize_answer(c["quote"])]
        if naming:
            picked[-1] = naming[0]
    return picked


def _cited_items(items: list[str], claims: list[ClaimDict], numbers: dict[str, int]) -> list[dict[str, Any]]:
    """`{"text", "citation"}` for each enumerated item whose claim (same index) is supported and
    cited: `citation` is the number of the sentence that names the item (1-based, as in the text)."""
    out: list[dict[str, Any]] = []
    for item, claim in zip(items, claims, strict=False):
        cites = claim.get("citations", [])
        if is_support(claim) and cites and _key(cites[0]) in numbers:
            out.append({"text": neutralize_markers(item), "citation": numbers[_key(cites[0])]})
    return out


class OfflineComposer:
    def compose(self, task: str, draft: Draft, report: Report, halt_reason: str) -> tuple[dict[str, Any], Usage]:
        claims: list[ClaimDict] = list(report.get("claims", []))
        supported = [c for c in claims if is_support(c)]
        missing = draft.get("missing") or []
        short, outcome = decide(neutralize_markers(draft.get("short_answer", "").strip()), claims, missing)
        quotes = justification(supported, short)
        # Citations: the quoted sentences first (so they number 1..n), then the rest supported claims cite.
        citations: list[CitationDict] = [*quotes, *(cit for c in supported for cit in c.get("citations", []))]
        numbers = number_citations([dict(c) for c in citations])
        unique: dict[str, CitationDict] = {}
        for cit in citations:
            unique.setdefault(_key(cit), cit)
        lines: list[str] = []
        items = _cited_items(draft.get("items") or [], claims, numbers)
        if items and supported:
            # An enumeration: every item with the number of the sentence that names it.
            lines.append("; ".join(f"{i['text']} [{i['citation']}]" for i in items) + ".")
            lines.append(" ".join(f"{neutralize_markers(c['quote'].strip())} [{numbers[_key(c)]}]" for c in quotes))
        elif short and supported and quotes:
            key = normalize_answer(short)
            carrying = [c for c in quotes if key and key in normalize_answer(c["quote"])] or quotes[-1:]
            lines.append(f"{short} [{numbers[_key(carrying[0])]}].")
            # Quoted document text keeps its words but not any "[n]" it carries: only ours are citations.
            lines.append(" ".join(f"{neutralize_markers(c['quote'].strip())} [{numbers[_key(c)]}]" for c in quotes))
        else:
            short, outcome, citations, unique, items = "", "not_found", [], {}, []
            lines.append(NOT_FOUND_TEXT)
        dropped = [c for c in claims if not is_support(c)]
        if dropped:
            lines.append(f"Left out {len(dropped)} claim(s) the evidence did not support.")
        if missing and halt_reason not in ("confident", "verified"):
            lines.append(f"Not resolved: {', '.join(map(str, missing))} (halted: {halt_reason}).")
        return {
            "answer": "\n".join(lines).strip(),
            "short_answer": short,
            "outcome": outcome,
            "claims": claims,
            "citations": list(unique.values()),
            "items": items if items and supported else [],
        }, Usage()
