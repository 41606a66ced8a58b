"""Retrieval: every strategy behind one function, plus de-duplication, a rerank hook and a token budget.

`retrieve(index, query, strategy="auto")` is what the agent calls; `STRATEGIES` lists the rest so
benchmarks and users can pick one by name.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from tools.index import HierarchicalIndex
from tools.retrieval.auto import auto
from tools.retrieval.base import Candidate, Reranker, RetrievalRequest, Strategy, rrf
from tools.retrieval.context import ContextPolicy, fit_to_budget
from tools.retrieval.flat import flat, hybrid, keyword
from tools.retrieval.hierarchical import auto_merge, leaf_sentences, parent_child, sentence_window, summary_route
from tools.retrieval.registry import EXTRA_STRATEGIES, NEEDS_HEAD
from tools.types import Hit

STRATEGIES: dict[str, Strategy] = {
    "auto": auto,
    "flat": flat,
    "bm25": keyword,
    "hybrid": hybrid,
    "sentence_window": sentence_window,
    "parent_child": parent_child,
    "auto_merge": auto_merge,
    "summary_route": summary_route,
    **EXTRA_STRATEGIES,
}


def dedupe(index: HierarchicalIndex, candidates: list[Candidate], threshold: float = 0.95) -> list[Candidate]:
    """Drop near-identical evidence (cosine ≥ threshold between leaf vectors, or identical text)."""
    seen_text: set[str] = set()
    kept: list[Candidate] = []
    leaf_ids = [c.node.node_id for c in candidates if c.node.level == "leaf"]
    vectors = index.vectors("leaf", leaf_ids) if leaf_ids else {}
    kept_vecs: list[np.ndarray] = []
    for cand in candidates:
        key = " ".join((cand.text or cand.node.text).lower().split())
        if key in seen_text:
            continue
        vec = vectors.get(cand.node.node_id)
        if vec is not None and kept_vecs and float(np.max(np.vstack(kept_vecs) @ vec)) >= threshold:
            continue
        seen_text.add(key)
        if vec is not None:
            kept_vecs.append(vec)
        kept.append(cand)
    return kept


def within_budget(index: HierarchicalIndex, candidates: list[Candidate], budget_tokens: int | None) -> list[Candidate]:
    """Keep candidates in rank order until the shared context budget (embedder tokens) is spent."""
    if budget_tokens is None:
        return candidates
    out: list[Candidate] = []
    used = 0
    for cand in candidates:
        cost = index.embedder.count_tokens(cand.text or cand.node.text)
        if out and used + cost > budget_tokens:
            break
        out.append(cand)
        used += cost
    return out


def retrieve_candidates(
    index: HierarchicalIndex,
    query: str,
    k: int = 5,
    *,
    strategy: str = "auto",
    identities: frozenset[str] = frozenset(),
    budget_tokens: int | None = None,
    budget_chars: int | None = None,
    rerank: Reranker | None = None,
    dedup: bool = True,
    options: dict[str, object] | None = None,
) -> list[Candidate]:
    """Run one strategy and the shared post-processing; sentence ids are attached for citing.

    With `budget_chars`, hits grow to their whole entry (heading included) while the budget allows
    and overlapping text is returned once (`tools.retrieval.context`)."""
    try:
        fn = STRATEGIES[strategy] if strategy in STRATEGIES else NEEDS_HEAD[strategy]
    except KeyError as exc:
        from tools.errors import ConfigError

        choices = sorted([*STRATEGIES, *NEEDS_HEAD])
        raise ConfigError(f"unknown retrieval strategy {strategy!r}; choose one of {choices}") from exc
    if k <= 0 or not query.strip():
        return []
    request = RetrievalRequest(
        query, k * 2 if dedup else k, identities, budget_tokens, dict(options or {}), budget_chars=budget_chars or None
    )
    found = fn(index, request)
    if rerank is not None:
        found = rerank(query, found)
    if dedup:
        found = dedupe(index, found)
    if budget_chars:
        policy = (options or {}).get("context_policy")
        found = fit_to_budget(
            index, found, budget_chars, identities, k=k, policy=policy if isinstance(policy, ContextPolicy) else None
        )
    else:
        found = found[:k]
    found = within_budget(index, found, budget_tokens)
    # Sentence ids for citing: a leaf's sentences are its children (one query for all leaf hits).
    leaf_children = index.child_ids([c.node.node_id for c in found if c.node.level == "leaf" and not c.sentence_ids])
    for cand in found:
        if cand.sentence_ids:
            continue
        if cand.node.level == "leaf":
            cand.sentence_ids = leaf_children.get(cand.node.node_id, [])
        else:
            cand.sentence_ids = [s.node_id for s in leaf_sentences(index, cand.node, identities)]
    return found


def retrieve(
    index: HierarchicalIndex,
    query: str,
    k: int = 5,
    *,
    strategy: str = "auto",
    identities: Iterable[str] = (),
    budget_tokens: int | None = None,
    budget_chars: int | None = None,
    rerank: Reranker | None = None,
) -> list[Hit]:
    """Public-facing retrieval: ranked `Hit`s from one strategy."""
    return [
        c.to_hit()
        for c in retrieve_candidates(
            index,
            query,
            k,
            strategy=strategy,
            identities=frozenset(identities),
            budget_tokens=budget_tokens,
            budget_chars=budget_chars,
            rerank=rerank,
        )
    ]


__all__ = [
    "STRATEGIES",
    "Candidate",
    "Reranker",
    "RetrievalRequest",
    "Strategy",
    "dedupe",
    "fit_to_budget",
    "retrieve",
    "retrieve_candidates",
    "rrf",
    "within_budget",
]
