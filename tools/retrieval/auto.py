"""`auto`: the agent's default strategy — one `retrieve()` call, two internal passes.

Pass 1 fuses three views of the query by reciprocal rank: dense leaves, BM25 leaves, and the
documents whose title the query names. Pass 2 starts from the best first-pass hit (the "seed"): a
pseudo-relevance-feedback query (query vector + seed vector, no second model call) and the documents
whose titles the seed's text names — the bridge a multi-hop question needs and a single dense query
misses. The seed stays first; the rest is the fusion of both passes. Weights: `policies.retrieval`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from policies.retrieval import AutoRetrievalPolicy
from tools.index import HierarchicalIndex, NodeRecord
from tools.retrieval.base import Candidate, RetrievalRequest, candidates_from, rrf
from tools.retrieval.titles import title_matcher

DEFAULT_POLICY = AutoRetrievalPolicy()


def _best_leaves(
    index: HierarchicalIndex, doc_ids: Sequence[str], query_vec: np.ndarray, identities: frozenset[str]
) -> list[str]:
    """The leaves of the named documents, best match to `query_vec` first (one leaf per document
    ahead of any document's second leaf, so a long document cannot crowd out the others)."""
    per_doc: list[list[str]] = []
    for doc_id in doc_ids:
        leaves = index.document_leaves(doc_id, identities)
        if leaves:
            per_doc.append([leaf.node_id for leaf in leaves])
    flat_ids = [nid for ids in per_doc for nid in ids]
    if not flat_ids:
        return []
    vecs = index.vectors("leaf", flat_ids)
    scored = [sorted(ids, key=lambda n: -float(vecs[n] @ query_vec) if n in vecs else 0.0) for ids in per_doc]
    best_first = sorted(scored, key=lambda ids: -float(vecs[ids[0]] @ query_vec) if ids[0] in vecs else 0.0)
    out = [ids[0] for ids in best_first]
    out += [nid for ids in best_first for nid in ids[1:]]
    return out


def _normalize(vec: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(vec))
    return vec / norm if norm > 0 else vec


def auto(index: HierarchicalIndex, request: RetrievalRequest) -> list[Candidate]:
    """Multi-signal first pass, seed-driven second pass, fused; the seed is pinned first."""
    policy = request.options.get("auto_policy")
    p = policy if isinstance(policy, AutoRetrievalPolicy) else DEFAULT_POLICY
    ids = request.identities
    depth = max(request.k * p.depth_factor, p.min_depth)
    qv = np.asarray(request.vector(index), dtype=np.float32)
    matcher = title_matcher(index)

    dense = [n for n, _ in index.dense("leaf", qv, depth, ids)]
    sparse = [n for n, _ in index.bm25(request.query, depth, ids)]
    named = _best_leaves(index, matcher.find(request.query), qv, ids)[:depth]
    first = [n for n, _ in rrf([dense, sparse, named], p.rrf_k, [p.w_dense, p.w_bm25, p.w_named])]
    if not first:
        return []

    seeds = first[: p.seeds]
    seed_nodes = index.get(seeds, ids)
    seed_vecs = index.vectors("leaf", seeds)
    seconds: list[list[str]] = []
    for seed in seeds:
        node: NodeRecord | None = seed_nodes.get(seed)
        vec = seed_vecs.get(seed)
        if node is None or vec is None:
            continue
        q2 = _normalize(qv + p.prf_alpha * vec)
        dense2 = [n for n, _ in index.dense("leaf", q2, depth, ids)]
        linked_docs = matcher.find(node.text, exclude=frozenset([node.doc_id]))[: p.max_linked_docs]
        linked = _best_leaves(index, linked_docs, q2, ids)
        seconds.append([n for n, _ in rrf([dense2, linked], p.rrf_k, [p.w_second_dense, p.w_linked])])
    second = [n for n, _ in rrf(seconds, p.rrf_k)] if seconds else []

    # The query names several documents (a comparison): they lead. Otherwise the seed leads and the
    # two passes alternate, so the bridge document lands at rank 2, not behind first-pass near-misses.
    lead = p.lead_named if len({*named[: p.lead_named]} & {*first[: p.lead_named]}) >= p.lead_named else 1
    order = interleave(first, second, lead)
    fused = dict(rrf([first, second], p.rrf_k))
    top = [(n, fused.get(n, 0.0)) for n in order[: request.k]]
    return candidates_from(index, top, request, "auto")


def interleave(first: list[str], second: list[str], lead: int) -> list[str]:
    """`lead` items of `first`, then alternate second/first, skipping repeats."""
    out: list[str] = list(dict.fromkeys(first[:lead]))
    seen = set(out)
    a, b = iter(first[lead:]), iter(second)
    pending = [b, a]
    while pending:
        for it in list(pending):
            for nid in it:
                if nid not in seen:
                    seen.add(nid)
                    out.append(nid)
                    break
            else:
                pending.remove(it)
    return out
