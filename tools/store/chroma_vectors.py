"""The embedded backend's vectors: one Chroma collection per embedded level (a `PersistentClient` in
the index directory, or a Chroma server). Metadata carries version and ACL so a filtered query can
fall back to Chroma's own `where`."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from tools.acl import acl_metadata
from tools.embeddings import Vector
from tools.errors import IndexStoreError
from tools.store.records import EMBEDDED_LEVELS, VectorRow


class ChromaVectors:
    def __init__(self, path: Path, client: Any | None) -> None:
        self.path = path
        self.index_id: str | None = None
        self._client = client
        self._owns_client = False  # a client passed in belongs to the caller; only ours is closed
        self._lock = threading.Lock()
        self._collections: dict[str, Any] = {}

    @property
    def client(self) -> Any | None:
        return self._client

    def close(self) -> None:
        """Forget the collections and close a `PersistentClient` this store opened itself."""
        with self._lock:
            client, owned = self._client, self._owns_client
            self._collections = {}
            if owned:
                self._client, self._owns_client = None, False
        if owned and client is not None:
            client.close()

    def collection(self, level: str) -> Any:
        if level in self._collections:
            return self._collections[level]
        with self._lock:  # parallel subgoals may open the client at the same moment
            if level not in self._collections:
                if self._client is None:
                    import chromadb
                    from chromadb.config import Settings as ChromaSettings

                    self._client = chromadb.PersistentClient(
                        path=str(self.path / "chroma"), settings=ChromaSettings(anonymized_telemetry=False)
                    )
                    self._owns_client = True
                self._collections[level] = self._client.get_or_create_collection(
                    self.collection_name(level), embedding_function=None, configuration={"hnsw": {"space": "cosine"}}
                )
            return self._collections[level]

    def collection_name(self, level: str) -> str:
        """Per-index names, so many indexes can share one Chroma server (older indexes keep plain names)."""
        return f"hragent_{self.index_id}_{level}" if self.index_id else f"hragent_{level}"

    def upsert(self, level: str, rows: Sequence[VectorRow], vectors: Vector, acl: tuple[str, ...]) -> None:
        acl_meta = acl_metadata(acl)
        col = self.collection(level)
        for i in range(0, len(rows), 2000):
            batch = rows[i : i + 2000]
            col.upsert(
                ids=[r.node_id for r in batch],
                embeddings=vectors[i : i + 2000],
                metadatas=[
                    {"doc_id": r.doc_id, "version": r.version, "section_id": r.section_id, **acl_meta} for r in batch
                ],
            )

    def drop(self, doc_id: str, version: str) -> None:
        where: dict[str, Any] = (
            {"doc_id": doc_id} if not version else {"$and": [{"doc_id": doc_id}, {"version": version}]}
        )
        for level in EMBEDDED_LEVELS:
            try:
                self.collection(level).delete(where=where)
            except Exception as exc:
                raise IndexStoreError(f"could not remove old vectors of {doc_id}: {exc}") from exc

    def query(
        self, level: str, query: Vector, n: int, where: dict[str, Any] | None, with_vectors: bool
    ) -> tuple[list[tuple[str, float]], dict[str, Vector]]:
        """Nearest (node_id, cosine distance) pairs and, when asked, their stored vectors."""
        vec = np.asarray(query, dtype=np.float32).reshape(1, -1)
        include = ["distances", "embeddings"] if with_vectors else ["distances"]
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
        res = self.collection(level).get(ids=list(node_ids), include=["embeddings"])
        return {nid: np.asarray(vec, dtype=np.float32) for nid, vec in zip(res["ids"], res["embeddings"], strict=False)}

    def metadata_pages(self, level: str) -> Iterator[tuple[str, dict[str, Any]]]:
        col = self.collection(level)
        offset = 0
        while True:
            page = col.get(include=["metadatas"], limit=5000, offset=offset)
            if not page["ids"]:
                return
            offset += len(page["ids"])
            yield from zip(page["ids"], page["metadatas"], strict=False)
