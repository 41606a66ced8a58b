"""The offline reader's funnel on the structured-documents questions (#18): where each answer is lost.

    python -m benchmarks.reader_funnel --split dev            # per-question lines + tables (tuning split)
    python -m benchmarks.reader_funnel --split val            # tables only (untuned: aggregate)
    python -m benchmarks.reader_funnel --split test           # tables only (run once, at the end)

Runs `agent.run` (offline reader, default settings, the index `longdocs_agent` builds for the split)
on every answerable question while `benchmarks.reader_capture` records what the solver offered and
what the verifier decided, then places each question at the first stage where its answer string was
lost (`benchmarks.funnel_stages`): not in the retrieved evidence / in evidence but no candidate holds
it / a candidate but not a round's draft headline / a draft declined by the verifier or acceptance /
answered in a form the benchmark's match does not count. "correct" counts questions whose every part
is in `short_answer` ("right"; the `correct` column is `longdocs_agent`'s measure, the mean share of parts).

Tables: per kind and per manual (stage counts), then for the value and name questions (and all):
the verifier's reasons behind `declined`; the best rank a right candidate had behind `not top
draft`; behind `no candidate`, where the evidence holds the answer (heading line, entry row,
sentence, heading path, hit text only), its shape, what the candidates hold of it, the best
relevance rank of a sentence holding it (the solver reads the top `read_sentences`), whether one of
the reader's span extractors cuts it out of a sentence read and, if so, why no pool kept it (the
type prior, the question naming it, another rule of the candidate loop) and the answer types the
pools asked for; whether a gold page holds an answer `not in evidence` (else the answer key's form
is not on the page); and for every question the answer type its first pool was read with.
Per-question lines (id, kind, stage, rank, reason) are printed and written for `--split dev` only:
val and test are read as the tables, never question by question. Writes
`benchmarks/results/reader_funnel_<split>.json`.
"""

from __future__ import annotations

import argparse
import os
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from benchmarks.funnel_stages import (
    CORRECT,
    PLACES,
    STAGES,
    Trail,
    answer_shape,
    candidate_overlap,
    candidate_rank,
    decline_reason,
    evidence_place,
    held_by,
    question_stage,
    round_of,
    sentence_rank,
    spanned,
)
from benchmarks.hotpot import print_table, write_results
from benchmarks.reader_capture import Reading, captured_reading
from benchmarks.structdocs_corpus import KINDS, MANUALS, Question, default_manuals, load_questions, page_of
from benchmarks.structdocs_index import build_index, make_embedder
from benchmarks.structdocs_metrics import answer_scores, contains
from graphs.roles.offline.candidates import rank_sentences
from graphs.roles.offline.type_fit import TYPE_FIT
from graphs.text.code_spans import default_values, technical_spans
from graphs.text.spans import candidate_spans
from policies.offline import OfflineThresholds
from tools.ingest.tree import doc_id_for

FOCUS = ("value", "name")  # the kinds the tenth session's fix is chosen for


def trail_of(reading: Reading, result: Any, t: OfflineThresholds) -> Trail:
    """A run's trail from what `captured_reading` recorded and the run's result."""
    evidence: dict[str, tuple[str, str]] = {}
    for v in reading.verified:
        for items in v.evidence.values():
            for e in items:
                for s in e["sentences"]:
                    place = {"heading": "heading line", "entry_row": "entry row"}.get(s.get("kind", ""), "sentence")
                    evidence[s["node_id"]] = (place, s["text"])
                evidence[f"{e['node_id']}#path"] = ("heading path", " > ".join([e["title"], *e["section"]]))
                evidence[f"{e['node_id']}#text"] = ("hit text only", e["text"])
    candidates = []
    for pool in reading.pools:
        combined = pool.combined(t.agreement)
        candidates.append([pool.surface[k] for k in sorted(combined, key=lambda k: -combined[k])])
    candidates += [[x.answer for x in found] for found in reading.items]
    read = [[r.sent["text"] for r in rank_sentences(t, x.query, x.evidence)] for x in reading.reads]
    rounds = [round_of(str(v.draft.get("short_answer", "")), v.report) for v in reading.verified]
    return Trail(
        evidence=list(evidence.values()),
        candidates=candidates,
        read=read,
        rounds=rounds,
        short_answer=result.short_answer,
        answered=result.outcome != "not_found",
    )


def reader_spans(text: str) -> list[str]:
    """The spans the reader's extractors cut from one sentence (typed, technical, stated defaults),
    before any answer-type fit or filter: the span stage, apart from the scoring."""
    return [s.text for s in typed_spans(text)]


def typed_spans(text: str) -> list[Any]:
    return [*candidate_spans(text), *technical_spans(text), *default_values(text)]


def why_filtered(variants: Sequence[str], read: Sequence[str], reading: Reading) -> str:
    """For a part a span extractor cut out but no pool holds: `type fit` when the reader's type
    prior (`TYPE_FIT`) gives that span kind nothing under every answer type the pools asked for,
    `named by the question` when the question spells it (the reader never answers with what was
    asked), else `a rule of the candidate loop` (the sentence read as code or a value table, a
    slot's factor, a literal where none is wanted, …)."""
    kinds = {s.kind for t in read if contains(variants, t) for s in typed_spans(t) if contains(variants, s.text)}
    asked = {r.answer_type for r in reading.reads} or {"entity"}
    if kinds and all(TYPE_FIT.get(a, TYPE_FIT["entity"]).get(k, 0.05) <= 0.05 for a in asked for k in kinds):
        return "type fit"
    if any(contains(variants, r.query) for r in reading.reads):
        return "named by the question"
    return "a rule of the candidate loop"


def gold_page_texts(agent: Any, sources: Sequence[str], q: Question) -> list[str]:
    docs = [doc_id_for(s) for s in sources if page_of(s) in q.gold_pages]
    return [leaf.text for d in docs for leaf in agent.index.document_leaves(d, frozenset())]


def funnel_row(
    q: Question, trail: Trail, reading: Reading, result: Any, gold_texts: Any, seconds: float
) -> dict[str, Any]:
    """One question's place in the funnel, with what explains it (rank, reason, gold page)."""
    stage, stages = question_stage(q.answers, trail)
    lost = next((p for p, s in zip(q.answers, stages, strict=True) if s == stage), None)
    row: dict[str, Any] = {
        "id": q.id,
        "kind": q.kind,
        "manual": q.manual,
        "correct": answer_scores(result.short_answer, q.answers)[0],
        "stage": stage,
        "part_stages": stages,
        "outcome": result.outcome,
        "rounds": len(trail.rounds),
        "seconds": round(seconds, 2),
        "answer_type": reading.reads[0].answer_type if reading.reads else "none",
    }
    if lost is not None and stage == "not top draft":
        row["rank"] = candidate_rank(lost, trail.candidates)
    if lost is not None and stage == "declined":
        row["reason"] = decline_reason(lost, trail)
    if lost is not None and stage == "no candidate":
        row["place"] = evidence_place(lost, trail)
        row["shape"] = answer_shape(lost, [text for _, text in trail.evidence])
        row["overlap"] = candidate_overlap(lost, trail)
        row["sentence_rank"] = sentence_rank(lost, trail)
        read = [text for ranked in trail.read for text in ranked[: OfflineThresholds().read_sentences]]
        row["spanned"] = spanned(lost, read, reader_spans) or "not read"
        if row["spanned"] == "spanned":
            row["filtered"] = why_filtered(lost, read, reading)
            row["asked_types"] = sorted({r.answer_type for r in reading.reads})
    if lost is not None and stage == "not in evidence":
        row["on_gold_page"] = held_by(lost, gold_texts())
    return row


def run_funnel(agent: Any, questions: Sequence[Question]) -> list[dict[str, Any]]:
    thresholds = OfflineThresholds()
    sources = agent.index.sources()
    rows = []
    for i, q in enumerate(questions, 1):
        t0 = time.perf_counter()
        with captured_reading() as reading:
            result = agent.run(q.question)
        seconds = time.perf_counter() - t0
        trail = trail_of(reading, result, thresholds)
        rows.append(funnel_row(q, trail, reading, result, lambda q=q: gold_page_texts(agent, sources, q), seconds))
        if i % 20 == 0:
            print(f"    {i}/{len(questions)}", flush=True)
    return rows


def stage_table(rows: Sequence[dict[str, Any]], key: str, groups: Sequence[str]) -> list[dict[str, Any]]:
    """Per group (and all): questions, the mean correct share, and how many sit at each stage."""
    out = []
    for name in ["all", *groups]:
        sub = [r for r in rows if name == "all" or r[key] == name]
        if not sub:
            continue
        count = Counter(r["stage"] for r in sub)
        out.append(
            {
                key: name,
                "n": len(sub),
                "correct": round(sum(r["correct"] for r in sub) / len(sub), 3),
                CORRECT: count.get(CORRECT, 0),
                **{s: count.get(s, 0) for s in STAGES},
            }
        )
    return out


def detail_tables(rows: Sequence[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """For the focus kinds and all: why drafts holding the answer were declined, how far down a
    right candidate ranked, what explains an answer no candidate holds, whether an answer missing
    from the evidence is on a gold page, and the answer types questions were read with."""
    tables: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for name in [*FOCUS, "all"]:
        sub = [r for r in rows if name == "all" or r["kind"] == name]
        reasons = Counter(r["reason"] for r in sub if r["stage"] == "declined")
        tables["declined"].append({"kind": name, **dict(reasons.most_common())})
        ranks = [r.get("rank") or 0 for r in sub if r["stage"] == "not top draft"]
        tables["rank"].append(
            {
                "kind": name,
                "rank 1 (draft composed otherwise)": sum(1 for x in ranks if x == 1),
                "rank 2": sum(1 for x in ranks if x == 2),
                "rank 3-5": sum(1 for x in ranks if 3 <= x <= 5),
                "rank 6+": sum(1 for x in ranks if x >= 6),
            }
        )
        offered = [r for r in sub if r["stage"] == "no candidate"]
        places = Counter(r["place"] for r in offered)
        tables["place"].append({"kind": name, **{p: places.get(p, 0) for p in PLACES}})
        tables["shape"].append({"kind": name, **dict(Counter(r["shape"] for r in offered).most_common())})
        cap = OfflineThresholds().read_sentences
        srank = [r.get("sentence_rank") for r in offered]
        tables["read"].append(
            {
                "kind": name,
                f"read (rank <= {cap})": sum(1 for x in srank if x is not None and x <= cap),
                f"ranked below {cap}": sum(1 for x in srank if x is not None and x > cap),
                "in no ranked sentence": sum(1 for x in srank if x is None),
            }
        )
        tables["spanned"].append({"kind": name, **dict(Counter(r["spanned"] for r in offered).most_common())})
        tables["filtered"].append({"kind": name, **dict(Counter(r["filtered"] for r in offered if "filtered" in r))})
        types = Counter(",".join(r["asked_types"]) for r in offered if "filtered" in r)
        tables["types"].append({"kind": name, **dict(types.most_common())})
        typed = Counter(r["answer_type"] for r in sub)
        tables["answer_type"].append({"kind": name, **dict(typed.most_common())})
        tables["overlap"].append({"kind": name, **dict(Counter(r["overlap"] for r in offered).most_common())})
        missing = [r for r in sub if r["stage"] == "not in evidence"]
        tables["evidence"].append(
            {
                "kind": name,
                "on a gold page": sum(1 for r in missing if r.get("on_gold_page")),
                "not on a gold page": sum(1 for r in missing if not r.get("on_gold_page")),
            }
        )
    return dict(tables)


def print_detail(title: str, table: list[dict[str, Any]]) -> None:
    columns = ["kind", *dict.fromkeys(k for t in table for k in t if k != "kind")]
    print(f"\n{title}")
    print_table(table, columns)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--split", choices=("dev", "val", "test"), default="dev")
    parser.add_argument("--manuals", help=f"comma list of manuals to index, from {','.join(MANUALS)}")
    parser.add_argument("--kinds", help="comma list of question kinds")
    parser.add_argument("--limit", type=int, help="first N answerable questions only (after --kinds)")
    parser.add_argument("--out", help="results name (default reader_funnel_<split>)")
    args = parser.parse_args(argv)

    manuals = args.manuals.split(",") if args.manuals else default_manuals(args.split)
    questions = [q for q in load_questions(split=args.split) if q.manual in manuals and q.answerable]
    if args.kinds:
        questions = [q for q in questions if q.kind in args.kinds.split(",")]
    questions = questions[: args.limit] if args.limit else questions
    agent, meta = build_index(manuals, make_embedder())
    try:
        rows = run_funnel(agent, questions)
    finally:
        agent.close()
    per_question = args.split == "dev"
    if per_question:
        for r in rows:
            if r["stage"] != CORRECT:
                extra = r.get("reason") or r.get("rank") or ("gold page" if r.get("on_gold_page") else "")
                extra = (
                    f"{r['place']}, {r['shape']}, {r['overlap']}, sentence rank {r['sentence_rank']}, {r['spanned']}"
                    if r["stage"] == "no candidate"
                    else extra
                )
                print(f"{r['id']:10} {r['kind']:13} {r['stage']:16} {extra}")
    kinds = [k for k in KINDS if k != "unanswerable"]
    by_kind = stage_table(rows, "kind", kinds)
    by_manual = stage_table(rows, "manual", sorted({q.manual for q in questions}))
    details = detail_tables(rows)
    columns = ["n", "correct", CORRECT, *STAGES]
    print(f"\nfunnel by kind ({args.split}; first stage where the answer is lost)")
    print_table(by_kind, ["kind", *columns])
    print(f"\nfunnel by manual ({args.split})")
    print_table(by_manual, ["manual", *columns])
    print_detail("declined: the verifier's reason", details["declined"])
    print_detail("not top draft: best rank of a right candidate", details["rank"])
    print_detail("no candidate: where the evidence holds the answer", details["place"])
    print_detail("no candidate: the answer's shape", details["shape"])
    print_detail("no candidate: what the candidates hold of it", details["overlap"])
    print_detail("no candidate: the best relevance rank of a sentence holding it", details["read"])
    print_detail("no candidate: cut out by a span extractor of a sentence read (then filtered)?", details["spanned"])
    print_detail("no candidate, spanned: why no pool kept it", details["filtered"])
    print_detail("no candidate, spanned: the answer types the pools asked for", details["types"])
    print_detail("not in evidence: the answer on a gold page?", details["evidence"])
    print_detail("every question: the answer type its first pool asked for", details["answer_type"])
    payload: dict[str, Any] = {
        "split": args.split,
        "manuals": manuals,
        "index": meta,
        "questions": len(rows),
        "by_kind": by_kind,
        "by_manual": by_manual,
        **details,
        "s_per_q": round(sum(r["seconds"] for r in rows) / len(rows), 2) if rows else None,
    }
    if per_question:
        payload["per_question"] = rows
    path = write_results(args.out or f"reader_funnel_{args.split}", payload)
    print(f"\nwrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
