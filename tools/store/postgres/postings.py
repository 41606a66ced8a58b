"""BM25 postings on PostgreSQL: how they are keyed, written (binary COPY) and counted.

A term is stored as a signed 64-bit BLAKE2b hash of its FTS5 token, not as text: postings shrink to
four fixed-width columns (about a third of the text layout on disk) and the scoring scan reads them
from the primary key's index alone. Two distinct terms share a key with probability about n²/2⁶⁵
(1e-8 for a million-term vocabulary); such a pair would be scored as one term.

Corpus statistics (leaf count and token total, for IDF and the average length) are append-only
delta rows in `bm25_stats`, one per writer transaction, so concurrent writers never queue on one
counter row; `compact_stats` folds them into one row now and then."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

#: Fold the delta rows once there are more than this many (readers sum them on every query).
STATS_ROWS_MAX = 64


def term_key(term: str) -> int:
    """The stored key of one FTS5 term."""
    return int.from_bytes(hashlib.blake2b(term.encode("utf-8"), digest_size=8).digest(), "big", signed=True)


def copy_rows(
    cur: Any, table: str, columns: Sequence[str], types: Sequence[str], rows: Iterable[Sequence[Any]]
) -> None:
    """Binary COPY of `rows` into `table` (one round trip per buffer instead of one per row)."""
    cols = ", ".join(f'"{c}"' for c in columns)
    with cur.copy(f"COPY {table} ({cols}) FROM STDIN WITH (FORMAT BINARY)") as copy:
        copy.set_types(list(types))
        for row in rows:
            copy.write_row(row)


def write_leaves(
    db: Any,
    leaves: Sequence[tuple[str, str, str, str]],
    counts: Sequence[Counter[str]],
    texts: Sequence[str] | None = None,
) -> tuple[int, int]:
    """Insert the BM25 rows of some leaves, given as (node_id, doc_id, version, section_id) with their
    term counts (and, for an index with pg_search, their text); returns (leaves, tokens) added."""
    if not leaves:
        return 0, 0
    lengths = [sum(c.values()) for c in counts]
    with db.cursor() as cur:
        lids = cur.execute(
            "INSERT INTO leaf_lengths(node_id, doc_id, version, section_id, len)"
            " SELECT * FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[], %s::int[]) RETURNING node_id, lid",
            (
                [leaf[0] for leaf in leaves],
                [leaf[1] for leaf in leaves],
                [leaf[2] for leaf in leaves],
                [leaf[3] for leaf in leaves],
                lengths,
            ),
        ).fetchall()
        lid_of = dict(lids)
        if texts is not None:
            from tools.store.postgres import pg_search

            pg_search.store_texts(db, lid_of, {leaf[0]: t for leaf, t in zip(leaves, texts, strict=True)})
        copy_rows(
            cur,
            "postings",
            ("term", "lid", "tf", "len"),
            ("int8", "int8", "int4", "int4"),
            (
                (term_key(t), lid_of[leaf[0]], tf, n)
                for leaf, c, n in zip(leaves, counts, lengths, strict=True)
                for t, tf in c.items()
            ),
        )
    return len(leaves), sum(lengths)


def delete_doc_leaves(db: Any, doc_id: str) -> tuple[int, int]:
    """Remove every BM25 row of one document; returns (leaves, tokens) removed."""
    db.execute(
        "DELETE FROM postings WHERE lid IN (SELECT lid FROM leaf_lengths WHERE doc_id = %s)",
        (doc_id,),
    )
    row = db.execute(
        "WITH gone AS (DELETE FROM leaf_lengths WHERE doc_id = %s RETURNING len)"
        " SELECT count(*), coalesce(sum(len), 0) FROM gone",
        (doc_id,),
    ).fetchone()
    return int(row[0]), int(row[1])


def record_stats(db: Any, leaves: int, tokens: int) -> None:
    if leaves or tokens:
        db.execute("INSERT INTO bm25_stats(leaves, tokens) VALUES (%s, %s)", (leaves, tokens))


def compact_stats(db: Any) -> None:
    """Fold the delta rows into one (own transaction; rows of writers still open are not visible, so
    they are not touched; two compactions at once each fold only what the other did not take)."""
    if db.execute("SELECT count(*) FROM bm25_stats").fetchone()[0] <= STATS_ROWS_MAX:
        return
    with db.transaction():
        db.execute(
            "WITH gone AS (DELETE FROM bm25_stats RETURNING leaves, tokens) INSERT INTO bm25_stats(leaves, tokens)"
            " SELECT sum(leaves), sum(tokens) FROM gone HAVING count(*) > 0"
        )
