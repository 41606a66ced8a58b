"""The one interface every retrieval strategy shares: (index, request) -> ranked candidates."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from tools.embeddings import Vector
from tools.index import HierarchicalIndex, NodeRecord
from tools.types import Hit


@dataclass
class RetrievalRequest:
    """A query plus everything that bounds it: caller identities, hit count and token budget."""

    query: str
    k: int = 5
    identities: frozenset[str] = frozenset()
    budget_tokens: int | None = None
    options: dict[str, object] = field(default_factory=dict)
    _vector: Vector | None = None
    budget_chars: int | None = None  # the caller's character budget (hits grow to whole entries within it)

    def vector(self, index: HierarchicalIndex) -> Vector:
        """The query embedding, computed once per request however many strategies use it."""
        if self._vector is None:
            self._vector = index.embedder.embed_query(self.query)
        return self._vector


@dataclass
class Candidate:
    """A scored node on its way to becoming a `Hit`."""

    node: NodeRecord
    score: float
    strategy: str
    sentence_ids: list[str] = field(default_factory=list)
    text: str | None = None  # set when a strategy widens a node (sentence windows)
    start: int | None = None
    end: int | None = None

    def to_hit(self) -> Hit:
        return Hit(
            text=self.text if self.text is not None else self.node.text,
            source=self.node.source,
            section=list(self.node.section),
            level=self.node.level,
            score=round(float(self.score), 6),
            doc_id=self.node.doc_id,
            node_id=self.node.node_id,
            start=self.node.start if self.start is None else self.start,
            end=self.node.end if self.end is None else self.end,
            sentence_ids=list(self.sentence_ids),
            strategy=self.strategy,
        )


Strategy = Callable[[HierarchicalIndex, RetrievalRequest], list[Candidate]]
Reranker = Callable[[str, list[Candidate]], list[Candidate]]


def candidates_from(
    index: HierarchicalIndex, scored: list[tuple[str, float]], request: RetrievalRequest, strategy: str
) -> list[Candidate]:
    """Turn (node_id, score) pairs into candidates, keeping order and dropping invisible ids."""
    nodes = index.get([nid for nid, _ in scored], request.identities)
    return [Candidate(nodes[nid], score, strategy) for nid, score in scored if nid in nodes]


def rrf(rankings: list[list[str]], k: int = 60, weights: list[float] | None = None) -> list[tuple[str, float]]:
    """Reciprocal-rank fusion: robust to the different score scales of dense and BM25."""
    scores: dict[str, float] = {}
    for i, ranking in enumerate(rankings):
        w = 1.0 if weights is None else weights[i]
        for rank, nid in enumerate(ranking):
            scores[nid] = scores.get(nid, 0.0) + w / (k + rank + 1)
    return sorted(scores.items(), key=lambda kv: kv[1], reverse=True)
