"""Section vectors computed from their leaves' vectors (seed 003: summaries derived from the leaves),
instead of only from a section's truncated summary text."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from tools.embeddings import Vector
from tools.ingest.tree import DocumentTree, Node


def section_leaf_members(tree: DocumentTree) -> dict[str, list[int]]:
    """Section id -> indices (into `tree.by_level("leaf")`) of every leaf under it, subsections included."""
    parent = {n.node_id: n.parent_id for n in tree.nodes}
    is_section = {n.node_id for n in tree.nodes if n.level == "section"}
    members: dict[str, list[int]] = {sid: [] for sid in is_section}
    for i, leaf in enumerate(tree.by_level("leaf")):
        nid: str | None = leaf.section_id
        while nid is not None:
            if nid in is_section:
                members[nid].append(i)
            nid = parent.get(nid)
    return members


def mean_section_vectors(
    tree: DocumentTree,
    sections: Sequence[Node],
    leaf_vectors: Vector,
    fallback: Callable[[list[int]], Vector],
) -> Vector:
    """The normalised mean of each section's leaf vectors; `fallback(indices)` embeds the sections
    that have no leaf at all (a heading with nothing under it)."""
    members = section_leaf_members(tree)
    dim = leaf_vectors.shape[1] if leaf_vectors.size else 0
    out = np.zeros((len(sections), dim), dtype=np.float32)
    empty: list[int] = []
    for i, sec in enumerate(sections):
        idx = members.get(sec.node_id) or []
        if idx:
            out[i] = leaf_vectors[idx].mean(axis=0)
        else:
            empty.append(i)
    if empty:
        out[empty] = fallback(empty)
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    merged: Vector = (out / norms).astype(np.float32)
    return merged
