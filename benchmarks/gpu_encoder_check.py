"""Does the bundled MiniLM run on a GPU where there is one, and how fast (issue #20, `device="auto"`)?

Run on a machine with CUDA and sentence-transformers (CI never runs it):

    python -m benchmarks.gpu_encoder_check [--paragraphs FILE] [--texts 3000] [--batches 64,256,1024] [--out FILE]

It builds the encoder exactly as a new index does (`make_minilm("auto", "auto")`), reports the device it
chose, texts/s per batch size after a warm-up, the same on the CPU for comparison, and how close the
GPU vectors are to the CPU's (min cosine). Texts are the bundled Wikipedia distractor paragraphs.
"""

from __future__ import annotations

import argparse
import gzip
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from tools.encoders.device import resolve_device
from tools.encoders.select import make_minilm

PARAGRAPHS = (
    Path(__file__).resolve().parents[2] / "shared" / "data" / "wiki-distractors" / "wiki_paragraphs_6119.json.gz"
)


def _texts(path: Path, n: int) -> list[str]:
    with gzip.open(path) as fh:
        rows = json.loads(fh.read())
    return [str(r["text"]) for r in rows[:n]]


def _rate(embedder: Any, texts: list[str], batch: int) -> tuple[float, np.ndarray]:
    embedder.batch_size = batch
    embedder.embed(texts[:64])  # warm-up: kernels, allocator, tokenizer
    t0 = time.perf_counter()
    vectors = np.asarray(embedder.embed(texts))
    return len(texts) / (time.perf_counter() - t0), vectors


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--paragraphs", type=Path, default=PARAGRAPHS)
    ap.add_argument("--texts", type=int, default=3000)
    ap.add_argument("--cpu-texts", type=int, default=500)
    ap.add_argument("--batches", default="64,256,1024")
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results/gpu_encoder_check.json"))
    args = ap.parse_args()
    texts = _texts(args.paragraphs, args.texts)
    auto = make_minilm("auto", "auto")
    report: dict[str, Any] = {
        "resolved_auto": resolve_device("auto"),
        "auto_embedder": f"{type(auto).__name__} device={getattr(auto, 'device', None)}",
        "rows": [],
    }
    cpu = make_minilm("torch", "cpu")
    cpu_rate, cpu_vectors = _rate(cpu, texts[: args.cpu_texts], 64)
    report["rows"].append({"encoder": "torch cpu", "batch": 64, "texts_per_s": round(cpu_rate, 1)})
    for batch in (int(b) for b in args.batches.split(",")):
        rate, vectors = _rate(auto, texts, batch)
        cosine = (vectors[: len(cpu_vectors)] * cpu_vectors).sum(axis=1)
        row = {"encoder": report["auto_embedder"], "batch": batch, "texts_per_s": round(rate, 1)}
        row["min_cosine_vs_cpu"] = float(cosine.min())
        report["rows"].append(row)
    print(f"device='auto' -> {report['resolved_auto']} ({report['auto_embedder']})")
    print("| encoder | batch | texts/s | min cosine vs CPU |\n|---|---|---|---|")
    for r in report["rows"]:
        print(f"| {r['encoder']} | {r['batch']} | {r['texts_per_s']:,} | {r.get('min_cosine_vs_cpu', '-')} |")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
