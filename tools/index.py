"""The hierarchical index: one facade over a storage backend (`tools.store`) that builds document
trees, embeds them and publishes each new version atomically.

The backend is the embedded default (one directory: manifest, SQLite tree + FTS5 BM25, Chroma vectors)
or PostgreSQL with pgvector (`tools.store.postgres`). Both follow one write protocol: a crash at any
point leaves the previous version queryable; vectors of unfinished or replaced versions are orphans
that every query ignores and the next ingest removes.
"""

from __future__ import annotations

import hashlib
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from policies.retrieval import BM25_COMMON_DF
from tools.acl import normalize_acl
from tools.embeddings import Embedder, ProgressCallback, Vector
from tools.errors import ConfigError, IndexMismatchError, IndexNotFoundError
from tools.hierarchy.merge import section_leaf_members
from tools.ingest.blocks import ParsedDocument
from tools.ingest.lazy_vectors import LazySentenceVectors, sentence_embedding_text
from tools.ingest.tree import (
    HEADING_PATHS,
    DocumentTree,
    Node,
    TreeConfig,
    build_tree,
    content_hash_of,
    leaf_embedding_text,
    section_summary,
)
from tools.store.embedded import MANIFEST, EmbeddedStore
from tools.store.fts import fts_query
from tools.store.protocol import IndexStore
from tools.store.records import (
    EMBEDDED_LEVELS,
    SCHEMA_VERSION,
    IndexCheck,
    IndexConfig,
    NodeRecord,
    VectorRow,
)
from tools.types import Level

if TYPE_CHECKING:
    import sqlite3

    from tools.locks import WriterLock

__all__ = [
    "EMBEDDED_LEVELS",
    "MANIFEST",
    "SCHEMA_VERSION",
    "HierarchicalIndex",
    "IndexCheck",
    "IndexConfig",
    "NodeRecord",
    "fts_query",
]


class HierarchicalIndex:
    """The tree, BM25 and vectors of one index behind one class; all reads filter by ACL and current version."""

    def __init__(
        self,
        path: str | Path,
        embedder: Embedder,
        *,
        create: bool = True,
        config: IndexConfig | None = None,
        chroma_client: Any | None = None,
        head_id: str | None = None,
        store: IndexStore | None = None,
    ) -> None:
        self.path = Path(path).expanduser().resolve()
        self.embedder = embedder
        self.config = config or IndexConfig()
        self._store: IndexStore = store if store is not None else EmbeddedStore(self.path, chroma_client)
        self.location = self._store.location
        self._pool_lock = threading.Lock()
        self._pool: ThreadPoolExecutor | None = None
        self._lazy_sentences: LazySentenceVectors | None = None
        manifest = self._store.load_manifest()
        if manifest is None:
            if not create:
                raise IndexNotFoundError(
                    f"no hragent index at {self.location}; run `hragent ingest PATH --index {self.path}` first"
                )
            now = time.time()
            self._manifest: dict[str, Any] = {
                "schema_version": self.config.manifest_schema(),
                "embedder": embedder.id,
                "dim": None,
                "head": head_id,
                "index_id": uuid.uuid4().hex[:12],
                "created_at": now,
                "updated_at": now,
                "tree": self.config.tree.__dict__,
                "embed_sentences": self.config.embed_sentences,
                "leaf_headings": self.config.leaf_headings,
                "leaf_heading_path": self.config.leaf_heading_path,
                "dl_sections": self.config.dl_sections,
                "section_vectors": self.config.section_vectors,
            }
            self._write_manifest()
        else:
            self._manifest = manifest
            self._check_manifest(head_id)
            self.config.tree = TreeConfig(**manifest.get("tree", {}))
            self.config.embed_sentences = bool(manifest.get("embed_sentences", True))
            self.config.leaf_headings = bool(manifest.get("leaf_headings", True))
            # Indexes before schema 2 embedded the whole heading path.
            self.config.leaf_heading_path = str(manifest.get("leaf_heading_path", "full"))
            if self.config.leaf_heading_path not in HEADING_PATHS:
                raise IndexMismatchError(
                    f"index {self.location} embeds leaves under heading path {self.config.leaf_heading_path!r},"
                    " which this hragent does not know; upgrade hragent"
                )
            self.config.dl_sections = bool(manifest.get("dl_sections", False))
            self.config.section_vectors = str(manifest.get("section_vectors", "text"))
        self._store.prepare(self._manifest.get("dim"))
        # A backend's own format may need a newer schema than the configuration (the embedded tree's
        # sentence offsets, #20); only this store's files decide it, so older trees keep their schema.
        needed = int(getattr(self._store, "format_schema", 1))
        if needed > int(self._manifest.get("schema_version", 0)):
            self._manifest["schema_version"] = needed
            self._write_manifest()

    @property
    def store(self) -> IndexStore:
        return self._store

    @property
    def manifest(self) -> dict[str, Any]:
        """The manifest, re-read when another handle or process saved it (title caches key on its
        `updated_at`, so they follow another process's publish)."""
        if self._store.manifest_changed():
            fresh = self._store.load_manifest()
            if fresh is not None:
                self._manifest = fresh
        return self._manifest

    # ----------------------------------------------------------------- storage plumbing
    def _check_manifest(self, head_id: str | None) -> None:
        manifest = self._manifest
        version = int(manifest.get("schema_version", 0))
        if version > SCHEMA_VERSION:
            raise IndexMismatchError(
                f"index {self.location} has schema {version}, newer than this hragent ({SCHEMA_VERSION}); upgrade hragent"
            )
        if manifest.get("embedder") != self.embedder.id:
            raise IndexMismatchError(
                f"index {self.location} was built with embedder {manifest.get('embedder')!r}, "
                f"not {self.embedder.id!r}; use that embedder or re-ingest into a new index directory"
            )
        if head_id is not None and manifest.get("head") not in (None, head_id):
            raise IndexMismatchError(
                f"index {self.location} vectors were made with head {manifest.get('head')!r}, not {head_id!r}"
            )

    def _write_manifest(self) -> None:
        self._store.save_manifest(self._manifest)

    def _embedded(self) -> EmbeddedStore:
        if not isinstance(self._store, EmbeddedStore):
            raise ConfigError(f"this operation needs the embedded index backend, not {type(self._store).__name__}")
        return self._store

    @contextmanager
    def _conn(self) -> Iterator[sqlite3.Connection]:
        """The embedded backend's SQLite connection (for tools that read the tree directly)."""
        with self._embedded().tree.conn() as db:
            yield db

    @property
    def _write_lock(self) -> WriterLock:
        return self._embedded().lock

    @property
    def _conns(self) -> list[Any]:
        """The embedded tree's open connections, every thread's (for resource checks)."""
        return list(self._store.tree.conns) if isinstance(self._store, EmbeddedStore) else []

    @property
    def _chroma(self) -> Any | None:
        return self._store.chroma.client if isinstance(self._store, EmbeddedStore) else None

    def executor(self) -> ThreadPoolExecutor:
        """A small pool for work that overlaps a query (BM25 while the vector search runs), made on
        first use and shut down by `close()`: nothing runs, and no thread lingers, before or after."""
        with self._pool_lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="hragent-bm25")
            return self._pool

    def close(self) -> None:
        """Release the worker pool and every connection and client the store opened itself (a client
        passed in belongs to the caller). A later read reopens what it needs."""
        with self._pool_lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
        self._store.close()

    # ----------------------------------------------------------------- ingestion
    def document_state(self, source: str) -> tuple[str, tuple[str, ...]] | None:
        """(content_hash, acl) of the visible version of `source`, or None."""
        return self._store.document_state(source)

    def ingest(
        self,
        doc: ParsedDocument,
        *,
        acl: Iterable[str] | None = None,
        progress: ProgressCallback | None = None,
    ) -> tuple[Literal["added", "updated", "unchanged"], int, int]:
        """Index one parsed document; returns (status, nodes, vectors embedded). Idempotent by content hash."""
        return self.ingest_many([doc], acl=acl, progress=progress)[0]

    def ingest_many(
        self,
        docs: Sequence[ParsedDocument],
        *,
        acl: Iterable[str] | None = None,
        progress: ProgressCallback | None = None,
    ) -> list[tuple[Literal["added", "updated", "unchanged"], int, int]]:
        """Index several documents with one embedding call per level (small documents otherwise pay
        the model's per-call overhead many times). Each document still publishes on its own."""
        acl_t = normalize_acl(acl)
        results: list[tuple[Literal["added", "updated", "unchanged"], int, int]] = []
        todo: list[tuple[int, DocumentTree, str, bool]] = []
        for doc in docs:
            content_hash = content_hash_of(doc.text)
            state = self.document_state(doc.source)
            results.append(("unchanged", 0, 0))
            if state == (content_hash, acl_t):
                continue
            version = _version_tag(content_hash, acl_t)
            tree = build_tree(doc, self.embedder.count_tokens, self.config.tree, version=version)
            todo.append((len(results) - 1, tree, content_hash, state is not None))
        if not todo:
            return results
        with self._store.writer([t[1].doc_id for t in todo]):
            # Re-read under the lock: another writer may have indexed this very version meanwhile.
            todo = [t for t in todo if self.document_state(t[1].doc.source) != (t[2], acl_t)]
            if not todo:
                return results
            self._gc_pending()
            for _, tree, content_hash, _ in todo:
                self._write_pending(tree, content_hash, acl_t)
            embedded = self._embed_trees([t for _, t, _, _ in todo], acl_t, progress)
            for pos, tree, content_hash, existed in todo:
                old_version = self._publish(tree, content_hash, acl_t)
                if old_version and old_version != tree.version:
                    self._drop_version(tree.doc_id, old_version)
                results[pos] = ("updated" if existed else "added", len(tree.nodes), embedded.get(tree.doc_id, 0))
            self._touch()
        return results

    def _write_pending(self, tree: DocumentTree, content_hash: str, acl: tuple[str, ...]) -> None:
        summaries = {
            s.node_id: section_summary(tree, s, self.config.tree.summary_sentences) for s in tree.by_level("section")
        }
        self._store.write_pending(tree, content_hash, acl, summaries)

    def _embed_trees(
        self, trees: Sequence[DocumentTree], acl: tuple[str, ...], progress: ProgressCallback | None
    ) -> dict[str, int]:
        """Embed and store the vectors of several trees in one batched model call; returns vectors
        written per doc_id."""
        jobs: list[tuple[Level, list[tuple[DocumentTree, Node]], list[str]]] = []
        leaves = [(t, n) for t in trees for n in t.by_level("leaf")]
        jobs.append(("leaf", leaves, [self._leaf_text(n) for _, n in leaves]))
        if self.config.embed_sentences:
            sents = [(t, n) for t in trees for n in t.by_level("sentence")]
            jobs.append(("sentence", sents, [_sentence_embedding_text(t, n) for t, n in sents]))
        if self.config.embed_sections:
            secs = [(t, n) for t in trees for n in t.by_level("section")]
            # Mean-merged sections need their summary embedded only when no leaf lies below them.
            mean = self.config.section_vectors == "mean"
            with_leaves = {sid for t in trees for sid, m in section_leaf_members(t).items() if m} if mean else set()
            summaries = [
                "" if n.node_id in with_leaves else section_summary(t, n, self.config.tree.summary_sentences)
                for t, n in secs
            ]
            jobs.append(("section", secs, summaries))
        # One model call for every level: identical texts (a one-leaf section's summary is its first
        # sentence's text) are embedded once, and length-sorted batches waste little on padding.
        unique = sorted({t for _, _, texts in jobs for t in texts if t}, key=len)
        if not unique:
            return {}
        vectors = self._vectors_for(unique, progress)
        self._record_dim(vectors)
        row = {t: i for i, t in enumerate(unique)}
        per_doc: dict[str, int] = {}
        for level, nodes, texts in jobs:
            if not nodes:
                continue
            level_vectors = vectors[[row.get(t, 0) for t in texts]]
            level_vectors[[i for i, t in enumerate(texts) if not t]] = 0.0  # mean-merged below
            if level == "section" and self.config.section_vectors == "mean":
                level_vectors = self._mean_sections(nodes, level_vectors, vectors, row)
            same = self._single_leaf_sections(nodes) if level == "section" else {}
            rows = [
                VectorRow(n.node_id, n.doc_id, t.version, n.section_id or "", same.get(n.node_id, "")) for t, n in nodes
            ]
            for i in range(0, len(rows), 2000):
                self._upsert_vectors(level, rows[i : i + 2000], level_vectors[i : i + 2000], acl)
            for t, _ in nodes:
                per_doc[t.doc_id] = per_doc.get(t.doc_id, 0) + 1
        # Mean-merged section vectors are not the embedding of their text: only text vectors are reusable.
        reusable = {"leaf", "sentence"} | ({"section"} if self.config.section_vectors == "text" else set())
        self._remember_texts(
            (t, level, n.node_id)
            for level, nodes, texts in jobs
            if level in reusable
            for (_, n), t in zip(nodes, texts, strict=True)
        )
        return per_doc

    def _single_leaf_sections(self, nodes: list[tuple[DocumentTree, Node]]) -> dict[str, str]:
        """section id -> its only leaf, for mean-merged sections (whose vector is then that leaf's):
        a backend may store no copy (`VectorRow.same_as`, #20)."""
        if self.config.section_vectors != "mean":
            return {}
        out: dict[str, str] = {}
        for tree in {id(t): t for t, _ in nodes}.values():
            leaves = tree.by_level("leaf")
            for sid, members in section_leaf_members(tree).items():
                if len(members) == 1:
                    out[sid] = leaves[members[0]].node_id
        return out

    def _leaf_text(self, node: Node) -> str:
        """What the encoder reads for a leaf under this index's manifest (heading path or its tail)."""
        return leaf_embedding_text(node, self.config.leaf_headings, self.config.leaf_heading_path)

    def _upsert_vectors(self, level: Level, rows: Sequence[VectorRow], vectors: Vector, acl: tuple[str, ...]) -> None:
        """One batch of vectors into the store (a named step, so crash tests can stop right after it)."""
        self._store.upsert_vectors(level, rows, vectors, acl)

    # Texts the encoder read / took from the ledger, since this index was opened (for ingest reports).
    encoded_texts: int = 0
    reused_texts: int = 0

    def _vectors_for(self, texts: list[str], progress: ProgressCallback | None) -> Vector:
        """Embeddings of `texts`: vectors already stored for identical texts are reused (see
        `tools.ingest.reuse`); only the rest go through the encoder."""
        from tools.ingest import reuse

        if not isinstance(self._store, EmbeddedStore):  # the ledger lives in tree.sqlite (embedded only)
            self.encoded_texts += len(texts)
            return self.embedder.embed(texts, progress=progress)
        hashes = [reuse.text_hash(t) for t in texts]
        with self._conn() as db:
            known = reuse.lookup(db, hashes)
        found: dict[str, Vector] = {}
        by_level: dict[str, dict[str, str]] = {}
        for h, (level, nid) in known.items():
            by_level.setdefault(level, {})[nid] = h
        for level, ids in by_level.items():
            keys = list(ids)
            for i in range(0, len(keys), 2000):
                for nid, vec in self.vectors(level, keys[i : i + 2000]).items():  # type: ignore[arg-type]
                    found[ids[nid]] = vec
        missing = [i for i, h in enumerate(hashes) if h not in found]
        fresh = self.embedder.embed([texts[i] for i in missing], progress=progress) if missing else None
        self.encoded_texts += len(missing)
        self.reused_texts += len(texts) - len(missing)
        dim = fresh.shape[1] if fresh is not None else len(next(iter(found.values())))
        out = np.zeros((len(texts), dim), dtype=np.float32)
        if fresh is not None:
            out[missing] = fresh
        for i, h in enumerate(hashes):
            if h in found:
                out[i] = found[h]
        return out

    def _remember_texts(self, rows: Iterable[tuple[str, str, str]]) -> None:
        from tools.ingest import reuse

        if not isinstance(self._store, EmbeddedStore):
            return
        with self._conn() as db:
            reuse.remember(db, rows)

    def _mean_sections(
        self, nodes: list[tuple[DocumentTree, Node]], text_vectors: Vector, vectors: Vector, row: dict[str, int]
    ) -> Vector:
        """Section vectors merged from their leaves (`section_vectors="mean"`); a section without any
        leaf keeps its summary-text vector."""
        from tools.hierarchy.merge import mean_section_vectors

        out = np.array(text_vectors, copy=True)
        by_tree: dict[str, list[int]] = {}
        for i, (tree, _) in enumerate(nodes):
            by_tree.setdefault(tree.doc_id, []).append(i)
        for positions in by_tree.values():
            tree = nodes[positions[0]][0]
            leaf_vecs = vectors[[row[self._leaf_text(n)] for n in tree.by_level("leaf")]]
            fallback = self._rows_of(text_vectors, positions)
            out[positions] = mean_section_vectors(tree, [nodes[i][1] for i in positions], leaf_vecs, fallback)
        merged: Vector = out.astype(np.float32)
        return merged

    @staticmethod
    def _rows_of(matrix: Vector, positions: list[int]) -> Callable[[list[int]], Vector]:
        def rows(idx: list[int]) -> Vector:
            picked: Vector = matrix[[positions[j] for j in idx]]
            return picked

        return rows

    def _record_dim(self, vectors: Vector) -> None:
        if vectors.size == 0:
            return
        dim = int(vectors.shape[1])
        if self.manifest.get("dim") is None:
            self._manifest["dim"] = dim
            self._write_manifest()
            self._store.prepare(dim)
        elif self._manifest["dim"] != dim:
            raise IndexMismatchError(
                f"embedder produced {dim}-d vectors; index {self.location} holds {self._manifest['dim']}-d"
            )

    def _publish(self, tree: DocumentTree, content_hash: str, acl: tuple[str, ...]) -> str | None:
        """Atomically make the new version the visible one (its BM25 rows swap in the same transaction)."""
        bm25_texts = [leaf_embedding_text(n, True) for n in tree.by_level("leaf")]
        return self._store.publish(tree, content_hash, acl, bm25_texts)

    def _drop_version(self, doc_id: str, version: str) -> None:
        """Remove the vectors of one version (`version=""`: of every version) and its garbage record."""
        self._store.drop_version(doc_id, version)

    def _gc_pending(self) -> None:
        """Remove what a crashed ingest or delete left behind: unpublished nodes and their vectors, and
        vectors of replaced or deleted versions whose removal was interrupted."""
        self._store.collect_garbage()

    def delete(self, source: str) -> bool:
        """Remove a document (all versions) from every store; returns False when it was not indexed.

        It disappears from reads in one transaction; its vectors go next (a crash in between leaves a
        garbage record that the next write clears)."""
        from tools.ingest.tree import doc_id_for

        with self._store.writer([doc_id_for(source)]):
            doc_id = self._store.delete(source)
            if doc_id is None:
                return False
            self._drop_version(doc_id, "")
            self._touch()
        return True

    def collect_garbage(self) -> None:
        """Finish what an interrupted ingest or delete left undone (ingest passes call this first)."""
        with self._store.writer([]):
            self._gc_pending()

    def _touch(self) -> None:
        self._manifest["updated_at"] = time.time()
        self._write_manifest()

    def check(self) -> IndexCheck:
        """Cross-check the stores: every visible document must be complete in the tree, BM25 and vectors
        (a `problem` otherwise); leftovers of unfinished or replaced versions are counted as `orphans`."""
        return self._store.check(self.config.embedded_levels())

    # ----------------------------------------------------------------- reads
    def sources(self) -> list[str]:
        return self._store.sources()

    def stats(self) -> dict[str, Any]:
        docs, levels = self._store.level_counts()
        return {"documents": docs, "levels": levels, **{k: self.manifest.get(k) for k in ("embedder", "dim", "head")}}

    def document_stats(self) -> list[dict[str, Any]]:
        """Per visible document: source, title, ACL and node counts per level (for `hragent inspect`)."""
        return self._store.document_stats()

    def get(self, node_ids: Sequence[str], identities: frozenset[str]) -> dict[str, NodeRecord]:
        """Fetch visible, current nodes by id; invisible or stale ids are simply absent."""
        return self._store.get(node_ids, identities)

    def visible(self, node_ids: Sequence[str], identities: frozenset[str]) -> dict[str, str | None]:
        """node_id -> section_id for the ids that are current and visible: the cheap filter search
        results pass through (no text, no JSON beyond the ACL)."""
        return self._store.visible(node_ids, identities)

    def leaf_ids_of_docs(self, doc_ids: Sequence[str], identities: frozenset[str]) -> dict[str, list[str]]:
        """doc_id -> its current, visible leaf ids in document order (one query for many documents)."""
        return self._store.leaf_ids_of_docs(doc_ids, identities)

    def child_ids(self, parent_ids: Sequence[str]) -> dict[str, list[str]]:
        """parent id -> child ids in order; children share their parent's document, version and ACL."""
        return self._store.child_ids(parent_ids)

    def children(self, node_id: str, identities: frozenset[str]) -> list[NodeRecord]:
        ids = self._store.child_ids([node_id]).get(node_id, [])
        found = self.get(ids, identities)
        return [found[i] for i in ids if i in found]

    def descendants(self, node_id: str, level: Level, identities: frozenset[str]) -> list[NodeRecord]:
        """All visible nodes of `level` under `node_id`, in document order."""
        frontier = [node_id]
        result: list[str] = []
        while frontier:
            rows = self._store.child_levels(frontier)
            frontier = []
            for nid, lvl in rows:
                if lvl == level:
                    result.append(nid)
                else:
                    frontier.append(nid)
        found = self.get(result, identities)
        return sorted((found[i] for i in result if i in found), key=lambda n: n.ord)

    def dense(
        self,
        level: Level,
        query: Vector,
        k: int,
        identities: frozenset[str],
        *,
        section_ids: Sequence[str] | None = None,
        vectors_out: dict[str, Vector] | None = None,
    ) -> list[tuple[str, float]]:
        """Top-k (node_id, cosine similarity) at one level, visible to `identities`. `vectors_out`
        receives the hits' stored vectors (saving the caller a second round trip to the store)."""
        if k <= 0 or (section_ids is not None and not section_ids):
            return []
        return self._store.dense(level, query, k, identities, section_ids, vectors_out)

    def vectors(self, level: Level, node_ids: Sequence[str]) -> dict[str, Vector]:
        """Stored vectors by id (for de-duplication, merging and re-scoring)."""
        return self._store.vectors(level, node_ids) if node_ids else {}

    def sentence_vectors(self, sentences: Sequence[NodeRecord]) -> dict[str, Vector]:
        """Vectors of sentence records the caller already fetched (so already ACL-filtered): the
        stored ones, or, on an index built without them, embedded now and cached in memory
        (`tools.ingest.lazy_vectors`), the same text and so the same vector ingest would have stored."""
        if not sentences:
            return {}
        if self.config.embed_sentences:
            return self.vectors("sentence", [s.node_id for s in sentences])
        if self._lazy_sentences is None:
            self._lazy_sentences = LazySentenceVectors(self.embedder)
        return self._lazy_sentences.get(sentences)

    def bm25(
        self, query: str, k: int, identities: frozenset[str], *, section_ids: Sequence[str] | None = None
    ) -> list[tuple[str, float]]:
        """Top-k leaves by BM25, as (node_id, positive score), visible to `identities`."""
        match = fts_query(query)
        if not match or k <= 0:
            return []
        return self._store.bm25(match, k, identities, section_ids, BM25_COMMON_DF)

    def find_titles(self, titles: Iterable[str], identities: frozenset[str]) -> dict[str, str]:
        """Map document titles (case-insensitive) to their doc ids: lets a solver follow a named entity."""
        return self._store.find_titles(titles, identities)

    def doc_titles(self) -> list[tuple[str, str]]:
        """(doc_id, title) of every visible document; callers filter by ACL when they fetch nodes."""
        return self._store.doc_titles()

    def titles(self) -> list[str]:
        return [title for _, title in self._store.doc_titles()]

    def document_leaves(self, doc_id: str, identities: frozenset[str]) -> list[NodeRecord]:
        ids = self._store.document_leaf_ids(doc_id)
        found = self.get(ids, identities)
        return [found[i] for i in ids if i in found]

    def summary(self, section_id: str) -> str:
        return self._store.summary(section_id)


def _version_tag(content_hash: str, acl: tuple[str, ...]) -> str:
    return hashlib.sha1((content_hash + "|" + ",".join(acl)).encode()).hexdigest()[:10]


def _sentence_embedding_text(tree: DocumentTree, node: Node) -> str:
    return sentence_embedding_text(tree.doc.title, node.section, node.text)
