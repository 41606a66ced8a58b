"""Fit the offline verifier's learned acceptance model (#18 deliverable 4), from scratch, in one command:

    python -m benchmarks.fit_acceptance                 # collect drafts, fit, write the weights
    python -m benchmarks.fit_acceptance --reuse         # re-fit on the drafts collected last time

It runs the agent (`acceptance="rules"`, default settings otherwise) on the tuning questions only:
the dev structured-document questions (click, requests, git; answerable ones also on an index
without their gold pages), HotpotQA dev questions 0-49 (pooled, and with their gold paragraphs
removed; and in the distractor setting, each over its own ten paragraphs and over those less its
gold ones) and the invented mini-corpora of `benchmarks/acceptance_corpora/` (three to four pages
each; every answerable question again without its page) — so corpora of a user's first folder's
size are fitted on too. `--sources` re-collects only some of these. Every verified draft with a headline gives one row: its acceptance features
(`graphs/roles/offline/acceptance.py`, read from the run's `verify` trace events) and a label —
right when the benchmark's normaliser finds the answer in it (structured documents: every answer
part; HotpotQA: exact match), wrong otherwise, and always wrong with the gold pages removed or on
a written-unanswerable question. Only drafts the rules pass are fitted on: those are the ones the
model decides about.

A standardised, L2-regularised logistic regression (scikit-learn, needed only here) is fitted; the
threshold is the lowest that keeps the share of *unanswerable* drafts accepted (gold removed or
written unanswerable) at or below `--max-unanswerable` on the dev structured questions, both by
leave-one-manual-out scores and by the shipped model's own (the higher of the two). Reported:
leave-one-manual-out scores on dev (fit on the two other manuals plus HotpotQA, score the third —
the honest estimate), the trade-off curve (answered correct vs unanswerable supported, per
threshold), per manual. Writes `graphs/roles/offline/acceptance_weights.json` and
`benchmarks/results/fit_acceptance.json`. Val and test questions are never read.

The curve is simulated on the rules run (a declined draft becomes `not_found`); the agent with
`acceptance="learned"` may re-plan after a decline, so confirm the chosen point with
`python -m benchmarks.longdocs_agent --split dev --removal`.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ["HRAGENT_ACCEPTANCE_FEATURES"] = "1"  # the rules runs must report the features it fits on

import numpy as np

from benchmarks.hotpot import RESULTS, write_results
from graphs.roles.offline.acceptance import FEATURES
from graphs.roles.offline.acceptance_model import FORMAT, WEIGHTS_PATH

ROWS = RESULTS / "acceptance_rows.json"
TUNED_HOTPOT = range(0, 50)


def drafts_of(result: Any) -> list[dict[str, Any]]:
    """(short answer, passed, features) of every verified draft of a run, in order."""
    out = []
    for ev in result.trace:
        detail = ev.detail if hasattr(ev, "detail") else ev["detail"]
        if ev.node != "verify" or not (detail.get("acceptance") or {}).get("features"):
            continue
        out.append(
            {
                "short_answer": detail.get("short_answer", ""),
                "passed": bool(detail.get("passed")),
                "features": detail["acceptance"]["features"],
            }
        )
    return out


def final_index(result: Any, drafts: Sequence[dict[str, Any]]) -> int | None:
    """Which draft a supported result headlines (the last passing draft with its answer), if any."""
    if not result.supported:
        return None
    key = result.short_answer.strip().lower()
    hits = [i for i, d in enumerate(drafts) if d["passed"] and d["short_answer"].strip().lower() == key]
    hits = hits or [i for i, d in enumerate(drafts) if d["passed"]]
    return hits[-1] if hits else None


def rules_roles() -> Any:
    """The offline roles with the rules alone deciding, reporting every draft's features: the drafts
    the model will judge (the default, acceptance="auto", would gate them with the current weights)."""
    from graphs.roles.offline import offline_roles
    from policies.offline import OfflineThresholds

    thresholds = OfflineThresholds(acceptance="rules", acceptance_features=True)
    return lambda index: offline_roles(index.embedder, thresholds)


def _rows_for(result: Any, base: dict[str, Any], label_of: Any) -> list[dict[str, Any]]:
    drafts = drafts_of(result)
    final = final_index(result, drafts)
    rows = []
    for i, d in enumerate(drafts):
        rows.append(base | d | {"label": int(label_of(d["short_answer"])), "final": i == final})
    if not drafts:
        rows.append(base | {"short_answer": "", "passed": False, "features": None, "label": 0, "final": False})
    return rows


def collect_structdocs() -> list[dict[str, Any]]:
    from benchmarks.structdocs_corpus import default_manuals, load_questions
    from benchmarks.structdocs_index import build_index, make_embedder
    from benchmarks.structdocs_metrics import answer_scores

    manuals = default_manuals("dev")
    questions = [q for q in load_questions(split="dev") if q.manual in manuals]
    embedder = make_embedder()
    rows: list[dict[str, Any]] = []
    agent, _ = build_index(manuals, embedder, roles=rules_roles())
    for n, q in enumerate(questions, 1):
        if n % 25 == 0:
            print(f"  structdocs main {n}/{len(questions)}", flush=True)
        result = agent.run(q.question)
        group = "main" if q.answerable else "unanswerable"
        base = {"source": "structdocs", "manual": q.manual, "qid": q.id, "kind": q.kind, "group": group}
        rows += _rows_for(result, base, lambda a, q=q: q.answerable and answer_scores(a, q.answers)[0] >= 1.0)
    agent.close()
    answerable = [q for q in questions if q.answerable]
    withheld = sorted({p for q in answerable for p in q.gold_pages})
    bare, _ = build_index(manuals, embedder, withheld=withheld, name="withheld", roles=rules_roles())
    for n, q in enumerate(answerable, 1):
        if n % 25 == 0:
            print(f"  structdocs gold removed {n}/{len(answerable)}", flush=True)
        result = bare.run(q.question)
        base = {"source": "structdocs", "manual": q.manual, "qid": q.id, "kind": q.kind, "group": "removal"}
        rows += _rows_for(result, base, lambda _a: False)
    bare.close()
    return rows


def _distractor_removed_agent(i: int, record: dict[str, Any], embedder: Any) -> Any:
    """Question i's own ten paragraphs less its gold ones: a small corpus that cannot answer it."""
    from agent import Agent
    from benchmarks.agent import _ingested, bench_settings
    from benchmarks.hotpot import CACHE, corpus_key, gold_titles, materialise, pooled_corpus

    withheld = set(gold_titles(record))
    corpus = {t: text for t, text in pooled_corpus([record]).items() if t not in withheld}
    name = f"distractor-removed-q{i:03d}-{corpus_key(corpus)}"
    folder = materialise(corpus, name)
    agent = Agent(CACHE / "indexes" / name, settings=bench_settings(), embedder=embedder, roles=rules_roles())
    return _ingested(agent, folder)


def collect_hotpot_distractor() -> list[dict[str, Any]]:
    """HotpotQA 0-49 in the distractor setting: each question over its own ten paragraphs (a small
    corpus), and over those less its gold paragraphs (eight pages, none answering it)."""
    from benchmarks.agent import distractor_agent
    from benchmarks.hotpot import exact_match, load_questions
    from benchmarks.structdocs_index import make_embedder

    records = load_questions()
    embedder = make_embedder()
    rows: list[dict[str, Any]] = []
    for i in TUNED_HOTPOT:
        rec = records[i]
        base = {"source": "hotpot-distractor", "manual": "hotpot-distractor", "qid": str(i), "kind": rec["type"]}
        with distractor_agent(i, rec, embedder, rules_roles()) as agent:
            result = agent.run(rec["question"])
        rows += _rows_for(result, base | {"group": "main"}, lambda a, g=rec["answer"]: exact_match(a, g) >= 1.0)
        with _distractor_removed_agent(i, rec, embedder) as agent:
            result = agent.run(rec["question"])
        rows += _rows_for(result, base | {"group": "removal"}, lambda _a: False)
    return rows


MINI_CORPORA = Path(__file__).with_name("acceptance_corpora")


def _mini_agent(name: str, pages: dict[str, str], embedder: Any) -> Any:
    from agent import Agent
    from benchmarks.agent import _ingested, bench_settings
    from benchmarks.hotpot import CACHE, corpus_key

    key = corpus_key(pages, extra="mini")
    folder = CACHE / "corpora" / f"mini-{name}-{key}"
    folder.mkdir(parents=True, exist_ok=True)
    for file, text in pages.items():
        (folder / file).write_text(text, encoding="utf-8")
    index = CACHE / "indexes" / f"mini-{name}-{key}"
    return _ingested(Agent(index, settings=bench_settings(), embedder=embedder, roles=rules_roles()), folder)


def collect_mini() -> list[dict[str, Any]]:
    """The invented mini-corpora of `benchmarks/acceptance_corpora/` (a few pages each, written for
    this fit): every question on the whole corpus, and each answerable one again without its page."""
    from benchmarks.structdocs_index import make_embedder
    from benchmarks.structdocs_metrics import answer_scores

    embedder = make_embedder()
    rows: list[dict[str, Any]] = []
    for spec in sorted(MINI_CORPORA.glob("*/questions.json")):
        name = spec.parent.name
        pages = {p.name: p.read_text(encoding="utf-8") for p in sorted((spec.parent / "pages").glob("*.md"))}
        questions = json.loads(spec.read_text(encoding="utf-8"))
        with _mini_agent(name, pages, embedder) as agent:
            for n, q in enumerate(questions):
                group = "main" if q["page"] else "unanswerable"
                base = {
                    "source": "mini",
                    "manual": f"mini-{name}",
                    "qid": str(n),
                    "kind": q.get("kind", ""),
                    "group": group,
                }
                parts = [[a] for a in q["answers"]]
                right = (
                    (lambda a, parts=parts: bool(parts) and answer_scores(a, parts)[0] >= 1.0)
                    if q["page"]
                    else (lambda _a: False)
                )
                rows += _rows_for(agent.run(q["question"]), base, right)
        for page in sorted({q["page"] for q in questions if q["page"]}):
            with _mini_agent(name, {f: t for f, t in pages.items() if f != page}, embedder) as agent:
                for n, q in enumerate(questions):
                    if q["page"] == page:
                        base = {
                            "source": "mini",
                            "manual": f"mini-{name}",
                            "qid": str(n),
                            "kind": q.get("kind", ""),
                            "group": "removal",
                        }
                        rows += _rows_for(agent.run(q["question"]), base, lambda _a: False)
    return rows


def collect_hotpot() -> list[dict[str, Any]]:
    from benchmarks.agent import pooled_agent, removal_agent
    from benchmarks.hotpot import exact_match, load_questions

    records = load_questions()
    idx = list(TUNED_HOTPOT)
    shared = pooled_agent(records, distractors=False, roles=rules_roles())
    rows: list[dict[str, Any]] = []
    for i in idx:
        rec = records[i]
        base = {"source": "hotpot", "manual": "hotpot", "qid": str(i), "kind": rec["type"], "group": "main"}
        rows += _rows_for(shared.run(rec["question"]), base, lambda a, g=rec["answer"]: exact_match(a, g) >= 1.0)
    bare = removal_agent(records, idx, distractors=False, embedder=shared.embedder, roles=rules_roles())
    for i in idx:
        rec = records[i]
        base = {"source": "hotpot", "manual": "hotpot", "qid": str(i), "kind": rec["type"], "group": "removal"}
        rows += _rows_for(bare.run(rec["question"]), base, lambda _a: False)
    return rows


COLLECTORS = {
    "structdocs": collect_structdocs,
    "hotpot": collect_hotpot,
    "hotpot-distractor": collect_hotpot_distractor,
    "mini": collect_mini,
}


# ----------------------------------------------------------------------------- fitting
def matrix(rows: Sequence[dict[str, Any]], features: Sequence[str] = FEATURES) -> np.ndarray:
    return np.array([[float(r["features"][f]) for f in features] for r in rows], dtype=np.float64)


def fit(rows: Sequence[dict[str, Any]], c: float, features: Sequence[str] = FEATURES) -> dict[str, Any]:
    """Standardised L2 logistic regression on the passed drafts of `rows`; returns the weights payload."""
    from sklearn.linear_model import LogisticRegression

    train = [r for r in rows if r["passed"] and r["features"]]
    x, y = matrix(train, features), np.array([r["label"] for r in train])
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale < 1e-6] = 1.0
    model = LogisticRegression(C=c, class_weight="balanced", max_iter=2000)
    model.fit((x - mean) / scale, y)
    return {
        "format": FORMAT,
        "features": list(features),
        "mean": [round(float(v), 6) for v in mean],
        "scale": [round(float(v), 6) for v in scale],
        "weights": [round(float(v), 6) for v in model.coef_[0]],
        "bias": round(float(model.intercept_[0]), 6),
        "threshold": 0.5,
        "trained_on": {"drafts": len(train), "right": int(y.sum())},
    }


def scores(payload: dict[str, Any], rows: Sequence[dict[str, Any]]) -> np.ndarray:
    if not rows:
        return np.zeros(0)
    x = matrix(rows, payload["features"])
    z = ((x - np.array(payload["mean"])) / np.array(payload["scale"])) @ np.array(payload["weights"]) + payload["bias"]
    return np.asarray(1.0 / (1.0 + np.exp(-z)))


def final_rows(rows: Sequence[dict[str, Any]]) -> dict[tuple[str, str, str], dict[str, Any] | None]:
    """Per question run (source, group, qid): the draft its supported answer rests on, or None."""
    out: dict[tuple[str, str, str], dict[str, Any] | None] = {}
    for r in rows:
        key = (r["manual"], r["group"], r["qid"])
        out.setdefault(key, None)
        if r["final"]:
            out[key] = r
    return out


def operating(
    finals: dict[tuple[str, str, str], dict[str, Any] | None], score_of: dict[int, float], t: float
) -> dict[str, Any]:
    """Simulated outcome at threshold t: a final draft scored below t is declined."""

    def kept(r: dict[str, Any] | None) -> bool:
        return r is not None and score_of.get(id(r), 1.0) >= t

    main = [r for k, r in finals.items() if k[1] == "main"]
    unans = [r for k, r in finals.items() if k[1] in {"removal", "unanswerable"}]
    removal = [r for k, r in finals.items() if k[1] == "removal"]
    n = max(1, len(main))
    return {
        "threshold": round(t, 3),
        "correct_supported": round(sum(1 for r in main if kept(r) and r["label"]) / n, 3),
        "supported": round(sum(1 for r in main if kept(r)) / n, 3),
        "wrong_supported": round(sum(1 for r in main if kept(r) and not r["label"]) / n, 3),
        "gold_removed_supported": round(sum(1 for r in removal if kept(r)) / max(1, len(removal)), 3),
        "unanswerable_supported": round(sum(1 for r in unans if kept(r)) / max(1, len(unans)), 3),
        "n_main": len(main),
        "n_unanswerable": len(unans),
    }


THRESHOLDS = [0.0, 0.2, 0.3, 0.4, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9]


def curve(
    rows: Sequence[dict[str, Any]], score_of: dict[int, float], manual: str | None = None
) -> list[dict[str, Any]]:
    chosen = [r for r in rows if manual is None or r["manual"] == manual]
    finals = final_rows(chosen)
    return [operating(finals, score_of, t) for t in THRESHOLDS]


def fold_of(row: dict[str, Any]) -> str:
    """The cross-validation fold of a row: its dev manual or mini-corpus; HotpotQA's pooled and
    distractor rows share questions, so they are held out together."""
    return "hotpot" if row["source"].startswith("hotpot") else str(row["manual"])


def choose_threshold(rows: Sequence[dict[str, Any]], score_of: dict[int, float], max_unans: float) -> float:
    """The lowest threshold on a fine grid whose unanswerable-supported share is at most `max_unans`."""
    finals = final_rows(rows)
    for t in np.linspace(0.0, 0.95, 96):
        if operating(finals, score_of, float(t))["unanswerable_supported"] <= max_unans:
            return round(float(t), 2)
    return 0.95


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reuse", action="store_true", help=f"re-fit on the rows in {ROWS.name}")
    parser.add_argument("--no-hotpot", action="store_true", help="fit on the structured-document drafts only")
    parser.add_argument(
        "--sources",
        default=",".join(COLLECTORS),
        help="collect only these row sources (comma-separated; the others are kept from the saved rows)",
    )
    parser.add_argument("--c", type=float, default=0.3, help="inverse L2 strength of the logistic regression")
    parser.add_argument(
        "--max-unanswerable", type=float, default=0.03, help="operating point: unanswerable supported on dev at most"
    )
    parser.add_argument("--out", type=Path, default=WEIGHTS_PATH)
    args = parser.parse_args(argv)

    if args.reuse:
        rows = json.loads(ROWS.read_text())
    else:
        wanted = [s.strip() for s in args.sources.split(",") if s.strip()]
        unknown = sorted(set(wanted) - set(COLLECTORS))
        if unknown:
            parser.error(f"unknown sources {unknown}; known: {sorted(COLLECTORS)}")
        kept = json.loads(ROWS.read_text()) if ROWS.exists() and set(wanted) != set(COLLECTORS) else []
        rows = [r for r in kept if r["source"] not in wanted]
        for source in wanted:
            t0 = time.perf_counter()
            new = COLLECTORS[source]()
            rows += new
            print(f"collected {len(new)} {source} drafts in {time.perf_counter() - t0:.0f}s", flush=True)
            ROWS.parent.mkdir(parents=True, exist_ok=True)
            ROWS.write_text(json.dumps(rows))
    if args.no_hotpot:
        rows = [r for r in rows if r["source"] != "hotpot"]
    rows = [r for r in rows if r["features"] is not None or not r["final"]]
    dev = [r for r in rows if r["source"] == "structdocs"]
    manuals = sorted({r["manual"] for r in dev})

    # Honest estimate: each fold (a dev manual, a mini-corpus, HotpotQA in both settings) scored by
    # a model fitted without it.
    cv_score: dict[int, float] = {}
    for m in sorted({fold_of(r) for r in rows}):
        payload = fit([r for r in rows if fold_of(r) != m], args.c)
        held = [r for r in rows if fold_of(r) == m and r["features"]]
        cv_score.update({id(r): float(s) for r, s in zip(held, scores(payload, held), strict=True)})
    payload = fit(rows, args.c)
    scored = [r for r in rows if r["features"]]
    fit_score = {id(r): float(s) for r, s in zip(scored, scores(payload, scored), strict=True)}
    threshold = choose_threshold(dev, fit_score, args.max_unanswerable)
    cv_threshold = choose_threshold(dev, cv_score, args.max_unanswerable)
    # The operating point must hold on both views of dev: the cross-manual scores (each manual scored
    # by a model fitted without it, the estimate for an unseen manual) and the in-sample scores of
    # the shipped model (what a dev run sees). Either alone can be the lower: the eighth session's
    # fit gave 0.33 cross-manual / 0.22 in-sample, the ninth's 0.12 / 0.18.
    payload["threshold"] = max(cv_threshold, threshold)
    payload["operating_point"] = (
        f"lowest threshold with unanswerable (gold removed + written unanswerable) supported <= "
        f"{args.max_unanswerable:.0%} on the dev structured questions, by both the leave-one-manual-out "
        "scores and the shipped model's own (the higher of the two)"
    )
    payload["fitted_with"] = (
        f"python -m benchmarks.fit_acceptance --c {args.c} --max-unanswerable {args.max_unanswerable}"
    )
    from benchmarks.structdocs_index import make_embedder

    payload["embedder"] = make_embedder().id  # every collector reads MiniLM similarities
    args.out.write_text(json.dumps(payload, indent=1) + "\n")

    report: dict[str, Any] = {"threshold": threshold, "cv_threshold": cv_threshold, "weights": payload}
    report["curve_dev_in_sample"] = curve(dev, fit_score)
    report["curve_dev_cross_manual"] = curve(dev, cv_score)
    report["per_manual_cross_manual"] = {m: curve(dev, cv_score, m) for m in manuals}
    report["hotpot_in_sample"] = curve([r for r in rows if r["source"] == "hotpot"], fit_score)
    for source in ("hotpot", "hotpot-distractor", "mini"):
        report[f"{source}_cross"] = curve([r for r in rows if r["source"] == source], cv_score)
    from benchmarks.hotpot import print_table

    cols = ["threshold", "correct_supported", "supported", "wrong_supported", "gold_removed_supported"]
    cols += ["unanswerable_supported"]
    for name in ("curve_dev_in_sample", "curve_dev_cross_manual", "hotpot_in_sample"):
        print(f"\n== {name}")
        print_table(report[name], cols)
    for name in ("hotpot_cross", "hotpot-distractor_cross", "mini_cross"):
        print(f"\n== {name}")
        print_table(report[name], cols)
    for m in manuals:
        print(f"\n== dev manual {m} (scored by a model fitted without it)")
        print_table(report["per_manual_cross_manual"][m], cols)
    print(
        f"\nthreshold (unanswerable <= {args.max_unanswerable:.0%}): cross-manual {cv_threshold}, in-sample "
        f"{threshold}; kept {payload['threshold']}"
    )
    print("weights:", dict(zip(payload["features"], payload["weights"], strict=True)))
    print(f"wrote {args.out} and {write_results('fit_acceptance', report)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
