"""Embed each text once: a ledger of which stored vector already holds the embedding of a text.

Identical leaves across documents and versions, and the unchanged sections of an edited document,
would otherwise go through the encoder again on every ingest. The ledger maps a hash of the exact
text the encoder read to one node whose vector (at a given level) is that text's embedding; the
vector itself stays where it is (Chroma), so the ledger costs ~100 bytes a text, not a second copy.

A row may outlive its node (the version was replaced or deleted): the vector is then simply not
found, the text is embedded again, and the row is overwritten. Rows are rewritten to the newest
nodes on every ingest, so they follow the live versions.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterable, Sequence

_TABLE = """
CREATE TABLE IF NOT EXISTS embedded_text (
  text_hash TEXT PRIMARY KEY, level TEXT NOT NULL, node_id TEXT NOT NULL
)
"""


def text_hash(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


def ensure_table(db: sqlite3.Connection) -> None:
    db.execute(_TABLE)


def lookup(db: sqlite3.Connection, hashes: Sequence[str]) -> dict[str, tuple[str, str]]:
    """text_hash -> (level, node_id) for the hashes the ledger knows."""
    ensure_table(db)
    out: dict[str, tuple[str, str]] = {}
    keys = list(dict.fromkeys(hashes))
    for i in range(0, len(keys), 500):
        chunk = keys[i : i + 500]
        marks = ",".join("?" * len(chunk))
        for h, level, nid in db.execute(
            f"SELECT text_hash, level, node_id FROM embedded_text WHERE text_hash IN ({marks})", chunk
        ):
            out[h] = (level, nid)
    return out


def remember(db: sqlite3.Connection, rows: Iterable[tuple[str, str, str]]) -> None:
    """Record (text, level, node_id): the node's vector at `level` is the embedding of `text`."""
    ensure_table(db)
    with db:
        db.executemany(
            "INSERT OR REPLACE INTO embedded_text(text_hash, level, node_id) VALUES(?,?,?)",
            [(text_hash(text), level, nid) for text, level, nid in rows if text],
        )
