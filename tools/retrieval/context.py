"""Answer-bearing context at a character budget: whole entries, never the same text twice.

Strategies rank small leaves (precise to match), but an answer often sits beside the matched words:
in an API entry's heading or signature, or two paragraphs down the same entry. `fit_to_budget` walks
the ranking and returns, for each hit, the smallest enclosing *entry* (its nearest section, heading
line included) when that fits what is left of the caller's `budget_chars`, else the leaf itself; then,
while budget remains, widens leaf hits to their parent chunk. Text already returned is never returned
again (a later hit inside an earlier entry just adds nothing), so a reader's budget buys distinct text.
"""

from __future__ import annotations

from dataclasses import dataclass

from tools.index import HierarchicalIndex, NodeRecord
from tools.retrieval.base import Candidate


@dataclass(frozen=True)
class ContextPolicy:
    """How far a hit may grow. `entry_share`: the largest share of the whole budget one entry may
    take (a page-sized "entry" would crowd out every other hit). 0.4 (was 0.6): at a 2,000-character
    budget a larger entry gives way to its opening or heading + leaf, leaving room for more distinct
    entries (structured-docs dev and val, RESULTS.md #18 seventh session)."""

    entry_share: float = 0.4
    widen_to_chunk: bool = True


DEFAULT_CONTEXT = ContextPolicy()


def _covered(spans: dict[str, list[tuple[int, int]]], node: NodeRecord, start: int, end: int) -> bool:
    return any(lo < end and start < hi for lo, hi in spans.get(node.doc_id, []))


def _length(cand: Candidate) -> int:
    return len(cand.text if cand.text is not None else cand.node.text)


def fit_to_budget(
    index: HierarchicalIndex,
    ranked: list[Candidate],
    budget_chars: int,
    identities: frozenset[str],
    *,
    k: int | None = None,
    policy: ContextPolicy | None = None,
) -> list[Candidate]:
    """Rank-ordered, non-overlapping context of at most `budget_chars` characters and `k` hits (the
    first hit is always kept whole, even when it alone exceeds the budget)."""
    policy = policy or DEFAULT_CONTEXT
    if budget_chars <= 0 or not ranked:
        return ranked[: k or len(ranked)]
    section_ids = [c.node.section_id for c in ranked if c.node.level in ("leaf", "chunk", "sentence")]
    sections = index.get([s for s in section_ids if s], identities)
    cap = max(1, int(budget_chars * policy.entry_share))
    out: list[Candidate] = []
    spans: dict[str, list[tuple[int, int]]] = {}
    used = 0
    primary = 0  # hits taken; heading lines taken in front of a hit do not count against k

    def take(cand: Candidate, *, counts: bool = True) -> None:
        nonlocal used, primary
        primary += counts
        node = cand.node
        start = node.start if cand.start is None else cand.start
        end = node.end if cand.end is None else cand.end
        spans.setdefault(node.doc_id, []).append((start, end))
        used += _length(cand)
        out.append(cand)

    for cand in ranked:
        if k is not None and primary >= k:
            break
        node = cand.node
        entry = sections.get(node.section_id or "") if node.level != "section" else None
        left = budget_chars - used
        if (
            entry is not None
            and len(entry.text) <= min(cap, left)
            and not _covered(spans, entry, entry.start, entry.end)
        ):
            take(Candidate(entry, cand.score, cand.strategy))
            continue
        start = node.start if cand.start is None else cand.start
        end = node.end if cand.end is None else cand.end
        if _covered(spans, node, start, end):
            continue  # its text is already in the context
        if entry is not None and not _covered(spans, entry, entry.start, end):
            # A large entry: its opening up to the hit (heading and signature first) when that fits,
            # else the heading line alone in front of the hit — the name is often the answer.
            if end - entry.start <= min(cap, left):
                take(
                    Candidate(
                        entry,
                        cand.score,
                        cand.strategy,
                        text=entry.text[: end - entry.start],
                        start=entry.start,
                        end=end,
                    )
                )
                continue
            heading = entry_heading(entry)
            if (
                heading is not None
                and len(heading[0]) + _length(cand) <= left
                and not _covered(spans, entry, heading[1], heading[2])
            ):
                take(
                    Candidate(entry, cand.score, cand.strategy, text=heading[0], start=heading[1], end=heading[2]),
                    counts=False,
                )
                left = budget_chars - used
        if _length(cand) <= left or not out:
            take(cand)
    if policy.widen_to_chunk:
        out = _widen(index, out, budget_chars - used, identities, spans)
    return out


def _widen(
    index: HierarchicalIndex,
    out: list[Candidate],
    left: int,
    identities: frozenset[str],
    spans: dict[str, list[tuple[int, int]]],
) -> list[Candidate]:
    """Grow leaf hits, best first, to their parent chunk while the rest of the budget allows."""
    parents = index.get([c.node.parent_id for c in out if c.node.level == "leaf" and c.node.parent_id], identities)
    for i, cand in enumerate(out):
        parent = parents.get(cand.node.parent_id or "") if cand.node.level == "leaf" else None
        if parent is None or parent.level != "chunk":
            continue
        extra = len(parent.text) - _length(cand)
        others = [(lo, hi) for lo, hi in spans.get(parent.doc_id, []) if (lo, hi) != (cand.node.start, cand.node.end)]
        if extra <= 0 or extra > left or any(lo < parent.end and parent.start < hi for lo, hi in others):
            continue
        spans[parent.doc_id] = [*others, (parent.start, parent.end)]
        out[i] = Candidate(parent, cand.score, cand.strategy)
        left -= extra
    return out


def entry_heading(section: NodeRecord) -> tuple[str, int, int] | None:
    """A section's heading line as a citable span (text, start, end): an API entry's name and
    signature are often the answer itself. None when the section's text does not open with it."""
    if section.level != "section" or not section.section:
        return None
    first = section.text.split("\n", 1)[0]
    heading = first.strip()
    if not heading or heading != section.section[-1].strip():
        return None
    offset = section.start + first.index(heading)
    return heading, offset, offset + len(heading)
