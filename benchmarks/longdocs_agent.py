"""Agent benchmark on structured documents (#18): `agent.run` on the API-reference questions.

    python -m benchmarks.longdocs_agent --split dev                      # offline reader
    python -m benchmarks.longdocs_agent --split dev --reader oracle      # ceiling check (see oracle_reader)
    python -m benchmarks.longdocs_agent --split dev --removal --removal-sample 40  # + gold pages withheld
    python -m benchmarks.longdocs_agent --split val --out longdocs_agent_val  # pytest manual, untuned

The index holds the four manuals click, requests, git and flask for `--split dev|test|all`, and
the pytest manual alone for `--split val` (`--manuals` overrides; see `structdocs_corpus`).

Per question kind: answer correct (every answer part, after normalising, found at word boundaries
in `short_answer`; a share for multi-part answers), token F1, a gold page cited, pages cited, and
seconds per question; on unanswerable questions, the share where the agent abstained. A run
abstains when `RunResult.outcome == "not_found"` where that field exists, else when it has neither
a supported answer nor a non-empty `short_answer`.

`--removal` also runs the answerable questions against a second index built without their gold
pages (the union over the questions run; MiniLM vectors come from the cache, so it is cheap) and
reports the supported-answer rate there against the one on the answerable questions: an answer
that is "supported" with its source gone is a wrong answer stated with confidence. Caveat: another
page may restate the fact, so the removal rate is an upper bound on the error.

`--reader oracle` runs the same graph on its LLM path against a local OpenAI-compatible stub on
127.0.0.1 whose "model" knows each answer but may only answer with a span it finds in the
sentences shown (benchmarks/oracle_reader.py). Writes `benchmarks/results/longdocs_agent[_oracle].json`.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import time
from collections.abc import Iterator, Sequence
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from agent import Agent
from benchmarks.hotpot import print_table, write_results
from benchmarks.structdocs_corpus import KINDS, MANUALS, Question, default_manuals, load_questions, page_of
from benchmarks.structdocs_index import build_index, make_embedder
from benchmarks.structdocs_metrics import answer_scores


def abstained(result: Any) -> bool:
    """Did the run decline to answer? `outcome` when the result carries one, else no supported
    answer and no short answer."""
    outcome = getattr(result, "outcome", None)
    if outcome is not None:
        return str(outcome) == "not_found"
    return not result.supported and not result.short_answer.strip()


def score_run(q: Question, result: Any, seconds: float) -> dict[str, Any]:
    cited = sorted({page_of(c.source) for c in result.citations})
    correct, f1 = answer_scores(result.short_answer, q.answers) if q.answerable else (0.0, 0.0)
    return {
        "id": q.id,
        "kind": q.kind,
        "short_answer": result.short_answer,
        "outcome": str(getattr(result, "outcome", "")) or None,
        "correct": correct,
        "f1": round(f1, 3),
        "supported": bool(result.supported),
        "abstained": abstained(result),
        "gold_cited": bool(set(cited) & set(q.gold_pages)),
        "pages_cited": len(cited),
        "cited": cited,
        "seconds": round(seconds, 2),
    }


def run_questions(agent: Agent, questions: Sequence[Question], label: str) -> list[dict[str, Any]]:
    rows = []
    for i, q in enumerate(questions, 1):
        t0 = time.perf_counter()
        result = agent.run(q.question)
        rows.append(score_run(q, result, time.perf_counter() - t0))
        if i % 10 == 0:
            print(f"    {label}: {i}/{len(questions)}", flush=True)
    return rows


def spread(items: Sequence[Question], n: int | None) -> list[Question]:
    """`n` items taken evenly across `items` (all of them when n is None or not smaller)."""
    if n is None or n >= len(items):
        return list(items)
    return [items[i * len(items) // n] for i in range(n)]


def _mean(values: Sequence[float]) -> float | None:
    return round(sum(values) / len(values), 3) if values else None


def summarise(name: str, rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    answerable = [r for r in rows if r["kind"] != "unanswerable"]
    unanswerable = [r for r in rows if r["kind"] == "unanswerable"]
    return {
        "group": name,
        "n": len(rows),
        "correct": _mean([r["correct"] for r in answerable]),
        "f1": _mean([r["f1"] for r in answerable]),
        "gold_cited": _mean([float(r["gold_cited"]) for r in answerable]),
        "pages_cited": _mean([float(r["pages_cited"]) for r in rows]),
        "supported": _mean([float(r["supported"]) for r in answerable]),
        "supported_unans": _mean([float(r["supported"]) for r in unanswerable]),
        "answered": _mean([float(not r["abstained"]) for r in rows]),
        "abstained_unans": _mean([float(r["abstained"]) for r in unanswerable]),
        "s_per_q": _mean([r["seconds"] for r in rows]),
    }


def offline_roles_with(acceptance: str | None, threshold: float | None, options: Sequence[str] = ()) -> Any:
    """A roles factory for the offline reader with another acceptance setting or other
    `OfflineThresholds` fields (`--reader-option entry_meaning=true`); None: the default roles."""
    if acceptance is None and threshold is None and not options:
        return None
    from graphs.roles.offline import offline_roles
    from policies.offline import OfflineThresholds

    overrides: dict[str, Any] = dict(option.split("=", 1) for option in options)
    if acceptance is not None or threshold is not None:
        overrides.update({"acceptance": acceptance or "learned", "acceptance_threshold": threshold})
    thresholds = OfflineThresholds.model_validate(overrides)
    return lambda index: offline_roles(index.embedder, thresholds)


@contextlib.contextmanager
def reader_settings(reader: str, questions: Sequence[Question]) -> Iterator[dict[str, Any] | None]:
    """Settings overrides for the reader: none offline; for `oracle`, the LLM path against a local
    stub that knows the answers (started here, on 127.0.0.1, and stopped on exit)."""
    if reader == "offline":
        yield None
        return
    from benchmarks.oracle_reader import OracleReader
    from tests.support.stub_openai import StubOpenAI

    oracle = OracleReader({q.question: q.answers for q in questions})
    with StubOpenAI(oracle) as stub:
        yield {"llm": {"backend": "openai", "base_url": stub.base_url, "api_key": "stub", "max_retries": 0}}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--split", choices=("all", "dev", "val", "test"), default="dev")
    parser.add_argument(
        "--manuals",
        help=f"comma list of manuals to index, from {','.join(MANUALS)} "
        f"(default: {','.join(default_manuals('dev'))}; --split val: {','.join(default_manuals('val'))})",
    )
    parser.add_argument("--kinds", help="comma list of question kinds")
    parser.add_argument("--limit", type=int, help="first N questions only (after --kinds)")
    parser.add_argument("--reader", choices=("offline", "oracle"), default="offline")
    parser.add_argument("--removal", action="store_true", help="also run answerable questions with gold pages withheld")
    parser.add_argument(
        "--removal-sample", type=int, help="run the removal half on N answerable questions spread over the split"
    )
    parser.add_argument("--out", help="results name (default longdocs_agent, or longdocs_agent_oracle)")
    parser.add_argument(
        "--budget-chars", type=int, help="Settings.retrieval.budget_chars of every hop (default: the setting's)"
    )
    parser.add_argument("--strategy", help="Settings.retrieval.strategy of every hop (default: the setting's)")
    parser.add_argument(
        "--acceptance",
        choices=("rules", "learned"),
        help="OfflineThresholds.acceptance of the offline reader (default: the setting's)",
    )
    parser.add_argument("--acceptance-threshold", type=float, help="OfflineThresholds.acceptance_threshold")
    parser.add_argument(
        "--reader-option",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help="an OfflineThresholds field for the offline reader (repeatable), e.g. entry_meaning=true",
    )
    args = parser.parse_args(argv)

    manuals = args.manuals.split(",") if args.manuals else default_manuals(args.split)
    questions = [q for q in load_questions(split=args.split) if q.manual in manuals]
    if args.kinds:
        questions = [q for q in questions if q.kind in args.kinds.split(",")]
    questions = questions[: args.limit] if args.limit else questions
    out_name = args.out or ("longdocs_agent" if args.reader == "offline" else "longdocs_agent_oracle")
    embedder = make_embedder()
    payload: dict[str, Any] = {"split": args.split, "reader": args.reader, "manuals": manuals}
    retrieval = {k: v for k, v in (("budget_chars", args.budget_chars), ("strategy", args.strategy)) if v is not None}
    payload["retrieval"] = retrieval
    roles = offline_roles_with(args.acceptance, args.acceptance_threshold, args.reader_option)
    payload["acceptance"] = {"mode": args.acceptance, "threshold": args.acceptance_threshold}
    payload["reader_options"] = args.reader_option
    with reader_settings(args.reader, questions) as reader_overrides:
        overrides = {**(reader_overrides or {}), **({"retrieval": retrieval} if retrieval else {})} or None
        agent, meta = build_index(manuals, embedder, settings=overrides, roles=roles)
        payload["index"] = meta
        rows = run_questions(agent, questions, "main")
        agent.close()
        removal: list[dict[str, Any]] = []
        if args.removal:
            answerable = spread([q for q in questions if q.answerable], args.removal_sample)
            withheld = sorted({p for q in answerable for p in q.gold_pages})
            bare, bare_meta = build_index(
                manuals, embedder, withheld=withheld, name="withheld", settings=overrides, roles=roles
            )
            payload["removal_index"] = {**bare_meta, "withheld_pages": withheld}
            removal = run_questions(bare, answerable, "removal")
            bare.close()
    table = [summarise("all", rows)]
    table += [summarise(kind, [r for r in rows if r["kind"] == kind]) for kind in KINDS]
    table = [t for t in table if t["n"]]
    if removal:
        table.append(summarise("gold removed", removal))
    columns = ["group", "n", "correct", "f1", "gold_cited", "pages_cited", "supported", "answered"]
    columns += ["supported_unans", "abstained_unans", "s_per_q"]
    print()
    print_table(table, columns)
    payload.update({"questions": len(questions), "table": table, "per_question": rows, "per_question_removal": removal})
    path = write_results(out_name, payload)
    print(f"\nwrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
