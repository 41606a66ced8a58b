"""Copy an embedded index into PostgreSQL without re-embedding: documents, the tree with offsets, BM25
postings (from the very text FTS5 indexed, through FTS5's own tokenizer) and the stored vectors; then
verify that both are consistent and answer the same queries."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tools.errors import ConfigError, IndexStoreError
from tools.store.embedded import EmbeddedStore
from tools.store.fts import term_counts
from tools.store.postgres.doc_freq import record
from tools.store.postgres.postings import copy_rows, write_leaves
from tools.store.postgres.store import NODE_COLUMNS, NODE_TYPES, PostgresStore
from tools.store.records import EMBEDDED_LEVELS
from tools.store.sqlite_schema import doc_text

BATCH_DOCS = 200


@dataclass
class MigrationReport:
    documents: int = 0
    nodes: int = 0
    vectors: int = 0
    source_check: dict[str, Any] = field(default_factory=dict)
    target_check: dict[str, Any] = field(default_factory=dict)
    queries: int = 0
    same_bm25_top10: int = 0
    same_dense_top10: int = 0

    @property
    def identical(self) -> bool:
        return (
            bool(self.source_check.get("ok"))
            and bool(self.target_check.get("ok"))
            and self.source_check.get("documents") == self.target_check.get("documents")
            and self.same_bm25_top10 == self.queries
            and self.same_dense_top10 == self.queries
        )


def copy_embedded(source: EmbeddedStore, target: PostgresStore, manifest: dict[str, Any]) -> MigrationReport:
    """Copy every visible document of `source` into the empty schema of `target`."""
    if target.load_manifest() is not None:
        raise IndexStoreError(f"{target.location} already holds an index; migrate into a new --schema")
    dim = manifest.get("dim")
    target.save_manifest(manifest)
    target.prepare(dim)
    report = MigrationReport()
    with source.tree.conn() as lite:
        docs = lite.execute(
            "SELECT doc_id, source, title, media_type, content_hash, acl, version, text, updated_at FROM docs"
            " WHERE version IS NOT NULL ORDER BY doc_id"
        ).fetchall()
    for i in range(0, len(docs), BATCH_DOCS):
        batch = docs[i : i + BATCH_DOCS]
        report.nodes += _copy_batch(source, target, batch, bool(dim))
        report.documents += len(batch)
    for level in EMBEDDED_LEVELS if dim else ():
        report.vectors += int(target.db().execute(f"SELECT count(*) FROM vec_{level}").fetchone()[0])
    return report


def _copy_batch(source: EmbeddedStore, target: PostgresStore, docs: Sequence[tuple[Any, ...]], vectors: bool) -> int:
    keys = [(d[0], d[6]) for d in docs]
    nodes: list[tuple[Any, ...]] = []
    for doc_id, version in keys:
        # Sentences an embedded tree keeps as offsets in their leaf's row come back as rows (#20).
        nodes += source.tree.full_rows(doc_id, version)
    leaf_ids = [n[0] for n in nodes if n[3] == "leaf"]
    fts = source.tree.bm25_texts(leaf_ids)
    leaves = [n for n in nodes if n[3] == "leaf"]
    counts = term_counts([fts.get(n[0], "") for n in leaves])
    db = target.db()
    with db.transaction(), db.cursor() as cur:
        copy_rows(
            cur,
            "docs",
            ("doc_id", "source", "title", "media_type", "content_hash", "acl", "version", "text", "updated_at"),
            ("text", "text", "text", "text", "text", "text[]", "text", "text", "float8"),
            ((d[0], d[1], d[2], d[3], d[4], json.loads(d[5]), d[6], doc_text(d[7]), d[8]) for d in docs),
        )
        copy_rows(cur, "nodes", NODE_COLUMNS, NODE_TYPES, nodes)
        texts = [fts.get(n[0], "") for n in leaves] if target.uses_pg_search() else None
        added = write_leaves(db, [(n[0], n[1], n[2], n[5] or "") for n in leaves], counts, texts)
        record(db, added)
        if vectors:
            for level in EMBEDDED_LEVELS:
                ids = [n for n in nodes if n[3] == level]
                for j in range(0, len(ids), 1000):
                    chunk = ids[j : j + 1000]
                    stored = source.vectors(level, [n[0] for n in chunk])  # shared section vectors resolved
                    copy_rows(
                        cur,
                        f"vec_{level}",
                        ("node_id", "doc_id", "version", "section_id", "embedding"),
                        ("text", "text", "text", "text", "vector"),
                        (
                            (n[0], n[1], n[2], n[5] or "", np.asarray(stored[n[0]], dtype=np.float32))
                            for n in chunk
                            if n[0] in stored
                        ),
                    )
    return len(nodes)


def compare(source: Any, target: Any, report: MigrationReport, queries: int = 50) -> MigrationReport:
    """check() on both and the same top-10 for `queries` probes (BM25 on a leaf's words, dense on its
    stored vector), leaves picked evenly across the index."""
    src, dst = source.check(), target.check()
    report.source_check = {"ok": src.ok, "documents": src.documents, "problems": src.problems[:5]}
    report.target_check = {"ok": dst.ok, "documents": dst.documents, "problems": dst.problems[:5]}
    leaf_ids = [nid for nid in source.store.tree.fts_rows() if nid]
    probes = leaf_ids[:: max(1, len(leaf_ids) // queries)][:queries]
    none: frozenset[str] = frozenset()
    texts = source.get(probes, frozenset({"*"}) | _all_principals(source))
    vectors = source.vectors("leaf", probes)
    for nid in probes:
        if nid not in texts or nid not in vectors:
            continue
        report.queries += 1
        words = " ".join(texts[nid].text.split()[:12])
        report.same_bm25_top10 += same_ranking(source.bm25(words, 10, none), target.bm25(words, 10, none))
        q = np.asarray(vectors[nid], dtype=np.float32)
        report.same_dense_top10 += same_ranking(source.dense("leaf", q, 10, none), target.dense("leaf", q, 10, none))
    return report


def same_ranking(a: list[tuple[str, float]], b: list[tuple[str, float]], tol: float = 1e-4) -> bool:
    """The same top-k up to the order of tied scores: equal score sequences, the same ids at every
    score above the cut-off, and (at the cut-off score, where either side may keep any of the tied
    ids) the same number of them."""
    if len(a) != len(b) or any(abs(x[1] - y[1]) > tol for x, y in zip(a, b, strict=True)):
        return False
    if not a:
        return True
    cut = a[-1][1]
    for i, (_, score) in enumerate(a):
        if score <= cut + tol:
            break  # the cut-off group: any of the tied ids may be kept
        group_a = {n for n, sc in a if abs(sc - score) <= tol}
        group_b = {n for n, sc in b if abs(sc - score) <= tol}
        if group_a != group_b or b[i][0] not in group_a:
            return False
    return True


def _all_principals(index: Any) -> frozenset[str]:
    return frozenset(p for doc in index.document_stats() for p in doc["acl"])


def require_embedded(store: Any) -> EmbeddedStore:
    if not isinstance(store, EmbeddedStore):
        raise ConfigError("migrate copies an embedded index (an index directory); this one is not")
    return store


def migrate_index(source: Any, dsn: str, schema: str = "hragent", *, queries: int = 50) -> MigrationReport:
    """Copy the embedded index `source` (a `HierarchicalIndex`) into `schema` at `dsn` and verify it."""
    from tools.index import HierarchicalIndex

    store = PostgresStore(dsn, schema)
    report = copy_embedded(require_embedded(source.store), store, dict(source.manifest))
    target = HierarchicalIndex(source.path, source.embedder, store=store, create=False)
    try:
        return compare(source, target, report, queries)
    finally:
        target.close()
