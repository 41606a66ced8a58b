"""BM25 postings on PostgreSQL: how they are keyed, written (binary COPY) and counted.

A term is stored as a signed 64-bit BLAKE2b hash of its FTS5 token, not as text: postings shrink to
four fixed-width columns (about a third of the text layout on disk) and the scoring scan reads them
from the primary key's index alone. Two distinct terms share a key with probability about n²/2⁶⁵
(1e-8 for a million-term vocabulary); such a pair would be scored as one term.

Corpus statistics (leaf count and token total, for IDF and the average length) and per-term document
frequencies are append-only delta rows, one set per writer transaction, so concurrent writers never
queue on one counter row (`doc_freq`: how they are kept, read and folded)."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from tools.store.postgres.doc_freq import CorpusDelta


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
) -> CorpusDelta:
    """Insert the BM25 rows of some leaves, given as (node_id, doc_id, version, section_id) with their
    term counts (and, for an index with pg_search, their text); returns what that adds to the corpus."""
    if not leaves:
        return CorpusDelta()
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
    df = Counter(term_key(t) for c in counts for t in c)  # each leaf counts once per term it holds
    return CorpusDelta(len(leaves), sum(lengths), df)


def delete_doc_leaves(db: Any, doc_id: str) -> CorpusDelta:
    """Remove every BM25 row of one document; returns what that takes from the corpus (negative)."""
    terms = db.execute(
        "WITH gone AS (DELETE FROM postings WHERE lid IN (SELECT lid FROM leaf_lengths WHERE doc_id = %s)"
        " RETURNING term) SELECT term, count(*) FROM gone GROUP BY term",
        (doc_id,),
    ).fetchall()
    row = db.execute(
        "WITH gone AS (DELETE FROM leaf_lengths WHERE doc_id = %s RETURNING len)"
        " SELECT count(*), coalesce(sum(len), 0) FROM gone",
        (doc_id,),
    ).fetchone()
    return CorpusDelta(-int(row[0]), -int(row[1]), Counter({int(t): -int(n) for t, n in terms}))
