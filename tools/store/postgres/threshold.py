"""An exact top-k for BM25's all-common fallback without scoring every posting: Fagin's threshold
algorithm over the impact-ordered postings (`postings_impact`).

When every query term is in more than `common_df` leaves, BM25 scores its first three terms in full,
O(their document frequencies): at 100k leaves a fifth of the benchmark's probes, most of the server's
BM25 CPU and the whole p95. Here instead, each term's `depth` best postings by impact are read; every
leaf among them is scored exactly (its posting of each term, by primary key); and a leaf no list has
reached yet scores at most T = Σ idf_t · ĝ_t, ĝ_t the most BM25's tf part can be for a posting whose
impact is at most the last one read from that list (a list read to its end adds nothing). When the k-th
best candidate the caller may see beats T by more than the tie precision, no unread leaf can enter the
top k, so the answer is the exact one: same ids, scores and order as scoring every posting (so it is
when every list was read to its end; like the full query, only the best `k × PRUNE` candidates are
checked for visibility (with every candidate tied with the last of them), and when fewer than k of them
may be seen the caller scores in full). Otherwise
the depth grows ×4 while that stays cheaper than scoring in full; then the caller scores in full.

The impact is BM25's tf part at a reference length of 100 tokens (`bm25.IMPACT`), while scores use
the corpus' own average length `avgdl`; ĝ converts one into a bound on the other. With r = 100 / avgdl
and I = tf / (tf + 0.3 + 0.009 len), the score's tf part is (k1 + 1) / (1 + r (1/I − 1) + 0.3 (1 − r) / tf),
increasing in I; over tf ≥ 1 its largest value for I ≤ v is at tf → ∞ when r ≤ 1 and at tf = 1 when
r > 1, hence ĝ(v) = (k1 + 1) / (1 + r (1/v − 1) + min(0, 0.3 (1 − r))), capped at k1 + 1."""

from __future__ import annotations

from typing import Any

from tools.store.fts import SCORE_DIGITS, rank_ties_by_id

#: First depth read per term, and the factor it grows by.
FIRST_DEPTH, GROWTH = 1000, 4
#: One round at depth d costs about as much as scoring d × terms × PROBE_COST postings in full: the
#: candidates' postings are looked up, not read in order (set from the 100k benchmark's all-common
#: probes, benchmarks/RESULTS.md #19, tenth session; below that sum of dfs the full query is cheaper).
PROBE_COST = 30
#: How far the k-th candidate must beat the bound: below the tie precision, so rounding cannot reorder.
MARGIN = 10.0 ** -(SCORE_DIGITS - 1)

# The candidates are scored from each term's postings of their leaf ids, one sorted `= ANY` scan of the
# primary key per term (`OFFSET 0` keeps the planner from scanning every posting of the terms); only
# the best `cand` (and every candidate within the tie precision of the last of them, so ties still
# come in node-id order) are joined to `docs`.
_THRESHOLD = (
    "WITH q AS MATERIALIZED (SELECT * FROM unnest(%(terms)s::bigint[], %(idf)s::float8[]) WITH ORDINALITY"
    " AS q(term, idf, i)),"
    " r AS MATERIALIZED (SELECT q.i, p.lid, p.imp FROM q CROSS JOIN LATERAL (SELECT lid, {impact} AS imp"
    " FROM postings WHERE term = q.term ORDER BY {impact} DESC LIMIT %(depth)s) p),"
    " lists AS (SELECT i, count(*) AS n, min(imp) AS v FROM r GROUP BY i),"
    " c AS MATERIALIZED (SELECT p.lid, sum(q.idf * p.tf * (%(k1)s + 1) / (p.tf + %(k1)s * (1 - %(b)s + %(b)s * p.len"
    " / %(avgdl)s))) AS score FROM q CROSS JOIN LATERAL (SELECT lid, tf, len FROM postings WHERE term = q.term"
    " AND lid = ANY(ARRAY(SELECT DISTINCT lid FROM r ORDER BY lid)) OFFSET 0) p GROUP BY p.lid),"
    " best AS MATERIALIZED (SELECT lid, score FROM c WHERE score >= (SELECT min(t.score) - %(tie)s"
    " FROM (SELECT score FROM c ORDER BY score DESC LIMIT %(cand)s) t)),"
    " top AS (SELECT l.node_id, best.score FROM best CROSS JOIN LATERAL (SELECT node_id, doc_id, version"
    " FROM leaf_lengths WHERE lid = best.lid OFFSET 0) l JOIN docs d ON d.doc_id = l.doc_id AND d.version = l.version"
    " WHERE {visible}"
    " ORDER BY round(best.score::numeric, %(digits)s) DESC, l.node_id LIMIT %(k)s)"
    " SELECT i, n, v, NULL::text, NULL::float8, (SELECT count(*) FROM c) - (SELECT count(*) FROM best) FROM lists"
    " UNION ALL SELECT NULL, NULL, NULL, node_id, score, NULL FROM top"
)


def statement(impact: str, visible: str) -> str:
    return _THRESHOLD.format(impact=impact, visible=visible)


def tf_bound(v: float, avgdl: float, k1: float) -> float:
    """The most BM25's tf part (k1 = 1.2, b = 0.75) can be for a posting of impact at most `v`."""
    r = 100.0 / avgdl
    denom = 1.0 + r * (1.0 / v - 1.0) + min(0.0, 0.3 * (1.0 - r)) if v > 0 else float("inf")
    return (k1 + 1) / denom if denom > 1.0 else k1 + 1


def top_k(db: Any, sql: str, params: dict[str, Any], df: list[int]) -> list[tuple[str, float]] | None:
    """The exact top-k of `params["terms"]` (their IDFs in `params["idf"]`, document frequencies `df`),
    or None when the bound could not prove it at any depth cheaper than scoring in full."""
    k, idf, avgdl, k1 = int(params["k"]), params["idf"], float(params["avgdl"]), float(params["k1"])
    depth, full_cost = FIRST_DEPTH, sum(df)
    while depth * len(df) * PROBE_COST < full_cost:
        rows = db.execute(sql, params | {"depth": depth, "tie": MARGIN}, prepare=True).fetchall()
        hits = rank_ties_by_id([(r[3], float(r[4])) for r in rows if r[3] is not None])
        unchecked = max((int(r[5]) for r in rows if r[5] is not None), default=0)
        if len(hits) < k and unchecked:
            return None  # the caller may see few of the best candidates (an ACL): score in full
        bound, unread = 0.0, False
        for i, n, v in ((int(r[0]), int(r[1]), float(r[2])) for r in rows if r[0] is not None):
            if n >= depth:  # not read to its end: an unread posting may still add up to this
                bound += idf[i - 1] * tf_bound(v, avgdl, k1)
                unread = True
        if not unread or (len(hits) >= k and hits[k - 1][1] > bound * (1 + 1e-12) + MARGIN):
            return hits[:k]
        depth *= GROWTH
    return None
