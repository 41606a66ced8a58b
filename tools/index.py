"""The hierarchical index: one directory holding a manifest, the tree (SQLite), BM25 (SQLite FTS5)
and the vectors (Chroma).

SQLite is the source of truth. A document version becomes visible in one transaction, only after its
vectors are in Chroma, so a crash at any point leaves the previous version queryable; Chroma vectors
of unfinished or replaced versions are orphans that every query ignores and the next ingest removes.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from policies.retrieval import BM25_COMMON_DF
from tools.acl import acl_metadata, can_see, chroma_acl_filter, normalize_acl
from tools.embeddings import Embedder, ProgressCallback, Vector
from tools.errors import IndexMismatchError, IndexNotFoundError, IndexStoreError
from tools.hierarchy.merge import section_leaf_members
from tools.ingest.blocks import ParsedDocument
from tools.ingest.tree import (
    DocumentTree,
    Node,
    TreeConfig,
    build_tree,
    content_hash_of,
    leaf_embedding_text,
    section_summary,
)
from tools.locks import WriterLock
from tools.types import Level

SCHEMA_VERSION = 1
MANIFEST = "manifest.json"
EMBEDDED_LEVELS: tuple[Level, ...] = ("leaf", "sentence", "section")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS docs (
  doc_id TEXT PRIMARY KEY, source TEXT UNIQUE NOT NULL, title TEXT NOT NULL, media_type TEXT NOT NULL,
  content_hash TEXT NOT NULL, acl TEXT NOT NULL, version TEXT, pending_version TEXT,
  text TEXT NOT NULL, updated_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS nodes (
  node_id TEXT PRIMARY KEY, doc_id TEXT NOT NULL, version TEXT NOT NULL, level TEXT NOT NULL,
  parent_id TEXT, section_id TEXT, ord INTEGER NOT NULL, section TEXT NOT NULL,
  start INTEGER NOT NULL, "end" INTEGER NOT NULL, content_hash TEXT NOT NULL, text TEXT NOT NULL,
  summary TEXT
);
CREATE INDEX IF NOT EXISTS nodes_doc ON nodes(doc_id, version);
CREATE INDEX IF NOT EXISTS nodes_parent ON nodes(parent_id);
CREATE VIRTUAL TABLE IF NOT EXISTS leaf_fts USING fts5(text, node_id UNINDEXED, tokenize='porter unicode61');
CREATE TABLE IF NOT EXISTS garbage (doc_id TEXT NOT NULL, version TEXT NOT NULL, PRIMARY KEY (doc_id, version));
"""

_STOPWORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "of",
        "in",
        "on",
        "at",
        "to",
        "for",
        "from",
        "by",
        "with",
        "and",
        "or",
        "but",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "being",
        "as",
        "that",
        "this",
        "these",
        "those",
        "it",
        "its",
        "which",
        "who",
        "whom",
        "whose",
        "what",
        "when",
        "where",
        "why",
        "how",
        "do",
        "does",
        "did",
        "has",
        "have",
        "had",
        "not",
        "no",
        "yes",
        "than",
        "then",
        "there",
        "their",
        "they",
        "them",
        "he",
        "she",
        "his",
        "her",
        "i",
        "you",
        "your",
        "we",
        "our",
        "us",
        "me",
        "my",
        "into",
        "about",
        "over",
        "under",
        "also",
        "both",
        "either",
    ]
)
_FTS_TOKEN = re.compile(r"\w+", re.UNICODE)


@dataclass
class IndexConfig:
    """Build-time choices recorded in the manifest (changing them means re-ingesting)."""

    tree: TreeConfig = field(default_factory=TreeConfig)
    embed_sentences: bool = True
    embed_sections: bool = True
    leaf_headings: bool = True
    dl_sections: bool = True
    # "mean" (mean of the section's leaf vectors; measured better for section routing on both benchmark
    # corpora and free at ingest) | "text" (the embedding of the section's extractive summary)
    section_vectors: str = "mean"


@dataclass(frozen=True)
class NodeRecord:
    """A stored node joined with its document: everything needed to build a `Hit` or a citation."""

    node_id: str
    doc_id: str
    level: Level
    parent_id: str | None
    section_id: str | None
    ord: int
    section: list[str]
    start: int
    end: int
    text: str
    source: str
    title: str
    acl: tuple[str, ...]


@dataclass
class IndexCheck:
    """What `HierarchicalIndex.check` found: `problems` break consistency; `orphans` are leftovers
    that reads already ignore and the next ingest removes."""

    documents: int
    problems: list[str]
    orphans: dict[str, int]

    @property
    def ok(self) -> bool:
        return not self.problems


def fts_query(text: str) -> str:
    """A safe FTS5 OR-query of the content words of `text` (quotes neutralise FTS syntax)."""
    words = [w.lower() for w in _FTS_TOKEN.findall(text)]
    terms = list(dict.fromkeys(w for w in words if w not in _STOPWORDS and len(w) > 1))
    return " OR ".join(f'"{t}"' for t in terms[:32])


class HierarchicalIndex:
    """Chroma + FTS5 + tree behind one class; all reads filter by ACL and current version."""

    def __init__(
        self,
        path: str | Path,
        embedder: Embedder,
        *,
        create: bool = True,
        config: IndexConfig | None = None,
        chroma_client: Any | None = None,
        head_id: str | None = None,
    ) -> None:
        self.path = Path(path).expanduser().resolve()
        self.embedder = embedder
        self.config = config or IndexConfig()
        self._local = threading.local()
        self._chroma_lock = threading.Lock()
        # Every thread's connection, so `close()` releases them all (not just the caller's).
        self._conns: list[sqlite3.Connection] = []
        self._conns_lock = threading.Lock()
        self._generation = 0
        self._pool: ThreadPoolExecutor | None = None
        manifest_path = self.path / MANIFEST
        if not manifest_path.exists():
            if not create:
                raise IndexNotFoundError(
                    f"no hragent index at {self.path}; run `hragent ingest PATH --index {self.path}` first"
                )
            self.path.mkdir(parents=True, exist_ok=True)
            now = time.time()
            self.manifest: dict[str, Any] = {
                "schema_version": SCHEMA_VERSION,
                "embedder": embedder.id,
                "dim": None,
                "head": head_id,
                "index_id": uuid.uuid4().hex[:12],
                "created_at": now,
                "updated_at": now,
                "tree": self.config.tree.__dict__,
                "embed_sentences": self.config.embed_sentences,
                "leaf_headings": self.config.leaf_headings,
                "dl_sections": self.config.dl_sections,
                "section_vectors": self.config.section_vectors,
            }
            self._write_manifest()
        else:
            try:
                self.manifest = json.loads(manifest_path.read_text())
            except (OSError, json.JSONDecodeError) as exc:
                raise IndexStoreError(f"unreadable manifest {manifest_path}: {exc}") from exc
            self._check_manifest(head_id)
            self.config.tree = TreeConfig(**self.manifest.get("tree", {}))
            self.config.embed_sentences = bool(self.manifest.get("embed_sentences", True))
            self.config.leaf_headings = bool(self.manifest.get("leaf_headings", True))
            self.config.dl_sections = bool(self.manifest.get("dl_sections", False))
            self.config.section_vectors = str(self.manifest.get("section_vectors", "text"))
        self._write_lock = WriterLock(self.path / "write.lock")
        try:
            with self._conn() as db:
                db.executescript(_SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise IndexStoreError(
                f"{self.path / 'tree.sqlite'} is not a readable hragent tree ({exc}); restore it or re-ingest"
                " into a new index directory"
            ) from exc
        self._chroma = chroma_client
        self._owns_chroma = False
        self._collections: dict[str, Any] = {}

    # ----------------------------------------------------------------- storage plumbing
    def _check_manifest(self, head_id: str | None) -> None:
        version = int(self.manifest.get("schema_version", 0))
        if version > SCHEMA_VERSION:
            raise IndexMismatchError(
                f"index {self.path} has schema {version}, newer than this hragent ({SCHEMA_VERSION}); upgrade hragent"
            )
        if self.manifest.get("embedder") != self.embedder.id:
            raise IndexMismatchError(
                f"index {self.path} was built with embedder {self.manifest.get('embedder')!r}, "
                f"not {self.embedder.id!r}; use that embedder or re-ingest into a new index directory"
            )
        if head_id is not None and self.manifest.get("head") not in (None, head_id):
            raise IndexMismatchError(
                f"index {self.path} vectors were made with head {self.manifest.get('head')!r}, not {head_id!r}"
            )

    def _write_manifest(self) -> None:
        # A per-writer temp name: concurrent writers must never rename each other's half-written file.
        tmp = self.path / f"{MANIFEST}.{os.getpid()}.{threading.get_ident()}.tmp"
        tmp.write_text(json.dumps(self.manifest, indent=2, sort_keys=True))
        tmp.replace(self.path / MANIFEST)

    @contextmanager
    def _conn(self) -> Iterator[sqlite3.Connection]:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None or getattr(self._local, "generation", -1) != self._generation:
            conn = sqlite3.connect(self.path / "tree.sqlite", timeout=60, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            with self._conns_lock:
                self._conns.append(conn)
                self._local.conn, self._local.generation = conn, self._generation
        yield conn

    def executor(self) -> ThreadPoolExecutor:
        """A small pool for work that overlaps a query (BM25 while Chroma answers), made on first use
        and shut down by `close()`: nothing runs, and no thread lingers, before or after."""
        with self._conns_lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="hragent-bm25")
            return self._pool

    def _collection(self, level: str) -> Any:
        if level in self._collections:
            return self._collections[level]
        with self._chroma_lock:  # parallel subgoals may open the client at the same moment
            return self._open_collection(level)

    def _open_collection(self, level: str) -> Any:
        if level not in self._collections:
            if self._chroma is None:
                import chromadb
                from chromadb.config import Settings as ChromaSettings

                self._chroma = chromadb.PersistentClient(
                    path=str(self.path / "chroma"), settings=ChromaSettings(anonymized_telemetry=False)
                )
                self._owns_chroma = True
            self._collections[level] = self._chroma.get_or_create_collection(
                self._collection_name(level), embedding_function=None, configuration={"hnsw": {"space": "cosine"}}
            )
        return self._collections[level]

    def _collection_name(self, level: str) -> str:
        """Per-index names, so many indexes can share one Chroma server (older indexes keep plain names)."""
        index_id = self.manifest.get("index_id")
        return f"hragent_{index_id}_{level}" if index_id else f"hragent_{level}"

    def close(self) -> None:
        """Release every thread's SQLite connection, the worker pool and a Chroma client this index
        opened itself (one passed in belongs to the caller). A later read reopens what it needs."""
        with self._conns_lock:
            conns, self._conns = self._conns, []
            self._generation += 1
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
        for conn in conns:
            conn.close()
        self._local = threading.local()
        with self._chroma_lock:
            client, owned = self._chroma, self._owns_chroma
            self._collections = {}
            if owned:
                self._chroma, self._owns_chroma = None, False
        if owned and client is not None:
            client.close()

    # ----------------------------------------------------------------- ingestion
    def document_state(self, source: str) -> tuple[str, tuple[str, ...]] | None:
        """(content_hash, acl) of the visible version of `source`, or None."""
        with self._conn() as db:
            row = db.execute(
                "SELECT content_hash, acl FROM docs WHERE source=? AND version IS NOT NULL", (source,)
            ).fetchone()
        return None if row is None else (row[0], tuple(json.loads(row[1])))

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
        with self._write_lock:
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
        now = time.time()
        doc = tree.doc
        summaries = {
            s.node_id: section_summary(tree, s, self.config.tree.summary_sentences) for s in tree.by_level("section")
        }
        with self._conn() as db, db:
            db.execute(
                "INSERT INTO docs(doc_id, source, title, media_type, content_hash, acl, version, pending_version, text, updated_at)"
                " VALUES(?,?,?,?,?,?,NULL,?,?,?) ON CONFLICT(doc_id) DO UPDATE SET pending_version=excluded.pending_version",
                (
                    tree.doc_id,
                    doc.source,
                    doc.title,
                    doc.media_type,
                    content_hash,
                    json.dumps(acl),
                    tree.version,
                    doc.text,
                    now,
                ),
            )
            db.execute("DELETE FROM nodes WHERE doc_id=? AND version=?", (tree.doc_id, tree.version))
            db.executemany(
                'INSERT INTO nodes(node_id, doc_id, version, level, parent_id, section_id, ord, section, start, "end",'
                " content_hash, text, summary) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?)",
                [
                    (
                        n.node_id,
                        n.doc_id,
                        tree.version,
                        n.level,
                        n.parent_id,
                        n.section_id or None,
                        n.ord,
                        json.dumps(n.section),
                        n.start,
                        n.end,
                        n.content_hash,
                        "" if n.level in ("document", "section") else n.text,
                        summaries.get(n.node_id),
                    )
                    for n in tree.nodes
                ],
            )

    def _embed_trees(
        self, trees: Sequence[DocumentTree], acl: tuple[str, ...], progress: ProgressCallback | None
    ) -> dict[str, int]:
        """Embed and store the vectors of several trees in one batched model call; returns vectors
        written per doc_id."""
        acl_meta = acl_metadata(acl)
        jobs: list[tuple[str, list[tuple[DocumentTree, Node]], list[str]]] = []
        leaves = [(t, n) for t in trees for n in t.by_level("leaf")]
        jobs.append(("leaf", leaves, [leaf_embedding_text(n, self.config.leaf_headings) for _, n in leaves]))
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
        vectors = self.embedder.embed(unique, progress=progress)
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
            col = self._collection(level)
            for i in range(0, len(nodes), 2000):
                batch = nodes[i : i + 2000]
                col.upsert(
                    ids=[n.node_id for _, n in batch],
                    embeddings=level_vectors[i : i + 2000],
                    metadatas=[
                        {"doc_id": n.doc_id, "version": t.version, "section_id": n.section_id or "", **acl_meta}
                        for t, n in batch
                    ],
                )
            for t, _ in nodes:
                per_doc[t.doc_id] = per_doc.get(t.doc_id, 0) + 1
        return per_doc

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
            leaf_vecs = vectors[[row[leaf_embedding_text(n, self.config.leaf_headings)] for n in tree.by_level("leaf")]]
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
            self.manifest["dim"] = dim
            self._write_manifest()
        elif self.manifest["dim"] != dim:
            raise IndexMismatchError(
                f"embedder produced {dim}-d vectors; index {self.path} holds {self.manifest['dim']}-d"
            )

    def _publish(self, tree: DocumentTree, content_hash: str, acl: tuple[str, ...]) -> str | None:
        """Atomically make the new version the visible one (FTS rows swap in the same transaction)."""
        with self._conn() as db, db:
            row = db.execute("SELECT version FROM docs WHERE doc_id=?", (tree.doc_id,)).fetchone()
            old = row[0] if row else None
            doc = tree.doc
            db.execute(
                "UPDATE docs SET version=?, pending_version=NULL, source=?, title=?, media_type=?, content_hash=?,"
                " acl=?, text=?, updated_at=? WHERE doc_id=?",
                (
                    tree.version,
                    doc.source,
                    doc.title,
                    doc.media_type,
                    content_hash,
                    json.dumps(acl),
                    doc.text,
                    time.time(),
                    tree.doc_id,
                ),
            )
            if old and old != tree.version:
                db.execute(
                    "DELETE FROM leaf_fts WHERE node_id IN (SELECT node_id FROM nodes WHERE doc_id=? AND version=?)",
                    (tree.doc_id, old),
                )
                db.execute("DELETE FROM nodes WHERE doc_id=? AND version=?", (tree.doc_id, old))
                # The old vectors go after this commit; recorded here so a crash before then cannot orphan them.
                db.execute("INSERT OR IGNORE INTO garbage(doc_id, version) VALUES(?, ?)", (tree.doc_id, old))
            db.executemany(
                "INSERT INTO leaf_fts(text, node_id) VALUES(?, ?)",
                [(leaf_embedding_text(n, True), n.node_id) for n in tree.by_level("leaf")],
            )
        return str(old) if old else None

    def _drop_version(self, doc_id: str, version: str) -> None:
        """Remove the vectors of one version (`version=""`: of every version) and its garbage record."""
        where: dict[str, Any] = (
            {"doc_id": doc_id} if not version else {"$and": [{"doc_id": doc_id}, {"version": version}]}
        )
        for level in EMBEDDED_LEVELS:
            try:
                self._collection(level).delete(where=where)
            except Exception as exc:
                raise IndexStoreError(f"could not remove old vectors of {doc_id}: {exc}") from exc
        with self._conn() as db, db:
            db.execute("DELETE FROM garbage WHERE doc_id=? AND version=?", (doc_id, version))

    def _gc_pending(self) -> None:
        """Remove what a crashed ingest or delete left behind: unpublished nodes and their vectors, and
        vectors of replaced or deleted versions whose removal was interrupted."""
        with self._conn() as db:
            garbage = db.execute("SELECT doc_id, version FROM garbage").fetchall()
            rows = db.execute(
                "SELECT doc_id, pending_version, version FROM docs WHERE pending_version IS NOT NULL"
            ).fetchall()
        for doc_id, version in garbage:
            self._drop_version(doc_id, version)
        for doc_id, pending, current in rows:
            if pending == current:
                with self._conn() as db, db:
                    db.execute("UPDATE docs SET pending_version=NULL WHERE doc_id=?", (doc_id,))
                continue
            self._drop_version(doc_id, pending)
            with self._conn() as db, db:
                db.execute("DELETE FROM nodes WHERE doc_id=? AND version=?", (doc_id, pending))
                if current is None:
                    db.execute("DELETE FROM docs WHERE doc_id=?", (doc_id,))
                else:
                    db.execute("UPDATE docs SET pending_version=NULL WHERE doc_id=?", (doc_id,))

    def delete(self, source: str) -> bool:
        """Remove a document (all versions) from every store; returns False when it was not indexed.

        It disappears from reads in one SQLite transaction; its vectors go next (a crash in between
        leaves a garbage record that the next write clears)."""
        with self._write_lock, self._conn() as db:
            row = db.execute("SELECT doc_id FROM docs WHERE source=?", (source,)).fetchone()
            if row is None:
                return False
            doc_id = row[0]
            with db:
                db.execute(
                    "DELETE FROM leaf_fts WHERE node_id IN (SELECT node_id FROM nodes WHERE doc_id=?)", (doc_id,)
                )
                db.execute("DELETE FROM nodes WHERE doc_id=?", (doc_id,))
                db.execute("DELETE FROM docs WHERE doc_id=?", (doc_id,))
                db.execute("INSERT OR IGNORE INTO garbage(doc_id, version) VALUES(?, '')", (doc_id,))
            self._drop_version(doc_id, "")
            self._touch()
        return True

    def collect_garbage(self) -> None:
        """Finish what an interrupted ingest or delete left undone (ingest passes call this first)."""
        with self._write_lock:
            self._gc_pending()

    def _touch(self) -> None:
        self.manifest["updated_at"] = time.time()
        self._write_manifest()

    def check(self) -> IndexCheck:
        """Cross-check the stores: every visible document must be complete in the tree, FTS and Chroma
        (a `problem` otherwise); leftovers of unfinished or replaced versions are counted as `orphans`."""
        problems: list[str] = []
        orphans = {"pending_documents": 0, "nodes": 0, "fts_rows": 0, "vectors": 0, "garbage_records": 0}
        embedded = {"leaf"}
        if self.config.embed_sentences:
            embedded.add("sentence")
        if self.config.embed_sections:
            embedded.add("section")
        with self._conn() as db:
            docs = db.execute("SELECT doc_id, source, version, pending_version, acl, text FROM docs").fetchall()
            current = {d[0]: d[2] for d in docs if d[2] is not None}
            pending = {d[0]: d[3] for d in docs if d[3] is not None}
            orphans["pending_documents"] = sum(1 for d in docs if d[2] is None)
            orphans["garbage_records"] = db.execute("SELECT COUNT(*) FROM garbage").fetchone()[0]
            versions = db.execute("SELECT doc_id, version, COUNT(*) FROM nodes GROUP BY doc_id, version").fetchall()
            orphans["nodes"] = sum(n for d, v, n in versions if v not in (current.get(d), pending.get(d)))
            fts_ids = [r[0] for r in db.execute("SELECT node_id FROM leaf_fts")]
            fts_count: dict[str, int] = {}
            for nid in fts_ids:
                fts_count[nid] = fts_count.get(nid, 0) + 1
            live_leaves: set[str] = set()
            expected: dict[str, dict[str, tuple[str, str]]] = {lvl: {} for lvl in embedded}
            for doc_id, source, version, _pending, acl, text in docs:
                if version is None:
                    continue
                rows = db.execute(
                    'SELECT node_id, level, parent_id, start, "end", text FROM nodes WHERE doc_id=? AND version=?',
                    (doc_id, version),
                ).fetchall()
                ids = {r[0] for r in rows}
                levels = [r[1] for r in rows]
                if levels.count("document") != 1 or "leaf" not in levels:
                    problems.append(f"{source}: visible version {version} has an incomplete tree")
                for nid, level, parent, start, end, ntext in rows:
                    if level != "document" and parent not in ids:
                        problems.append(f"{source}: node {nid} has no parent in its version")
                    if not 0 <= start <= end <= len(text) or (ntext and ntext != text[start:end]):
                        problems.append(f"{source}: node {nid} text does not match its offsets")
                    if level == "leaf":
                        live_leaves.add(nid)
                        if fts_count.get(nid, 0) != 1:
                            problems.append(f"{source}: leaf {nid} has {fts_count.get(nid, 0)} BM25 rows")
                    if level in embedded:
                        expected[level][nid] = (version, json.dumps(acl_metadata(json.loads(acl)), sort_keys=True))
        orphans["fts_rows"] = sum(c for nid, c in fts_count.items() if nid not in live_leaves)
        for level in EMBEDDED_LEVELS:
            col = self._collection(level)
            seen: set[str] = set()
            offset = 0
            while True:
                page = col.get(include=["metadatas"], limit=5000, offset=offset)
                if not page["ids"]:
                    break
                offset += len(page["ids"])
                for nid, meta in zip(page["ids"], page["metadatas"], strict=False):
                    want = expected.get(level, {}).get(nid)
                    if want is None:
                        orphans["vectors"] += 1
                        continue
                    seen.add(nid)
                    acl_meta = json.dumps({k: v for k, v in meta.items() if k.startswith("acl_")}, sort_keys=True)
                    if meta.get("version") != want[0] or acl_meta != want[1]:
                        problems.append(f"vector {nid} carries stale version or ACL metadata")
            missing = set(expected.get(level, {})) - seen
            if missing:
                problems.append(f"{len(missing)} visible {level} node(s) have no vector, e.g. {sorted(missing)[0]}")
        return IndexCheck(documents=len(current), problems=problems, orphans=orphans)

    # ----------------------------------------------------------------- reads
    def sources(self) -> list[str]:
        with self._conn() as db:
            return [r[0] for r in db.execute("SELECT source FROM docs WHERE version IS NOT NULL ORDER BY source")]

    def stats(self) -> dict[str, Any]:
        with self._conn() as db:
            docs = db.execute("SELECT COUNT(*) FROM docs WHERE version IS NOT NULL").fetchone()[0]
            levels = dict(
                db.execute(
                    "SELECT n.level, COUNT(*) FROM nodes n JOIN docs d ON d.doc_id=n.doc_id AND d.version=n.version"
                    " GROUP BY n.level"
                ).fetchall()
            )
        return {"documents": docs, "levels": levels, **{k: self.manifest.get(k) for k in ("embedder", "dim", "head")}}

    def document_stats(self) -> list[dict[str, Any]]:
        """Per visible document: source, title, ACL and node counts per level (for `hragent inspect`)."""
        with self._conn() as db:
            rows = db.execute(
                "SELECT d.source, d.title, d.acl, n.level, COUNT(*) FROM docs d JOIN nodes n"
                " ON n.doc_id=d.doc_id AND n.version=d.version GROUP BY d.doc_id, n.level ORDER BY d.source"
            ).fetchall()
        docs: dict[str, dict[str, Any]] = {}
        for source, title, acl, level, count in rows:
            entry = docs.setdefault(source, {"source": source, "title": title, "acl": json.loads(acl)})
            entry[level] = count
        return list(docs.values())

    def get(self, node_ids: Sequence[str], identities: frozenset[str]) -> dict[str, NodeRecord]:
        """Fetch visible, current nodes by id; invisible or stale ids are simply absent."""
        out: dict[str, NodeRecord] = {}
        rows = self._select_in(
            'SELECT n.node_id, n.doc_id, n.level, n.parent_id, n.section_id, n.ord, n.section, n.start, n."end",'
            " n.text, d.source, d.title, d.acl,"
            " CASE WHEN n.text = '' THEN substr(d.text, n.start + 1, n.\"end\" - n.start) END"
            " FROM nodes n JOIN docs d ON d.doc_id=n.doc_id AND d.version=n.version WHERE n.node_id IN ({marks})",
            node_ids,
        )
        for r in rows:
            acl = _parse_acl(r[12])
            if not can_see(acl, identities):
                continue
            text = r[9] or r[13] or ""
            out[r[0]] = NodeRecord(
                r[0], r[1], r[2], r[3], r[4], r[5], json.loads(r[6]), r[7], r[8], text, r[10], r[11], acl
            )
        return out

    def _select_in(self, sql: str, keys: Iterable[str]) -> list[tuple[Any, ...]]:
        """Rows of `sql` for distinct `keys`, bound 500 at a time where `sql` says `IN ({marks})`
        (SQLite caps host parameters per statement)."""
        ids = list(dict.fromkeys(keys))
        rows: list[tuple[Any, ...]] = []
        with self._conn() as db:
            for i in range(0, len(ids), 500):
                chunk = ids[i : i + 500]
                rows += db.execute(sql.format(marks=",".join("?" * len(chunk))), chunk).fetchall()
        return rows

    def visible(self, node_ids: Sequence[str], identities: frozenset[str]) -> dict[str, str | None]:
        """node_id -> section_id for the ids that are current and visible: the cheap filter search
        results pass through (no text, no JSON beyond the ACL)."""
        out: dict[str, str | None] = {}
        rows = self._select_in(
            "SELECT n.node_id, n.section_id, d.acl FROM nodes n JOIN docs d"
            " ON d.doc_id=n.doc_id AND d.version=n.version WHERE n.node_id IN ({marks})",
            node_ids,
        )
        for nid, section_id, acl in rows:
            if can_see(_parse_acl(acl), identities):
                out[nid] = section_id
        return out

    def leaf_ids_of_docs(self, doc_ids: Sequence[str], identities: frozenset[str]) -> dict[str, list[str]]:
        """doc_id -> its current, visible leaf ids in document order (one query for many documents)."""
        out: dict[str, list[str]] = {}
        rows = self._select_in(
            "SELECT n.doc_id, n.node_id, d.acl FROM nodes n JOIN docs d ON d.doc_id=n.doc_id AND d.version=n.version"
            " WHERE n.doc_id IN ({marks}) AND n.level='leaf' ORDER BY n.ord",
            doc_ids,
        )
        for doc_id, nid, acl in rows:
            if can_see(_parse_acl(acl), identities):
                out.setdefault(doc_id, []).append(nid)
        return {d: out[d] for d in dict.fromkeys(doc_ids) if d in out}

    def child_ids(self, parent_ids: Sequence[str]) -> dict[str, list[str]]:
        """parent id -> child ids in order; children share their parent's document, version and ACL."""
        out: dict[str, list[str]] = {}
        for parent, nid in self._select_in(
            "SELECT parent_id, node_id FROM nodes WHERE parent_id IN ({marks}) ORDER BY ord", parent_ids
        ):
            out.setdefault(parent, []).append(nid)
        return out

    def children(self, node_id: str, identities: frozenset[str]) -> list[NodeRecord]:
        with self._conn() as db:
            ids = [r[0] for r in db.execute("SELECT node_id FROM nodes WHERE parent_id=? ORDER BY ord", (node_id,))]
        found = self.get(ids, identities)
        return [found[i] for i in ids if i in found]

    def descendants(self, node_id: str, level: Level, identities: frozenset[str]) -> list[NodeRecord]:
        """All visible nodes of `level` under `node_id`, in document order."""
        frontier = [node_id]
        result: list[str] = []
        with self._conn() as db:
            while frontier:
                marks = ",".join("?" * len(frontier))
                rows = db.execute(
                    f"SELECT node_id, level FROM nodes WHERE parent_id IN ({marks}) ORDER BY ord", frontier
                ).fetchall()
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
        """Top-k (node_id, cosine similarity) at one level, visible to `identities`.

        Unfiltered HNSW queries are an order of magnitude faster than filtered ones in Chroma, so we
        over-fetch without a filter and post-filter through SQLite; only when too few survive do we
        ask Chroma for a filtered search. `vectors_out` receives the hits' stored vectors (saving the
        caller a second round trip to Chroma).
        """
        col = self._collection(level)
        if k <= 0:
            return []
        vec = np.asarray(query, dtype=np.float32).reshape(1, -1)
        where: dict[str, Any] | None = None
        if section_ids is not None:
            if not section_ids:
                return []
            where = {"section_id": {"$in": list(section_ids)}}
        fetch = max(k * 3, k + 10)  # Chroma returns fewer when the collection is smaller
        include = ["distances", "embeddings"] if vectors_out is not None else ["distances"]
        res = col.query(query_embeddings=vec, n_results=fetch, where=where, include=include)
        pairs = list(zip(res["ids"][0], res["distances"][0], strict=False))
        visible = self.visible([p[0] for p in pairs], identities)
        hits = [(nid, 1.0 - float(dist)) for nid, dist in pairs if nid in visible]
        if len(hits) < k and len(pairs) >= fetch:  # fewer pairs than asked: nothing more to find
            acl_where = chroma_acl_filter(identities)
            full_where = acl_where if where is None else {"$and": [where, acl_where]}
            res = col.query(query_embeddings=vec, n_results=k * 3, where=full_where, include=include)
            pairs = list(zip(res["ids"][0], res["distances"][0], strict=False))
            visible = self.visible([p[0] for p in pairs], identities)
            hits = [(nid, 1.0 - float(dist)) for nid, dist in pairs if nid in visible]
        if vectors_out is not None:
            for nid, emb in zip(res["ids"][0], res["embeddings"][0], strict=False):
                if nid in visible:
                    vectors_out[nid] = np.asarray(emb, dtype=np.float32)
        return hits[:k]

    def vectors(self, level: Level, node_ids: Sequence[str]) -> dict[str, Vector]:
        """Stored vectors by id (for de-duplication, merging and re-scoring)."""
        if not node_ids:
            return {}
        res = self._collection(level).get(ids=list(node_ids), include=["embeddings"])
        return {nid: np.asarray(vec, dtype=np.float32) for nid, vec in zip(res["ids"], res["embeddings"], strict=False)}

    def bm25(
        self, query: str, k: int, identities: frozenset[str], *, section_ids: Sequence[str] | None = None
    ) -> list[tuple[str, float]]:
        """Top-k leaves by BM25 (FTS5), as (node_id, positive score), visible to `identities`."""
        match = fts_query(query)
        if not match or k <= 0:
            return []
        sql = (
            "SELECT f.node_id, -bm25(leaf_fts) AS s FROM leaf_fts f"
            " WHERE leaf_fts MATCH ? ORDER BY bm25(leaf_fts) LIMIT ?"
        )
        with self._conn() as db:
            try:
                match = _drop_common_terms(db, match)
                rows = db.execute(sql, (match, max(k * 3, k + 10))).fetchall()
            except sqlite3.OperationalError:
                return []
        visible = self.visible([r[0] for r in rows], identities)
        out = [(nid, float(s)) for nid, s in rows if nid in visible]
        if section_ids is not None:
            allowed = set(section_ids)
            out = [(nid, s) for nid, s in out if visible[nid] in allowed]
        return out[:k]

    def find_titles(self, titles: Iterable[str], identities: frozenset[str]) -> dict[str, str]:
        """Map document titles (case-insensitive) to their doc ids: lets a solver follow a named entity."""
        wanted = {t.lower(): t for t in titles if t}
        if not wanted:
            return {}
        out: dict[str, str] = {}
        rows = self._select_in(
            "SELECT doc_id, title, acl FROM docs WHERE version IS NOT NULL AND lower(title) IN ({marks})", wanted
        )
        for doc_id, title, acl in rows:
            if can_see(tuple(json.loads(acl)), identities):
                out[wanted[title.lower()]] = doc_id
        return out

    def doc_titles(self) -> list[tuple[str, str]]:
        """(doc_id, title) of every visible document; callers filter by ACL when they fetch nodes."""
        with self._conn() as db:
            return [(r[0], r[1]) for r in db.execute("SELECT doc_id, title FROM docs WHERE version IS NOT NULL")]

    def titles(self) -> list[str]:
        with self._conn() as db:
            return [r[0] for r in db.execute("SELECT title FROM docs WHERE version IS NOT NULL")]

    def document_leaves(self, doc_id: str, identities: frozenset[str]) -> list[NodeRecord]:
        with self._conn() as db:
            ids = [
                r[0]
                for r in db.execute(
                    "SELECT n.node_id FROM nodes n JOIN docs d ON d.doc_id=n.doc_id AND d.version=n.version"
                    " WHERE n.doc_id=? AND n.level='leaf' ORDER BY n.ord",
                    (doc_id,),
                )
            ]
        found = self.get(ids, identities)
        return [found[i] for i in ids if i in found]

    def summary(self, section_id: str) -> str:
        with self._conn() as db:
            row = db.execute("SELECT summary FROM nodes WHERE node_id=?", (section_id,)).fetchone()
        return str(row[0]) if row and row[0] else ""


def _drop_common_terms(db: sqlite3.Connection, match: str) -> str:
    """Leave out query terms found in more than BM25_COMMON_DF leaves: FTS5 scores every row an OR
    term matches, so one common word costs tens of ms at 100k leaves while adding little (low IDF).
    Each probe stops after BM25_COMMON_DF + 1 rows; small corpora keep every term."""
    terms = match.split(" OR ")
    if len(terms) < 2:
        return match
    probe = "SELECT count(*) FROM (SELECT 1 FROM leaf_fts WHERE leaf_fts MATCH ? LIMIT ?)"
    df = {t: int(db.execute(probe, (t, BM25_COMMON_DF + 1)).fetchone()[0]) for t in terms}
    kept = [t for t in terms if df[t] <= BM25_COMMON_DF] or sorted(terms, key=df.__getitem__)[:3]
    return " OR ".join(kept)


@functools.lru_cache(maxsize=4096)
def _parse_acl(raw: str) -> tuple[str, ...]:
    return tuple(json.loads(raw))


def _version_tag(content_hash: str, acl: tuple[str, ...]) -> str:
    return hashlib.sha1((content_hash + "|" + ",".join(acl)).encode()).hexdigest()[:10]


def _sentence_embedding_text(tree: DocumentTree, node: Node) -> str:
    """Sentences often lack their subject ("He was born in…"), so the section's title goes in front."""
    title = node.section[-1] if node.section else tree.doc.title
    return f"{title}. {node.text}"
