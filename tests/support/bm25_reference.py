"""Invented BM25 corpora and a reference BM25 for the PostgreSQL tests: every df counted from the
postings, every matching leaf scored in Python (no pruning, no bound), the store's term choice and tie
order. Test support, not a test."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from tools.store.fts import SCORE_DIGITS, query_terms
from tools.store.postgres.bm25 import K1, B
from tools.store.postgres.postings import term_key

WORDS = ["alder", "birch", "cedar", "damson", "elder", "fir", "ginkgo", "hazel"]


def page(i: int, round_: int = 0) -> str:
    """Invented page `i`: word j appears when (i + round_) % (j + 1) == 0, some words twice."""
    words = [w for j, w in enumerate(WORDS) if (i + round_) % (j + 1) == 0]
    twice = " ".join(words[: (i % 3)])
    return f"# Stand {i}\n\nThe stand holds {' and '.join(words)} trees. {twice}\n"


def write_pages(folder: Path, ids: range, round_: int = 0) -> list[Path]:
    folder.mkdir(exist_ok=True)
    paths = []
    for i in ids:
        path = folder / f"s{i:02d}.md"
        path.write_text(page(i, round_), encoding="utf-8")
        paths.append(path)
    return paths


def counted_df(db: Any) -> dict[int, int]:
    return {int(t): int(n) for t, n in db.execute("SELECT term, count(*) FROM postings GROUP BY term")}


def kept_df(db: Any) -> dict[int, int]:
    rows = db.execute(
        "SELECT term, sum(df) FROM (SELECT term, df FROM bm25_df UNION ALL SELECT term, df FROM bm25_df_delta) u"
        " GROUP BY term HAVING sum(df) <> 0"
    )
    return {int(t): int(n) for t, n in rows}


def counting_bm25(db: Any, match: str, k: int, ids: frozenset[str], common_df: int) -> list[tuple[str, float]]:
    """The reference: every df counted from the postings, corpus totals from `leaf_lengths`, every
    matching leaf scored (no pruning), the same term choice and tie order as the store's query."""
    keys = [term_key(t) for t in query_terms(match)]
    df = {t: 0 for t in keys} | {
        int(t): int(n)
        for t, n in db.execute("SELECT term, count(*) FROM postings WHERE term = ANY(%s) GROUP BY term", (keys,))
    }
    n, tokens = db.execute("SELECT count(*), coalesce(sum(len), 0) FROM leaf_lengths").fetchone()
    kept = [t for t in keys if 0 < df[t] <= common_df] if len(keys) > 1 else [t for t in keys if df[t]]
    kept = kept or [t for t in keys if df[t]][:3]
    if not kept or not n:
        return []
    avgdl = tokens / n
    scores: dict[str, float] = {}
    for term in kept:
        idf = max(math.log((n - df[term] + 0.5) / (df[term] + 0.5)), 1e-6)
        for node_id, tf, length, acl in db.execute(
            "SELECT l.node_id, p.tf, p.len, d.acl FROM postings p JOIN leaf_lengths l ON l.lid = p.lid"
            " JOIN docs d ON d.doc_id = l.doc_id AND d.version = l.version WHERE p.term = %s",
            (term,),
        ):
            if not acl or set(acl) & ids:
                part = idf * tf * (K1 + 1) / (tf + K1 * (1 - B + B * length / avgdl))
                scores[node_id] = scores.get(node_id, 0.0) + part
    return sorted(scores.items(), key=lambda r: (-round(r[1], SCORE_DIGITS), r[0]))[:k]
