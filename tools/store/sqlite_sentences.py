"""Reads of the sentences an embedded `tree.sqlite` keeps as offsets in their leaf's row
(`tools.store.sentence_spans`): by id, as a leaf's children, counted, and as full `nodes` rows for
`index check` and `hragent migrate`. Every query joins the document's current version, like the
reads of stored rows, so a sentence of a replaced or unpublished version is never found."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from typing import Any

from tools.store import sentence_spans
from tools.store.sentence_spans import Sentence
from tools.store.sqlite_schema import LEAF_TEXT

# The same columns as `sqlite_tree.NODE_COLUMNS` (text resolved), then the leaf's spans.
_LEAF_OF = (
    'SELECT n.node_id, n.doc_id, n.level, n.parent_id, n.section_id, n.ord, n.section, n.start, n."end",'
    f" {LEAF_TEXT}, d.source, d.title, d.acl, n.spans FROM nodes n JOIN docs d ON d.doc_id=n.doc_id AND d.version=n.version"
    " WHERE n.doc_id=? AND n.version=? AND n.level='leaf' AND n.ord<? ORDER BY n.ord DESC LIMIT 1"
)

# What `nodes` rows of a leaf's sentences would hold, in `hragent migrate`'s column order
# (node_id, doc_id, version, level, parent_id, section_id, ord, section, start, end, content_hash, text, summary).
FullRow = tuple[Any, ...]


def _sentences_of(row: Sequence[Any]) -> list[Sentence]:
    return sentence_spans.decode(row[0], row[5], row[7], row[9] or "", row[13])


def rebuilt(db: sqlite3.Connection, node_ids: Iterable[str]) -> dict[str, tuple[tuple[Any, ...], Sentence]]:
    """Sentence id -> (its current leaf's row, the sentence) for the ids that are sentences kept as
    offsets; other ids are left out. One indexed lookup per leaf (the nearest leaf before the
    sentence's ordinal), whose decode gives all its sentences."""
    out: dict[str, tuple[tuple[Any, ...], Sentence]] = {}
    known: dict[str, tuple[tuple[Any, ...], Sentence]] = {}  # every sentence of the leaves read so far
    for nid in node_ids:
        if nid not in known:
            parsed = sentence_spans.parse_id(nid)
            if parsed is None:
                continue
            row = db.execute(_LEAF_OF, parsed).fetchone()
            if row is None or not row[13]:
                continue
            known.update({s.node_id: (tuple(row), s) for s in _sentences_of(row)})
        if nid in known:
            out[nid] = known[nid]
    return out


def child_ids(db: sqlite3.Connection, parent_ids: Sequence[str]) -> dict[str, list[str]]:
    """Leaf id -> its sentence ids, for the parents that are leaves with spans."""
    out: dict[str, list[str]] = {}
    ids = list(dict.fromkeys(parent_ids))
    for i in range(0, len(ids), 500):
        chunk = ids[i : i + 500]
        rows = db.execute(
            f"SELECT node_id, ord, start, spans FROM nodes WHERE node_id IN ({','.join('?' * len(chunk))})"
            " AND spans IS NOT NULL AND spans != ''",
            chunk,
        ).fetchall()
        for nid, ordinal, start, spans in rows:
            out[nid] = [s.node_id for s in sentence_spans.decode(nid, ordinal, start, "", spans)]
    return out


# The number of sentences a spans column holds, in SQL (two numbers per sentence, comma-separated).
SPAN_COUNT = "(length(n.spans) - length(replace(n.spans, ',', '')) + 1) / 2"


def full_rows(db: sqlite3.Connection, doc_id: str, version: str, spans: bool, sentence_text: bool) -> list[FullRow]:
    """Every node of one document version as `nodes` rows as `sqlite_tree.node_rows` would write them
    without spans, in document order: text as stored, and a rebuilt sentence's text taken from its
    leaf (`sentence_text`, for `index check` to compare with the document) or empty (a slice of the
    document, as a sentence row keeps it; for `hragent migrate`)."""
    rows = db.execute(
        "SELECT n.node_id, n.doc_id, n.version, n.level, n.parent_id, n.section_id, n.ord, n.section, n.start,"
        f' n."end", n.content_hash, n.text, n.summary, {"n.spans" if spans else "NULL"}, {LEAF_TEXT}'
        " FROM nodes n JOIN docs d ON d.doc_id = n.doc_id WHERE n.doc_id=? AND n.version=? ORDER BY n.ord",
        (doc_id, version),
    ).fetchall()
    out: list[FullRow] = []
    for r in rows:
        out.append(tuple(r[:13]))
        if r[3] == "leaf" and r[13]:
            for s in sentence_spans.decode(r[0], r[6], r[8], r[14], r[13]):
                text = s.text if sentence_text else ""
                out.append(
                    (
                        s.node_id,
                        r[1],
                        r[2],
                        "sentence",
                        r[0],
                        r[5],
                        s.ord,
                        r[7],
                        s.start,
                        s.end,
                        s.content_hash,
                        text,
                        None,
                    )
                )
    out.sort(key=lambda row: int(row[6]))
    return out
