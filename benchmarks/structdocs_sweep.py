"""Compare `auto` policy variants at a reading budget on one cached index, in one process (#18).

    python -m benchmarks.structdocs_sweep --split dev --variant base --variant w_section=0.5
    python -m benchmarks.structdocs_sweep --split val --variant base --variant "budget_prf_sections=0;budget_w_heading_bm25=0.5"

Each `--variant` is `name` or `key=value;key=value`: keys of `policies.retrieval.AutoRetrievalPolicy`,
plus `context.KEY` for `tools.retrieval.context.ContextPolicy` and `strategy=NAME` (default `auto`).
`base` is the default policy. Every variant is asked through `retrieve_candidates` exactly as
`Agent.retrieve` calls it (k = 10, the given `--budget-chars`), and scored as `benchmarks.structdocs`
scores (answer found within 1,000 / 2,000 / 4,000 characters read, gold pages only).

Only aggregates are printed: overall, per question kind and (dev only) per manual. No per-question
row is printed or written, so running it on the untuned val split reads that split in aggregate only.
Writes `benchmarks/results/structdocs_sweep_SPLIT.json`.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Sequence
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from benchmarks.hotpot import print_table, write_results
from benchmarks.structdocs_corpus import KINDS, default_manuals, load_questions, page_of
from benchmarks.structdocs_index import build_index, make_embedder
from benchmarks.structdocs_metrics import BUDGETS, score_retrieval
from policies.retrieval import AutoRetrievalPolicy
from tools.retrieval import retrieve_candidates
from tools.retrieval.context import ContextPolicy

K = 10


def _value(raw: str) -> Any:
    if raw.lower() in ("true", "false"):
        return raw.lower() == "true"
    for cast in (int, float):
        try:
            return cast(raw)
        except ValueError:
            pass
    return raw


def parse_variant(spec: str) -> tuple[str, dict[str, Any]]:
    """`key=value;key=value` -> (strategy, retrieve options)."""
    strategy = "auto"
    auto: dict[str, Any] = {}
    context: dict[str, Any] = {}
    for item in filter(None, (s.strip() for s in spec.split(";"))):
        if item == "base":
            continue
        key, sep, raw = item.partition("=")
        if not sep:
            raise SystemExit(f"variant item {item!r}: expected key=value")
        if key == "strategy":
            strategy = raw
        elif key.startswith("context."):
            context[key.removeprefix("context.")] = _value(raw)
        else:
            auto[key] = _value(raw)
    options: dict[str, Any] = {"auto_policy": AutoRetrievalPolicy(**auto)}
    if context:
        options["context_policy"] = ContextPolicy(**context)
    return strategy, options


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--split", choices=("dev", "val"), default="dev")
    parser.add_argument("--variant", action="append", default=[], help="repeatable; see the module doc")
    parser.add_argument("--budget-chars", type=int, default=2000)
    parser.add_argument("--id-prefix", help="only questions whose id starts with this (dev)")
    args = parser.parse_args(argv)
    manuals = default_manuals(args.split)
    questions = [q for q in load_questions(split=args.split) if q.answerable and q.manual in manuals]
    if args.id_prefix:
        questions = [q for q in questions if q.id.startswith(args.id_prefix)]
    agent, _ = build_index(manuals, make_embedder())
    groups: dict[str, list[int]] = {}
    for i, q in enumerate(questions):
        groups.setdefault(q.kind, []).append(i)
        if args.split == "dev":
            groups.setdefault(f"m:{q.manual}", []).append(i)
    results: list[dict[str, Any]] = []
    for spec in args.variant or ["base"]:
        strategy, options = parse_variant(spec)
        within: list[dict[int, float]] = []
        latencies: list[float] = []
        entries: list[int] = []  # hits that start within the budget (distinct texts read)
        for q in questions:
            t0 = time.perf_counter()
            found = retrieve_candidates(
                agent.index, q.question, K, strategy=strategy, budget_chars=args.budget_chars, options=options
            )
            latencies.append(time.perf_counter() - t0)
            hits = [c.to_hit() for c in found][:K]
            score = score_retrieval([h.text for h in hits], [page_of(h.source) for h in hits], q.gold_pages, q.answers)
            within.append(score.within)
            starts = [sum(len(h.text) for h in hits[:i]) for i in range(len(hits))]
            entries.append(sum(1 for s in starts if s < args.budget_chars))
        row: dict[str, Any] = {"variant": spec, "n": len(questions)}
        for b in BUDGETS:
            row[f"@{b}"] = round(sum(w[b] for w in within) / max(len(within), 1), 3)
        for name in [*KINDS, *sorted(g for g in groups if g.startswith("m:"))]:
            idx = groups.get(name, [])
            if idx:
                row[name] = round(sum(within[i][2000] for i in idx) / len(idx), 3)
        row["hits"] = round(sum(entries) / max(len(entries), 1), 1)
        row["p50_ms"] = round(sorted(latencies)[len(latencies) // 2] * 1000) if latencies else None
        results.append(row)
        print(f"  {spec}: @2000={row['@2000']} plain={row.get('plain')}", flush=True)
    columns = ["variant", *[f"@{b}" for b in BUDGETS]]
    columns += [k for k in [*KINDS, *sorted(g for g in groups if g.startswith("m:"))] if k in results[0]]
    print()
    print_table(results, [*columns, "hits", "p50_ms"])
    payload = {"split": args.split, "budget_chars": args.budget_chars, "k": K, "results": results}
    print(f"\nwrote {write_results(f'structdocs_sweep_{args.split}', payload)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
