"""Encoders of the bundled MiniLM side by side: throughput, agreement with PyTorch fp32, and flat
dense recall on the pooled HotpotQA dev paragraphs (the cheap stand-in for `benchmarks.retrieval`:
every paragraph embedded once as "title. text", each question ranks them by cosine).

    python -m benchmarks.encoders [--limit N] [--encoders onnx-int8,...] [--batch 32]

Each encoder is loaded and warmed before its clock starts; they take turns on slices of 64 texts in
one process, so a change in the shared machine's load hits them alike. Writes `benchmarks/results/encoders.json`.
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

ENCODERS: dict[str, Any] = {  # name -> factory(batch size); the first one chosen is the reference
    "torch-fp32": lambda b: SentenceTransformerEmbedder(device="cpu", batch_size=b),
    "onnx-fp32": lambda b: OnnxEmbedder(precision="fp32", batch_size=b),
    "onnx-int8": lambda b: OnnxEmbedder(precision="int8", batch_size=b),
    "onnx-int8-all": lambda b: OnnxEmbedder(precision="int8-all", batch_size=b),
}


def recall_at(ranked: Sequence[str], gold: Sequence[str], k: int) -> float:
    return len(set(ranked[:k]) & set(gold)) / max(len(gold), 1)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--limit", type=int, default=0, help="use only the first N questions (and their paragraphs)")
    ap.add_argument("--slice", type=int, default=64, help="texts per round-robin slice")
    ap.add_argument("--encoders", default=",".join(ENCODERS), help=f"comma-separated, of: {', '.join(ENCODERS)}")
    ap.add_argument("--batch", type=int, default=32, help="texts per model call, at most (ONNX: also <= 1,024 tokens)")
    args = ap.parse_args(argv)
    chosen = [e.strip() for e in args.encoders.split(",") if e.strip()]
    if unknown := [e for e in chosen if e not in ENCODERS]:
        raise SystemExit(f"unknown encoders {unknown}; choose from {list(ENCODERS)}")
    records = load_questions()
    if args.limit:
        records = records[: args.limit]
    corpus = pooled_corpus(records)
    titles = list(corpus)
    texts = [f"{t}. {corpus[t]}" for t in titles]
    questions = [r["question"] for r in records]
    golds = [gold_titles(r) for r in records]
    encoders = {name: ENCODERS[name](args.batch) for name in chosen}
    for enc in encoders.values():
        enc.embed(texts[:32])  # load, export on first use, warm up
    # Round-robin over slices, so a change in the shared machine's load hits every encoder alike.
    seconds = dict.fromkeys(encoders, 0.0)
    parts: dict[str, list[np.ndarray[Any, Any]]] = {name: [] for name in encoders}
    for start in range(0, len(texts), args.slice):
        for name, enc in encoders.items():
            t0 = time.perf_counter()
            parts[name].append(enc.embed(texts[start : start + args.slice]))
            seconds[name] += time.perf_counter() - t0
    rows: list[dict[str, Any]] = []
    reference = np.vstack(parts[next(iter(encoders))])
    for name, enc in encoders.items():
        doc_vecs = np.vstack(parts[name])
        q_vecs = enc.embed(questions)
        ranked = [[titles[i] for i in np.argsort(-(doc_vecs @ q))[:10]] for q in q_vecs]
        cos = (doc_vecs * reference).sum(axis=1)
        rows.append(
            {
                "encoder": name,
                "id": enc.id,
                "seconds": round(seconds[name], 1),
                "texts_per_s": round(len(texts) / seconds[name], 1),
                "x_torch": round(seconds[next(iter(encoders))] / seconds[name], 2),
                "cos_mean": round(float(cos.mean()), 5),
                "cos_min": round(float(cos.min()), 4),
                **{
                    f"R@{k}": round(float(np.mean([recall_at(r, g, k) for r, g in zip(ranked, golds, strict=True)])), 3)
                    for k in (2, 5, 10)
                },
            }
        )
    print_table(rows, ["encoder", "seconds", "texts_per_s", "x_torch", "cos_mean", "cos_min", "R@2", "R@5", "R@10"])
    path = write_results("encoders", {"paragraphs": len(texts), "questions": len(questions), "rows": rows})
    print(f"\nwrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
