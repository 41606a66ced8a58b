"""Shared checks for the reliability tests: grounded citations, corpus writers, fresh index handles."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from agent import RunResult
from tests.support.backends import Backend
from tools.embeddings import HashingEmbedder
from tools.index import HierarchicalIndex

MARKER = re.compile(r"\[(\d+)\]")


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def fresh_index(path: Path, backend: Backend | None = None) -> HierarchicalIndex:
    """Open an index as a new process would: drop Chroma's per-process client cache first, so no
    stale in-memory state from an earlier handle (or another process's writes) hides a problem."""
    if backend is not None:
        return backend.open(path)
    from chromadb.api.shared_system_client import SharedSystemClient

    SharedSystemClient.clear_system_cache()
    return HierarchicalIndex(path, HashingEmbedder())


def assert_grounded(result: RunResult, index: HierarchicalIndex, identities: Iterable[str] = ()) -> None:
    """Every citation quotes, verbatim, a node the caller may see at its stored offsets, and every
    `[n]` marker in the answer points at one of the result's citations."""
    ids = frozenset(identities)
    nodes = index.get([c.node_id for c in result.citations], ids)
    for cit in result.citations:
        node = nodes.get(cit.node_id)
        assert node is not None, f"citation {cit.node_id} is not a node the caller may see"
        assert cit.quote and cit.quote in node.text, f"quote is not verbatim: {cit.quote!r}"
        assert cit.source == node.source
    for claim in result.claims:
        for cit in claim.citations:
            assert cit.node_id in nodes or index.get([cit.node_id], ids), "claim cites an invisible node"
    for n in MARKER.findall(result.answer):
        assert 1 <= int(n) <= len(result.citations), f"answer carries marker [{n}] with no such citation"
