"""Synthetic scale run: retrieval latency (query embedding excluded) and memory at 10k / 100k leaves.

    python -m benchmarks.scale [--sizes 10000,100000] [--queries 100]

Embedding 100k texts with MiniLM on 2 CPU cores takes hours, so this run uses the hashing embedder
(384 dimensions, like MiniLM): the vectors are meaningless for recall, but the index holds the same
number and shape of vectors, the same tree, and the same BM25 table, which is what latency and memory
depend on. The corpus is the pooled HotpotQA paragraphs + the 6,119 wiki distractors, topped up with
synthetic paragraphs (sentences of pool paragraphs recombined) to the requested size, one leaf each.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from agent import Agent, Settings
from benchmarks.hotpot import CACHE, load_questions, materialise, pooled_corpus, print_table, write_results
from benchmarks.retrieval import LEAF_ONLY_STRATEGIES, QueryCache, ingest_leaf_only, rss_mb

STRATEGIES = ("auto", "flat", "bm25", "hybrid", "sentence_window", "parent_child", "auto_merge", "summary_route")


def synthetic_corpus(size: int, seed: int = 13) -> dict[str, str]:
    """The real pool, then synthetic paragraphs made of 3-5 sentences drawn across the pool."""
    corpus = pooled_corpus(load_questions(), distractors=True)
    sentences = [s.strip() + "." for text in corpus.values() for s in text.split(". ") if len(s.split()) > 4]
    rng = random.Random(seed)
    titles = list(corpus)
    i = 0
    while len(corpus) < size:
        base = titles[i % len(titles)]
        corpus[f"{base} (synthetic {i})"] = " ".join(rng.sample(sentences, rng.randint(3, 5)))
        i += 1
    return dict(list(corpus.items())[:size])


def dir_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20


def measure(
    size: int, questions: list[str], strategies: Sequence[str], rebuild: bool, leaf_only: bool = False
) -> dict[str, Any]:
    corpus = synthetic_corpus(size)
    folder = materialise(corpus, f"scale-{size}")
    index_dir = CACHE / "indexes" / f"scale-{size}{'-leafonly' if leaf_only else ''}"
    settings = Settings(checkpointer="none", embedder="hashing-384", llm={"backend": "offline"})  # type: ignore[arg-type]
    stats_path = index_dir / "bench_ingest.json"
    if rebuild and index_dir.exists():
        shutil.rmtree(index_dir)
    if not stats_path.exists():
        t0 = time.perf_counter()
        if leaf_only:
            report = ingest_leaf_only(index_dir, folder, "hashing-384")
        else:
            agent = Agent(index_dir, settings=settings)
            report = agent.ingest(folder)
            agent.close()
        stats = {"ingest_s": round(time.perf_counter() - t0, 1), "nodes": report.nodes, "vectors": report.embedded}
        stats_path.write_text(json.dumps(stats))
    build = json.loads(stats_path.read_text())
    rss0 = rss_mb()
    probe = Agent(index_dir, settings=settings)
    cache = QueryCache(probe.embedder)
    cache.questions = set(questions)
    agent = Agent(index_dir, settings=settings, embedder=cache)  # type: ignore[arg-type]
    leaves = int(agent.index.stats()["levels"].get("leaf", 0))
    rows = []
    if not agent.index.config.embed_sentences:  # the default index: sentence_window would raise ConfigError
        strategies = [s for s in strategies if s != "sentence_window"]
    for name in strategies:
        for q in questions:  # warm: caches the question vectors, loads HNSW segments and SQLite pages
            agent.retrieve(q, 5, strategy=name)
        lat = []
        for q in questions:
            t0 = time.perf_counter()
            agent.retrieve(q, 5, strategy=name)
            lat.append((time.perf_counter() - t0) * 1000)
        lat.sort()
        rows.append(
            {
                "leaves": leaves,
                "strategy": name,
                "p50_ms": lat[len(lat) // 2],
                "p95_ms": lat[min(len(lat) - 1, int(len(lat) * 0.95))],
            }
        )
        print(f"  {size}: {name} p50={rows[-1]['p50_ms']:.1f} ms", flush=True)
    rss1 = rss_mb()
    agent.close()
    return {
        "size": size,
        "leaves": leaves,
        "build": build,
        "rss_growth_mb": round(rss1 - rss0, 1),
        "rss_mb": round(rss1, 1),
        "disk_mb": round(dir_mb(index_dir), 1),
        "rows": rows,
    }


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="10000,100000")
    ap.add_argument("--queries", type=int, default=100)
    ap.add_argument("--strategies", default=",".join(STRATEGIES))
    ap.add_argument("--rebuild", action="store_true")
    ap.add_argument("--leaf-only", action="store_true", help="no sentence/summary vectors (a faster build)")
    args = ap.parse_args(argv)
    strategies = [s for s in args.strategies.split(",") if not args.leaf_only or s in LEAF_ONLY_STRATEGIES]
    questions = [r["question"] for r in load_questions()][: args.queries]
    results = []
    for size in (int(s) for s in args.sizes.split(",")):
        print(f"scale {size} ...", flush=True)
        results.append(measure(size, questions, strategies, args.rebuild, args.leaf_only))
    rows = [r for res in results for r in res["rows"]]
    print_table(rows, ["leaves", "strategy", "p50_ms", "p95_ms"])
    for res in results:
        print(
            f"{res['leaves']} leaves: build {res['build']}, index on disk {res['disk_mb']} MiB, "
            f"RSS after queries {res['rss_mb']} MiB (+{res['rss_growth_mb']} MiB for opening + querying)"
        )
    name = "scale_leafonly" if args.leaf_only else "scale"
    print(f"wrote {write_results(name, {'embedder': 'hashing-384', 'leaf_only': args.leaf_only, 'results': results})}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
