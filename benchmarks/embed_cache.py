"""A disk cache in front of the bundled MiniLM for benchmarks: every variant of an ablation re-embeds
mostly the same texts, and on a shared 2-core machine the encoder is the whole cost.

The wrapper keeps the wrapped embedder's `id`, so an index built through it is an ordinary MiniLM
index; vectors are stored per text hash in one SQLite file under `benchmarks/.cache/`.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.hotpot import CACHE


class WrappedEmbedder:
    """An embedder that passes everything to `inner`; benchmark wrappers override what they change.
    It keeps `inner`'s `id`, so an index built through it is an ordinary index of that model."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    @property
    def id(self) -> str:
        return str(self.inner.id)

    @property
    def dim(self) -> int:
        return int(self.inner.dim)

    @property
    def max_tokens(self) -> int:
        return int(self.inner.max_tokens)

    def count_tokens(self, text: str) -> int:
        return int(self.inner.count_tokens(text))

    def embed(self, texts: Sequence[str], *, progress: Any = None) -> Any:
        return self.inner.embed(texts, progress=progress)

    def embed_query(self, text: str) -> Any:
        return self.inner.embed_query(text)


class CachingEmbedder(WrappedEmbedder):
    """Delegates to `inner` for texts it has not seen; counts how many it really encoded."""

    def __init__(self, inner: Any, path: Path | None = None) -> None:
        super().__init__(inner)
        self.path = path or CACHE / "embeddings" / f"{_slug(inner.id)}.sqlite"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, check_same_thread=False, timeout=60)
        self._db.execute("CREATE TABLE IF NOT EXISTS vec (h TEXT PRIMARY KEY, v BLOB NOT NULL)")
        self._lock = threading.Lock()
        self.encoded = 0

    def embed(self, texts: Sequence[str], *, progress: Any = None) -> np.ndarray:
        keys = [hashlib.sha1(t.encode("utf-8")).hexdigest() for t in texts]
        found: dict[str, np.ndarray] = {}
        with self._lock:
            for i in range(0, len(keys), 500):
                part = keys[i : i + 500]
                marks = ",".join("?" * len(part))
                for h, blob in self._db.execute(f"SELECT h, v FROM vec WHERE h IN ({marks})", part):
                    found[h] = np.frombuffer(blob, dtype=np.float32)
        missing = list(dict.fromkeys(k for k in keys if k not in found))
        by_key = dict(zip(keys, texts, strict=True))
        for start in range(0, len(missing), 512):  # stored piece by piece: an interrupted run keeps its work
            part = missing[start : start + 512]
            vecs = self.inner.embed([by_key[k] for k in part])
            self.encoded += len(part)
            with self._lock, self._db:
                self._db.executemany(
                    "INSERT OR REPLACE INTO vec(h, v) VALUES(?, ?)",
                    [(k, np.asarray(v, dtype=np.float32).tobytes()) for k, v in zip(part, vecs, strict=True)],
                )
            for k, v in zip(part, vecs, strict=True):
                found[k] = np.asarray(v, dtype=np.float32)
            if progress:
                progress(min(start + 512, len(missing)), len(missing))
        if not missing and progress:
            progress(len(texts), len(texts))
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.vstack([found[k] for k in keys]).astype(np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        vec: np.ndarray = self.embed([text])[0]
        return vec


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in name).strip("-")
