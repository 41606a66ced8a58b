"""Per-term document frequencies kept by the writers, so a BM25 query reads a term's df with one index
probe instead of counting its postings (up to 1,001 of them per term, half of a median query's work at
100k leaves before this table; the all-common fallback counted its three terms in full, O(df)).

Kept the way `bm25_stats` keeps the corpus totals: every writer transaction that adds or removes
postings appends its net change per term to `bm25_df_delta`, in the same transaction as the postings,
so a df becomes visible exactly when the document version that changed it does, and concurrent writers
never wait on a shared row. A term's df is its folded `bm25_df` row plus its delta rows; `compact`
folds the deltas into `bm25_df` (with the corpus totals, when those have many rows, and at `prepare`),
so a term has at most a few dozen delta rows to add. An index written before these tables existed gets
them built from its postings on first open (`build`)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

#: Fold the delta rows once `bm25_stats` has more than this many (one per writer transaction).
STATS_ROWS_MAX = 64

DDL = """
CREATE TABLE IF NOT EXISTS bm25_df (term bigint NOT NULL, df bigint NOT NULL, PRIMARY KEY (term) INCLUDE (df));
CREATE TABLE IF NOT EXISTS bm25_df_delta (term bigint NOT NULL, df bigint NOT NULL);
CREATE INDEX IF NOT EXISTS bm25_df_delta_term ON bm25_df_delta (term) INCLUDE (df);
"""


def df_of(term: str) -> str:
    """SQL for the document frequency of the term key `term` (a column or parameter): one probe of
    `bm25_df`'s primary key and one of the delta index."""
    return (
        f"(coalesce((SELECT f.df FROM bm25_df f WHERE f.term = {term}), 0)"
        f" + coalesce((SELECT sum(d.df) FROM bm25_df_delta d WHERE d.term = {term}), 0))::bigint"
    )


@dataclass
class CorpusDelta:
    """What some writes changed in the BM25 corpus: leaves and tokens added (negative: removed), and
    per term key the leaves that gained (lost) it."""

    leaves: int = 0
    tokens: int = 0
    df: Counter[int] = field(default_factory=Counter)

    def add(self, other: CorpusDelta) -> None:
        self.leaves += other.leaves
        self.tokens += other.tokens
        self.df.update(other.df)  # update adds counts (negative ones too), unlike `+`

    def changed_terms(self) -> list[tuple[int, int]]:
        return sorted((t, n) for t, n in self.df.items() if n)


def record(db: Any, delta: CorpusDelta) -> None:
    """Append one writer transaction's change: a `bm25_stats` row (also when only dfs changed, so the
    row count that triggers `compact` counts every transaction that left delta rows) and its df rows."""
    changed = delta.changed_terms()
    if not (delta.leaves or delta.tokens or changed):
        return
    db.execute("INSERT INTO bm25_stats(leaves, tokens) VALUES (%s, %s)", (delta.leaves, delta.tokens))
    if changed:
        from tools.store.postgres.postings import copy_rows

        with db.cursor() as cur:
            copy_rows(cur, "bm25_df_delta", ("term", "df"), ("int8", "int8"), changed)


def compact(db: Any, force: bool = False) -> None:
    """Fold the delta rows of `bm25_stats` and `bm25_df_delta` (only when the stats have more than
    `STATS_ROWS_MAX` rows, unless `force`), in a transaction of its own: rows of writers still open are
    not visible to it, so they are not touched, and readers see the totals before or after the fold,
    never half of it. One compaction at a time per index (a second one skips); nothing when `db` is
    inside a transaction already (a writer's: its own deltas are not recorded yet)."""
    from psycopg.pq import TransactionStatus

    if db.info.transaction_status != TransactionStatus.IDLE:
        return
    # Forced (at open), only when there is something to fold: a quiet index is opened without a write.
    due = (
        "SELECT (SELECT count(*) FROM bm25_stats) > 1 OR EXISTS (SELECT 1 FROM bm25_df_delta)"
        if force
        else f"SELECT (SELECT count(*) FROM bm25_stats) > {STATS_ROWS_MAX}"
    )
    if not db.execute(due).fetchone()[0]:
        return
    with db.transaction():
        got = db.execute(
            "SELECT pg_try_advisory_xact_lock(hashtext(current_schema()), hashtext('hragent-bm25-compact'))"
        ).fetchone()[0]
        if not got:
            return
        db.execute(
            "WITH gone AS (DELETE FROM bm25_stats RETURNING leaves, tokens) INSERT INTO bm25_stats(leaves, tokens)"
            " SELECT sum(leaves), sum(tokens) FROM gone HAVING count(*) > 0"
        )
        db.execute(
            "WITH gone AS (DELETE FROM bm25_df_delta RETURNING term, df)"
            " INSERT INTO bm25_df(term, df) SELECT term, sum(df) FROM gone GROUP BY term ORDER BY term"
            " ON CONFLICT (term) DO UPDATE SET df = bm25_df.df + excluded.df"
        )
        db.execute("DELETE FROM bm25_df WHERE df = 0")  # terms whose last leaf went


def build(conn: Any) -> None:
    """Create the df tables and fill `bm25_df` from the postings (an index older than them; a new one
    gets empty tables). Runs in the caller's DDL transaction; the share lock on `postings` waits for the
    open writers and holds new ones back until the counts are in, so no posting is counted twice or
    missed."""
    conn.execute(DDL)
    conn.execute("LOCK TABLE postings IN SHARE MODE")
    conn.execute("INSERT INTO bm25_df(term, df) SELECT term, count(*) FROM postings GROUP BY term ORDER BY term")
