"""Test embedders: the hashing embedder, remembering every text it was asked to encode (what an
index embeds, re-embeds or skips is then read off `seen`)."""

from __future__ import annotations

from collections.abc import Sequence

from tools.embeddings import HashingEmbedder, ProgressCallback, Vector


class CountingEmbedder(HashingEmbedder):
    """The hashing embedder, remembering every text it was asked to encode."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[str] = []

    def embed(self, texts: Sequence[str], *, progress: ProgressCallback | None = None) -> Vector:
        self.seen.extend(texts)
        return super().embed(texts, progress=progress)
