"""Feature logging for the offline reader's learned candidate scorer (#18, `fit_reader`).

Runs `agent.run` (offline reader, hand-set scorer) on each question and records every candidate
pool the solver builds while answering it: one row per offer of a candidate in a sentence, with
the model's features (`graphs.roles.offline.reader_model.FEATURES`), the hand-set score, and a
label: the candidate's text holds a gold answer part (`structdocs_metrics.contains`, the
benchmark's own normaliser and word-boundary match). Questions without a gold answer are skipped.

    python -m benchmarks.reader_features --source dev          # dev manuals (Click, Requests, Git)
    python -m benchmarks.reader_features --source hotpot       # HotpotQA dev questions 0-49 (tuned half)

Rows go to `$HRAGENT_BENCH_CACHE/reader_features/<source>.jsonl` (not under results/: they carry
question ids and candidate text, and `fit_reader` reads only their labels and features). The val
and test splits are never logged here: the fit must not see them.
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ["HRAGENT_OFFLINE_SCORER"] = "rules"  # features are logged on the hand-set reader's trajectory

from benchmarks.hotpot import CACHE
from benchmarks.reader_capture import captured_pools
from benchmarks.structdocs_metrics import contains
from graphs.roles.offline.pool import CandidatePool

OUT_DIR = CACHE / "reader_features"
HOTPOT_TUNED = range(0, 50)


def pool_rows(
    question_id: str, group: str, pools: Sequence[CandidatePool], parts: Sequence[Sequence[str]]
) -> list[dict[str, Any]]:
    """One row per offer: ids, the hand score, the label, the features."""
    rows = []
    for p, pool in enumerate(pools):
        for offered, features in pool.rows():
            surface = pool.surface[offered.key]
            rows.append(
                {
                    "q": question_id,
                    "group": group,
                    "pool": p,
                    "key": offered.key,
                    "node": offered.node_id,
                    "hand": offered.hand,
                    "label": int(any(contains(v, surface) for v in parts)),
                    "x": features,
                }
            )
    return rows


def dev_rows(limit: int | None = None) -> list[dict[str, Any]]:
    from benchmarks.structdocs_corpus import default_manuals, load_questions
    from benchmarks.structdocs_index import build_index, make_embedder

    manuals = default_manuals("dev")
    questions = [q for q in load_questions(split="dev") if q.manual in manuals and q.answerable]
    questions = questions[:limit] if limit else questions
    agent, _meta = build_index(manuals, make_embedder())
    rows: list[dict[str, Any]] = []
    try:
        for i, q in enumerate(questions, 1):
            with captured_pools() as pools:
                agent.run(q.question)
            rows += pool_rows(q.id, q.manual, pools, q.answers)
            if i % 20 == 0:
                print(f"  dev {i}/{len(questions)}", flush=True)
    finally:
        agent.close()
    return rows


def hotpot_rows(limit: int | None = None) -> list[dict[str, Any]]:
    from benchmarks.agent import pooled_agent
    from benchmarks.hotpot import load_questions

    records = load_questions()
    agent = pooled_agent(records, distractors=False)
    idx = list(HOTPOT_TUNED)[:limit] if limit else list(HOTPOT_TUNED)
    rows: list[dict[str, Any]] = []
    try:
        for n, i in enumerate(idx, 1):
            with captured_pools() as pools:
                agent.run(records[i]["question"])
            rows += pool_rows(f"hotpot-{i}", "hotpot", pools, [[records[i]["answer"]]])
            if n % 10 == 0:
                print(f"  hotpot {n}/{len(idx)}", flush=True)
    finally:
        agent.close()
    return rows


def write_rows(source: str, rows: Sequence[dict[str, Any]]) -> Path:
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    path = OUT_DIR / f"{source}.jsonl"
    with path.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row) + "\n")
    return path


def read_rows(source: str) -> list[dict[str, Any]]:
    path = OUT_DIR / f"{source}.jsonl"
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


def log_source(source: str, limit: int | None = None) -> Path:
    rows = dev_rows(limit) if source == "dev" else hotpot_rows(limit)
    path = write_rows(source, rows)
    print(f"{source}: {len(rows)} offers, {sum(r['label'] for r in rows)} positive -> {path}", flush=True)
    return path


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", choices=("dev", "hotpot"), action="append", help="default: both")
    parser.add_argument("--limit", type=int, help="first N questions only (a smoke run)")
    args = parser.parse_args(argv)
    for source in args.source or ["dev", "hotpot"]:
        log_source(source, args.limit)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
