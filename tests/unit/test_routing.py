"""Tree-routed search and the attention merger on a small random hierarchy."""

from __future__ import annotations

import numpy as np

from tools.hierarchy.attention import AttentionMerger
from tools.hierarchy.route import RouteTree, beam_route, exhaustive, mean_node_vectors, recall_vs_exhaustive


def _tree(seed: int = 0, groups: int = 6, subs: int = 4, leaves: int = 8, dim: int = 16) -> RouteTree:
    rng = np.random.default_rng(seed)
    children: list[list[int]] = [[]]
    leaf_children: list[list[int]] = [[]]
    depth = [0]
    vecs = []
    for _ in range(groups):
        g = len(children)
        children.append([])
        leaf_children.append([])
        depth.append(1)
        children[0].append(g)
        center = rng.normal(size=dim)
        for _ in range(subs):
            s = len(children)
            children.append([])
            leaf_children.append([])
            depth.append(2)
            children[g].append(s)
            sub_center = center + 0.7 * rng.normal(size=dim)
            for _ in range(leaves):
                v = sub_center + 0.6 * rng.normal(size=dim)
                leaf_children[s].append(len(vecs))
                vecs.append(v / np.linalg.norm(v))
    return RouteTree(np.asarray(vecs, dtype=np.float32), children, leaf_children, depth)


def _queries(tree: RouteTree, n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    q = tree.leaf_vectors[rng.choice(len(tree.leaf_vectors), n)] + 0.3 * rng.normal(size=(n, 16))
    return (q / np.linalg.norm(q, axis=1, keepdims=True)).astype(np.float32)


def test_full_beam_equals_exhaustive_and_small_beam_scores_fewer() -> None:
    tree = _tree()
    tree.node_vectors = mean_node_vectors(tree)
    q = _queries(tree, 20, 1)
    wide = recall_vs_exhaustive(tree, q, k=5, beam=100)
    assert wide["recall@k"] == 1.0
    narrow = beam_route(tree, q[0], 5, beam=1)
    total = len(tree.leaf_vectors) + tree.n_internal - 1
    assert narrow.scored < total / 3
    assert set(narrow.leaves.tolist()) <= set(range(len(tree.leaf_vectors)))
    assert exhaustive(tree, q[0], 5).shape == (5,)


def test_attention_merger_starts_at_the_mean_and_learns_from_the_teacher() -> None:
    tree = _tree(seed=3)
    merger = AttentionMerger(16)
    start = merger.merge(tree)
    mean = mean_node_vectors(tree)
    assert np.allclose(start[1:], mean[1:], atol=0.05)  # size-weighted child mean ~ mean of leaves
    losses = merger.fit(tree, _queries(tree, 200, 5), epochs=40, lr=0.05)
    assert losses[-1] < losses[0]
    tree.node_vectors = merger.merge(tree)
    assert np.allclose(np.linalg.norm(tree.node_vectors[1:], axis=1), 1.0, atol=1e-4)
    held_out = recall_vs_exhaustive(tree, _queries(tree, 50, 9), k=5, beam=2)
    assert 0.0 < held_out["recall@k"] <= 1.0
