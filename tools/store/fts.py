"""BM25 query text and tokens shared by both backends: the FTS5 OR-query of a question's content words,
and FTS5's own tokenizer (`porter unicode61`, run in an in-memory SQLite) so the PostgreSQL postings hold
exactly the terms FTS5 would index and both backends score the same words."""

from __future__ import annotations

import re
import sqlite3
import threading
from collections import Counter
from collections.abc import Sequence

TOKENIZER = "porter unicode61"

_STOPWORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "of",
        "in",
        "on",
        "at",
        "to",
        "for",
        "from",
        "by",
        "with",
        "and",
        "or",
        "but",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "being",
        "as",
        "that",
        "this",
        "these",
        "those",
        "it",
        "its",
        "which",
        "who",
        "whom",
        "whose",
        "what",
        "when",
        "where",
        "why",
        "how",
        "do",
        "does",
        "did",
        "has",
        "have",
        "had",
        "not",
        "no",
        "yes",
        "than",
        "then",
        "there",
        "their",
        "they",
        "them",
        "he",
        "she",
        "his",
        "her",
        "i",
        "you",
        "your",
        "we",
        "our",
        "us",
        "me",
        "my",
        "into",
        "about",
        "over",
        "under",
        "also",
        "both",
        "either",
    ]
)
_FTS_TOKEN = re.compile(r"\w+", re.UNICODE)
_local = threading.local()


def fts_query(text: str) -> str:
    """A safe FTS5 OR-query of the content words of `text` (quotes neutralise FTS syntax)."""
    words = [w.lower() for w in _FTS_TOKEN.findall(text)]
    terms = list(dict.fromkeys(w for w in words if w not in _STOPWORDS and len(w) > 1))
    return " OR ".join(f'"{t}"' for t in terms[:32])


SCORE_DIGITS = 9  # BM25 scores equal to this many decimals are ties (both backends agree to ~1e-15)


def rank_ties_by_id(rows: Sequence[tuple[str, float]]) -> list[tuple[str, float]]:
    """Best score first, equal scores in node-id order: both backends order ties the same way, so
    a tie at the cut-off of a top-k list puts the same leaves above it (FTS5's own order of ties and
    PostgreSQL's differ, and 1e-15 summation noise would otherwise decide between equal scores)."""
    return sorted(rows, key=lambda r: (-round(r[1], SCORE_DIGITS), r[0]))


def query_terms(match: str) -> list[str]:
    """The indexed terms of an `fts_query` string, one per quoted word and in order. Duplicates stay:
    FTS5 scores each phrase, so "editions" and "edition" (one stem) count twice there too. A word FTS5
    splits into several tokens ("foo_bar") counts as each token, where FTS5 would demand the phrase."""
    words = [w.strip('"') for w in match.split(" OR ") if w.strip('"')]
    out: list[str] = []
    for counts in term_counts(words):
        out += list(counts)
    return out


def term_counts(texts: Sequence[str]) -> list[Counter[str]]:
    """Per text, its FTS5 terms and their frequencies; the token count of a text is the sum."""
    db = _tokenizer_db()
    with db:
        db.executemany("INSERT INTO tok(rowid, x) VALUES(?, ?)", [(i + 1, t) for i, t in enumerate(texts)])
        rows = db.execute("SELECT doc, term, count(*) FROM tok_vocab GROUP BY doc, term").fetchall()
        db.execute("DELETE FROM tok")
    out: list[Counter[str]] = [Counter() for _ in texts]
    for doc, term, n in rows:
        out[int(doc) - 1][str(term)] = int(n)
    return out


def _tokenizer_db() -> sqlite3.Connection:
    db: sqlite3.Connection | None = getattr(_local, "db", None)
    if db is None:
        db = sqlite3.connect(":memory:", check_same_thread=False)
        db.execute(f"CREATE VIRTUAL TABLE tok USING fts5(x, tokenize='{TOKENIZER}')")
        db.execute("CREATE VIRTUAL TABLE tok_vocab USING fts5vocab(tok, 'instance')")
        _local.db = db
    return db
