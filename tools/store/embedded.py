"""The embedded backend: one directory with `manifest.json`, `tree.sqlite` (tree + FTS5) and `chroma/`.

One writer at a time per directory (a file lock, under which a process reloads Chroma state another
process changed: several writer processes take turns safely); SQLite decides what is visible, so
Chroma vectors of unfinished or replaced versions are orphans every query ignores and the next ingest
removes."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

from tools.acl import acl_metadata, chroma_acl_filter
from tools.embeddings import Vector
from tools.errors import IndexStoreError
from tools.ingest.tree import DocumentTree
from tools.locks import WriterLock
from tools.store import shared_vectors, vector_check
from tools.store.chroma_vectors import ChromaVectors
from tools.store.fts import rank_ties_by_id
from tools.store.records import (
    EMBEDDED_LEVELS,
    SENTENCE_SPANS_SCHEMA,
    SHARED_VECTORS_SCHEMA,
    IndexCheck,
    NodeRecord,
    VectorRow,
    empty_orphans,
    tree_problems,
)
from tools.store.sqlite_schema import doc_text
from tools.store.sqlite_tree import SQLiteTree
from tools.types import Level

MANIFEST = "manifest.json"


class EmbeddedStore:
    """SQLite + FTS5 + Chroma behind the `IndexStore` contract (the on-disk format predates it)."""

    def __init__(self, path: Path, chroma_client: Any | None = None) -> None:
        self.path = path
        self.location = str(path)
        self.lock = WriterLock(path / "write.lock")
        self._tree: SQLiteTree | None = None
        self.chroma = ChromaVectors(path, chroma_client)
        self._manifest_stamp: int | None = None

    @property
    def tree(self) -> SQLiteTree:
        if self._tree is None:  # opened on first use: a missing index must fail before creating files
            self._tree = SQLiteTree(self.path)
        return self._tree

    # ---------------------------------------------------------------- manifest and lifecycle
    def load_manifest(self) -> dict[str, Any] | None:
        manifest_path = self.path / MANIFEST
        if not manifest_path.exists():
            return None
        try:
            stamp = manifest_path.stat().st_mtime_ns
            manifest: dict[str, Any] = json.loads(manifest_path.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise IndexStoreError(f"unreadable manifest {manifest_path}: {exc}") from exc
        self._manifest_stamp = stamp
        self.chroma.index_id = manifest.get("index_id")
        return manifest

    def save_manifest(self, manifest: dict[str, Any]) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        # A per-writer temp name: concurrent writers must never rename each other's half-written file.
        tmp = self.path / f"{MANIFEST}.{os.getpid()}.{threading.get_ident()}.tmp"
        tmp.write_text(json.dumps(manifest, indent=2, sort_keys=True))
        tmp.replace(self.path / MANIFEST)
        self._manifest_stamp = (self.path / MANIFEST).stat().st_mtime_ns
        self.chroma.index_id = manifest.get("index_id")

    def manifest_changed(self) -> bool:
        try:
            return (self.path / MANIFEST).stat().st_mtime_ns != self._manifest_stamp
        except OSError:
            return False

    def prepare(self, dim: int | None) -> None:
        _ = self.tree

    @property
    def format_schema(self) -> int:
        """The lowest manifest schema that describes this store's files: a tree that keeps sentences
        as offsets needs `SENTENCE_SPANS_SCHEMA`, one whose sections may share a leaf's vector
        `SHARED_VECTORS_SCHEMA` (created by this version), so older versions refuse them."""
        if self.tree.shares:
            return SHARED_VECTORS_SCHEMA
        return SENTENCE_SPANS_SCHEMA if self.tree.compact else 1

    def close(self) -> None:
        if self._tree is not None:
            self._tree.close()
        self.chroma.close()

    # ---------------------------------------------------------------- writes
    def writer(self, doc_ids: Sequence[str]) -> AbstractContextManager[object]:
        return self._writing()

    @contextmanager
    def _writing(self) -> Iterator[object]:
        """The directory lock, with this process's Chroma state brought up to date first and the
        vector stamp renewed around the writes (`tools.store.chroma_clients` says why)."""
        with self.lock:
            self.chroma.refresh_if_stale()
            self.chroma.renew_stamp()
            try:
                yield self.lock
            finally:
                self.chroma.renew_stamp()

    def document_state(self, source: str) -> tuple[str, tuple[str, ...]] | None:
        return self.tree.document_state(source)

    def write_pending(
        self, tree: DocumentTree, content_hash: str, acl: tuple[str, ...], summaries: dict[str, str]
    ) -> None:
        self.tree.write_pending(tree, content_hash, acl, summaries)

    def upsert_vectors(self, level: Level, rows: Sequence[VectorRow], vectors: Vector, acl: tuple[str, ...]) -> None:
        """A row whose vector equals a leaf's (`VectorRow.same_as`) is only marked in the tree, where
        the tree allows it (`tools.store.shared_vectors`); the rest go to Chroma."""
        if level == "section" and self.tree.shares and any(r.same_as for r in rows):
            with self.tree.conn() as db, db:
                shared_vectors.record(db, [(r.node_id, r.same_as) for r in rows if r.same_as])
            keep = [i for i, r in enumerate(rows) if not r.same_as]
            rows, vectors = [rows[i] for i in keep], vectors[keep]
        if rows:
            self.chroma.upsert(level, rows, vectors, acl)

    def publish(
        self, tree: DocumentTree, content_hash: str, acl: tuple[str, ...], bm25_texts: Sequence[str]
    ) -> str | None:
        return self.tree.publish(tree, content_hash, acl, bm25_texts)

    def drop_version(self, doc_id: str, version: str) -> None:
        self.chroma.drop(doc_id, version)
        self.tree.forget_garbage(doc_id, version)

    def collect_garbage(self) -> None:
        """Runs under the directory lock, so every pending version belongs to a writer that died."""
        garbage, pending = self.tree.garbage_and_pending()
        for doc_id, version in garbage:
            self.drop_version(doc_id, version)
        for doc_id, version, current in pending:
            if version != current:
                self.drop_version(doc_id, version)
            self.tree.clear_pending(doc_id, version, current)

    def delete(self, source: str) -> str | None:
        return self.tree.delete(source)

    def check(self, embedded: set[str]) -> IndexCheck:
        problems: list[str] = []
        damaged: list[str] = []
        orphans = empty_orphans()
        with self.tree.conn() as db:
            docs = db.execute("SELECT doc_id, source, version, pending_version, acl, text FROM docs").fetchall()
            current = {d[0]: d[2] for d in docs if d[2] is not None}
            pending = {d[0]: d[3] for d in docs if d[3] is not None}
            orphans["pending_documents"] = sum(1 for d in docs if d[2] is None)
            orphans["garbage_records"] = db.execute("SELECT COUNT(*) FROM garbage").fetchone()[0]
            versions = db.execute("SELECT doc_id, version, COUNT(*) FROM nodes GROUP BY doc_id, version").fetchall()
            orphans["nodes"] = sum(n for d, v, n in versions if v not in (current.get(d), pending.get(d)))
            fts_count: dict[str, int] = {}
            for nid in self.tree.fts_rows():
                fts_count[nid or ""] = fts_count.get(nid or "", 0) + 1
            live_leaves: set[str] = set()
            expected: dict[str, dict[str, tuple[str, str]]] = {lvl: {} for lvl in embedded}
            for doc_id, source, version, _pending, acl, stored in docs:
                if version is None:
                    continue
                text = doc_text(stored)
                rows = [
                    (r[0], r[3], r[4], r[8], r[9], r[11])
                    for r in self.tree.full_rows(doc_id, version, sentence_text=True)
                ]
                problems += tree_problems(source, version, text, rows)
                for nid, level, *_ in rows:
                    if level == "leaf":
                        live_leaves.add(nid)
                        if fts_count.get(nid, 0) != 1:
                            problems.append(f"{source}: leaf {nid} has {fts_count.get(nid, 0)} BM25 rows")
                    if level in embedded:
                        expected[level][nid] = (version, json.dumps(acl_metadata(json.loads(acl)), sort_keys=True))
            shared = shared_vectors.shared_sections(db) if self.tree.shares and "section" in expected else {}
        orphans["fts_rows"] = sum(c for nid, c in fts_count.items() if nid not in live_leaves)
        for sid, leaf in shared.items():  # answered with their leaf's vector: none of their own
            if expected["section"].pop(sid, None) is not None and (leaf is None or leaf not in live_leaves):
                problems.append(f"section {sid} shares the vector of a leaf its version does not have")
        for level in EMBEDDED_LEVELS:
            seen: set[str] = set()
            for nid, meta in self.chroma.metadata_pages(level):
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
            if seen:  # the metadata says these exist: can the segment give their vectors back?
                report = vector_check.check_level(self.chroma, level, sorted(seen))
                problems += vector_check.problems(report)
                if report.damaged:
                    damaged.append(level)
        return IndexCheck(documents=len(current), problems=problems, orphans=orphans, damaged_vectors=damaged)

    # ---------------------------------------------------------------- reads
    def sources(self) -> list[str]:
        return self.tree.sources()

    def level_counts(self) -> tuple[int, dict[str, int]]:
        return self.tree.level_counts()

    def document_stats(self) -> list[dict[str, Any]]:
        return self.tree.document_stats()

    def get(self, node_ids: Sequence[str], identities: frozenset[str]) -> dict[str, NodeRecord]:
        return self.tree.get(node_ids, identities)

    def visible(self, node_ids: Sequence[str], identities: frozenset[str]) -> dict[str, str | None]:
        return self.tree.visible(node_ids, identities)

    def leaf_ids_of_docs(self, doc_ids: Sequence[str], identities: frozenset[str]) -> dict[str, list[str]]:
        return self.tree.leaf_ids_of_docs(doc_ids, identities)

    def child_ids(self, parent_ids: Sequence[str]) -> dict[str, list[str]]:
        return self.tree.child_ids(parent_ids)

    def child_levels(self, parent_ids: Sequence[str]) -> list[tuple[str, str]]:
        return self.tree.child_levels(parent_ids)

    def dense(
        self,
        level: Level,
        query: Vector,
        k: int,
        identities: frozenset[str],
        section_ids: Sequence[str] | None,
        vectors_out: dict[str, Vector] | None,
    ) -> list[tuple[str, float]]:
        """Sections that share a leaf's vector are found among the leaf collection's hits
        (`tools.store.shared_vectors`), merged with the section collection's by score."""
        own = self._dense(level, query, k, identities, section_ids, vectors_out)
        if level != "section" or not self.tree.shares:
            return own
        leaf_vectors: dict[str, Vector] | None = {} if vectors_out is not None else None
        leaf_hits = self._dense("leaf", query, k * shared_vectors.LEAF_FETCH_FACTOR, identities, None, leaf_vectors)
        sections = shared_vectors.sections_of(self.tree.select_in, [nid for nid, _ in leaf_hits])
        if section_ids is not None:
            allowed = set(section_ids)
            sections = {leaf: [s for s in sids if s in allowed] for leaf, sids in sections.items()}
        hits = shared_vectors.merge(own, leaf_hits, sections, k)
        if vectors_out is not None and leaf_vectors:
            for leaf, sids in sections.items():
                if leaf in leaf_vectors:
                    vectors_out.update({sid: leaf_vectors[leaf] for sid in sids})
        return hits

    def _dense(
        self,
        level: Level,
        query: Vector,
        k: int,
        identities: frozenset[str],
        section_ids: Sequence[str] | None,
        vectors_out: dict[str, Vector] | None,
    ) -> list[tuple[str, float]]:
        """Unfiltered HNSW queries are an order of magnitude faster than filtered ones in Chroma, so we
        over-fetch without a filter and post-filter through SQLite; only when too few survive do we
        ask Chroma for a filtered search."""
        where: dict[str, Any] | None = None
        if section_ids is not None:
            where = {"section_id": {"$in": list(section_ids)}}
        fetch = max(k * 3, k + 10)  # Chroma returns fewer when the collection is smaller
        with_vectors = vectors_out is not None
        pairs, vecs = self.chroma.query(level, query, fetch, where, with_vectors)
        visible = self.tree.visible([p[0] for p in pairs], identities)
        hits = [(nid, 1.0 - dist) for nid, dist in pairs if nid in visible]
        if len(hits) < k and len(pairs) >= fetch:  # fewer pairs than asked: nothing more to find
            acl_where = chroma_acl_filter(identities)
            full_where = acl_where if where is None else {"$and": [where, acl_where]}
            pairs, vecs = self.chroma.query(level, query, k * 3, full_where, with_vectors)
            visible = self.tree.visible([p[0] for p in pairs], identities)
            hits = [(nid, 1.0 - dist) for nid, dist in pairs if nid in visible]
        if vectors_out is not None:
            vectors_out.update({nid: v for nid, v in vecs.items() if nid in visible})
        return hits[:k]

    def vectors(self, level: Level, node_ids: Sequence[str]) -> dict[str, Vector]:
        """Stored vectors; a section that shares its leaf's vector gets the leaf's."""
        found = self.chroma.get(level, node_ids)
        missing = [nid for nid in node_ids if nid not in found]
        if level == "section" and self.tree.shares and missing:
            leaf_of = shared_vectors.leaves_of(self.tree.select_in, missing)
            leaves = self.chroma.get("leaf", sorted(set(leaf_of.values())))
            found.update({sid: leaves[leaf] for sid, leaf in leaf_of.items() if leaf in leaves})
        return found

    def bm25(
        self, match: str, k: int, identities: frozenset[str], section_ids: Sequence[str] | None, common_df: int
    ) -> list[tuple[str, float]]:
        """FTS5 ranks before the ACL and section filters apply, so the candidate list widens (×4 a
        round) until k leaves pass them or every match has been read."""
        want = max(k * 3, k + 10)
        while True:
            rows = self.tree.bm25(match, want, common_df)
            visible = self.tree.visible([r[0] for r in rows], identities)
            out = [(nid, s) for nid, s in rows if nid in visible]
            if section_ids is not None:
                allowed = set(section_ids)
                out = [(nid, s) for nid, s in out if visible[nid] in allowed]
            if len(out) >= k or len(rows) < want:
                return rank_ties_by_id(out)[:k]
            want *= 4

    def find_titles(self, titles: Iterable[str], identities: frozenset[str]) -> dict[str, str]:
        return self.tree.find_titles(titles, identities)

    def doc_titles(self) -> list[tuple[str, str]]:
        return self.tree.doc_titles()

    def document_leaf_ids(self, doc_id: str) -> list[str]:
        return self.tree.document_leaf_ids(doc_id)

    def summary(self, section_id: str) -> str:
        return self.tree.summary(section_id)
