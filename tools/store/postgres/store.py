"""The PostgreSQL backend: manifest, tree, ACLs, BM25 postings and vectors of one index in one schema,
so many processes on many hosts share it.

Writers lock documents, not the index: a session-level advisory lock per doc_id, taken in sorted
order (no deadlocks), released by the server when a writer's connection dies. A new version becomes
visible in one transaction, after its vectors are stored; readers join every search to `docs` on the
current version and check the ACL in the same statement, so they never see half a document."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any

from tools.embeddings import Vector
from tools.errors import ConfigError
from tools.ingest.tree import DocumentTree
from tools.store.fts import term_counts
from tools.store.postgres.check import check_store
from tools.store.postgres.doc_freq import CorpusDelta, compact, record
from tools.store.postgres.postings import copy_rows, delete_doc_leaves, write_leaves
from tools.store.postgres.reads import PostgresReads
from tools.store.postgres.schema import check_schema_name, configure, connect, create_impact_index, create_tables
from tools.store.postgres.settings import read_bm25_impact, read_bm25_postings, read_pool_size
from tools.store.records import EMBEDDED_LEVELS, IndexCheck, VectorRow
from tools.store.sqlite_tree import node_rows
from tools.types import Level

NODE_COLUMNS = (
    "node_id",
    "doc_id",
    "version",
    "level",
    "parent_id",
    "section_id",
    "ord",
    "section",
    "start",
    "end",
    "content_hash",
    "text",
    "summary",
)
NODE_TYPES = ("text",) * 6 + ("int4", "text", "int4", "int4", "text", "text", "text")


def safe_location(dsn: str, schema: str) -> str:
    """`postgresql://host:port/db#schema` without user or password (for messages and logs)."""
    try:
        import psycopg
        from psycopg.conninfo import conninfo_to_dict
    except ImportError:
        return f"postgresql://?#{schema}"
    try:
        info = conninfo_to_dict(dsn)
    except psycopg.Error:
        return f"postgresql://?#{schema}"
    host = str(info.get("host") or "localhost")
    return f"postgresql://{host}:{info.get('port') or 5432}/{info.get('dbname') or ''}#{schema}"


class PostgresStore(PostgresReads):
    """`IndexStore` on PostgreSQL + pgvector; one connection per thread (autocommit, explicit transactions)."""

    def __init__(
        self,
        dsn: str,
        schema: str = "hragent",
        pool_size: int | None = None,
        bm25_postings: int | None = None,
        bm25_impact: bool | None = None,
    ) -> None:
        self.dsn = dsn
        self.pool_size = read_pool_size() if pool_size is None else pool_size
        self.bm25_postings = read_bm25_postings() if bm25_postings is None else bm25_postings
        self.bm25_impact = read_bm25_impact() if bm25_impact is None else bm25_impact
        if self.bm25_postings < 0:
            raise ConfigError(f"bm25_postings must be 0 (all postings) or more, not {self.bm25_postings}")
        self._pool: Any = None
        self._pool_lock = threading.Lock()
        self.schema = check_schema_name(schema)
        self.location = safe_location(dsn, schema)
        self.dim: int | None = None
        self._local = threading.local()
        self._all: list[Any] = []
        self._all_lock = threading.Lock()
        self._generation: int | None = None

    def db(self) -> Any:
        conn = getattr(self._local, "conn", None)
        if conn is None or conn.closed:
            conn = connect(self.dsn, self.schema)
            self._local.conn = conn
            with self._all_lock:
                self._all.append(conn)
        return conn

    def reading(self) -> AbstractContextManager[Any]:
        """A connection for one read. This thread's own while it has a transaction open (so a writer
        reads what it has written but not yet committed); otherwise, with pooling on, one borrowed from
        a `psycopg_pool.ConnectionPool` of at most `pool_size` connections shared by the process's
        threads, so a process with many threads holds a bounded number of server backends."""
        from psycopg.pq import TransactionStatus

        own = getattr(self._local, "conn", None)
        if not self.pool_size or (own is not None and own.info.transaction_status != TransactionStatus.IDLE):
            return nullcontext(self.db())
        borrowed: AbstractContextManager[Any] = self._reader_pool().connection()
        return borrowed

    def _reader_pool(self) -> Any:
        with self._pool_lock:
            if self._pool is None:
                from psycopg_pool import ConnectionPool

                self._pool = ConnectionPool(
                    self.dsn,
                    min_size=1,
                    max_size=self.pool_size,
                    kwargs={"autocommit": True, "prepare_threshold": None},
                    configure=lambda conn: configure(conn, self.schema),
                    name=f"hragent-{self.schema}",
                    open=True,
                )
            return self._pool

    # ---------------------------------------------------------------- manifest and lifecycle
    def load_manifest(self) -> dict[str, Any] | None:
        db = self.db()
        create_tables(db, None)
        row = db.execute("SELECT data, generation FROM manifest WHERE id = 1").fetchone()
        if row is None:
            return None
        self._generation = int(row[1])
        manifest: dict[str, Any] = row[0]
        self.dim = manifest.get("dim")
        return manifest

    def save_manifest(self, manifest: dict[str, Any]) -> None:
        row = (
            self.db()
            .execute(
                "INSERT INTO manifest(id, data) VALUES (1, %s::jsonb) ON CONFLICT (id) DO UPDATE"
                " SET data = manifest.data || excluded.data, generation = manifest.generation + 1 RETURNING generation",
                (json.dumps(manifest),),
            )
            .fetchone()
        )
        self._generation = int(row[0])

    def manifest_changed(self) -> bool:
        row = self._row("SELECT generation FROM manifest WHERE id = 1")
        return row is not None and int(row[0]) != self._generation

    def prepare(self, dim: int | None) -> None:
        create_tables(self.db(), dim)
        compact(self.db(), force=True)  # fold the BM25 deltas (nothing when called inside a write)
        if self.bm25_postings or self.bm25_impact:
            create_impact_index(self.db())
        if dim:
            self.dim = dim

    def close(self) -> None:
        with self._all_lock:
            conns, self._all = self._all, []
        for conn in conns:
            conn.close()
        self._local = threading.local()
        with self._pool_lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.close()

    def drop_schema(self) -> None:
        """Remove this index entirely (tests, `migrate --replace`)."""
        self.db().execute(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE')
        self.close()

    # ---------------------------------------------------------------- writes
    def writer(self, doc_ids: Sequence[str]) -> AbstractContextManager[object]:
        return self._doc_locks(sorted(set(doc_ids)))

    @contextmanager
    def _doc_locks(self, doc_ids: list[str]) -> Iterator[object]:
        """Advisory locks on the documents, then one transaction for everything written under them:
        pending nodes, vectors and the publish of every document of the batch commit together (one
        WAL flush instead of one per statement), and a writer that dies leaves nothing behind."""
        db = self.db()
        compact(db)
        taken: list[str] = []
        try:
            for doc_id in doc_ids:
                db.execute("SELECT pg_advisory_lock(hashtext(%s), hashtext(%s))", (self.schema, doc_id))
                taken.append(doc_id)
            self._local.stats = CorpusDelta()  # what this writer transaction changes in the BM25 corpus
            with db.transaction():
                yield self
                record(db, self._local.stats)
        finally:
            self._local.stats = None
            for doc_id in reversed(taken):
                db.execute("SELECT pg_advisory_unlock(hashtext(%s), hashtext(%s))", (self.schema, doc_id))

    def _count(self, delta: CorpusDelta) -> None:
        """Account BM25 rows added or removed; outside a writer transaction, recorded at once."""
        stats: CorpusDelta | None = getattr(self._local, "stats", None)
        if stats is None:
            record(self.db(), delta)
        else:
            stats.add(delta)

    def document_state(self, source: str) -> tuple[str, tuple[str, ...]] | None:
        row = (
            self.db()
            .execute("SELECT content_hash, acl FROM docs WHERE source = %s AND version IS NOT NULL", (source,))
            .fetchone()
        )
        return None if row is None else (row[0], tuple(row[1]))

    def write_pending(
        self, tree: DocumentTree, content_hash: str, acl: tuple[str, ...], summaries: dict[str, str]
    ) -> None:
        doc = tree.doc
        db = self.db()
        with self._tx(), db.cursor() as cur:
            cur.execute(
                "INSERT INTO docs(doc_id, source, title, media_type, content_hash, acl, version, pending_version,"
                " text, updated_at) VALUES (%s,%s,%s,%s,%s,%s,NULL,%s,%s,%s)"
                " ON CONFLICT (doc_id) DO UPDATE SET pending_version = excluded.pending_version",
                (
                    tree.doc_id,
                    doc.source,
                    doc.title,
                    doc.media_type,
                    content_hash,
                    list(acl),
                    tree.version,
                    doc.text,
                    time.time(),
                ),
            )
            cur.execute("DELETE FROM nodes WHERE doc_id = %s AND version = %s", (tree.doc_id, tree.version))
            copy_rows(cur, "nodes", NODE_COLUMNS, NODE_TYPES, node_rows(tree, summaries))

    def upsert_vectors(self, level: Level, rows: Sequence[VectorRow], vectors: Vector, acl: tuple[str, ...]) -> None:
        db = self.db()
        with self._tx(), db.cursor() as cur:
            cur.execute(f"DELETE FROM vec_{level} WHERE node_id = ANY(%s)", ([r.node_id for r in rows],))
            copy_rows(
                cur,
                f"vec_{level}",
                ("node_id", "doc_id", "version", "section_id", "embedding"),
                ("text", "text", "text", "text", "vector"),
                ((r.node_id, r.doc_id, r.version, r.section_id, vectors[i]) for i, r in enumerate(rows)),
            )

    @contextmanager
    def _tx(self) -> Iterator[None]:
        """A transaction of its own, unless this thread's writer transaction is already open (then the
        statements join it; a nested `transaction()` would cost a savepoint round trip each)."""
        from psycopg.pq import TransactionStatus

        db = self.db()
        if db.info.transaction_status != TransactionStatus.IDLE:
            yield
            return
        with db.transaction():
            yield

    def publish(
        self, tree: DocumentTree, content_hash: str, acl: tuple[str, ...], bm25_texts: Sequence[str]
    ) -> str | None:
        """One transaction: the version flips, the old version's nodes and postings go, the new
        postings come (real BM25 statistics change in the same commit as visibility)."""
        doc = tree.doc
        leaves = tree.by_level("leaf")
        counts = term_counts(bm25_texts)
        db = self.db()
        with self._tx():
            row = db.execute("SELECT version FROM docs WHERE doc_id = %s FOR UPDATE", (tree.doc_id,)).fetchone()
            old = row[0] if row else None
            db.execute(
                "UPDATE docs SET version = %s, pending_version = NULL, source = %s, title = %s, media_type = %s,"
                " content_hash = %s, acl = %s, text = %s, updated_at = %s WHERE doc_id = %s",
                (
                    tree.version,
                    doc.source,
                    doc.title,
                    doc.media_type,
                    content_hash,
                    list(acl),
                    doc.text,
                    time.time(),
                    tree.doc_id,
                ),
            )
            if old:
                self._count(delete_doc_leaves(db, tree.doc_id))
            if old and old != tree.version:
                db.execute("DELETE FROM nodes WHERE doc_id = %s AND version = %s", (tree.doc_id, old))
                db.execute(
                    "INSERT INTO garbage(doc_id, version) VALUES (%s, %s) ON CONFLICT DO NOTHING", (tree.doc_id, old)
                )
            rows = [(n.node_id, tree.doc_id, tree.version, n.section_id or "") for n in leaves]
            texts = list(bm25_texts) if self.uses_pg_search() else None
            self._count(write_leaves(db, rows, counts, texts))
        return str(old) if old else None

    def drop_version(self, doc_id: str, version: str) -> None:
        db = self.db()
        with self._tx():
            for level in self._vector_levels():
                if version:
                    db.execute(f"DELETE FROM vec_{level} WHERE doc_id = %s AND version = %s", (doc_id, version))
                else:
                    db.execute(f"DELETE FROM vec_{level} WHERE doc_id = %s", (doc_id,))
            db.execute("DELETE FROM garbage WHERE doc_id = %s AND version = %s", (doc_id, version))

    def _vector_levels(self) -> tuple[Level, ...]:
        return EMBEDDED_LEVELS if self.has_vectors() else ()

    def collect_garbage(self) -> None:
        """Garbage is anyone's to clear; a pending version only when no live writer holds its
        document (a dead writer's session, and so its lock, is gone)."""
        db = self.db()
        # SKIP LOCKED: a record another writer is clearing (in its open transaction) is left to it.
        for doc_id, version in db.execute("SELECT doc_id, version FROM garbage FOR UPDATE SKIP LOCKED").fetchall():
            self.drop_version(doc_id, version)
        pending = db.execute("SELECT doc_id FROM docs WHERE pending_version IS NOT NULL").fetchall()
        for (doc_id,) in pending:
            got = db.execute(
                "SELECT pg_try_advisory_lock(hashtext(%s), hashtext(%s))", (self.schema, doc_id)
            ).fetchone()[0]
            if not got:
                continue
            try:
                self._clear_pending(doc_id)
            finally:
                db.execute("SELECT pg_advisory_unlock(hashtext(%s), hashtext(%s))", (self.schema, doc_id))

    def _clear_pending(self, doc_id: str) -> None:
        db = self.db()
        with self._tx():
            row = db.execute(
                "SELECT pending_version, version FROM docs WHERE doc_id = %s FOR UPDATE", (doc_id,)
            ).fetchone()
            if row is None or row[0] is None:
                return
            pending, current = row
            if pending != current:
                for level in self._vector_levels():
                    db.execute(f"DELETE FROM vec_{level} WHERE doc_id = %s AND version = %s", (doc_id, pending))
                db.execute("DELETE FROM nodes WHERE doc_id = %s AND version = %s", (doc_id, pending))
            if current is None:
                db.execute("DELETE FROM docs WHERE doc_id = %s", (doc_id,))
            else:
                db.execute("UPDATE docs SET pending_version = NULL WHERE doc_id = %s", (doc_id,))

    def delete(self, source: str) -> str | None:
        db = self.db()
        with self._tx():
            row = db.execute("SELECT doc_id FROM docs WHERE source = %s FOR UPDATE", (source,)).fetchone()
            if row is None:
                return None
            doc_id = str(row[0])
            self._count(delete_doc_leaves(db, doc_id))
            for table in ("nodes", "docs"):
                db.execute(f"DELETE FROM {table} WHERE doc_id = %s", (doc_id,))
            db.execute("INSERT INTO garbage(doc_id, version) VALUES (%s, '') ON CONFLICT DO NOTHING", (doc_id,))
        return doc_id

    def check(self, embedded: set[str]) -> IndexCheck:
        return check_store(self.db(), embedded, self._vector_levels())
