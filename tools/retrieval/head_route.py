"""Strategies on the coarse-to-fine head (`hragent train-head`): the first segment picks sections, the
last segment ranks the leaves inside them (hyperbolic distance); `head_hybrid` fuses that ranking with
hybrid (dense + BM25) by reciprocal rank."""

from __future__ import annotations

import numpy as np
import torch

from tools.hierarchy.head import poincare_dist
from tools.hierarchy.train_head import _pad, load_head_vectors
from tools.index import HierarchicalIndex
from tools.retrieval.base import Candidate, RetrievalRequest, candidates_from, rrf
from tools.retrieval.flat import hybrid


def _head_ranking(index: HierarchicalIndex, request: RetrievalRequest, depth: int) -> list[tuple[str, float]]:
    hv = load_head_vectors(index)
    n_sections = int(request.options.get("route_sections", 24))  # type: ignore[call-overload]
    with torch.no_grad():
        x, mask = _pad(hv.encoder.states([request.query]))
        q = hv.head(x, mask)[0]
        c = hv.head.cfg.curvature
        sec_d = poincare_dist(q[0:1], hv.section_points[:, 0], c)[0].numpy()
        keep = set(hv.section_ids[np.argsort(sec_d)[:n_sections]].tolist())
        cand = np.nonzero(np.isin(hv.leaf_sections, list(keep)))[0]
        if len(cand) == 0:
            return []
        leaf_d = poincare_dist(q[-1:], hv.leaf_points[cand, -1], c)[0].numpy()
    order = np.argsort(leaf_d)[: depth * 3]
    scored = [(str(hv.leaf_ids[cand[i]]), float(-leaf_d[i])) for i in order]
    visible = index.get([nid for nid, _ in scored], request.identities)
    return [(nid, s) for nid, s in scored if nid in visible][:depth]


def head_route(index: HierarchicalIndex, request: RetrievalRequest) -> list[Candidate]:
    """Coarse-to-fine with the trained head only."""
    return candidates_from(index, _head_ranking(index, request, request.k), request, "head")


def head_hybrid(index: HierarchicalIndex, request: RetrievalRequest) -> list[Candidate]:
    """The head's ranking fused with hybrid leaves (reciprocal rank)."""
    depth = max(request.k * 4, 20)
    head = _head_ranking(index, request, depth)
    base = hybrid(index, RetrievalRequest(request.query, depth, request.identities, None, {}, request._vector))
    fused = rrf([[n for n, _ in head], [c.node.node_id for c in base]])[: request.k]
    return candidates_from(index, fused, request, "head_hybrid")
