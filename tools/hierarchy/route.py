"""Tree-routed search: a beam descends from the documents through nested sections to leaves, scoring
only the children of the nodes it keeps, and is judged against exhaustive search over every leaf.

The tree is held as flat arrays (`RouteTree`) so it can be built from document trees of any source
and from synthetic vectors at 100k-leaf scale.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from tools.embeddings import Vector


@dataclass
class RouteTree:
    """Internal nodes 0..n_internal-1 (node 0 is a virtual root); leaves are separate.

    `children[i]` lists internal children of internal node i, `leaf_children[i]` its leaves (indices
    into `leaf_vectors`). `depth[i]` is 0 for the root, 1 for documents, and so on.
    """

    leaf_vectors: Vector
    children: list[list[int]]
    leaf_children: list[list[int]]
    depth: list[int]
    node_vectors: Vector | None = None  # one vector per internal node (row 0 unused)
    labels: list[str] = field(default_factory=list)

    @property
    def n_internal(self) -> int:
        return len(self.children)

    def leaf_members(self) -> list[np.ndarray]:
        """Every leaf under each internal node (post-order accumulation)."""
        out: list[list[int]] = [list(x) for x in self.leaf_children]
        for node in sorted(range(self.n_internal), key=lambda i: -self.depth[i]):
            for child in self.children[node]:
                out[node].extend(out[child])
        return [np.asarray(x, dtype=np.int64) for x in out]

    def leaf_to_path(self) -> list[list[int]]:
        """For each leaf, the internal nodes from the root's child down to its parent."""
        parent = [-1] * self.n_internal
        for node, kids in enumerate(self.children):
            for kid in kids:
                parent[kid] = node
        paths: list[list[int]] = [[] for _ in range(len(self.leaf_vectors))]
        for node, leaves in enumerate(self.leaf_children):
            chain: list[int] = []
            cur = node
            while cur > 0:
                chain.append(cur)
                cur = parent[cur]
            chain.reverse()
            for leaf in leaves:
                paths[leaf] = chain
        return paths


def mean_node_vectors(tree: RouteTree) -> Vector:
    """Each internal node's vector = normalised mean of every leaf below it (seed 003's mean merger)."""
    members = tree.leaf_members()
    dim = tree.leaf_vectors.shape[1]
    out = np.zeros((tree.n_internal, dim), dtype=np.float32)
    for i, idx in enumerate(members):
        if len(idx):
            out[i] = tree.leaf_vectors[idx].mean(axis=0)
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    result: Vector = (out / norms).astype(np.float32)
    return result


@dataclass
class RouteResult:
    leaves: np.ndarray  # top-k leaf indices, best first
    scored: int  # vectors compared with the query (internal nodes + leaves)


def exhaustive(tree: RouteTree, query: Vector, k: int) -> np.ndarray:
    sims = tree.leaf_vectors @ query
    top = np.argpartition(-sims, min(k, len(sims) - 1))[:k]
    return top[np.argsort(-sims[top])]


def beam_route(tree: RouteTree, query: Vector, k: int, beam: int = 8, leaf_pool: int | None = None) -> RouteResult:
    """Level by level, keep the `beam` best internal nodes; every leaf met on the way is scored, and the
    best k of them are returned. `leaf_pool` caps how many leaves are kept between levels."""
    assert tree.node_vectors is not None, "compute node vectors first (mean_node_vectors or a merger)"
    vecs = tree.node_vectors
    frontier = [0]
    scored = 0
    cand_leaves: list[np.ndarray] = []
    cand_scores: list[np.ndarray] = []
    while frontier:
        kids = [c for n in frontier for c in tree.children[n]]
        leaves = [leaf for n in frontier for leaf in tree.leaf_children[n]]
        if leaves:
            idx = np.asarray(leaves, dtype=np.int64)
            cand_leaves.append(idx)
            cand_scores.append(tree.leaf_vectors[idx] @ query)
            scored += len(idx)
        if not kids:
            break
        kid_idx = np.asarray(kids, dtype=np.int64)
        sims = vecs[kid_idx] @ query
        scored += len(kid_idx)
        keep = np.argsort(-sims)[:beam]
        frontier = [int(kid_idx[i]) for i in keep]
    if not cand_leaves:
        return RouteResult(np.zeros(0, dtype=np.int64), scored)
    all_leaves = np.concatenate(cand_leaves)
    all_scores = np.concatenate(cand_scores)
    order = np.argsort(-all_scores)
    pool = leaf_pool or k
    return RouteResult(all_leaves[order[: min(k, pool)]], scored)


def recall_vs_exhaustive(tree: RouteTree, queries: Vector, k: int = 10, beam: int = 8) -> dict[str, float]:
    """Mean share of exhaustive top-k leaves the beam also returns, and the mean share of vectors scored."""
    total = len(tree.leaf_vectors) + tree.n_internal - 1
    recalls: list[float] = []
    fractions: list[float] = []
    top1: list[float] = []
    for q in queries:
        truth = exhaustive(tree, q, k)
        got = beam_route(tree, q, k, beam)
        recalls.append(len(set(truth.tolist()) & set(got.leaves.tolist())) / len(truth))
        top1.append(float(len(got.leaves) > 0 and got.leaves[0] == truth[0]))
        fractions.append(got.scored / total)
    return {
        "recall@k": float(np.mean(recalls)),
        "top1_agree": float(np.mean(top1)),
        "scored_frac": float(np.mean(fractions)),
        "k": float(k),
        "beam": float(beam),
    }
