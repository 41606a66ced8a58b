"""Retrieval at a reading budget on real API references and manuals (#18).

    python -m benchmarks.structdocs --split dev                    # hragent strategies + baselines
    python -m benchmarks.structdocs --split dev --systems tree:auto,flat1000:hybrid --limit 20
    python -m benchmarks.structdocs --split dev --budget-chars 2000  # if Agent.retrieve accepts it
    python -m benchmarks.structdocs --split val --out structdocs_val  # pytest manual, untuned

For each system: the share of the answer found within 1,000 / 2,000 / 4,000 characters read in
rank order, and in the top 5 hits (with the characters those return), overall and per question
kind. hragent is asked through the public `Agent.retrieve(query, k=10, strategy=...)`; the
baselines (flat 1,000-character chunks dense + BM25 fused by RRF, and LlamaIndex auto-merging)
read the same extracted page text with the same MiniLM, in the same run. Every system searches
the same corpus: for `--split dev|test|all` the four manuals click, requests, git and flask together
(as before the val split existed), for `--split val` the pytest manual alone (`--manuals` overrides). Unanswerable questions are skipped here.
Writes `benchmarks/results/structdocs.json` (`--out` renames it).
"""

from __future__ import annotations

import argparse
import inspect
import os
import time
from collections.abc import Callable, Sequence
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from benchmarks.hotpot import print_table, write_results
from benchmarks.structdocs_corpus import (
    KINDS,
    MANUALS,
    Question,
    corpus_files,
    default_manuals,
    load_questions,
    page_of,
)
from benchmarks.structdocs_index import build_index, make_embedder
from benchmarks.structdocs_metrics import BUDGETS, RetrievalScore, score_retrieval

K = 10
HRAGENT_STRATEGIES = ("auto", "hybrid", "parent_child", "auto_merge")
BASELINES = ("flat1000:hybrid", "llamaindex:auto_merge")

Search = Callable[[str], list[Any]]


def accepts_budget(agent: Any) -> bool:
    """Whether this checkout's `Agent.retrieve` takes a `budget_chars` keyword (#18 may add it)."""
    return "budget_chars" in inspect.signature(agent.retrieve).parameters


def run_system(search: Search, questions: Sequence[Question]) -> tuple[list[RetrievalScore], list[float]]:
    scores: list[RetrievalScore] = []
    latencies: list[float] = []
    for q in questions:
        t0 = time.perf_counter()
        hits = search(q.question)[:K]
        latencies.append(time.perf_counter() - t0)
        texts = [h.text for h in hits]
        scores.append(score_retrieval(texts, [page_of(h.source) for h in hits], q.gold_pages, q.answers))
    return scores, latencies


def summarise(name: str, scores: Sequence[RetrievalScore], questions: Sequence[Question]) -> dict[str, Any]:
    def mean(values: Sequence[float]) -> float | None:
        return round(sum(values) / len(values), 3) if values else None

    out: dict[str, Any] = {"system": name, "n": len(scores)}
    for b in BUDGETS:
        out[f"@{b}"] = mean([s.within[b] for s in scores])
    out["top5"] = mean([s.top5 for s in scores])
    out["top5_chars"] = round(sum(s.chars_top5 for s in scores) / max(len(scores), 1))
    out["page@5"] = mean([s.page_top5 for s in scores])
    for kind in KINDS:
        sub = [s for s, q in zip(scores, questions, strict=True) if q.kind == kind]
        if sub:
            out[f"@2000_{kind}"] = mean([s.within[2000] for s in sub])
    return out


def searcher(
    name: str, files: Sequence[Any], manuals: Sequence[str], embedder: Any, cache: dict[str, Any], budget: int | None
) -> tuple[Search, float | None]:
    """A search function for one system name, building (and caching) what it needs."""
    family, _, strategy = name.partition(":")
    if family == "flat1000":
        if "flat1000" not in cache:
            from benchmarks.longdocs_baselines import FlatChunks, page_texts

            cache["flat1000"] = FlatChunks(page_texts(files), embedder)
        flat = cache["flat1000"]
        return (lambda q: flat.search(q, strategy, K)), flat.ingest_s
    if family == "llamaindex":
        if "llamaindex" not in cache:
            from benchmarks.longdocs_baselines import LlamaIndexAutoMerging, page_texts

            cache["llamaindex"] = LlamaIndexAutoMerging(page_texts(files), embedder)
        li = cache["llamaindex"]
        return (lambda q: li.search(q, K)), li.ingest_s
    if family != "tree":
        raise SystemExit(f"unknown system {name!r}: use tree:STRATEGY, flat1000:hybrid or llamaindex:auto_merge")
    if "tree" not in cache:
        cache["tree"] = build_index(manuals, embedder)
    agent, meta = cache["tree"]
    extra: dict[str, Any] = {}
    if budget is not None:
        if not accepts_budget(agent):
            raise SystemExit("--budget-chars: this checkout's Agent.retrieve has no budget_chars keyword")
        extra["budget_chars"] = budget
    return (lambda q: agent.retrieve(q, k=K, strategy=strategy, **extra)), meta.get("ingest_s")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--systems", help="comma list: tree:STRATEGY, flat1000:hybrid, llamaindex:auto_merge")
    parser.add_argument("--split", choices=("all", "dev", "val", "test"), default="dev")
    parser.add_argument(
        "--manuals",
        help=f"comma list of manuals to index, from {','.join(MANUALS)} "
        f"(default: {','.join(default_manuals('dev'))}; --split val: {','.join(default_manuals('val'))})",
    )
    parser.add_argument("--kinds", help="comma list of question kinds")
    parser.add_argument(
        "--id-prefix", help="only questions whose id starts with this (e.g. sd-dh: the hard plain-word set)"
    )
    parser.add_argument("--limit", type=int, help="first N questions only (quick checks)")
    parser.add_argument("--budget-chars", type=int, help="pass budget_chars to Agent.retrieve (when it has one)")
    parser.add_argument("--out", default="structdocs")
    args = parser.parse_args(argv)

    manuals = args.manuals.split(",") if args.manuals else default_manuals(args.split)
    questions = [q for q in load_questions(split=args.split) if q.answerable and q.manual in manuals]
    if args.kinds:
        questions = [q for q in questions if q.kind in args.kinds.split(",")]
    if args.id_prefix:
        questions = [q for q in questions if q.id.startswith(args.id_prefix)]
    questions = questions[: args.limit] if args.limit else questions
    files = corpus_files(manuals)
    wanted = args.systems.split(",") if args.systems else [f"tree:{s}" for s in HRAGENT_STRATEGIES] + list(BASELINES)
    embedder = make_embedder()
    cache: dict[str, Any] = {}
    results: list[dict[str, Any]] = []
    per_question: dict[str, list[dict[str, Any]]] = {}
    for name in wanted:
        search, ingest_s = searcher(name, files, manuals, embedder, cache, args.budget_chars)
        scores, latencies = run_system(search, questions)
        row = summarise(name, scores, questions)
        row["p50_ms"] = round(sorted(latencies)[len(latencies) // 2] * 1000) if latencies else None
        row["ingest_s"] = round(ingest_s, 1) if ingest_s is not None else None
        results.append(row)
        per_question[name] = [
            {"id": q.id, "kind": q.kind, **{f"@{b}": s.within[b] for b in BUDGETS}, "top5": s.top5}
            for q, s in zip(questions, scores, strict=True)
        ]
        print(f"  {name}: @2000={row['@2000']} top5={row['top5']}", flush=True)
        write_results(args.out + ".partial", {"results": results, "per_question": per_question})
    columns = ["system", *[f"@{b}" for b in BUDGETS], "top5", "top5_chars", "page@5"]
    columns += [f"@2000_{k}" for k in KINDS if k != "unanswerable"] + ["p50_ms", "ingest_s"]
    print()
    print_table(results, columns)
    payload = {
        "k": K,
        "split": args.split,
        "manuals": manuals,
        "questions": len(questions),
        "corpus_files": len(files),
        "budget_chars": args.budget_chars,
        "index": cache["tree"][1] if "tree" in cache else None,
        "results": results,
        "per_question": per_question,
    }
    path = write_results(args.out, payload)
    print(f"\nwrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
