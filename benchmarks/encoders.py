"""Encoders of the bundled MiniLM side by side: throughput, agreement with PyTorch fp32, and flat
dense recall on the pooled HotpotQA dev paragraphs (the cheap stand-in for `benchmarks.retrieval`:
every paragraph embedded once as "title. text", each question ranks them by cosine).

    python -m benchmarks.encoders [--limit N] [--encoders onnx-int8,...] [--batch 32] [--repeat 1]
    python -m benchmarks.encoders --corpus manual [--manual DIR] [--limit N] --encoders onnx-fp32-1session,onnx-fp32

Each encoder is loaded and warmed before its clock starts; they take turns on slices of 64 texts in
one process, so a change in the shared machine's load hits them alike (`--repeat N` times each
slice N times per encoder and keeps the fastest). `--corpus manual` times the leaf texts a default
ingest of a manual encodes (heading path in front; no recall columns, there are no questions).
Writes `benchmarks/results/encoders.json` (`encoders-manual.json`).
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from benchmarks.hotpot import gold_titles, load_questions, pooled_corpus, print_table, write_results
from tools.embeddings import SentenceTransformerEmbedder
from tools.encoders import OnnxEmbedder
from tools.index import IndexConfig
from tools.ingest.loaders import load_file
from tools.ingest.tree import build_tree, leaf_embedding_text

ENCODERS: dict[str, Any] = {  # name -> factory(batch size); the first one chosen is the reference (x_first)
    "torch-fp32": lambda b: SentenceTransformerEmbedder(device="cpu", batch_size=b),
    "onnx-fp32": lambda b: OnnxEmbedder(precision="fp32", batch_size=b),
    # one session on every core: the default before the tenth session (tools/encoders/workers.py)
    "onnx-fp32-1session": lambda b: OnnxEmbedder(precision="fp32", batch_size=b, workers=1),
    "onnx-int8": lambda b: OnnxEmbedder(precision="int8", batch_size=b),
    "onnx-int8-all": lambda b: OnnxEmbedder(precision="int8-all", batch_size=b),
}


def recall_at(ranked: Sequence[str], gold: Sequence[str], k: int) -> float:
    return len(set(ranked[:k]) & set(gold)) / max(len(gold), 1)


def manual_leaf_texts(root: str | None, limit: int) -> list[str]:
    """The distinct leaf texts a default ingest of the manual sends to the encoder, in a fixed
    shuffled order (so each slice mixes pages and lengths), the first `limit` of them (0: all)."""
    from benchmarks.ingest import manual_pages

    config = IndexConfig()
    counter = OnnxEmbedder(precision="fp32", workers=1)  # leaf sizing counts MiniLM tokens, as ingest does
    texts: set[str] = set()
    for page in manual_pages(root, 0):
        tree = build_tree(load_file(page, str(page), dl_sections=config.dl_sections), counter.count_tokens, config.tree)
        texts |= {leaf_embedding_text(n, config.leaf_headings, config.leaf_heading_path) for n in tree.by_level("leaf")}
    ordered = sorted(texts)
    random.Random(0).shuffle(ordered)
    return ordered[:limit] if limit else ordered


def timed_round_robin(
    encoders: dict[str, Any], texts: Sequence[str], slice_size: int, repeat: int
) -> tuple[dict[str, float], dict[str, np.ndarray[Any, Any]]]:
    """Seconds per encoder (each slice's fastest of `repeat` runs, summed) and its vectors."""
    seconds = dict.fromkeys(encoders, 0.0)
    parts: dict[str, list[np.ndarray[Any, Any]]] = {name: [] for name in encoders}
    for start in range(0, len(texts), slice_size):
        for name, enc in encoders.items():
            best = float("inf")
            for _ in range(repeat):
                t0 = time.perf_counter()
                got = enc.embed(texts[start : start + slice_size])
                best = min(best, time.perf_counter() - t0)
            parts[name].append(got)
            seconds[name] += best
    return seconds, {name: np.vstack(p) for name, p in parts.items()}


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", choices=["hotpot", "manual"], default="hotpot")
    ap.add_argument("--manual", help="with --corpus manual: a folder of HTML pages (default as benchmarks.ingest)")
    ap.add_argument("--limit", type=int, default=0, help="only the first N questions (manual: N leaf texts)")
    ap.add_argument("--repeat", type=int, default=1, help="time each slice N times per encoder, keep the fastest")
    ap.add_argument("--slice", type=int, default=64, help="texts per round-robin slice")
    ap.add_argument("--encoders", default=",".join(ENCODERS), help=f"comma-separated, of: {', '.join(ENCODERS)}")
    ap.add_argument("--batch", type=int, default=32, help="texts per model call, at most (ONNX: also <= 1,024 tokens)")
    args = ap.parse_args(argv)
    chosen = [e.strip() for e in args.encoders.split(",") if e.strip()]
    if unknown := [e for e in chosen if e not in ENCODERS]:
        raise SystemExit(f"unknown encoders {unknown}; choose from {list(ENCODERS)}")
    questions: list[str] = []
    golds: list[list[str]] = []
    if args.corpus == "manual":
        titles: list[str] = []
        texts = manual_leaf_texts(args.manual, args.limit)
    else:
        records = load_questions()[: args.limit or None]
        corpus = pooled_corpus(records)
        titles = list(corpus)
        texts = [f"{t}. {corpus[t]}" for t in titles]
        questions = [r["question"] for r in records]
        golds = [gold_titles(r) for r in records]
    encoders = {name: ENCODERS[name](args.batch) for name in chosen}
    for enc in encoders.values():
        enc.embed(texts[:32])  # load, export on first use, warm up
    seconds, vectors = timed_round_robin(encoders, texts, args.slice, max(args.repeat, 1))
    first = next(iter(encoders))
    rows: list[dict[str, Any]] = []
    for name, enc in encoders.items():
        doc_vecs = vectors[name]
        cos = (doc_vecs * vectors[first]).sum(axis=1)
        row: dict[str, Any] = {
            "encoder": name,
            "id": enc.id,
            "seconds": round(seconds[name], 1),
            "texts_per_s": round(len(texts) / seconds[name], 1),
            "x_first": round(seconds[first] / seconds[name], 2),
            "cos_mean": round(float(cos.mean()), 5),
            "cos_min": round(float(cos.min()), 6),
            "max_abs_diff": float(np.abs(doc_vecs - vectors[first]).max()),
        }
        if questions:
            q_vecs = enc.embed(questions)
            ranked = [[titles[i] for i in np.argsort(-(doc_vecs @ q))[:10]] for q in q_vecs]
            for k in (2, 5, 10):
                hits = [recall_at(r, g, k) for r, g in zip(ranked, golds, strict=True)]
                row[f"R@{k}"] = round(float(np.mean(hits)), 3)
        rows.append(row)
    columns = ["encoder", "seconds", "texts_per_s", "x_first", "cos_mean", "cos_min", "max_abs_diff"]
    print_table(rows, columns + (["R@2", "R@5", "R@10"] if questions else []))
    name = "encoders" if args.corpus == "hotpot" else "encoders-manual"
    payload = {"corpus": args.corpus, "texts": len(texts), "questions": len(questions), "repeat": args.repeat}
    path = write_results(name, {**payload, "rows": rows})
    print(f"\nwrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
