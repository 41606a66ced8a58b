"""Long-document retrieval benchmark (#12): does the hierarchy pay on long, structured manuals?

    python -m benchmarks.longdocs                       # every strategy + baselines, table + JSON
    python -m benchmarks.longdocs --systems tree:auto,flat1000:bm25 --split test

Corpus: the Python manual's tutorial/howto/reference/faq/using sections (python3-doc) and the Git
manual's guides (git-doc); 66 questions (naming / plain words / two sections) in
`benchmarks/data/longdocs_questions.json`, split by id parity into dev (tuned on) and test (reported).
Writes `benchmarks/results/longdocs.json`.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from agent import Agent, Settings
from benchmarks.embed_cache import CachingEmbedder
from benchmarks.hotpot import CACHE, print_table, write_results
from benchmarks.longdocs_corpus import Question, corpus_files, load_questions, page_of
from benchmarks.longdocs_metrics import Scored, score, summarise

HRAGENT_STRATEGIES = ("flat", "bm25", "hybrid", "parent_child", "auto_merge", "summary_route", "tree_hybrid", "auto")
BASELINES = ("flat1000:dense", "flat1000:bm25", "flat1000:hybrid", "llamaindex:auto_merge")
# Index variants: name -> Settings overrides. Sentence vectors are off except in `sent` (only the
# sentence_window strategy reads them, and they are most of the encoder time on this 2-core machine).
# Section vectors are pinned to "text" in every variant but `mean`, so each ablation changes one thing
# (the library default is "mean" since these measurements).
_NO_SENT = {"embed_sentences": False, "section_vectors": "text"}
VARIANTS: dict[str, dict[str, Any]] = {
    "tree": {"index": _NO_SENT},
    "nodl": {"index": {**_NO_SENT, "dl_sections": False}},
    "noheadings": {"index": {**_NO_SENT, "leaf_headings": False}},
    "mean": {"index": {**_NO_SENT, "section_vectors": "mean"}},
    "sent": {"index": {"section_vectors": "text"}},
}
K = 5

Search = Callable[[str], list[Any]]


def make_embedder() -> CachingEmbedder:
    from tools.embeddings import make_embedder as _make

    return CachingEmbedder(_make("minilm"))


def build_index(variant: str, files: Sequence[Path], embedder: CachingEmbedder) -> tuple[Agent, dict[str, Any]]:
    """Ingest the corpus into a cached index directory for one variant; records the first (cold) build's time."""
    overrides = VARIANTS[variant]
    key = hashlib.sha1(json.dumps(overrides, sort_keys=True).encode()).hexdigest()[:8]
    folder = CACHE / "longdocs" / f"{variant}-{key}"
    settings = Settings(checkpointer="none", llm={"backend": "offline"}, **overrides)  # type: ignore[arg-type]
    agent = Agent(folder, settings=settings, embedder=embedder)  # type: ignore[arg-type]
    before = embedder.encoded
    t0 = time.perf_counter()
    report = agent.ingest(list(files))
    elapsed = time.perf_counter() - t0
    meta_path = folder / "longdocs_build.json"
    meta = json.loads(meta_path.read_text()) if meta_path.exists() else {}
    if report.added or report.updated or not meta:
        meta = {"ingest_s": round(elapsed, 1), "encoded": embedder.encoded - before, "nodes": report.nodes}
        meta_path.write_text(json.dumps(meta))
    stats = agent.index.stats()
    meta["levels"] = stats["levels"]
    return agent, meta


def run_system(name: str, search: Search, questions: Sequence[Question]) -> tuple[list[Scored], list[float]]:
    rows: list[Scored] = []
    latencies: list[float] = []
    for q in questions:
        t0 = time.perf_counter()
        hits = search(q.question)[:K]
        latencies.append(time.perf_counter() - t0)
        rows.append(score(hits, [page_of(h.source) for h in hits], q.gold_pages, q.answers))
    return rows, latencies


def report_rows(
    name: str, rows: list[Scored], latencies: list[float], questions: Sequence[Question], ingest_s: float | None
) -> dict[str, Any]:
    out: dict[str, Any] = {"system": name, **summarise(rows, latencies)}
    for group in ("naming", "plain", "multi"):
        sub = [r for r, q in zip(rows, questions, strict=True) if q.group == group]
        out[f"ans@5_{group}"] = summarise(sub, [])["ans@5"] if sub else None
    for split in ("dev", "test"):
        sub = [r for r, q in zip(rows, questions, strict=True) if q.split == split]
        out[f"ans@5_{split}"] = summarise(sub, [])["ans@5"] if sub else None
    out["ingest_s"] = ingest_s
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--systems", help="comma list of VARIANT:STRATEGY or baseline names (default: all)")
    parser.add_argument("--split", choices=("all", "dev", "test"), default="all")
    parser.add_argument("--no-git", action="store_true", help="Python manual only")
    parser.add_argument("--out", default="longdocs")
    args = parser.parse_args(argv)

    questions = [q for q in load_questions() if args.split in ("all", q.split)]
    files = corpus_files(with_git=not args.no_git)
    wanted = args.systems.split(",") if args.systems else [f"tree:{s}" for s in HRAGENT_STRATEGIES] + list(BASELINES)
    embedder = make_embedder()
    results: list[dict[str, Any]] = []
    per_question: dict[str, list[dict[str, Any]]] = {}
    agents: dict[str, tuple[Agent, dict[str, Any]]] = {}
    baselines: dict[str, Any] = {}
    for name in wanted:
        family, _, strategy = name.partition(":")
        ingest_s: float | None
        if family == "flat1000":
            if "flat1000" not in baselines:
                from benchmarks.longdocs_baselines import FlatChunks, page_texts

                baselines["flat1000"] = FlatChunks(page_texts(files), embedder)
            flat = baselines["flat1000"]
            search: Search = lambda q, s=strategy, f=flat: f.search(q, s, K)  # noqa: E731
            ingest_s = flat.ingest_s
        elif family == "llamaindex":
            if "llamaindex" not in baselines:
                from benchmarks.longdocs_baselines import LlamaIndexAutoMerging, page_texts

                baselines["llamaindex"] = LlamaIndexAutoMerging(page_texts(files), embedder)
            li = baselines["llamaindex"]
            search = lambda q, r=li: r.search(q, K)  # noqa: E731
            ingest_s = li.ingest_s
        else:
            if family not in agents:
                agents[family] = build_index(family, files, embedder)
            agent, meta = agents[family]
            search = lambda q, a=agent, s=strategy: a.retrieve(q, k=K, strategy=s)  # noqa: E731
            ingest_s = meta.get("ingest_s")
        rows, lat = run_system(name, search, questions)
        results.append(report_rows(name, rows, lat, questions, ingest_s))
        per_question[name] = [
            {"id": q.id, "ans@5": r.answer_at[5], "page@5": r.page_at[5], "chars_to_ans": r.chars_to_answer}
            for q, r in zip(questions, rows, strict=True)
        ]
        print(f"  {name}: ans@5={results[-1]['ans@5']:.3f}", flush=True)
        write_results(args.out + ".partial", {"results": results, "per_question": per_question})
    columns = [
        "system",
        "page@1",
        "page@3",
        "page@5",
        "ans@1",
        "ans@5",
        "ans@5_naming",
        "ans@5_plain",
        "ans@5_multi",
        "ans@5_test",
        "chars",
        "chars_to_ans",
        "p50_ms",
        "p95_ms",
        "ingest_s",
    ]
    print()
    print_table(results, columns)
    payload = {
        "k": K,
        "questions": len(questions),
        "split": args.split,
        "corpus_files": len(files),
        "indexes": {name: meta for name, (_, meta) in agents.items()},
        "results": results,
        "per_question": per_question,
    }
    path = write_results(args.out, payload)
    print(f"\nwrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
