"""The acceptance gate on the bundled ten-page demo corpus (`agent/sample_corpus`), one command:

    python -m benchmarks.demo_acceptance

Runs `make demo`'s question, "Which company makes the Kestrel drone?" and the invented questions of
`tests/fixtures/sample_corpus_questions.json` through `agent.run` on the default stack (bundled
MiniLM), once with `acceptance="rules"` and once with `acceptance="learned"`, and reports per
question the outcome, the headline and the gate's P(right). None of these questions is fitted on
(`benchmarks/fit_acceptance.py` reads other corpora): they check that a corpus the size of a
user's first folder keeps its right answers. Writes `benchmarks/results/demo_acceptance.json`.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from agent import Agent, Settings
from agent.cli import DEMO_QUESTION, SAMPLE_CORPUS
from benchmarks.hotpot import print_table, write_results

QUESTIONS = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "sample_corpus_questions.json"
KESTREL = ("Which company makes the Kestrel drone?", "Halden Robotics")


def questions() -> list[tuple[str, str]]:
    fixture = [(q["question"], q["answer"]) for q in json.loads(QUESTIONS.read_text(encoding="utf-8"))]
    demo = [q for q in fixture if q[0] == DEMO_QUESTION] or [(DEMO_QUESTION, "Bergen")]
    return [*demo, KESTREL, *[q for q in fixture if q[0] != DEMO_QUESTION]]


def run(acceptance: str, asked: list[tuple[str, str]]) -> list[dict[str, Any]]:
    from graphs.roles.offline import offline_roles
    from policies.offline import OfflineThresholds

    thresholds = OfflineThresholds(acceptance=acceptance)  # type: ignore[arg-type]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(checkpointer="none", llm={"backend": "offline"}, log_level="ERROR")  # type: ignore[arg-type]
        with Agent(
            Path(tmp) / "idx", settings=settings, roles=lambda ix: offline_roles(ix.embedder, thresholds)
        ) as agent:
            agent.ingest(SAMPLE_CORPUS)
            for question, gold in asked:
                t0 = time.perf_counter()
                result = agent.run(question)
                scored = [
                    ev.detail
                    for ev in result.trace
                    if ev.node == "verify" and (ev.detail.get("acceptance") or {}).get("score") is not None
                ]
                # The gate's score of the draft the result headlines (else of the last draft it judged).
                headline = [d for d in scored if d.get("passed") and d.get("short_answer") == result.short_answer]
                gates = [d["acceptance"] for d in (headline or scored)]
                right = bool(result.short_answer) and gold.lower() in result.short_answer.lower()
                rows.append(
                    {
                        "acceptance": acceptance,
                        "question": question,
                        "gold": gold,
                        "outcome": result.outcome,
                        "short_answer": result.short_answer,
                        "correct_supported": right and result.supported,
                        "p_right": gates[-1]["score"] if gates else None,
                        "seconds": round(time.perf_counter() - t0, 2),
                    }
                )
    return rows


def main() -> int:
    asked = questions()
    report: dict[str, Any] = {"questions": len(asked), "runs": {}}
    for acceptance in ("rules", "learned"):
        rows = run(acceptance, asked)
        report["runs"][acceptance] = rows
        print(f"\n== acceptance={acceptance}")
        print_table(rows, ["outcome", "short_answer", "gold", "correct_supported", "p_right", "question"])
    summary = [
        {
            "acceptance": a,
            "correct_supported": sum(r["correct_supported"] for r in rows),
            "supported": sum(r["outcome"] != "not_found" for r in rows),
            "of": len(rows),
        }
        for a, rows in report["runs"].items()
    ]
    report["summary"] = summary
    print()
    print_table(summary, ["acceptance", "correct_supported", "supported", "of"])
    print(f"wrote {write_results('demo_acceptance', report)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
