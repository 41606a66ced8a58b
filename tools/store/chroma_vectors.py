"""The embedded backend's vectors: one Chroma collection per embedded level (a `PersistentClient` in
the index directory, or a Chroma server). Metadata carries version and ACL so a filtered query can
fall back to Chroma's own `where`."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from tools.acl import acl_metadata
from tools.embeddings import Vector
from tools.errors import IndexStoreError
from tools.store.chroma_clients import SharedPersistentClient, acquire, release
from tools.store.records import EMBEDDED_LEVELS, VectorRow


class ChromaVectors:
    """A `PersistentClient` in the index directory (shared by this process's handles of it and
    reopened when another process wrote, `tools.store.chroma_clients`), or a client passed in (a
    Chroma server: one process owns the segments there, so nothing is reopened)."""

    def __init__(self, path: Path, client: Any | None) -> None:
        self.path = path
        self.index_id: str | None = None
        self._given = client  # a client passed in belongs to the caller; only ours is closed
        self._shared: SharedPersistentClient | None = None if client is not None else acquire(path)
        self._lock = threading.Lock()
        self._collections: dict[str, Any] = {}

    @property
    def client(self) -> Any | None:
        return self._given if self._shared is None else self._shared.client

    def close(self) -> None:
        """Forget the collections and give up this handle's share of the directory's client."""
        with self._lock:
            shared, self._shared, self._collections = self._shared, None, {}
        if shared is not None:
            release(shared)

    def refresh_if_stale(self) -> None:
        """Reload from disk what another process wrote since this process opened the vectors."""
        if self._shared is not None:
            self._shared.refresh_if_stale()

    def renew_stamp(self) -> None:
        """Under the writer lock, around vector writes: other processes reload before they use theirs."""
        if self._shared is not None:
            self._shared.renew_stamp()

    @contextmanager
    def _use(self) -> Iterator[None]:
        """Around each Chroma call: reopen first if stale, and keep a reopen from closing the client
        under a query of another thread."""
        if self._shared is None and self._given is None:  # closed, and used again: reopen
            self._shared = acquire(self.path)
        if self._shared is None:
            yield
            return
        self._shared.refresh_if_stale()
        with self._shared.gate.use():
            yield

    def collection(self, level: str) -> Any:
        """The collection of one level (inside `_use()`, except for tests that inspect it)."""
        name = self.collection_name(level)
        given = self._given
        if given is None:
            if self._shared is None:  # closed, and used again: reopen
                self._shared = acquire(self.path)
            return self._shared.collection(name)
        if name not in self._collections:
            with self._lock:
                if name not in self._collections:
                    self._collections[name] = given.get_or_create_collection(
                        name, embedding_function=None, configuration={"hnsw": {"space": "cosine"}}
                    )
        return self._collections[name]

    def collection_name(self, level: str) -> str:
        """Per-index names, so many indexes can share one Chroma server (older indexes keep plain names)."""
        return f"hragent_{self.index_id}_{level}" if self.index_id else f"hragent_{level}"

    def upsert(self, level: str, rows: Sequence[VectorRow], vectors: Vector, acl: tuple[str, ...]) -> None:
        acl_meta = acl_metadata(acl)
        for i in range(0, len(rows), 2000):
            batch = rows[i : i + 2000]
            with self._use():
                self.collection(level).upsert(
                    ids=[r.node_id for r in batch],
                    embeddings=vectors[i : i + 2000],
                    metadatas=[
                        {"doc_id": r.doc_id, "version": r.version, "section_id": r.section_id, **acl_meta}
                        for r in batch
                    ],
                )

    def drop(self, doc_id: str, version: str) -> None:
        where: dict[str, Any] = (
            {"doc_id": doc_id} if not version else {"$and": [{"doc_id": doc_id}, {"version": version}]}
        )
        for level in EMBEDDED_LEVELS:
            try:
                with self._use():
                    self.collection(level).delete(where=where)
            except Exception as exc:
                raise IndexStoreError(f"could not remove old vectors of {doc_id}: {exc}") from exc

    def query(
        self, level: str, query: Vector, n: int, where: dict[str, Any] | None, with_vectors: bool
    ) -> tuple[list[tuple[str, float]], dict[str, Vector]]:
        """Nearest (node_id, cosine distance) pairs and, when asked, their stored vectors."""
        vec = np.asarray(query, dtype=np.float32).reshape(1, -1)
        include = ["distances", "embeddings"] if with_vectors else ["distances"]
        with self._use():
            res = self.collection(level).query(query_embeddings=vec, n_results=n, where=where, include=include)
        pairs = [(nid, float(d)) for nid, d in zip(res["ids"][0], res["distances"][0], strict=False)]
        vectors: dict[str, Vector] = {}
        if with_vectors:
            for nid, emb in zip(res["ids"][0], res["embeddings"][0], strict=False):
                vectors[nid] = np.asarray(emb, dtype=np.float32)
        return pairs, vectors

    def get(self, level: str, node_ids: Sequence[str]) -> dict[str, Vector]:
        if not node_ids:
            return {}
        with self._use():
            res = self.collection(level).get(ids=list(node_ids), include=["embeddings"])
        return {nid: np.asarray(vec, dtype=np.float32) for nid, vec in zip(res["ids"], res["embeddings"], strict=False)}

    def metadata_pages(self, level: str) -> Iterator[tuple[str, dict[str, Any]]]:
        offset = 0
        while True:
            with self._use():  # per page: the caller may use the vectors between pages
                page = self.collection(level).get(include=["metadatas"], limit=5000, offset=offset)
            if not page["ids"]:
                return
            offset += len(page["ids"])
            yield from zip(page["ids"], page["metadatas"], strict=False)
