"""Single-level strategies: dense leaves, BM25 leaves, and their reciprocal-rank fusion."""

from __future__ import annotations

from tools.index import HierarchicalIndex
from tools.retrieval.base import Candidate, RetrievalRequest, candidates_from, rrf


def flat(index: HierarchicalIndex, request: RetrievalRequest) -> list[Candidate]:
    """Dense search over leaves (the baseline every other strategy must beat)."""
    scored = index.dense("leaf", request.vector(index), request.k, request.identities)
    return candidates_from(index, scored, request, "flat")


def keyword(index: HierarchicalIndex, request: RetrievalRequest) -> list[Candidate]:
    """BM25 over leaves: exact names, codes and rare words that small embedders blur."""
    scored = index.bm25(request.query, request.k, request.identities)
    return candidates_from(index, scored, request, "bm25")


def hybrid(index: HierarchicalIndex, request: RetrievalRequest) -> list[Candidate]:
    """Dense + BM25 fused by reciprocal rank over a deeper candidate pool."""
    depth = max(request.k * 4, 20)
    dense = index.dense("leaf", request.vector(index), depth, request.identities)
    sparse = index.bm25(request.query, depth, request.identities)
    fused = rrf([[n for n, _ in dense], [n for n, _ in sparse]])[: request.k]
    return candidates_from(index, fused, request, "hybrid")
