"""Hierarchical hybrid for long documents: leaves ranked by dense, BM25, a fine search inside the
best-matching sections, and the rank of their section, fused by reciprocal rank.

Section vectors (summary text or merged from leaves) see a whole section, so they find the right
place for questions phrased in other words than the text; the leaf rankings then pick the passage.
"""

from __future__ import annotations

from tools.index import HierarchicalIndex
from tools.retrieval.base import Candidate, RetrievalRequest, candidates_from, rrf


def tree_hybrid(index: HierarchicalIndex, request: RetrievalRequest) -> list[Candidate]:
    """Options: `route_sections` (sections searched inside, default 8), `section_weight` (default 1.0)."""
    n_route = int(request.options.get("route_sections", 8))  # type: ignore[call-overload]
    section_weight = float(request.options.get("section_weight", 1.0))  # type: ignore[arg-type]
    depth = max(request.k * 4, 20)
    vec = request.vector(index)
    dense = [n for n, _ in index.dense("leaf", vec, depth, request.identities)]
    sparse = [n for n, _ in index.bm25(request.query, depth, request.identities)]
    sections = [s for s, _ in index.dense("section", vec, max(n_route * 4, 32), request.identities)]
    routed = sections[:n_route]
    inside = [n for n, _ in index.dense("leaf", vec, depth, request.identities, section_ids=routed)] if routed else []
    pool = list(dict.fromkeys(dense + sparse + inside))
    records = index.get(pool, request.identities)
    section_rank = {sid: r for r, sid in enumerate(sections)}
    first_seen = {nid: i for i, nid in enumerate(pool)}
    by_section = sorted(
        (n for n in pool if n in records and records[n].section_id in section_rank),
        key=lambda n: (section_rank[records[n].section_id or ""], first_seen[n]),
    )
    fused = rrf([dense, sparse, inside, by_section], weights=[1.0, 1.0, 1.0, section_weight])[: request.k]
    return candidates_from(index, fused, request, "tree_hybrid")
