"""The embedded tree's BM25 rows (FTS5 `leaf_fts`): added and dropped with a version inside the
publishing transaction, searched, and listed for `index check` / `hragent migrate`. A compact tree's
table is external-content over the `leaf_bm25` view (postings only, rows keyed by `nodes.row`); an
older tree's table stores each leaf's BM25 text and node id itself."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path

from tools.errors import IndexStoreError
from tools.ingest.tree import DocumentTree


def drop_version(db: sqlite3.Connection, doc_id: str, version: str, compact: bool) -> None:
    """Remove the BM25 rows of one published version (while its nodes and text still exist)."""
    if not compact:
        db.execute(
            "DELETE FROM leaf_fts WHERE node_id IN (SELECT node_id FROM nodes WHERE doc_id=? AND version=?)",
            (doc_id, version),
        )
        return
    # Only rows the index holds: FTS5 would subtract the postings of any other row it is told to drop.
    db.execute(
        "DELETE FROM leaf_fts WHERE rowid IN (SELECT row FROM nodes WHERE doc_id=? AND version=?"
        " AND level='leaf' AND row IN (SELECT id FROM leaf_fts_docsize))",
        (doc_id, version),
    )


def add_version(
    db: sqlite3.Connection, tree: DocumentTree, bm25_texts: Sequence[str], compact: bool, file: Path
) -> None:
    """Index a new version's leaves. A compact table indexes them from the `leaf_bm25` view, the same
    text a later removal reads, after checking it is the text the index facade asked for."""
    if not compact:
        db.executemany(
            "INSERT INTO leaf_fts(text, node_id) VALUES(?, ?)",
            [(text, n.node_id) for text, n in zip(bm25_texts, tree.by_level("leaf"), strict=True)],
        )
        return
    rows = db.execute(
        "SELECT v.row, v.text FROM leaf_bm25 v JOIN nodes n ON n.row = v.row"
        " WHERE n.doc_id=? AND n.version=? AND n.level='leaf' ORDER BY n.ord",
        (tree.doc_id, tree.version),
    ).fetchall()
    if [r[1] for r in rows] != list(bm25_texts):
        raise IndexStoreError(
            f"{tree.doc.source}: the BM25 text rebuilt from {file} differs from the leaves' text;"
            " nothing was published (report this as a bug)"
        )
    db.executemany(
        "INSERT INTO leaf_fts(rowid, text, node_id) SELECT row, text, node_id FROM leaf_bm25 WHERE row=?",
        [(r[0],) for r in rows],
    )


def search(db: sqlite3.Connection, match: str, fetch: int, common_df: int, compact: bool) -> list[tuple[str, float]]:
    """FTS5's BM25 over every published leaf (visibility is the caller's filter)."""
    # A compact table's node_id lives in `nodes`: read it for the top rows only, by `row`.
    column = "f.rowid" if compact else "f.node_id"
    sql = (
        f"SELECT {column}, -bm25(leaf_fts) AS s FROM leaf_fts f WHERE leaf_fts MATCH ? ORDER BY bm25(leaf_fts) LIMIT ?"
    )
    try:
        match = _drop_common_terms(db, match, common_df)
        rows = db.execute(sql, (match, fetch)).fetchall()
    except sqlite3.OperationalError:
        return []
    if compact and rows:
        marks = ",".join("?" * len(rows))
        ids = dict(db.execute(f"SELECT row, node_id FROM nodes WHERE row IN ({marks})", [r[0] for r in rows]))
        rows = [(ids[r[0]], r[1]) for r in rows if r[0] in ids]
    return [(r[0], float(r[1])) for r in rows]


def indexed_node_ids(db: sqlite3.Connection, compact: bool) -> list[str | None]:
    """The node id of every row the BM25 index holds (None for a row whose node is gone): for a
    compact table, what its content view would return for every leaf, indexed or not, so it is read
    from FTS5's own row list."""
    if not compact:
        return [r[0] for r in db.execute("SELECT node_id FROM leaf_fts ORDER BY node_id")]
    return [
        r[0]
        for r in db.execute(
            "SELECT n.node_id FROM leaf_fts_docsize s LEFT JOIN nodes n ON n.row = s.id ORDER BY n.node_id"
        )
    ]


def texts_query(compact: bool) -> str:
    """`select_in` SQL for leaf id -> the text BM25 indexed for it."""
    table = "leaf_bm25" if compact else "leaf_fts"
    return f"SELECT node_id, text FROM {table} WHERE node_id IN ({{marks}})"


def _drop_common_terms(db: sqlite3.Connection, match: str, common_df: int) -> str:
    """Leave out query terms found in more than `common_df` leaves: FTS5 scores every row an OR
    term matches, so one common word costs tens of ms at 100k leaves while adding little (low IDF).
    Each probe stops after common_df + 1 rows; small corpora keep every term."""
    terms = match.split(" OR ")
    if len(terms) < 2:
        return match
    probe = "SELECT count(*) FROM (SELECT 1 FROM leaf_fts WHERE leaf_fts MATCH ? LIMIT ?)"
    df = {t: int(db.execute(probe, (t, common_df + 1)).fetchone()[0]) for t in terms}
    kept = [t for t in terms if df[t] <= common_df] or sorted(terms, key=df.__getitem__)[:3]
    return " OR ".join(kept)
