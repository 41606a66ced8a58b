"""The embedded backend's tree: documents, nodes, FTS5 BM25 rows and garbage records in `tree.sqlite`.

SQLite is the embedded index's source of truth: a version becomes visible when its `docs.version`
flips, in the same transaction that swaps its FTS rows."""

from __future__ import annotations

import functools
import json
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tools.acl import can_see
from tools.errors import IndexStoreError
from tools.ingest.tree import DocumentTree
from tools.store import sentence_spans, sqlite_bm25, sqlite_schema, sqlite_sentences
from tools.store.records import NodeRecord
from tools.store.sqlite_schema import LEAF_TEXT, node_rows

__all__ = ["NODE_COLUMNS", "SQLiteTree", "node_rows", "parse_acl"]

NODE_COLUMNS = (
    'n.node_id, n.doc_id, n.level, n.parent_id, n.section_id, n.ord, n.section, n.start, n."end",'
    f" n.text, d.source, d.title, d.acl, {LEAF_TEXT}"
)


class SQLiteTree:
    """One connection per thread onto `tree.sqlite` (WAL), and every tree/FTS statement."""

    def __init__(self, path: Path) -> None:
        self.file = path / "tree.sqlite"
        self._local = threading.local()
        # Every thread's connection, so `close()` releases them all (not just the caller's).
        self.conns: list[sqlite3.Connection] = []
        self._conns_lock = threading.Lock()
        self._generation = 0
        try:
            with self.conn() as db:
                # Trees written before #20's disk cut stay legacy (`tools.store.sqlite_schema`), so
                # the hragent that made them still reads them; every read here takes either form.
                self.compact, self.shares = sqlite_schema.create(db)
        except sqlite3.DatabaseError as exc:
            raise IndexStoreError(
                f"{self.file} is not a readable hragent tree ({exc}); restore it or re-ingest"
                " into a new index directory"
            ) from exc

    @contextmanager
    def conn(self) -> Iterator[sqlite3.Connection]:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None or getattr(self._local, "generation", -1) != self._generation:
            conn = sqlite3.connect(self.file, timeout=60, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            sqlite_schema.register(conn)
            with self._conns_lock:
                self.conns.append(conn)
                self._local.conn, self._local.generation = conn, self._generation
        yield conn

    def close(self) -> None:
        """Close every thread's connection; a later statement on any thread reopens its own."""
        with self._conns_lock:
            conns, self.conns = self.conns, []
            self._generation += 1
        for conn in conns:
            conn.close()
        self._local = threading.local()

    # ----------------------------------------------------------------- writes
    def stored_text(self, text: str) -> str | bytes:
        """A document's text as this tree's format stores it (packed in the current format)."""
        return sqlite_schema.pack_text(text) if self.shares else text

    def document_state(self, source: str) -> tuple[str, tuple[str, ...]] | None:
        with self.conn() as db:
            row = db.execute(
                "SELECT content_hash, acl FROM docs WHERE source=? AND version IS NOT NULL", (source,)
            ).fetchone()
        return None if row is None else (row[0], tuple(json.loads(row[1])))

    def write_pending(
        self, tree: DocumentTree, content_hash: str, acl: tuple[str, ...], summaries: dict[str, str]
    ) -> None:
        doc = tree.doc
        with self.conn() as db, db:
            db.execute(
                "INSERT INTO docs(doc_id, source, title, media_type, content_hash, acl, version, pending_version, text, updated_at)"
                " VALUES(?,?,?,?,?,?,NULL,?,?,?) ON CONFLICT(doc_id) DO UPDATE SET pending_version=excluded.pending_version",
                (
                    tree.doc_id,
                    doc.source,
                    doc.title,
                    doc.media_type,
                    content_hash,
                    json.dumps(acl),
                    tree.version,
                    self.stored_text(doc.text),
                    time.time(),
                ),
            )
            db.execute("DELETE FROM nodes WHERE doc_id=? AND version=?", (tree.doc_id, tree.version))
            columns = 'node_id, doc_id, version, level, parent_id, section_id, ord, section, start, "end", content_hash, text, summary'
            if self.compact:
                columns += ", spans"
            db.executemany(
                f"INSERT INTO nodes({columns}) VALUES({','.join('?' * len(columns.split(',')))})",
                node_rows(tree, summaries, self.compact),
            )

    def publish(
        self, tree: DocumentTree, content_hash: str, acl: tuple[str, ...], bm25_texts: Sequence[str]
    ) -> str | None:
        """Atomically make the new version the visible one (FTS rows swap in the same transaction)."""
        with self.conn() as db, db:
            row = db.execute("SELECT version FROM docs WHERE doc_id=?", (tree.doc_id,)).fetchone()
            old = row[0] if row else None
            if old and old != tree.version:
                # Before the document's text changes: a compact FTS table reads the old leaves' text
                # (sliced from it) to remove their postings.
                sqlite_bm25.drop_version(db, tree.doc_id, old, self.compact)
            doc = tree.doc
            db.execute(
                "UPDATE docs SET version=?, pending_version=NULL, source=?, title=?, media_type=?, content_hash=?,"
                " acl=?, text=?, updated_at=? WHERE doc_id=?",
                (
                    tree.version,
                    doc.source,
                    doc.title,
                    doc.media_type,
                    content_hash,
                    json.dumps(acl),
                    self.stored_text(doc.text),
                    time.time(),
                    tree.doc_id,
                ),
            )
            if old and old != tree.version:
                db.execute("DELETE FROM nodes WHERE doc_id=? AND version=?", (tree.doc_id, old))
                # The old vectors go after this commit; recorded here so a crash before then cannot orphan them.
                db.execute("INSERT OR IGNORE INTO garbage(doc_id, version) VALUES(?, ?)", (tree.doc_id, old))
            sqlite_bm25.add_version(db, tree, bm25_texts, self.compact, self.file)
        return str(old) if old else None

    def forget_garbage(self, doc_id: str, version: str) -> None:
        with self.conn() as db, db:
            db.execute("DELETE FROM garbage WHERE doc_id=? AND version=?", (doc_id, version))

    def garbage_and_pending(self) -> tuple[list[tuple[str, str]], list[tuple[str, str, str | None]]]:
        with self.conn() as db:
            garbage = db.execute("SELECT doc_id, version FROM garbage").fetchall()
            rows = db.execute(
                "SELECT doc_id, pending_version, version FROM docs WHERE pending_version IS NOT NULL"
            ).fetchall()
        return garbage, rows

    def clear_pending(self, doc_id: str, pending: str, current: str | None) -> None:
        """Forget an unpublished version: its nodes, and the document row if nothing was published."""
        with self.conn() as db, db:
            if pending != current:
                db.execute("DELETE FROM nodes WHERE doc_id=? AND version=?", (doc_id, pending))
            if current is None:
                db.execute("DELETE FROM docs WHERE doc_id=?", (doc_id,))
            else:
                db.execute("UPDATE docs SET pending_version=NULL WHERE doc_id=?", (doc_id,))

    def delete(self, source: str) -> str | None:
        with self.conn() as db:
            row = db.execute("SELECT doc_id FROM docs WHERE source=?", (source,)).fetchone()
            if row is None:
                return None
            doc_id = str(row[0])
            with db:
                version = db.execute("SELECT version FROM docs WHERE doc_id=?", (doc_id,)).fetchone()[0]
                if version is not None:  # only a published version has BM25 rows
                    sqlite_bm25.drop_version(db, doc_id, version, self.compact)
                db.execute("DELETE FROM nodes WHERE doc_id=?", (doc_id,))
                db.execute("DELETE FROM docs WHERE doc_id=?", (doc_id,))
                db.execute("INSERT OR IGNORE INTO garbage(doc_id, version) VALUES(?, '')", (doc_id,))
        return doc_id

    # ----------------------------------------------------------------- reads
    def select_in(self, sql: str, keys: Iterable[str]) -> list[tuple[Any, ...]]:
        """Rows of `sql` for distinct `keys`, bound 500 at a time where `sql` says `IN ({marks})`
        (SQLite caps host parameters per statement)."""
        ids = list(dict.fromkeys(keys))
        rows: list[tuple[Any, ...]] = []
        with self.conn() as db:
            for i in range(0, len(ids), 500):
                chunk = ids[i : i + 500]
                rows += db.execute(sql.format(marks=",".join("?" * len(chunk))), chunk).fetchall()
        return rows

    def sources(self) -> list[str]:
        with self.conn() as db:
            return [r[0] for r in db.execute("SELECT source FROM docs WHERE version IS NOT NULL ORDER BY source")]

    def level_counts(self) -> tuple[int, dict[str, int]]:
        with self.conn() as db:
            docs = db.execute("SELECT COUNT(*) FROM docs WHERE version IS NOT NULL").fetchone()[0]
            levels = dict(
                db.execute(
                    "SELECT n.level, COUNT(*) FROM nodes n JOIN docs d ON d.doc_id=n.doc_id AND d.version=n.version"
                    " GROUP BY n.level"
                ).fetchall()
            )
            if self.compact:
                rebuilt = db.execute(
                    f"SELECT COALESCE(SUM({sqlite_sentences.SPAN_COUNT}), 0) FROM nodes n JOIN docs d"
                    " ON d.doc_id=n.doc_id AND d.version=n.version WHERE n.level='leaf' AND n.spans != ''"
                ).fetchone()[0]
                if rebuilt:
                    levels["sentence"] = levels.get("sentence", 0) + int(rebuilt)
        return int(docs), levels

    def document_stats(self) -> list[dict[str, Any]]:
        with self.conn() as db:
            rows = db.execute(
                "SELECT d.source, d.title, d.acl, n.level, COUNT(*) FROM docs d JOIN nodes n"
                " ON n.doc_id=d.doc_id AND n.version=d.version GROUP BY d.doc_id, n.level ORDER BY d.source"
            ).fetchall()
            if self.compact:
                rows += db.execute(
                    f"SELECT d.source, d.title, d.acl, 'sentence', SUM({sqlite_sentences.SPAN_COUNT}) FROM docs d"
                    " JOIN nodes n ON n.doc_id=d.doc_id AND n.version=d.version"
                    " WHERE n.level='leaf' AND n.spans != '' GROUP BY d.doc_id ORDER BY d.source"
                ).fetchall()
        docs: dict[str, dict[str, Any]] = {}
        for source, title, acl, level, count in rows:
            entry = docs.setdefault(source, {"source": source, "title": title, "acl": json.loads(acl)})
            entry[level] = entry.get(level, 0) + count
        return list(docs.values())

    def get(self, node_ids: Sequence[str], identities: frozenset[str]) -> dict[str, NodeRecord]:
        out: dict[str, NodeRecord] = {}
        rows = self.select_in(
            f"SELECT {NODE_COLUMNS} FROM nodes n JOIN docs d ON d.doc_id=n.doc_id AND d.version=n.version"
            " WHERE n.node_id IN ({marks})",
            node_ids,
        )
        for r in rows:
            acl = parse_acl(r[12])
            if not can_see(acl, identities):
                continue
            text = r[9] or r[13] or ""
            out[r[0]] = NodeRecord(
                r[0], r[1], r[2], r[3], r[4], r[5], json.loads(r[6]), r[7], r[8], text, r[10], r[11], acl
            )
        for nid, (leaf, s) in self._rebuilt(node_ids, {r[0] for r in rows}).items():
            acl = parse_acl(leaf[12])
            if can_see(acl, identities):
                section = json.loads(leaf[6])
                out[nid] = NodeRecord(
                    nid,
                    leaf[1],
                    "sentence",
                    leaf[0],
                    leaf[4],
                    s.ord,
                    section,
                    s.start,
                    s.end,
                    s.text,
                    leaf[10],
                    leaf[11],
                    acl,
                )
        return out

    def _rebuilt(
        self, node_ids: Sequence[str], found: set[str]
    ) -> dict[str, tuple[tuple[Any, ...], sentence_spans.Sentence]]:
        """Sentences kept as offsets, among the ids a query of stored rows did not find."""
        missing = [nid for nid in dict.fromkeys(node_ids) if nid not in found]
        if not self.compact or not missing:
            return {}
        with self.conn() as db:
            return sqlite_sentences.rebuilt(db, missing)

    def full_rows(self, doc_id: str, version: str, sentence_text: bool = False) -> list[tuple[Any, ...]]:
        """One document version's `nodes` rows as they would be stored without spans (sentences
        rebuilt): what `index check` and `hragent migrate` read."""
        with self.conn() as db:
            return sqlite_sentences.full_rows(db, doc_id, version, self.compact, sentence_text)

    def visible(self, node_ids: Sequence[str], identities: frozenset[str]) -> dict[str, str | None]:
        out: dict[str, str | None] = {}
        rows = self.select_in(
            "SELECT n.node_id, n.section_id, d.acl FROM nodes n JOIN docs d"
            " ON d.doc_id=n.doc_id AND d.version=n.version WHERE n.node_id IN ({marks})",
            node_ids,
        )
        for nid, section_id, acl in rows:
            if can_see(parse_acl(acl), identities):
                out[nid] = section_id
        for nid, (leaf, _) in self._rebuilt(node_ids, {r[0] for r in rows}).items():
            if can_see(parse_acl(leaf[12]), identities):
                out[nid] = leaf[4]
        return out

    def leaf_ids_of_docs(self, doc_ids: Sequence[str], identities: frozenset[str]) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        rows = self.select_in(
            "SELECT n.doc_id, n.node_id, d.acl FROM nodes n JOIN docs d ON d.doc_id=n.doc_id AND d.version=n.version"
            " WHERE n.doc_id IN ({marks}) AND n.level='leaf' ORDER BY n.ord",
            doc_ids,
        )
        for doc_id, nid, acl in rows:
            if can_see(parse_acl(acl), identities):
                out.setdefault(doc_id, []).append(nid)
        return {d: out[d] for d in dict.fromkeys(doc_ids) if d in out}

    def child_ids(self, parent_ids: Sequence[str]) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for parent, nid in self.select_in(
            "SELECT parent_id, node_id FROM nodes WHERE parent_id IN ({marks}) ORDER BY ord", parent_ids
        ):
            out.setdefault(parent, []).append(nid)
        if self.compact:
            with self.conn() as db:
                for leaf, sentences in sqlite_sentences.child_ids(db, parent_ids).items():
                    out[leaf] = out.get(leaf, []) + sentences
        return out

    def child_levels(self, parent_ids: Sequence[str]) -> list[tuple[str, str]]:
        with self.conn() as db:
            marks = ",".join("?" * len(parent_ids))
            rows = db.execute(
                f"SELECT node_id, level FROM nodes WHERE parent_id IN ({marks}) ORDER BY ord", list(parent_ids)
            ).fetchall()
            out = [(r[0], r[1]) for r in rows]
            if self.compact:
                for sentences in sqlite_sentences.child_ids(db, parent_ids).values():
                    out += [(nid, "sentence") for nid in sentences]
        return out

    def find_titles(self, titles: Iterable[str], identities: frozenset[str]) -> dict[str, str]:
        wanted = {t.lower(): t for t in titles if t}
        if not wanted:
            return {}
        out: dict[str, str] = {}
        rows = self.select_in(
            "SELECT doc_id, title, acl FROM docs WHERE version IS NOT NULL AND lower(title) IN ({marks})", wanted
        )
        for doc_id, title, acl in rows:
            if can_see(tuple(json.loads(acl)), identities):
                out[wanted[title.lower()]] = doc_id
        return out

    def doc_titles(self) -> list[tuple[str, str]]:
        with self.conn() as db:
            return [(r[0], r[1]) for r in db.execute("SELECT doc_id, title FROM docs WHERE version IS NOT NULL")]

    def document_leaf_ids(self, doc_id: str) -> list[str]:
        with self.conn() as db:
            return [
                r[0]
                for r in db.execute(
                    "SELECT n.node_id FROM nodes n JOIN docs d ON d.doc_id=n.doc_id AND d.version=n.version"
                    " WHERE n.doc_id=? AND n.level='leaf' ORDER BY n.ord",
                    (doc_id,),
                )
            ]

    def summary(self, section_id: str) -> str:
        with self.conn() as db:
            row = db.execute("SELECT summary FROM nodes WHERE node_id=?", (section_id,)).fetchone()
        return str(row[0]) if row and row[0] else ""

    def bm25(self, match: str, fetch: int, common_df: int) -> list[tuple[str, float]]:
        """FTS5's BM25 over every published leaf (visibility is the caller's filter)."""
        with self.conn() as db:
            return sqlite_bm25.search(db, match, fetch, common_df, self.compact)

    def fts_rows(self) -> list[str | None]:
        """The node id of every row the BM25 index holds (None for a row whose node is gone)."""
        with self.conn() as db:
            return sqlite_bm25.indexed_node_ids(db, self.compact)

    def bm25_texts(self, leaf_ids: Sequence[str]) -> dict[str, str]:
        """leaf id -> the text BM25 indexed for it (for `hragent migrate`)."""
        return dict(self.select_in(sqlite_bm25.texts_query(self.compact), leaf_ids))


@functools.lru_cache(maxsize=4096)
def parse_acl(raw: str) -> tuple[str, ...]:
    return tuple(json.loads(raw))
