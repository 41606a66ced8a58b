"""Sentence vectors on demand, for indexes built without them (`embed_sentences=False`, the default).

Sentence vectors are ~85 % of what a full ingest would embed (RESULTS.md, #20), yet after retrieval
only the few dozen sentences of the retrieved leaves are scored against the query. So an index
without them embeds exactly those sentences when they are asked for, with the text ingest would
have used ("section title. sentence"), and keeps the vectors in a bounded in-memory LRU: the scores
the agent sees are the ones a full index would give, at a fraction of a second per hop. Only
`sentence_window`, which searches every sentence, still needs them stored (a `ConfigError` says so).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence

from tools.embeddings import Embedder, Vector
from tools.store.records import NodeRecord

CACHE_SENTENCES = 20_000  # ~30 MB of 384-d float32 vectors at most


def sentence_embedding_text(title: str, section: Sequence[str], text: str) -> str:
    """Sentences often lack their subject ("He was born in…"), so the section's title goes in front."""
    return f"{section[-1] if section else title}. {text}"


class LazySentenceVectors:
    """Embeds sentence records on first request; remembers up to `capacity` of them (LRU)."""

    def __init__(self, embedder: Embedder, capacity: int = CACHE_SENTENCES) -> None:
        self.embedder = embedder
        self.capacity = capacity
        self._cache: OrderedDict[str, Vector] = OrderedDict()
        self._lock = threading.Lock()
        self.encoded = 0  # texts this cache sent to the encoder

    def get(self, records: Sequence[NodeRecord]) -> dict[str, Vector]:
        """node_id -> vector for every sentence record (embedding those not seen yet)."""
        # Keyed by the embedded text, not the node id: an edited sentence never gets a stale vector.
        texts = {rec.node_id: sentence_embedding_text(rec.title, rec.section, rec.text) for rec in records}
        found: dict[str, Vector] = {}
        with self._lock:
            for text in texts.values():
                vec = self._cache.get(text)
                if vec is not None:
                    self._cache.move_to_end(text)
                    found[text] = vec
        missing = list(dict.fromkeys(t for t in texts.values() if t not in found))
        if missing:
            vectors = self.embedder.embed(missing)
            with self._lock:
                self.encoded += len(missing)
                for text, vec in zip(missing, vectors, strict=True):
                    found[text] = vec
                    self._cache[text] = vec
                while len(self._cache) > self.capacity:
                    self._cache.popitem(last=False)
        return {nid: found[text] for nid, text in texts.items()}
