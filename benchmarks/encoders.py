"""Encoders of the bundled MiniLM side by side: throughput, agreement with PyTorch fp32, and flat
dense recall on the pooled HotpotQA dev paragraphs (the cheap stand-in for `benchmarks.retrieval`:
every paragraph embedded once as "title. text", each question ranks them by cosine).

    python -m benchmarks.encoders [--limit N]

Each encoder is loaded and warmed before its clock starts; they run one after another in one process,
so they share the machine's load. Writes `benchmarks/results/encoders.json`.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from benchmarks.hotpot import gold_titles, load_questions, pooled_corpus, print_table, write_results
from tools.embeddings import SentenceTransformerEmbedder
from tools.encoders import OnnxEmbedder

ENCODERS: dict[str, Any] = {
    "torch-fp32 (sentence-transformers)": lambda: SentenceTransformerEmbedder(device="cpu"),
    "onnx-fp32": lambda: OnnxEmbedder(precision="fp32"),
    "onnx-int8": lambda: OnnxEmbedder(precision="int8"),
}


def recall_at(ranked: Sequence[str], gold: Sequence[str], k: int) -> float:
    return len(set(ranked[:k]) & set(gold)) / max(len(gold), 1)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--limit", type=int, default=0, help="use only the first N questions (and their paragraphs)")
    args = ap.parse_args(argv)
    records = load_questions()
    if args.limit:
        records = records[: args.limit]
    corpus = pooled_corpus(records)
    titles = list(corpus)
    texts = [f"{t}. {corpus[t]}" for t in titles]
    questions = [r["question"] for r in records]
    golds = [gold_titles(r) for r in records]
    rows: list[dict[str, Any]] = []
    reference: np.ndarray[Any, Any] | None = None
    for name, factory in ENCODERS.items():
        enc = factory()
        enc.embed(texts[:32])  # load, export on first use, warm up
        t0 = time.perf_counter()
        doc_vecs = enc.embed(texts)
        seconds = time.perf_counter() - t0
        q_vecs = enc.embed(questions)
        ranked = [[titles[i] for i in np.argsort(-(doc_vecs @ q))[:10]] for q in q_vecs]
        row: dict[str, Any] = {
            "encoder": name,
            "id": enc.id,
            "seconds": round(seconds, 1),
            "texts_per_s": round(len(texts) / seconds, 1),
            "R@2": round(float(np.mean([recall_at(r, g, 2) for r, g in zip(ranked, golds, strict=True)])), 3),
            "R@5": round(float(np.mean([recall_at(r, g, 5) for r, g in zip(ranked, golds, strict=True)])), 3),
            "R@10": round(float(np.mean([recall_at(r, g, 10) for r, g in zip(ranked, golds, strict=True)])), 3),
        }
        if reference is None:
            reference = doc_vecs
        cos = (doc_vecs * reference).sum(axis=1)
        row["cos_mean"] = round(float(cos.mean()), 5)
        row["cos_min"] = round(float(cos.min()), 4)
        row["x_torch"] = round(rows[0]["seconds"] / seconds, 2) if rows else 1.0
        rows.append(row)
        print(f"  {name}: {seconds:.1f}s", flush=True)
    print_table(rows, ["encoder", "seconds", "texts_per_s", "x_torch", "cos_mean", "cos_min", "R@2", "R@5", "R@10"])
    path = write_results("encoders", {"paragraphs": len(texts), "questions": len(questions), "rows": rows})
    print(f"\nwrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
