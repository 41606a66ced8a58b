"""DDL of one hragent index in its own PostgreSQL schema, and the connection setup every handle uses.

Vector tables are per embedded level (`vec_leaf`, `vec_sentence`, `vec_section`), each with its own
HNSW index, created once the embedder's dimension is known. Concurrent first opens serialise their
DDL on an advisory transaction lock (`CREATE ... IF NOT EXISTS` alone races in PostgreSQL)."""

from __future__ import annotations

import re
from typing import Any

from tools.errors import ConfigError, IndexMismatchError, IndexStoreError
from tools.store.postgres import doc_freq, pg_search
from tools.store.records import EMBEDDED_LEVELS

SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
DDL_LOCK = "hragent-ddl"
# HNSW candidate list per query (pgvector's default is 40). Recall@10 against an exact scan at 10k
# hashing-embedder leaves: .65 at 40, .76 at 100, .85 at 200, .92 at 400 (benchmarks/RESULTS.md, #19).
EF_SEARCH = 100

BASE_DDL = """
CREATE TABLE IF NOT EXISTS manifest (
  id int PRIMARY KEY CHECK (id = 1), data jsonb NOT NULL, generation bigint NOT NULL DEFAULT 1
);
CREATE TABLE IF NOT EXISTS docs (
  doc_id text PRIMARY KEY, source text UNIQUE NOT NULL, title text NOT NULL, media_type text NOT NULL,
  content_hash text NOT NULL, acl text[] NOT NULL, version text, pending_version text,
  text text NOT NULL, updated_at double precision NOT NULL
);
CREATE INDEX IF NOT EXISTS docs_acl ON docs USING gin (acl);
CREATE INDEX IF NOT EXISTS docs_title ON docs (lower(title)) WHERE version IS NOT NULL;
CREATE INDEX IF NOT EXISTS docs_pending ON docs (doc_id) WHERE pending_version IS NOT NULL;
CREATE TABLE IF NOT EXISTS nodes (
  node_id text PRIMARY KEY, doc_id text NOT NULL, version text NOT NULL, level text NOT NULL,
  parent_id text, section_id text, ord int NOT NULL, section text NOT NULL,
  start int NOT NULL, "end" int NOT NULL, content_hash text NOT NULL, text text NOT NULL, summary text
);
CREATE INDEX IF NOT EXISTS nodes_doc ON nodes (doc_id, version, level, ord);
CREATE INDEX IF NOT EXISTS nodes_parent ON nodes (parent_id, ord);
CREATE TABLE IF NOT EXISTS leaf_lengths (
  lid bigserial PRIMARY KEY, node_id text UNIQUE NOT NULL, doc_id text NOT NULL, version text NOT NULL,
  section_id text NOT NULL, len int NOT NULL
);
CREATE INDEX IF NOT EXISTS leaf_lengths_doc ON leaf_lengths (doc_id);
CREATE INDEX IF NOT EXISTS leaf_lengths_section ON leaf_lengths (section_id);
-- One row per (term, leaf): the term as a 64-bit hash (see postings.term_key), the leaf as its integer
-- id, and tf and the leaf's length carried in the primary key's index so scoring is an index-only scan.
CREATE TABLE IF NOT EXISTS postings (
  term bigint NOT NULL, lid bigint NOT NULL, tf int NOT NULL, len int NOT NULL,
  PRIMARY KEY (term, lid) INCLUDE (tf, len)
);
CREATE INDEX IF NOT EXISTS postings_lid ON postings (lid);
-- Corpus statistics as append-only deltas (one row per writer transaction, compacted now and then), so
-- concurrent writers never wait on one shared counter row.
CREATE TABLE IF NOT EXISTS bm25_stats (id bigserial PRIMARY KEY, leaves bigint NOT NULL, tokens bigint NOT NULL);
CREATE TABLE IF NOT EXISTS garbage (doc_id text NOT NULL, version text NOT NULL, PRIMARY KEY (doc_id, version));
"""


def vector_ddl(dim: int) -> str:
    parts = []
    for level in EMBEDDED_LEVELS:
        parts.append(
            f"CREATE TABLE IF NOT EXISTS vec_{level} (node_id text PRIMARY KEY, doc_id text NOT NULL,"
            f" version text NOT NULL, section_id text NOT NULL, embedding vector({int(dim)}) NOT NULL);"
            f" CREATE INDEX IF NOT EXISTS vec_{level}_doc ON vec_{level} (doc_id, version);"
            f" CREATE INDEX IF NOT EXISTS vec_{level}_hnsw ON vec_{level} USING hnsw (embedding vector_cosine_ops);"
        )
    return "\n".join(parts)


def check_schema_name(name: str) -> str:
    if not SCHEMA_NAME.match(name):
        raise ConfigError(
            f"index schema name {name!r} is not a plain lower-case SQL identifier (letters, digits, _; 63 at most)"
        )
    return name


def connect(dsn: str, schema: str) -> Any:
    """A new autocommit connection with the index schema first on its search path and pgvector's
    types registered; iterative HNSW scans so filtered queries still return k rows."""
    try:
        import pgvector.psycopg  # noqa: F401  (only to fail early with the install hint)
        import psycopg
    except ImportError as exc:
        raise ConfigError("the PostgreSQL index backend needs: pip install 'hragent[postgres]'") from exc
    try:
        conn = psycopg.connect(dsn, autocommit=True, prepare_threshold=None)
    except psycopg.Error as exc:
        raise IndexStoreError(f"cannot connect to the index database: {type(exc).__name__}") from exc
    ready: Any = conn.execute(
        "SELECT to_regnamespace(%s) IS NOT NULL AND EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'vector')",
        (f'"{schema}"',),
    ).fetchone()
    if not ready[0]:  # only the first open of an index runs DDL (and waits for the DDL lock)
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (DDL_LOCK,))
            conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
            conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
    configure(conn, schema)
    return conn


def configure(conn: Any, schema: str) -> None:
    """Session settings every connection of an index needs (also the pool's `configure` hook)."""
    from pgvector.psycopg import register_vector

    # One round trip for all of them. `jit = off`: hragent's statements are short index lookups, and a
    # BM25 query scored in full over many postings can cross the JIT cost threshold, where compiling
    # costs more than the query itself.
    conn.execute(
        f'SET search_path TO "{schema}", public; SET hnsw.iterative_scan = relaxed_order;'
        f" SET hnsw.ef_search = {EF_SEARCH}; SET jit = off"
    )
    register_vector(conn)


def has_impact_index(conn: Any) -> bool:
    """Whether `postings_impact` (the bounded BM25's read order) exists and is valid."""
    row = conn.execute(
        "SELECT i.indisvalid FROM pg_index i WHERE i.indexrelid = to_regclass('postings_impact')"
    ).fetchone()
    return bool(row and row[0])


def create_impact_index(conn: Any) -> None:
    """Build `postings_impact` once (for `HRAGENT_PG_BM25_POSTINGS`): concurrently, so writers go on
    while it builds (at 100k leaves it takes about a minute), serialised between processes on the DDL
    advisory lock; an invalid index a killed build left behind is rebuilt."""
    from tools.store.postgres.bm25 import IMPACT_INDEX

    if has_impact_index(conn):
        return
    conn.execute("SELECT pg_advisory_lock(hashtext(%s))", (DDL_LOCK,))
    try:
        if not has_impact_index(conn):
            conn.execute("DROP INDEX IF EXISTS postings_impact")
            conn.execute(IMPACT_INDEX.replace("CREATE INDEX", "CREATE INDEX CONCURRENTLY"))
    finally:
        conn.execute("SELECT pg_advisory_unlock(hashtext(%s))", (DDL_LOCK,))


def check_layout(conn: Any) -> None:
    """An index written by the first PostgreSQL layout (text postings) cannot be read by this one."""
    old = conn.execute(
        "SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = 'postings'"
        " AND column_name = 'node_id'"
    ).fetchone()
    if old:
        raise IndexMismatchError(
            "this PostgreSQL index uses the first postings layout; migrate it again into a new schema"
        )


def create_tables(conn: Any, dim: int | None) -> None:
    """Create what is missing, and only that. Looks first without locking: once the tables exist
    (every open after the first), no DDL runs at all. That matters: `CREATE INDEX IF NOT EXISTS` on an
    existing table still takes a share lock on it, which would queue behind every open writer
    transaction (and every later open behind it)."""

    def missing() -> tuple[bool, bool, bool]:
        base, df, vec = conn.execute(
            "SELECT to_regclass('bm25_stats'), to_regclass('bm25_df'), to_regclass('vec_leaf')"
        ).fetchone()
        return base is None, df is None, bool(dim) and vec is None

    if not any(missing()):
        return
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (DDL_LOCK,))
        base, df, vec = missing()  # again, under the lock: another process may have just created them
        if base:
            check_layout(conn)  # the first layout had no bm25_stats
            conn.execute(BASE_DDL)
            if pg_search.available(conn):  # ParadeDB's BM25 index, where the server has it (untested here)
                pg_search.enable(conn)
        if df:  # a new index, or one written before per-term document frequencies were kept
            doc_freq.build(conn)
        if vec and dim:
            conn.execute(vector_ddl(dim))
