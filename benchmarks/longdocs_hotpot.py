"""The #12 pieces on the pooled HotpotQA dev set (1,000 short paragraphs): where hierarchy should not
hurt. Recall@5 counts distinct gold paragraphs among the first 5 distinct paragraphs returned.

    python -m benchmarks.longdocs_hotpot [--systems tree:hybrid,mean:tree_hybrid]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from agent import Agent, Settings
from benchmarks.hotpot import CACHE, gold_titles, load_questions, materialise, pooled_corpus, print_table, title_of_hit
from benchmarks.hotpot import write_results as _write
from benchmarks.longdocs import VARIANTS, make_embedder

DEFAULT = "tree:flat,tree:bm25,tree:hybrid,tree:tree_hybrid,tree:summary_route,mean:summary_route,mean:tree_hybrid"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--systems", default=DEFAULT)
    parser.add_argument("--k", type=int, default=5)
    args = parser.parse_args(argv)
    records = load_questions()
    corpus = materialise(pooled_corpus(records), "pooled-dev100")
    embedder = make_embedder()
    agents: dict[str, Agent] = {}
    rows: list[dict[str, Any]] = []
    for name in args.systems.split(","):
        variant, _, strategy = name.partition(":")
        if variant not in agents:
            overrides = VARIANTS[variant]
            key = hashlib.sha1(json.dumps(overrides, sort_keys=True).encode()).hexdigest()[:8]
            settings = Settings(checkpointer="none", llm={"backend": "offline"}, **overrides)  # type: ignore[arg-type]
            agents[variant] = Agent(
                CACHE / "longdocs_hotpot" / f"{variant}-{key}", settings=settings, embedder=embedder
            )  # type: ignore[arg-type]
            agents[variant].ingest(corpus)
        agent = agents[variant]
        recalls, chars, lat = [], [], []
        for rec in records:
            t0 = time.perf_counter()
            hits = agent.retrieve(rec["question"], k=args.k * 2, strategy=strategy)
            lat.append(time.perf_counter() - t0)
            titles: list[str] = []
            used = 0
            for h in hits:
                t = title_of_hit(h)
                if t not in titles:
                    titles.append(t)
                    used += len(h.text)
                if len(titles) == args.k:
                    break
            gold = gold_titles(rec)
            recalls.append(len(set(gold) & set(titles)) / len(gold))
            chars.append(used)
        rows.append(
            {
                "system": name,
                f"R@{args.k}": float(np.mean(recalls)),
                "chars": float(np.mean(chars)),
                "p50_ms": float(np.percentile(lat, 50) * 1000),
            }
        )
        print(f"  {name}: R@{args.k}={rows[-1][f'R@{args.k}']:.3f}", flush=True)
    print_table(rows, ["system", f"R@{args.k}", "chars", "p50_ms"])
    print(f"wrote {_write('longdocs_hotpot', {'rows': rows, 'k': args.k, 'questions': len(records)})}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
