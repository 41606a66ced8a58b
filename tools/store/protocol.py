"""The storage contract: what the index facade (`tools.index.HierarchicalIndex`) needs from a backend.

Two implementations: `EmbeddedStore` (SQLite + FTS5 + Chroma in one directory, the default) and
`PostgresStore` (one PostgreSQL schema with pgvector). Both follow the same write protocol, so the crash
guarantees hold for either: nodes of a new version are written *pending*; its vectors are stored; then
`publish` makes it the visible version in one transaction and records the old version as garbage;
`drop_version` removes garbage vectors. Readers only ever see published versions. The conformance
suite in `tests/storage/` runs against every backend.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol

from tools.embeddings import Vector
from tools.ingest.tree import DocumentTree
from tools.store.records import IndexCheck, NodeRecord, VectorRow
from tools.types import Level


class IndexStore(Protocol):
    """One index's storage. Methods that take `identities` return only what those may see."""

    #: Where the index lives, for messages (a directory, or `postgresql://host/db#schema` without secrets).
    location: str

    # ---------------------------------------------------------------- manifest and lifecycle
    def load_manifest(self) -> dict[str, Any] | None:
        """The stored manifest, or None when no index exists here yet."""

    def save_manifest(self, manifest: dict[str, Any]) -> None: ...

    def manifest_changed(self) -> bool:
        """True when another handle or process saved the manifest since this one last loaded or saved it."""

    def prepare(self, dim: int | None) -> None:
        """Create what is missing (tables, vector indexes once the dimension is known)."""

    def close(self) -> None: ...

    # ---------------------------------------------------------------- writes
    def writer(self, doc_ids: Sequence[str]) -> AbstractContextManager[object]:
        """Exclusive write access to these documents across threads, processes and hosts."""

    def document_state(self, source: str) -> tuple[str, tuple[str, ...]] | None:
        """(content_hash, acl) of the visible version of `source`, or None."""

    def write_pending(
        self, tree: DocumentTree, content_hash: str, acl: tuple[str, ...], summaries: dict[str, str]
    ) -> None: ...

    def upsert_vectors(self, level: Level, rows: Sequence[VectorRow], vectors: Vector, acl: tuple[str, ...]) -> None:
        """Store vectors of a pending version (idempotent by node id)."""

    def publish(
        self, tree: DocumentTree, content_hash: str, acl: tuple[str, ...], bm25_texts: Sequence[str]
    ) -> str | None:
        """Make the pending version visible in one transaction; returns the replaced version."""

    def drop_version(self, doc_id: str, version: str) -> None:
        """Remove the vectors of one version (`""`: of every version) and its garbage record."""

    def collect_garbage(self) -> None:
        """Remove leftovers of writers that died: pending versions and garbage vectors."""

    def delete(self, source: str) -> str | None:
        """Hide a document in one transaction (garbage recorded); returns its doc_id, or None."""

    def check(self, embedded: set[str]) -> IndexCheck: ...

    # ---------------------------------------------------------------- reads
    def sources(self) -> list[str]: ...

    def level_counts(self) -> tuple[int, dict[str, int]]: ...

    def document_stats(self) -> list[dict[str, Any]]: ...

    def get(self, node_ids: Sequence[str], identities: frozenset[str]) -> dict[str, NodeRecord]: ...

    def visible(self, node_ids: Sequence[str], identities: frozenset[str]) -> dict[str, str | None]: ...

    def leaf_ids_of_docs(self, doc_ids: Sequence[str], identities: frozenset[str]) -> dict[str, list[str]]: ...

    def child_ids(self, parent_ids: Sequence[str]) -> dict[str, list[str]]: ...

    def child_levels(self, parent_ids: Sequence[str]) -> list[tuple[str, str]]:
        """(node_id, level) of the children of `parent_ids`, in order."""

    def dense(
        self,
        level: Level,
        query: Vector,
        k: int,
        identities: frozenset[str],
        section_ids: Sequence[str] | None,
        vectors_out: dict[str, Vector] | None,
    ) -> list[tuple[str, float]]: ...

    def vectors(self, level: Level, node_ids: Sequence[str]) -> dict[str, Vector]: ...

    def bm25(
        self, match: str, k: int, identities: frozenset[str], section_ids: Sequence[str] | None, common_df: int
    ) -> list[tuple[str, float]]: ...

    def find_titles(self, titles: Iterable[str], identities: frozenset[str]) -> dict[str, str]: ...

    def doc_titles(self) -> list[tuple[str, str]]: ...

    def document_leaf_ids(self, doc_id: str) -> list[str]: ...

    def summary(self, section_id: str) -> str: ...
