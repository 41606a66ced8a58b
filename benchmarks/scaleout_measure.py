"""What `benchmarks.scaleout` measures on one index: store writes with N writer processes (timed from
the moment every writer has opened the index, so process start-up and imports are not counted), query
latency with concurrent clients from 2 processes (query embedding excluded), one client alone, disk and
memory, and BM25/dense parity between two indexes."""

from __future__ import annotations

import itertools
import multiprocessing as mp
import os
import random
import shutil
import statistics
import threading
import time
from pathlib import Path
from typing import Any

from tools.embeddings import HashingEmbedder
from tools.index import HierarchicalIndex
from tools.ingest.pipeline import ingest_paths
from tools.store.open import open_store

DIM = 384
BATCH = 50


def make_corpus(root: Path, n: int, seed: int = 19) -> list[Path]:
    """`n` invented one-paragraph documents of seeded pseudo-words (Zipf-like frequencies)."""
    rng = random.Random(seed)
    syllables = ["ka", "lo", "mi", "ter", "vun", "sa", "dre", "po", "qui", "zel", "ran", "tho", "bex", "nor"]
    vocab = ["".join(rng.choice(syllables) for _ in range(rng.randint(2, 4))) for _ in range(20000)]
    # Zipf-like, as in real text; cumulative once (`choices` with plain weights re-adds all 20,000 per call)
    cum = list(itertools.accumulate(1.0 / (i + 1) for i in range(len(vocab))))
    root.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        text = f"# Note {i}\n\n{' '.join(rng.choices(vocab, cum_weights=cum, k=45)).capitalize()}.\n"
        path = root / f"d{i:07d}.md"
        if not path.exists() or path.read_text(encoding="utf-8") != text:  # a kept corpus (--keep) is reused
            path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths


def open_index(backend: str, dsn: str | None, schema: str, index_dir: Path) -> HierarchicalIndex:
    return HierarchicalIndex(index_dir, HashingEmbedder(DIM), store=open_store(backend, dsn, schema))


def _ingest_worker(backend: str, dsn: str | None, schema: str, index_dir: str, files: list[str], start: Any) -> None:
    index = open_index(backend, dsn, schema, Path(index_dir))
    start.wait()
    for i in range(0, len(files), BATCH):
        ingest_paths(index, files[i : i + BATCH])
    index.close()


def ingest(backend: str, dsn: str | None, schema: str, index_dir: Path, files: list[Path], workers: int) -> float:
    """Seconds for `workers` processes to ingest disjoint shards of `files`, from the moment all of them
    have opened the index (so what is timed is the writing, not Python's start-up)."""
    if not files:
        return 0.0
    open_index(backend, dsn, schema, index_dir).close()  # create it, so workers race on documents only
    shards = [[str(f) for f in files[w::workers]] for w in range(workers)]
    ctx = mp.get_context("spawn")
    start = ctx.Barrier(workers + 1)
    args = (backend, dsn, schema, str(index_dir))
    procs = [ctx.Process(target=_ingest_worker, args=(*args, s, start)) for s in shards]
    for p in procs:
        p.start()
    start.wait(timeout=600)
    t0 = time.perf_counter()
    for p in procs:
        p.join()
    elapsed = time.perf_counter() - t0
    if any(p.exitcode for p in procs):
        raise RuntimeError(f"an ingest worker failed on {backend}")
    return elapsed


def _timed_queries(index: HierarchicalIndex, texts: list[str], vectors: Any, threads: int) -> dict[str, list[float]]:
    none: frozenset[str] = frozenset()
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
    return times


def _query_worker(
    backend: str, dsn: str | None, schema: str, index_dir: str, texts: list[str], threads: int, out: Any
) -> None:
    vectors = HashingEmbedder(DIM).embed(texts)
    before = rss_kb()
    index = open_index(backend, dsn, schema, Path(index_dir))
    _timed_queries(index, texts[:5], vectors[:5], 1)  # warm connections and caches
    grown = rss_kb() - before
    t0 = time.perf_counter()
    times = _timed_queries(index, texts, vectors, threads)
    out.put(times | {"rss_kb": [float(grown)], "wall_s": [time.perf_counter() - t0]})
    index.close()


def percentiles(ms: list[float], prefix: str) -> dict[str, float]:
    ms = sorted(ms)
    return {f"{prefix}_p50_ms": statistics.median(ms), f"{prefix}_p95_ms": ms[int(0.95 * (len(ms) - 1))]}


def query_latency(
    backend: str, dsn: str | None, schema: str, index_dir: Path, texts: list[str], clients: int
) -> dict[str, float]:
    """p50/p95 of BM25 and dense top-10 with `clients` threads over 2 processes, then with one client
    alone (the same queries, in this process: the cost of a query without queueing behind the others)."""
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    halves = [texts[0::2], texts[1::2]]
    procs = [
        ctx.Process(target=_query_worker, args=(backend, dsn, schema, str(index_dir), h, max(1, clients // 2), queue))
        for h in halves
    ]
    for p in procs:
        p.start()
    results = [queue.get(timeout=1800) for _ in procs]
    for p in procs:
        p.join()
    out: dict[str, float] = {}
    for op in ("bm25", "dense"):
        out |= percentiles([x for r in results for x in r[op]], op)
    out["client_rss_kb"] = max(r["rss_kb"][0] for r in results)
    # Throughput of the concurrent phase (a BM25 and a dense query per step of a client): with every
    # client always busy, p50 is about clients / qps (Little's law), so this says how much is queueing.
    steps = sum(len(r["bm25"]) for r in results)
    out["qps"] = 2 * steps / max(r["wall_s"][0] for r in results)
    index = open_index(backend, dsn, schema, index_dir)
    alone_texts = texts[:100]
    alone = _timed_queries(index, alone_texts, HashingEmbedder(DIM).embed(alone_texts), 1)
    index.close()
    for op in ("bm25", "dense"):
        out[f"{op}_alone_p50_ms"] = statistics.median(alone[op])
    return out


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


def drop(backend: str, dsn: str | None, schema: str, index_dir: Path) -> None:
    """Free the disk of an index that is no longer needed."""
    if backend == "embedded":
        shutil.rmtree(index_dir, ignore_errors=True)
        return
    from tools.store.postgres import PostgresStore

    PostgresStore(str(dsn), schema).drop_schema()


def load_average() -> float:
    return os.getloadavg()[0]
