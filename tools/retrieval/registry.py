"""Strategies added by #12 (long documents), imported lazily so torch loads only when one is used."""

from __future__ import annotations

from tools.index import HierarchicalIndex
from tools.retrieval.base import Candidate, RetrievalRequest, Strategy


def _lazy(module: str, name: str) -> Strategy:
    def run(index: HierarchicalIndex, request: RetrievalRequest) -> list[Candidate]:
        import importlib

        fn: Strategy = getattr(importlib.import_module(module), name)
        return fn(index, request)

    run.__name__ = name
    return run


EXTRA_STRATEGIES: dict[str, Strategy] = {
    "tree_hybrid": _lazy("tools.retrieval.tree_route", "tree_hybrid"),
}
# Usable by name, but not in `STRATEGIES` (which must run on every index): they need `hragent train-head`.
NEEDS_HEAD: dict[str, Strategy] = {
    "head": _lazy("tools.retrieval.head_route", "head_route"),
    "head_hybrid": _lazy("tools.retrieval.head_route", "head_hybrid"),
}
