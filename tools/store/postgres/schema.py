"""DDL of one hragent index in its own PostgreSQL schema, and the connection setup every handle uses.

Vector tables are per embedded level (`vec_leaf`, `vec_sentence`, `vec_section`), each with its own
HNSW index, created once the embedder's dimension is known. Concurrent first opens serialise their
DDL on an advisory transaction lock (`CREATE ... IF NOT EXISTS` alone races in PostgreSQL)."""

from __future__ import annotations

import re
from typing import Any

from tools.errors import ConfigError, IndexStoreError
from tools.store.records import EMBEDDED_LEVELS

SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
DDL_LOCK = "hragent-ddl"

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
CREATE TABLE IF NOT EXISTS postings (
  term text NOT NULL, node_id text NOT NULL, doc_id text NOT NULL, tf int NOT NULL, PRIMARY KEY (term, node_id)
);
CREATE INDEX IF NOT EXISTS postings_doc ON postings (doc_id);
CREATE TABLE IF NOT EXISTS leaf_lengths (
  node_id text PRIMARY KEY, doc_id text NOT NULL, version text NOT NULL, section_id text NOT NULL, len int NOT NULL
);
CREATE INDEX IF NOT EXISTS leaf_lengths_doc ON leaf_lengths (doc_id);
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
        import psycopg
        from pgvector.psycopg import register_vector
    except ImportError as exc:
        raise ConfigError("the PostgreSQL index backend needs: pip install 'hragent[postgres]'") from exc
    try:
        conn = psycopg.connect(dsn, autocommit=True, prepare_threshold=None)
    except psycopg.Error as exc:
        raise IndexStoreError(f"cannot connect to the index database: {type(exc).__name__}") from exc
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (DDL_LOCK,))
        conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
        conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
    conn.execute(f'SET search_path TO "{schema}", public')
    conn.execute("SET hnsw.iterative_scan = relaxed_order")
    conn.execute("SET hnsw.ef_search = 100")
    register_vector(conn)
    return conn


def create_tables(conn: Any, dim: int | None) -> None:
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (DDL_LOCK,))
        conn.execute(BASE_DDL)
        if dim:
            conn.execute(vector_ddl(dim))
