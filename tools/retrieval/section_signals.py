"""Section-level signals for `auto`: a leaf's score lifted by its section's vector, and a dense
pseudo-relevance-feedback query built from the best hits' sections (Rocchio on section vectors).

Both read the stored section vectors (the mean of a section's leaves, or its summary's vector), so
neither needs a second embedding: a plain-words question whose words match no single leaf may still
match the entry as a whole, or the neighbourhood its best hits sit in.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from tools.index import HierarchicalIndex


def _normalize(vec: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(vec))
    return vec / norm if norm > 0 else vec


def lifted_leaves(
    index: HierarchicalIndex,
    qv: np.ndarray,
    leaves: Sequence[str],
    leaf_vecs: dict[str, np.ndarray],
    identities: frozenset[str],
    lift: float,
) -> list[str]:
    """`leaves` re-ranked by cos(query, leaf) + lift * cos(query, the leaf's section): an entry whose
    whole matches the question lifts all of its leaves (ties keep the dense order)."""
    owner = index.visible(list(leaves), identities)
    section_vecs = index.vectors("section", sorted({s for s in owner.values() if s}))

    def score(nid: str) -> float:
        vec = leaf_vecs.get(nid)
        base = float(vec @ qv) if vec is not None else -1.0
        svec = section_vecs.get(owner.get(nid) or "")
        return base + (lift * float(_normalize(svec) @ qv) if svec is not None else 0.0)

    return sorted((n for n in leaves if n in owner), key=score, reverse=True)


def section_feedback_query(
    index: HierarchicalIndex, qv: np.ndarray, top: Sequence[str], identities: frozenset[str], beta: float
) -> np.ndarray | None:
    """Rocchio on sections: the query plus `beta` times the mean vector of the sections the `top` hits
    sit in (None when none of them lies in a section)."""
    owner = index.visible(list(top), identities)
    sections = list(dict.fromkeys(s for n in top if (s := owner.get(n))))
    vecs = index.vectors("section", sections)
    found = [_normalize(vecs[s]) for s in sections if s in vecs]
    if not found:
        return None
    return _normalize(qv + beta * np.mean(np.vstack(found), axis=0))
