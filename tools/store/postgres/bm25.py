"""Okapi BM25 on PostgreSQL, scored as FTS5 scores it (k1=1.2, b=0.75, IDF floored at 1e-6).

The common case (several query terms, no section filter) is one prepared statement, `FUSED`: corpus
statistics, document frequencies (read from the df the writers keep, `doc_freq`; a term in more than
`common_df` leaves is common and left out) and the pruned scores in one round trip, the same plan as the two statements below otherwise. When that finds no kept term, or too few of the best leaves
may be seen, or for one-term and section-filtered queries, the general path runs, in two prepared
statements:

1. corpus size and token total (sum of the `bm25_stats` deltas) and, per query term, its document
   frequency (two index probes, `doc_freq.df_of`; terms in more than `common_df` leaves are left out,
   as the embedded backend leaves them out; when every term is that common, the first three in query
   order are scored, as FTS5's side picks them);
2. the scores, from the postings' covering index alone (tf and leaf length live in the index), then
   top-k pruning: only the best `k × PRUNE` leaves are joined to `docs` for the version and ACL check;
   when fewer than k of them may be seen, the query runs again over every match (exact either way,
   up to the order of tied scores).

Postings only ever exist for the published version of a document (`publish` swaps them in the same
transaction as the version), so scoring needs no version join; the final join still checks it.

**A bound per term** (`per_term` > 0, `HRAGENT_PG_BM25_POSTINGS`): each kept term contributes at most
its `per_term` highest-impact postings, read in impact order from `postings_impact` (an index on
(term, tf part at a reference length)), instead of all of them. A term in at most `per_term` leaves
is read in full, so an index whose kept terms are all that rare — every small index, and the recall
parity check — scores exactly as FTS5 does. A leaf outside a term's top `per_term` loses that term's
share of its score (never gains), so only the tail of a ranking can change; when the bounded read
finds fewer than k leaves the caller may see, the query is scored over every posting (an ACL must not
cost a caller results). Section-filtered queries stay exact (their leaves need not be in a term's top). What it costs and saves: benchmarks/RESULTS.md
(#19, ninth session).

**A threshold top-k for all-common queries** (`threshold` = True, `HRAGENT_PG_BM25_IMPACT=1`): exact,
from the same impact index, when it can prove the answer cheaply; otherwise scored in full
(`threshold.py`; benchmarks/RESULTS.md, #19, tenth session)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from tools.store.fts import SCORE_DIGITS, query_terms
from tools.store.postgres.doc_freq import df_of
from tools.store.postgres.postings import term_key
from tools.store.postgres.threshold import statement, top_k

K1, B = 1.2, 0.75
PRUNE = 4
VISIBLE = "(d.acl = '{}' OR d.acl && %(ids)s::text[])"

PROBE = (
    "SELECT (SELECT coalesce(sum(leaves), 0) FROM bm25_stats), (SELECT coalesce(sum(tokens), 0) FROM bm25_stats),"
    " q.term, " + df_of("q.term") + " FROM unnest(%s::bigint[]) AS q(term)"
)
# The order a bounded query reads a term's postings in: BM25's tf part (k1 = 1.2, b = 0.75) at a fixed
# reference length of 100 tokens, the expression of the `postings_impact` index (so it must stay
# literal). For one tf it is the order of leaf length whatever the reference; the reference only sets
# how tf trades against length. Scores are still computed with the corpus' own average length.
IMPACT = "(tf::float8 / (tf + 0.3::float8 + 0.009::float8 * len))"
IMPACT_INDEX = f"CREATE INDEX IF NOT EXISTS postings_impact ON postings (term, {IMPACT} DESC) INCLUDE (lid, tf, len)"
# One term's postings joined to the query's terms `q`: all of them, or the `per_term` best by IMPACT.
ALL_POSTINGS = "JOIN postings p ON p.term = q.term"
TOP_POSTINGS = (
    f"CROSS JOIN LATERAL (SELECT lid, tf, len FROM postings WHERE term = q.term ORDER BY {IMPACT} DESC"
    " LIMIT %(per_term)s) p"
)
SCORES = (
    "SELECT p.lid, sum(q.idf * p.tf * (%(k1)s + 1) / (p.tf + %(k1)s * (1 - %(b)s + %(b)s * p.len / %(avgdl)s)))"
    " AS score FROM unnest(%(terms)s::bigint[], %(idf)s::float8[]) AS q(term, idf)"
    " {postings} {where} GROUP BY p.lid"
)
TOP = (
    "WITH s AS MATERIALIZED ({scores} ORDER BY score DESC {limit})"
    " SELECT l.node_id, s.score FROM s JOIN leaf_lengths l ON l.lid = s.lid"
    " JOIN docs d ON d.doc_id = l.doc_id AND d.version = l.version"
    " WHERE " + VISIBLE.replace("{}", "{{}}") + " ORDER BY round(s.score::numeric, %(digits)s) DESC, l.node_id"
    " LIMIT %(k)s"
)
IN_SECTIONS = "WHERE p.lid IN (SELECT lid FROM leaf_lengths WHERE section_id = ANY(%(secs)s))"
# The same arithmetic as SCORES and the IDF of `general` (the same float8 operations in the same order,
# so the same scores); `info` says how many terms were kept and how many postings they have, for the
# fallbacks (and the largest df, to tell whether a bound left postings unread). The top rows come back
# LEFT JOINed to `info`, so an empty result still reports it.
_FUSED = (
    "WITH st AS (SELECT coalesce(sum(leaves), 0)::float8 AS n, coalesce(sum(tokens), 0)::float8 AS tok"
    " FROM bm25_stats),"
    " q AS MATERIALIZED (SELECT u.term, " + df_of("u.term") + " AS df FROM unnest(%(terms)s::bigint[]) AS u(term)),"
    " kept AS MATERIALIZED (SELECT q.term, q.df, greatest(ln((st.n - q.df + 0.5::float8) / (q.df + 0.5::float8)), 1e-6::float8) AS idf,"
    " st.tok / st.n AS avgdl FROM q, st WHERE q.df BETWEEN 1 AND %(cdf)s AND st.n > 0),"
    " info AS (SELECT count(*) AS terms, coalesce(sum(df), 0) AS postings, coalesce(max(df), 0) AS top_df FROM kept),"
    " s AS MATERIALIZED (SELECT p.lid, sum(q.idf * p.tf * (%(k1)s + 1) / (p.tf + %(k1)s * (1 - %(b)s + %(b)s * p.len"
    " / q.avgdl))) AS score FROM kept q {postings} GROUP BY p.lid ORDER BY score DESC"
    " LIMIT %(cand)s),"
    " top AS (SELECT l.node_id, s.score FROM s JOIN leaf_lengths l ON l.lid = s.lid"
    " JOIN docs d ON d.doc_id = l.doc_id AND d.version = l.version WHERE " + VISIBLE.replace("{}", "{{}}") + ""
    " ORDER BY round(s.score::numeric, %(digits)s) DESC, l.node_id LIMIT %(k)s)"
    " SELECT info.terms, info.postings, info.top_df, top.node_id, top.score FROM info LEFT JOIN top ON true"
    " ORDER BY round(top.score::numeric, %(digits)s) DESC, top.node_id"
)
FUSED = _FUSED.format(postings=ALL_POSTINGS)
FUSED_BOUNDED = _FUSED.format(postings=TOP_POSTINGS)
THRESHOLD = statement(IMPACT, VISIBLE)


def bm25_search(
    db: Any,
    match: str,
    k: int,
    identities: frozenset[str],
    section_ids: Sequence[str] | None,
    common_df: int,
    per_term: int = 0,
    threshold: bool = False,
) -> list[tuple[str, float]]:
    """Top-k (node_id, score); `per_term` > 0 reads at most that many postings per term, `threshold`
    finds an all-common query's exact top-k by the threshold algorithm (see above; the caller passes
    either only when the index has `postings_impact`)."""
    terms = query_terms(match)
    if not terms:
        return []
    keys = [term_key(t) for t in terms]
    if len(keys) > 1 and section_ids is None:
        params = {"terms": keys, "cdf": common_df, "k1": K1, "b": B, "cand": k * PRUNE}
        params |= {"ids": sorted(identities), "digits": SCORE_DIGITS, "k": k, "per_term": per_term}
        rows = db.execute(FUSED_BOUNDED if per_term else FUSED, params, prepare=True).fetchall()
        kept_terms, postings, top_df = int(rows[0][0]), int(rows[0][1]), int(rows[0][2])
        hits = [(r[3], float(r[4])) for r in rows if r[3] is not None]
        # Fewer than k hits are the answer only when every posting was among the candidates (none
        # left unread by the bound either).
        read_all = postings <= k * PRUNE and not (per_term and top_df > per_term)
        if kept_terms and (len(hits) >= k or read_all):
            return hits
    return general(db, keys, k, identities, section_ids, common_df, per_term, threshold)


def general(
    db: Any,
    keys: list[int],
    k: int,
    identities: frozenset[str],
    section_ids: Sequence[str] | None,
    common_df: int,
    per_term: int = 0,
    threshold: bool = False,
) -> list[tuple[str, float]]:
    """Every case: statistics and document frequencies first, then the scores (pruned, or in full)."""
    probe = db.execute(PROBE, (keys,), prepare=True).fetchall()
    df = {int(r[2]): int(r[3]) for r in probe}
    corpus = (int(probe[0][0]), int(probe[0][1]))
    return scored(db, keys, df, corpus, k, identities, section_ids, common_df, per_term, threshold)


def scored(
    db: Any,
    keys: list[int],
    df: dict[int, int],
    corpus: tuple[int, int],
    k: int,
    identities: frozenset[str],
    section_ids: Sequence[str] | None,
    common_df: int,
    per_term: int = 0,
    threshold: bool = False,
) -> list[tuple[str, float]]:
    """The top-k given every query term's df and the corpus' (leaves, tokens): which terms are scored,
    their IDF, and the scores (pruned, or in full)."""
    n_rows, tokens = corpus
    kept = [t for t in keys if 0 < df[t] <= common_df] if len(keys) > 1 else [t for t in keys if df[t]]
    all_common = not kept
    if all_common:  # the first three, as FTS5's side keeps them (its probe cannot rank them)
        kept = [t for t in keys if df[t]][:3]
    if not kept or not n_rows:
        return []
    params = {
        "k1": K1,
        "b": B,
        "avgdl": tokens / n_rows,
        "terms": kept,
        "idf": [max(math.log((n_rows - df[t] + 0.5) / (df[t] + 0.5)), 1e-6) for t in kept],
        "ids": sorted(identities),
        "secs": list(section_ids or []),
        "k": k,
        "digits": SCORE_DIGITS,  # ties in node-id order, as the embedded backend orders them
        "cand": k * PRUNE,
        "per_term": per_term,
    }
    if section_ids is not None:
        query = TOP.format(scores=SCORES.format(postings=ALL_POSTINGS, where=IN_SECTIONS), limit="")
        return [(r[0], float(r[1])) for r in db.execute(query, params, prepare=True).fetchall()]
    if all_common and threshold and not per_term:
        hits = top_k(db, THRESHOLD, params, [df[t] for t in kept])
        if hits is not None:
            return hits
    scores = SCORES.format(postings=TOP_POSTINGS if per_term else ALL_POSTINGS, where="")
    rows = db.execute(TOP.format(scores=scores, limit="LIMIT %(cand)s"), params, prepare=True).fetchall()
    if len(rows) < k and sum(df[t] for t in kept) > k * PRUNE:  # too few of the best may be seen: score all
        rows = db.execute(TOP.format(scores=scores, limit=""), params, prepare=True).fetchall()
    if len(rows) < k and per_term and any(df[t] > per_term for t in kept):
        # The bounded read saw too few leaves this caller may see (an ACL hides most of a term's best
        # postings): every posting then, so a filtered search still returns k rows when k exist.
        exact = SCORES.format(postings=ALL_POSTINGS, where="")
        rows = db.execute(TOP.format(scores=exact, limit=""), params, prepare=True).fetchall()
    return [(r[0], float(r[1])) for r in rows]
