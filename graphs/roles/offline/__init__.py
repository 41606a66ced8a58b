"""The offline reasoning engine: deterministic, extractive, cited; used when no LLM is configured."""

from __future__ import annotations

from graphs.roles.base import Roles
from graphs.roles.offline.composer import OfflineComposer
from graphs.roles.offline.planner import OfflinePlanner
from graphs.roles.offline.solver import OfflineSolver
from graphs.roles.offline.verifier import OfflineVerifier
from policies.offline import OfflineThresholds
from tools.embeddings import Embedder


def offline_roles(embedder: Embedder | None = None, thresholds: OfflineThresholds | None = None) -> Roles:
    """All four roles of the offline engine; the verifier uses the index's embedder for similarity."""
    t = thresholds or OfflineThresholds()
    return Roles(OfflinePlanner(), OfflineSolver(t, embedder), OfflineVerifier(embedder, t), OfflineComposer())


__all__ = ["OfflineComposer", "OfflinePlanner", "OfflineSolver", "OfflineVerifier", "offline_roles"]
