"""Where plain-word questions are lost (#18, dev only): one row per question, printed and written.

    python -m benchmarks.plain_diagnose --split dev            # plain-word questions of the dev manuals
    python -m benchmarks.plain_diagnose --split dev --removal  # the same, gold pages withheld

For each question (the question avoids the name of the entry that answers it) the row says whether
the answer string is in the evidence the solver read, whether an entry *named* by the answer is
there (its heading holds the answer), where the answer ranks among the solver's candidates, what
the draft said and why the verifier declined it, and the entry-meaning reading of
`graphs/roles/offline/entry_meaning.py` (which entry it picks, its margin, whether it would accept).
A diagnostic for dev questions only: val and test questions are never read question by question.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from benchmarks.hotpot import write_results
from benchmarks.structdocs_corpus import Question, default_manuals, load_questions, page_of
from benchmarks.structdocs_index import build_index, make_embedder
from benchmarks.structdocs_metrics import answer_scores, contains
from graphs.roles.base import Roles
from graphs.roles.offline import OfflineComposer, OfflinePlanner, OfflineSolver, OfflineVerifier
from graphs.roles.offline.candidates import gather_candidates
from graphs.roles.offline.entry_meaning import EntryMeaning, entry_readings
from graphs.state import EvidenceItem
from graphs.text.answer_types import answer_type
from graphs.text.entries import parse_entry
from policies.offline import OfflineThresholds


class Recorder:
    """Keeps what the solver and verifier saw in the last run (one run at a time)."""

    def __init__(self) -> None:
        self.evidence: dict[str, list[EvidenceItem]] = {}
        self.draft: dict[str, Any] = {}
        self.report: dict[str, Any] = {}


def recording_roles(recorder: Recorder, thresholds: OfflineThresholds) -> Any:
    class Solver(OfflineSolver):
        def finalize(self, task, plan_kind, plan_info, subgoals, evidence):  # type: ignore[no-untyped-def]
            recorder.evidence = evidence
            draft, usage = super().finalize(task, plan_kind, plan_info, subgoals, evidence)
            recorder.draft = dict(draft)
            return draft, usage

    class Verifier(OfflineVerifier):
        def verify(self, task, draft, evidence):  # type: ignore[no-untyped-def]
            report, usage = super().verify(task, draft, evidence)
            recorder.report = dict(report)
            return report, usage

    return lambda index: Roles(
        OfflinePlanner(), Solver(thresholds), Verifier(index.embedder, thresholds), OfflineComposer()
    )


def _answer_in(text: str, q: Question) -> bool:
    return all(contains(part, text) for part in q.answers)


def diagnose(
    q: Question, recorder: Recorder, result: Any, meaning: EntryMeaning, t: OfflineThresholds
) -> dict[str, Any]:
    items = [e for sub in recorder.evidence.values() for e in sub]
    first = next(iter(recorder.evidence.values()), [])
    in_evidence = any(_answer_in(e["text"] + " " + " ".join(e["section"]), q) for e in items)
    gold_page = any(page_of(e["source"]) in q.gold_pages for e in items)
    named_entry = [
        e["section"][-1]
        for e in items
        if e["section"] and parse_entry(e["section"][-1]) and _answer_in(e["section"][-1], q)
    ]
    pool = gather_candidates(t, q.question, first, answer_type(q.question))
    ranked = sorted(pool.combined(t.agreement).items(), key=lambda kv: -kv[1])
    surfaces = [pool.surface[k] for k, _ in ranked]
    rank = next((i for i, s in enumerate(surfaces) if _answer_in(s, q)), None)
    choice = meaning.choose(q.question, first)
    readings = entry_readings(first)
    sims = meaning.similarities(q.question, readings)
    pool_rows = [
        {
            "name": rd.entry.name,
            "sim": round(sim, 4),
            "sent": round(max((s.get("sim", 0.0) for e in rd.items for s in e["sentences"]), default=0.0), 4),
            "hit": min(i for i, e in enumerate(first) if e in rd.items),
            "right": _answer_in(rd.entry.name, q),
        }
        for rd, sim in zip(readings, sims, strict=True)
    ]
    items_sent = [round(max((s.get("sim", 0.0) for s in e["sentences"]), default=0.0), 4) for e in first]
    reasons = [r for c in recorder.report.get("claims", []) for r in c.get("reasons", [])]
    correct, _ = answer_scores(result.short_answer, q.answers)
    return {
        "id": q.id,
        "manual": q.manual,
        "atype": answer_type(q.question).kind,
        "gold_page_in_evidence": gold_page,
        "answer_in_evidence": in_evidence,
        "answer_entry_in_evidence": bool(named_entry),
        "candidate_rank": rank,
        "top_candidates": surfaces[:3],
        "draft": recorder.draft.get("short_answer", ""),
        "short_answer": result.short_answer,
        "correct": correct,
        "supported": bool(result.supported),
        "reasons": reasons[:3],
        "meaning_choice": choice.name if choice else None,
        "meaning_right": bool(choice and _answer_in(choice.name, q)),
        "meaning_margin": round(choice.lead, 4) if choice else None,
        "meaning_top": round(choice.similarity, 4) if choice else None,
        "meaning_accepts": bool(choice and choice.accepted),
        "entries": pool_rows,
        "items_sent": items_sent,
        "items": len(first),
        "where": [(e["title"][:40], " > ".join(e["section"])[:80], round(e["score"], 3)) for e in first],
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--split", choices=("dev",), default="dev")
    parser.add_argument("--kinds", default="plain")
    parser.add_argument("--removal", action="store_true", help="run against the index without the gold pages")
    args = parser.parse_args(argv)
    manuals = default_manuals(args.split)
    questions = [q for q in load_questions(split=args.split) if q.manual in manuals and q.kind in args.kinds.split(",")]
    embedder = make_embedder()
    t = OfflineThresholds()
    recorder = Recorder()
    # As `longdocs_agent --removal` withholds them: every answerable question's gold pages (one cached index).
    answerable = [q for q in load_questions(split=args.split) if q.manual in manuals and q.answerable]
    withheld = sorted({p for q in answerable for p in q.gold_pages}) if args.removal else []
    agent, _ = build_index(
        manuals,
        embedder,
        withheld=withheld,
        name="withheld" if withheld else "tree",
        roles=recording_roles(recorder, t),
    )
    meaning = EntryMeaning(embedder)
    rows = []
    for q in questions:
        result = agent.run(q.question)
        rows.append(diagnose(q, recorder, result, meaning, t))
        r = rows[-1]
        print(
            f"{r['id']:9} {r['atype']:10} page={int(r['gold_page_in_evidence'])} ans={int(r['answer_in_evidence'])} "
            f"entry={int(r['answer_entry_in_evidence'])} rank={r['candidate_rank']} draft={r['draft'][:24]!r} "
            f"ok={r['correct']:.0f} sup={int(r['supported'])} meaning={r['meaning_choice']!r} "
            f"right={int(r['meaning_right'])} m={r['meaning_margin']} s={r['meaning_top']} acc={int(r['meaning_accepts'])}",
            flush=True,
        )
    agent.close()
    n = len(rows) or 1
    summary = {
        k: round(sum(bool(r[k]) for r in rows) / n, 3)
        for k in ("gold_page_in_evidence", "answer_in_evidence", "answer_entry_in_evidence", "correct", "supported")
    }
    summary["candidate_top"] = round(sum(r["candidate_rank"] == 0 for r in rows) / n, 3)
    summary["candidate_any"] = round(sum(r["candidate_rank"] is not None for r in rows) / n, 3)
    summary["meaning_right"] = round(sum(r["meaning_right"] for r in rows) / n, 3)
    summary["meaning_accepts"] = round(sum(r["meaning_accepts"] for r in rows) / n, 3)
    summary["meaning_accepts_right"] = round(sum(r["meaning_accepts"] and r["meaning_right"] for r in rows) / n, 3)
    print(summary)
    name = "plain_diagnose_removal" if args.removal else "plain_diagnose"
    print(write_results(name, {"split": args.split, "removal": args.removal, "summary": summary, "rows": rows}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
