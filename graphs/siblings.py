"""The other entries of a list, for enumeration plans ("list the five modes of …").

An API reference or a man page documents the items of a list as sibling entries under one heading
(every option of OPTIONS, every mode of a command): a search for the list finds two or three of
them, never all. When a plan asks for a list, the retrieve node adds the siblings of the entries it
found — each with its heading line and opening sentences — so the reader can return every item, each
cited from its own entry.
"""

from __future__ import annotations

from graphs.text.entries import parse_entry
from tools.index import HierarchicalIndex, NodeRecord
from tools.retrieval.base import Candidate
from tools.retrieval.hierarchical import leaf_sentences

MAX_SIBLINGS = 12  # items one list may add (a longer list is rarely asked for item by item)
OPENING_SENTENCES = 2  # of each sibling: what the entry is


def _is_entry(section: NodeRecord) -> bool:
    return section.level == "section" and bool(section.section) and parse_entry(section.section[-1]) is not None


def sibling_entries(
    index: HierarchicalIndex, cands: list[Candidate], identities: frozenset[str], *, top: int = 3
) -> list[Candidate]:
    """Entries beside the entries of the `top` best hits (same parent section), not already among
    `cands`, best-hit families first, at most `MAX_SIBLINGS`; each carries its opening sentences."""
    section_ids = [c.node.section_id if c.node.level != "section" else c.node.node_id for c in cands[:top]]
    entries = index.get([s for s in section_ids if s], identities)
    have = {c.node.node_id for c in cands} | {c.node.section_id for c in cands if c.node.section_id}
    out: list[Candidate] = []
    parents_done: set[str] = set()
    for cand, sid in zip(cands[:top], section_ids, strict=False):
        entry = entries.get(sid or "")
        if entry is None or not _is_entry(entry) or not entry.parent_id or entry.parent_id in parents_done:
            continue
        parents_done.add(entry.parent_id)
        for sibling in index.children(entry.parent_id, identities):
            if len(out) >= MAX_SIBLINGS:
                return out
            if sibling.node_id in have or not _is_entry(sibling):
                continue
            have.add(sibling.node_id)
            opening = [s.node_id for s in leaf_sentences(index, sibling, identities)[:OPENING_SENTENCES]]
            out.append(Candidate(sibling, cand.score * 0.9, "entry_siblings", sentence_ids=opening))
    return out
