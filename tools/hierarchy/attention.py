"""A learned attention merger (seed 003): a node's vector is a softmax-weighted sum of its children's
vectors, with one small router per depth, trained so that routing from the root picks the branch that
holds the best leaf of an exhaustive search (the exhaustive search is the teacher).

The router is query-independent, so merged vectors are computed once at index time and stored like
any section vector. Initialised at the size-weighted mean (≈ the mean merger), it can only move away
from that where the teacher says routing improves.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from tools.embeddings import Vector
from tools.hierarchy.route import RouteTree, exhaustive

if TYPE_CHECKING:
    import torch


@dataclass
class _Edges:
    parent: np.ndarray  # internal node receiving the child
    child: np.ndarray  # index into leaves (is_leaf) or internal nodes
    is_leaf: np.ndarray
    log_size: np.ndarray  # log of the leaves under the child
    depth: np.ndarray  # depth of the parent


def _edges(tree: RouteTree) -> _Edges:
    members = tree.leaf_members()
    parent, child, is_leaf, log_size, depth = [], [], [], [], []
    for p in range(1, tree.n_internal):
        for leaf in tree.leaf_children[p]:
            parent.append(p)
            child.append(leaf)
            is_leaf.append(True)
            log_size.append(0.0)
            depth.append(tree.depth[p])
        for c in tree.children[p]:
            parent.append(p)
            child.append(c)
            is_leaf.append(False)
            log_size.append(float(np.log(max(1, len(members[c])))))
            depth.append(tree.depth[p])
    return _Edges(
        np.asarray(parent, dtype=np.int64),
        np.asarray(child, dtype=np.int64),
        np.asarray(is_leaf, dtype=bool),
        np.asarray(log_size, dtype=np.float32),
        np.asarray(depth, dtype=np.int64),
    )


class AttentionMerger:
    """Per-depth router (a direction `a_d` and a size weight `b_d`); `merge(tree)` gives node vectors."""

    def __init__(self, dim: int, max_depth: int = 8) -> None:
        self.dim = dim
        self.max_depth = max_depth
        self.a = np.zeros((max_depth + 1, dim), dtype=np.float32)
        self.b = np.ones(max_depth + 1, dtype=np.float32)

    def merge(self, tree: RouteTree) -> Vector:
        import torch

        with torch.no_grad():
            out = self._merge_torch(tree, _edges(tree), torch.from_numpy(self.a), torch.from_numpy(self.b))
        merged: Vector = out.numpy().astype(np.float32)
        return merged

    def _merge_torch(self, tree: RouteTree, e: _Edges, a_t: torch.Tensor, b_t: torch.Tensor) -> torch.Tensor:
        import torch

        leaves = torch.from_numpy(tree.leaf_vectors)
        dim = leaves.shape[1]
        nodes = torch.zeros((tree.n_internal, dim), dtype=torch.float32)
        depth_of = np.asarray(tree.depth)
        for d in sorted(set(depth_of[1:].tolist()), reverse=True):
            sel = np.nonzero(e.depth == d)[0]
            if not len(sel):
                continue
            par = torch.from_numpy(e.parent[sel])
            ch = torch.from_numpy(e.child[sel])
            leaf_mask = torch.from_numpy(e.is_leaf[sel])
            vec = torch.where(
                leaf_mask[:, None], leaves[ch.clamp(max=len(leaves) - 1)], nodes[ch.clamp(max=tree.n_internal - 1)]
            )
            dd = min(d, self.max_depth)
            score = vec @ a_t[dd] + b_t[dd] * torch.from_numpy(e.log_size[sel])
            # softmax over each parent's children
            mx = torch.full((tree.n_internal,), -1e9).scatter_reduce(0, par, score, reduce="amax")
            w = torch.exp(score - mx[par])
            den = torch.zeros(tree.n_internal).index_add(0, par, w)
            w = w / den[par]
            summed = torch.zeros((tree.n_internal, dim)).index_add(0, par, w[:, None] * vec)
            norm = summed.norm(dim=1, keepdim=True).clamp(min=1e-6)
            level_nodes = np.unique(e.parent[sel])
            idx = torch.from_numpy(level_nodes)
            nodes = nodes.index_copy(0, idx, (summed / norm)[idx])
        return nodes

    def fit(
        self,
        tree: RouteTree,
        queries: Vector,
        *,
        epochs: int = 60,
        lr: float = 0.05,
        temperature: float = 20.0,
        seed: int = 0,
    ) -> list[float]:
        """Distil exhaustive search into the router: at every level on the path to each query's best
        leaf, cross-entropy of the branch holding it among its siblings. Returns the loss per epoch."""
        import torch

        torch.manual_seed(seed)
        e = _edges(tree)
        paths = tree.leaf_to_path()
        steps: list[tuple[int, list[int], int]] = []  # (query, sibling nodes, index of the target)
        for qi, q in enumerate(queries):
            best = int(exhaustive(tree, q, 1)[0])
            prev = 0
            for node in paths[best]:
                sibs = tree.children[prev]
                if len(sibs) > 1:
                    steps.append((qi, sibs, sibs.index(node)))
                prev = node
        if not steps:
            return []
        a = torch.zeros_like(torch.from_numpy(self.a), requires_grad=True)
        b = torch.ones_like(torch.from_numpy(self.b), requires_grad=True)
        opt = torch.optim.Adam([a, b], lr=lr)
        q_t = torch.from_numpy(np.asarray(queries, dtype=np.float32))
        width = max(len(s) for _, s, _ in steps)
        sib = torch.zeros((len(steps), width), dtype=torch.long)
        mask = torch.zeros((len(steps), width), dtype=torch.bool)
        for i, (_, s, _) in enumerate(steps):
            sib[i, : len(s)] = torch.tensor(s)
            mask[i, : len(s)] = True
        target = torch.tensor([t for _, _, t in steps])
        qidx = torch.tensor([qi for qi, _, _ in steps])
        losses: list[float] = []
        for _ in range(epochs):
            opt.zero_grad()
            nodes = self._merge_torch(tree, e, a, b)
            sims = q_t @ nodes.T  # (queries, nodes): gathered per step below, never (steps, width, dim)
            logits = temperature * sims[qidx[:, None], sib]
            logits = logits.masked_fill(~mask, -1e9)
            loss = torch.nn.functional.cross_entropy(logits, target) + 1e-3 * (a**2).sum()
            loss.backward()  # type: ignore[no-untyped-call]
            opt.step()
            losses.append(float(loss.detach()))
        self.a = a.detach().numpy().astype(np.float32)
        self.b = b.detach().numpy().astype(np.float32)
        return losses
