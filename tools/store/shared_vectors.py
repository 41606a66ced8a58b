"""Sections that share their only leaf's vector instead of storing a copy (#20: disk per leaf).

A mean-merged section vector (`IndexConfig.section_vectors="mean"`) of a section with one leaf is that
leaf's (normalised) vector. On section-rich manuals most sections are like that (81 % of the invented
pages' sections), so storing them doubled ~45 % of the vectors. In a tree that allows it
(`nodes.shared`, `tools.store.sqlite_schema`), such a section's row keeps the `ord` of its leaf in the
same document version and Chroma keeps no vector for it; section reads resolve it from the leaf:
`vectors` returns the leaf's vector under the section's id, and a section search merges the leaf
collection's hits, mapped to their sections, with the section collection's own (the scores are the
same cosines, since the vectors are the same).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Sequence
from typing import Any

SelectIn = Callable[[str, Iterable[str]], list[tuple[Any, ...]]]

# How many more leaves than sections a section search reads from the leaf collection: shared sections
# are found among leaf hits, which also hold leaves of multi-leaf sections.
LEAF_FETCH_FACTOR = 4


def record(db: sqlite3.Connection, pairs: Sequence[tuple[str, str]]) -> None:
    """Mark (section_id, leaf_id) pairs of a pending version: the section is answered with the leaf's vector."""
    db.executemany(
        "UPDATE nodes SET shared=(SELECT l.ord FROM nodes l WHERE l.node_id=?) WHERE node_id=?",
        [(leaf, section) for section, leaf in pairs],
    )


def leaves_of(select_in: SelectIn, section_ids: Iterable[str]) -> dict[str, str]:
    """section_id -> the leaf whose vector it shares, for those of `section_ids` that share one."""
    rows = select_in(
        "SELECT s.node_id, l.node_id FROM nodes s JOIN nodes l ON l.doc_id=s.doc_id AND l.version=s.version"
        " AND l.ord=s.shared WHERE s.shared IS NOT NULL AND s.node_id IN ({marks})",
        section_ids,
    )
    return {str(s): str(leaf) for s, leaf in rows}


def sections_of(select_in: SelectIn, leaf_ids: Iterable[str]) -> dict[str, list[str]]:
    """leaf_id -> the sections that share its vector (a nested heading over one leaf gives several)."""
    rows = select_in(
        "SELECT l.node_id, s.node_id FROM nodes l JOIN nodes s ON s.doc_id=l.doc_id AND s.version=l.version"
        " AND s.shared=l.ord WHERE l.level='leaf' AND l.node_id IN ({marks}) ORDER BY s.ord",
        leaf_ids,
    )
    out: dict[str, list[str]] = {}
    for leaf, section in rows:
        out.setdefault(str(leaf), []).append(str(section))
    return out


def shared_sections(db: sqlite3.Connection) -> dict[str, str | None]:
    """Every section row that shares a vector -> its leaf's id (None when no leaf of its version has
    that `ord`: a broken tree, which `check` reports)."""
    rows = db.execute(
        "SELECT s.node_id, l.node_id FROM nodes s LEFT JOIN nodes l ON l.doc_id=s.doc_id AND l.version=s.version"
        " AND l.ord=s.shared AND l.level='leaf' WHERE s.shared IS NOT NULL"
    ).fetchall()
    return {str(s): (str(leaf) if leaf is not None else None) for s, leaf in rows}


def merge(
    own: list[tuple[str, float]], leaf_hits: list[tuple[str, float]], sections: dict[str, list[str]], k: int
) -> list[tuple[str, float]]:
    """The best k of the section collection's hits and the shared sections of the leaf hits."""
    seen = {nid for nid, _ in own}
    shared = [(sid, score) for leaf, score in leaf_hits for sid in sections.get(leaf, []) if sid not in seen]
    return sorted(own + shared, key=lambda hit: -hit[1])[:k]
