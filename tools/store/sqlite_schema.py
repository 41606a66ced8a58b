"""The embedded tree's two on-disk formats and the `nodes` rows written into them.

**Compact** (trees created since #20, manifest schema 3): a leaf's sentences are offsets in the leaf's
row (`spans`, `tools.store.sentence_spans`), no row keeps text that is a slice of its document's (leaves
included), and the BM25 table `leaf_fts` is an FTS5 *external-content* table over the view
`leaf_bm25`, so it holds postings only, not a second copy of every leaf with its heading path. Rows
get an `INTEGER PRIMARY KEY` (`row`), which is what FTS5 keys on: unlike an implicit rowid it survives
`VACUUM`. Disk per leaf on 600 invented pages: 14.15 KB before, see RESULTS.md (#20).

**Legacy** (trees written before): sentence rows, leaf text stored, FTS5 with its own content. Such a
tree keeps that format when written to, so the hragent that made it can still open it; every read
here takes either form (a row with empty text is sliced from the document).
"""

from __future__ import annotations

import functools
import json
import sqlite3
import zlib
from typing import Any

from tools.ingest.tree import DocumentTree, Node
from tools.store import sentence_spans

_DOCS_AND_GARBAGE = """
CREATE TABLE IF NOT EXISTS docs (
  doc_id TEXT PRIMARY KEY, source TEXT UNIQUE NOT NULL, title TEXT NOT NULL, media_type TEXT NOT NULL,
  content_hash TEXT NOT NULL, acl TEXT NOT NULL, version TEXT, pending_version TEXT,
  text TEXT NOT NULL, updated_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS garbage (doc_id TEXT NOT NULL, version TEXT NOT NULL, PRIMARY KEY (doc_id, version));
"""

LEGACY_SCHEMA = (
    _DOCS_AND_GARBAGE
    + """
CREATE TABLE IF NOT EXISTS nodes (
  node_id TEXT PRIMARY KEY, doc_id TEXT NOT NULL, version TEXT NOT NULL, level TEXT NOT NULL,
  parent_id TEXT, section_id TEXT, ord INTEGER NOT NULL, section TEXT NOT NULL,
  start INTEGER NOT NULL, "end" INTEGER NOT NULL, content_hash TEXT NOT NULL, text TEXT NOT NULL,
  summary TEXT
);
CREATE INDEX IF NOT EXISTS nodes_doc ON nodes(doc_id, version);
CREATE INDEX IF NOT EXISTS nodes_parent ON nodes(parent_id);
CREATE VIRTUAL TABLE IF NOT EXISTS leaf_fts USING fts5(text, node_id UNINDEXED, tokenize='porter unicode61');
"""
)

# A leaf's text, sliced from its document when the row keeps none (`doc_text`: the document's text
# may be stored compressed).
LEAF_TEXT = "CASE WHEN n.text = '' THEN substr(doc_text(d.text), n.start + 1, n.\"end\" - n.start) ELSE n.text END"

# What BM25 indexes for a leaf: `tools.ingest.tree.with_heading_path(section, text)`, in SQL.
_BM25_TEXT = (
    f"CASE WHEN n.section = '[]' THEN {LEAF_TEXT} ELSE"
    f" (SELECT group_concat(j.value, ' > ') FROM json_each(n.section) j) || '. ' || {LEAF_TEXT} END"
)

COMPACT_SCHEMA = (
    _DOCS_AND_GARBAGE
    + f"""
CREATE TABLE IF NOT EXISTS nodes (
  row INTEGER PRIMARY KEY, node_id TEXT NOT NULL UNIQUE, doc_id TEXT NOT NULL, version TEXT NOT NULL,
  level TEXT NOT NULL, parent_id TEXT, section_id TEXT, ord INTEGER NOT NULL, section TEXT NOT NULL,
  start INTEGER NOT NULL, "end" INTEGER NOT NULL, content_hash TEXT NOT NULL, text TEXT NOT NULL,
  summary TEXT, spans TEXT, shared INTEGER
);
CREATE INDEX IF NOT EXISTS nodes_doc ON nodes(doc_id, version, ord);
CREATE INDEX IF NOT EXISTS nodes_parent ON nodes(parent_id);
CREATE VIEW IF NOT EXISTS leaf_bm25 AS SELECT n.row AS row, {_BM25_TEXT} AS text, n.node_id AS node_id
  FROM nodes n JOIN docs d ON d.doc_id = n.doc_id WHERE n.level = 'leaf';
CREATE VIRTUAL TABLE IF NOT EXISTS leaf_fts USING fts5(
  text, node_id UNINDEXED, content='leaf_bm25', content_rowid='row', tokenize='porter unicode61'
);
"""
)


def pack_text(text: str) -> bytes:
    """A document's text as a tree in the current format stores it: zlib (a third of the bytes on
    manual pages; the documents' text was 1.0 KB of the 8.5 KB per leaf, #20)."""
    return zlib.compress(text.encode("utf-8"), 6)


def doc_text(stored: str | bytes) -> str:
    """`docs.text` as text, whether stored plain (trees before #20's last cut) or packed. Registered
    as the SQL function `doc_text` on every connection, so slicing stays in SQL."""
    return _unpack(stored) if isinstance(stored, bytes) else stored


@functools.lru_cache(maxsize=64)
def _unpack(blob: bytes) -> str:
    # Cached: a query slices several leaves of one document, each row calling this with the same blob.
    return zlib.decompress(blob).decode("utf-8")


def register(db: sqlite3.Connection) -> None:
    """The SQL functions every statement on a tree may use (the BM25 view calls `doc_text`)."""
    db.create_function("doc_text", 1, doc_text, deterministic=True)


def create(db: sqlite3.Connection) -> tuple[bool, bool]:
    """Create a missing tree in the compact format, or open an existing one in its own; returns
    (compact, shares): whether sentences are offsets, and whether the tree is in the current format:
    a one-leaf section may share its leaf's vector (`nodes.shared`: the leaf's `ord`) and documents'
    text is packed (`pack_text`), #20; compact trees made before have no such column, keep every
    section vector and plain text."""
    exists = db.execute("SELECT 1 FROM sqlite_master WHERE name='nodes'").fetchone() is not None
    if not exists:
        db.executescript(COMPACT_SCHEMA)
        return True, True
    columns = {r[1] for r in db.execute("PRAGMA table_info(nodes)")}
    db.executescript(COMPACT_SCHEMA if "spans" in columns else LEGACY_SCHEMA)
    return "spans" in columns, "shared" in columns


# Levels whose rows keep no text of their own: their offsets point into the document's text, which
# the reads slice. In a legacy tree leaves keep theirs (BM25 and older readers read it directly);
# chunk and sentence text would be a second and third copy of every leaf (#20: disk per leaf).
_SLICED_LEVELS = frozenset({"document", "section", "chunk", "sentence"})


def _stored_text(tree: DocumentTree, node: Node, compact: bool) -> str:
    if node.level in ("document", "section"):
        return ""
    if (node.level in _SLICED_LEVELS or compact) and tree.doc.text[node.start : node.end] == node.text:
        return ""
    return node.text


def node_rows(tree: DocumentTree, summaries: dict[str, str], spans: bool = False) -> list[tuple[Any, ...]]:
    """The `nodes` rows of a tree; document, section, chunk and sentence rows keep no text when their
    offsets give it back from the document's text. With `spans` (a compact tree), leaves keep none
    either and each row ends with the leaf's sentence offsets; sentences rebuilt from them get no row."""
    sentences: dict[str, list[Node]] = {}
    for n in tree.nodes:
        if n.level == "sentence" and n.parent_id:
            sentences.setdefault(n.parent_id, []).append(n)
    encoded: dict[str, str] = {}
    if spans:
        for leaf in tree.by_level("leaf"):
            code = sentence_spans.encode(tree, leaf, sentences.get(leaf.node_id, []))
            if code is not None:
                encoded[leaf.node_id] = code
    rows: list[tuple[Any, ...]] = []
    for n in tree.nodes:
        if n.level == "sentence" and n.parent_id in encoded:
            continue
        row: tuple[Any, ...] = (
            n.node_id,
            n.doc_id,
            tree.version,
            n.level,
            n.parent_id,
            n.section_id or None,
            n.ord,
            json.dumps(n.section),
            n.start,
            n.end,
            n.content_hash,
            _stored_text(tree, n, spans),
            summaries.get(n.node_id),
        )
        rows.append((*row, encoded.get(n.node_id)) if spans else row)
    return rows
