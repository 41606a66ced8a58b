"""`check()` for the PostgreSQL backend: the same consistency rules as the embedded one (complete trees,
offsets that match, one BM25 row per visible leaf, one vector per visible embedded node), counted in SQL,
and one of its own: every kept document frequency equals its term's postings counted."""

from __future__ import annotations

from typing import Any

from tools.store.records import IndexCheck, empty_orphans, tree_problems
from tools.types import Level


def check_store(db: Any, embedded: set[str], vector_levels: tuple[Level, ...]) -> IndexCheck:
    problems: list[str] = []
    orphans = empty_orphans()
    docs = db.execute("SELECT doc_id, source, version, pending_version, text FROM docs").fetchall()
    current = {d[0]: d[2] for d in docs if d[2] is not None}
    orphans["pending_documents"] = sum(1 for d in docs if d[2] is None)
    orphans["garbage_records"] = int(db.execute("SELECT count(*) FROM garbage").fetchone()[0])
    orphans["nodes"] = int(
        db.execute(
            "SELECT count(*) FROM nodes n JOIN docs d ON d.doc_id = n.doc_id"
            " WHERE n.version IS DISTINCT FROM d.version AND n.version IS DISTINCT FROM d.pending_version"
        ).fetchone()[0]
        + db.execute(
            "SELECT count(*) FROM nodes n WHERE NOT EXISTS (SELECT 1 FROM docs d WHERE d.doc_id = n.doc_id)"
        ).fetchone()[0]
    )
    by_doc: dict[str, list[tuple[str, str, str | None, int, int, str]]] = {}
    for row in db.execute(
        'SELECT n.doc_id, n.node_id, n.level, n.parent_id, n.start, n."end", n.text FROM nodes n'
        " JOIN docs d ON d.doc_id = n.doc_id AND d.version = n.version"
    ):
        by_doc.setdefault(row[0], []).append(tuple(row[1:]))
    for doc_id, source, version, _pending, text in docs:
        if version is not None:
            problems += tree_problems(source, version, text, by_doc.get(doc_id, []))
    live = (
        "SELECT n.node_id FROM nodes n JOIN docs d ON d.doc_id = n.doc_id AND d.version = n.version WHERE n.level = %s"
    )
    no_bm25 = db.execute(
        f"SELECT count(*), min(x.node_id) FROM ({live}) x"
        " WHERE NOT EXISTS (SELECT 1 FROM leaf_lengths l WHERE l.node_id = x.node_id)",
        ("leaf",),
    ).fetchone()
    if no_bm25[0]:
        problems.append(f"{no_bm25[0]} visible leaf node(s) have no BM25 row, e.g. {no_bm25[1]}")
    wrong_df = db.execute(
        "SELECT count(*) FROM (SELECT term, count(*) AS n FROM postings GROUP BY term) p FULL JOIN"
        " (SELECT term, sum(df) AS df FROM (SELECT term, df FROM bm25_df UNION ALL SELECT term, df FROM bm25_df_delta) u"
        " GROUP BY term) k USING (term) WHERE coalesce(p.n, 0) <> coalesce(k.df, 0)"
    ).fetchone()[0]
    if wrong_df:
        problems.append(f"{wrong_df} BM25 term(s) have a kept document frequency that differs from their postings")
    orphans["fts_rows"] = int(
        db.execute(
            "SELECT count(*) FROM leaf_lengths l WHERE NOT EXISTS (SELECT 1 FROM nodes n JOIN docs d"
            " ON d.doc_id = n.doc_id AND d.version = n.version WHERE n.node_id = l.node_id)"
        ).fetchone()[0]
    )
    for level in sorted(embedded):
        if level not in vector_levels:
            if by_doc:
                problems.append(f"visible {level} nodes have no vector table")
            continue
        missing = db.execute(
            f"SELECT count(*), min(x.node_id) FROM ({live}) x"
            f" WHERE NOT EXISTS (SELECT 1 FROM vec_{level} v WHERE v.node_id = x.node_id)",
            (level,),
        ).fetchone()
        if missing[0]:
            problems.append(f"{missing[0]} visible {level} node(s) have no vector, e.g. {missing[1]}")
    for level in vector_levels:
        orphans["vectors"] += int(
            db.execute(
                f"SELECT count(*) FROM vec_{level} v WHERE NOT EXISTS (SELECT 1 FROM docs d"
                " WHERE d.doc_id = v.doc_id AND d.version = v.version)"
            ).fetchone()[0]
        )
    return IndexCheck(documents=len(current), problems=problems, orphans=orphans)
