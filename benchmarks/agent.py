"""The whole agent on HotpotQA dev-100, offline: answers, citations, multi-hop evidence, and the
refinement/early-exit ablation of #4 — next to trivial baselines so a metric cannot lie.

    python -m benchmarks.agent                       # distractor + pooled settings, baselines, ablation
    python -m benchmarks.agent --setting pooled --no-ablation
    python -m benchmarks.agent --distractors         # pooled with the 6,119 Wikipedia paragraphs added
    python -m benchmarks.agent --setting pooled --no-ablation --no-baselines --questions 0:50 --removal

Distractor setting: each question gets its own small index of its 10 paragraphs. Pooled setting: one
index of all 1,000 paragraphs. Tune on questions 0-49; 50-99 are reported as the untuned split (read during development, so not held out).

`--removal` (pooled setting) also runs the same questions against a second pooled index built
without the gold paragraphs of every question in the slice: those questions are unanswerable there,
and a run marked `supported` is a wrong answer stated with confidence (abstention, #18 deliverable 4).
Another paragraph of the pool may restate a removed fact, so that rate is an upper bound on the error.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")  # one core per benchmark: the machine is shared
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

import argparse
import re
import statistics
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from agent import Agent, Limits, RunResult, Settings
from benchmarks.hotpot import (
    CACHE,
    _safe_name,
    corpus_key,
    exact_match,
    f1_score,
    gold_sentences,
    gold_titles,
    load_questions,
    materialise,
    normalize_answer,
    pooled_corpus,
    print_table,
    title_of_hit,
    write_results,
)

SPLITS = {"tune": range(0, 50), "untuned": range(50, 100)}
_SENT_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'(])")


def bench_settings() -> Settings:
    return Settings(checkpointer="none", llm={"backend": "offline"}, log_level="ERROR")  # type: ignore[arg-type]


# ----------------------------------------------------------------------------- indexes
def _ingested(agent: Agent, folder: Path) -> Agent:
    """Ingest once; a marker in the index directory makes re-runs skip straight to querying."""
    marker = agent.index_dir / ".bench-ingested"
    if not marker.exists():
        agent.ingest(folder)
        marker.write_text("ok")
    # Open the vector store before parallel subgoals do: tools/index.py creates its Chroma client
    # lazily and without a lock, and two threads racing there fail (reported to the integrator).
    agent.retrieve("warm up", k=1)
    return agent


def pooled_agent(records: list[dict[str, Any]], *, distractors: bool, embedder: Any = None, roles: Any = None) -> Agent:
    corpus = pooled_corpus(records, distractors=distractors)
    name = f"pooled{'-wiki' if distractors else ''}-{corpus_key(corpus)}"
    folder = materialise(corpus, name)
    agent = Agent(CACHE / "indexes" / name, settings=bench_settings(), embedder=embedder, roles=roles)
    t0 = time.perf_counter()
    _ingested(agent, folder)
    print(f"[{name}] {len(corpus)} paragraphs ready in {time.perf_counter() - t0:.1f}s", flush=True)
    return agent


def removal_agent(
    records: list[dict[str, Any]], idx: list[int], *, distractors: bool, embedder: Any, roles: Any = None
) -> Agent:
    """The pooled index less the gold paragraphs of every question in `idx` (built once, then cached)."""
    withheld = {t for i in idx for t in gold_titles(records[i])}
    corpus = {t: text for t, text in pooled_corpus(records, distractors=distractors).items() if t not in withheld}
    name = f"removed{'-wiki' if distractors else ''}-{corpus_key(corpus)}"
    folder = materialise(corpus, name)
    agent = Agent(CACHE / "indexes" / name, settings=bench_settings(), embedder=embedder, roles=roles)
    t0 = time.perf_counter()
    _ingested(agent, folder)
    print(f"[{name}] {len(corpus)} paragraphs ({len(withheld)} gold withheld) ready in {time.perf_counter() - t0:.1f}s")
    return agent


def distractor_agent(i: int, record: dict[str, Any], embedder: Any, roles: Any = None) -> Agent:
    corpus = pooled_corpus([record])
    name = f"distractor-q{i:03d}-{corpus_key(corpus)}"
    folder = materialise(corpus, name)
    agent = Agent(CACHE / "indexes" / name, settings=bench_settings(), embedder=embedder, roles=roles)
    return _ingested(agent, folder)


# ----------------------------------------------------------------------------- scoring one run
def _sentence_match(quote: str, gold: str) -> bool:
    q, g = normalize_answer(quote), normalize_answer(gold)
    if not q or not g:
        return False
    if q in g or g in q:
        return min(len(q), len(g)) >= 0.6 * max(len(q), len(g))
    return f1_score(quote, gold) >= 0.8


def titles_of(sources: Iterable[str], by_file: dict[str, str]) -> list[str]:
    return list(dict.fromkeys(by_file.get(Path(s).name, "") for s in sources if by_file.get(Path(s).name)))


def evidence_sources(result: RunResult) -> list[str]:
    """Every document the run retrieved over all hops (the `retrieve` trace events name them)."""
    out: list[str] = []
    for ev in result.trace:
        if ev.node == "retrieve":
            out.extend(ev.detail.get("sources", []))
    return list(dict.fromkeys(out))


def score_run(record: dict[str, Any], result: RunResult, by_file: dict[str, str]) -> dict[str, Any]:
    gold = gold_titles(record)
    gold_sents = gold_sentences(record)
    evidence = titles_of(evidence_sources(result), by_file)
    cited = titles_of((c.source for c in result.citations), by_file)
    quotes = [c.quote for c in result.citations]
    matched_quotes = sum(any(_sentence_match(q, g) for g in gold_sents) for q in quotes)
    matched_gold = sum(any(_sentence_match(q, g) for q in quotes) for g in gold_sents)
    return {
        "answer": result.short_answer,
        "em": exact_match(result.short_answer, record["answer"]),
        "f1": f1_score(result.short_answer, record["answer"]),
        "sp_precision": matched_quotes / len(quotes) if quotes else 0.0,
        "sp_recall": matched_gold / len(gold_sents) if gold_sents else 0.0,
        "evidence_recall": len(set(gold) & set(evidence)) / len(gold),
        "evidence_both": float(set(gold) <= set(evidence)),
        "cited_recall": len(set(gold) & set(cited)) / len(gold),
        "cited_both": float(set(gold) <= set(cited)),
        "paragraphs_retrieved": len(evidence),
        "paragraphs_cited": len(cited),
        "chars_cited": sum(len(q) for q in dict.fromkeys(quotes)),
        "supported": float(result.supported),
        "answered": float(str(result.outcome) != "not_found"),
        "hops": result.stats.hops,
        "refinements": result.stats.refinements,
        "llm_calls": result.stats.llm_calls,
        "halt": result.halt_reason,
        "seconds": result.stats.elapsed_s,
    }


def _mean(rows: list[dict[str, Any]], key: str) -> float:
    return round(statistics.fmean(r[key] for r in rows), 4) if rows else 0.0


METRICS = [
    "em",
    "f1",
    "sp_precision",
    "sp_recall",
    "evidence_recall",
    "evidence_both",
    "cited_recall",
    "cited_both",
    "supported",
    "answered",
    "paragraphs_retrieved",
    "paragraphs_cited",
    "chars_cited",
    "hops",
    "refinements",
    "llm_calls",
    "seconds",
]


def summarise(rows: list[dict[str, Any]], idx: list[int]) -> dict[str, dict[str, float]]:
    """Means over all questions and per split (tune 0-49, untuned 50-99)."""
    out: dict[str, dict[str, float]] = {}
    by_q = dict(zip(idx, rows, strict=True))
    for split, rng in {"all": range(0, 10_000), **SPLITS}.items():
        part = [by_q[i] for i in idx if i in rng]
        if part:
            keys = [k for k in METRICS if k in part[0]]
            out[split] = {k: _mean(part, k) for k in keys} | {"n": len(part)}
    return out


# ----------------------------------------------------------------------------- runs
AgentFor = Callable[[int], Agent]


def run_agent(
    records: list[dict[str, Any]],
    idx: list[int],
    agent_for: AgentFor,
    by_file: dict[str, str],
    principal: Callable[[int], Any],
    limits: dict[str, Any] | None = None,
    label: str = "",
) -> list[dict[str, Any]]:
    rows = []
    t0 = time.perf_counter()
    for n, i in enumerate(idx, start=1):
        rec = records[i]
        result = agent_for(i).run(rec["question"], limits=limits, principal=principal(i))
        row = score_run(rec, result, by_file) | {"q": i, "gold": rec["answer"], "type": rec["type"]}
        rows.append(row)
        if n % 25 == 0:
            print(
                f"  [{label}] {n}/{len(idx)}  F1 {_mean(rows, 'f1'):.3f}  {time.perf_counter() - t0:.0f}s", flush=True
            )
    return rows


def first_sentence(text: str) -> str:
    body = "\n".join(line for line in text.splitlines() if not line.startswith("#")).strip()
    return _SENT_END.split(body, maxsplit=1)[0] if body else ""


def baselines(
    records: list[dict[str, Any]], idx: list[int], agent_for: AgentFor, principal: Callable[[int], Any], k_match: int
) -> dict[str, dict[str, dict[str, float]]]:
    """Always 'yes'; first sentence of the top hit; single-shot flat retrieval at R@2/5 and at the
    agent's own paragraph count (so the agent's recall is never compared with a smaller budget)."""
    yes, first, flat = [], [], []
    for i in idx:
        rec = records[i]
        gold = set(gold_titles(rec))
        agent = agent_for(i)
        yes.append({"em": exact_match("yes", rec["answer"]), "f1": f1_score("yes", rec["answer"])})
        top = agent.retrieve(rec["question"], k=1, principal=principal(i))
        guess = first_sentence(top[0].text) if top else ""
        first.append({"em": exact_match(guess, rec["answer"]), "f1": f1_score(guess, rec["answer"])})
        hits = agent.retrieve(rec["question"], k=max(10, k_match) * 3, strategy="flat", principal=principal(i))
        ranked = list(dict.fromkeys(t for h in hits if (t := title_of_hit(h))))
        row: dict[str, float] = {}
        for k in (2, 5, 10, k_match):
            found = gold & set(ranked[:k])
            row[f"recall@{k}"] = len(found) / len(gold)
            row[f"both@{k}"] = float(found == gold)
        flat.append(row)

    def split_means(rows: list[dict[str, float]]) -> dict[str, dict[str, float]]:
        by_q = dict(zip(idx, rows, strict=True))
        out = {}
        for split, rng in {"all": range(0, 10_000), **SPLITS}.items():
            part = [by_q[i] for i in idx if i in rng]
            if part:
                out[split] = {k: round(statistics.fmean(r[k] for r in part), 4) for k in part[0]} | {"n": len(part)}
        return out

    return {"always_yes": split_means(yes), "first_sentence_top_hit": split_means(first), "flat": split_means(flat)}


ABLATION = [(r, e) for r in (0, 1, 2) for e in (True, False)]


def ablation_limits(refinements: int, early_exit: bool) -> dict[str, Any]:
    # Early exit off: a threshold no confidence reaches, so every allowed refinement runs.
    return {
        "max_refinements": refinements,
        "early_exit_threshold": Limits().early_exit_threshold if early_exit else 1.0,
    }


def by_title_file(corpus: dict[str, str]) -> dict[str, str]:
    return {_safe_name(title): title for title in corpus}


# ----------------------------------------------------------------------------- report
def print_setting(name: str, summary: dict[str, Any]) -> None:
    print(f"\n== {name}: agent vs baselines (all / tune 0-49 / untuned 50-99)")
    rows = []
    for split in ("all", "tune", "untuned"):
        a = summary["agent"].get(split)
        if not a:
            continue
        rows.append({"split": split, "system": "agent"} | {k: a[k] for k in METRICS if k in a})
        for base in ("always_yes", "first_sentence_top_hit"):
            b = summary["baselines"][base][split]
            rows.append({"split": split, "system": base, "em": b["em"], "f1": b["f1"]})
        flat = summary["baselines"]["flat"][split]
        k = summary["k_match"]
        rows.append(
            {
                "split": split,
                "system": "flat R@5",
                "evidence_recall": flat["recall@5"],
                "evidence_both": flat["both@5"],
                "paragraphs_retrieved": 5,
            }
        )
        rows.append(
            {
                "split": split,
                "system": f"flat R@{k}",
                "evidence_recall": flat[f"recall@{k}"],
                "evidence_both": flat[f"both@{k}"],
                "paragraphs_retrieved": k,
            }
        )
    cols = ["split", "system", "em", "f1", "sp_precision", "sp_recall", "evidence_recall", "evidence_both"]
    cols += ["cited_recall", "cited_both", "paragraphs_retrieved", "paragraphs_cited", "chars_cited", "hops", "seconds"]
    print_table(rows, cols)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--setting", choices=["distractor", "pooled", "both"], default="both")
    parser.add_argument("--distractors", action="store_true", help="add the 6,119 Wikipedia paragraphs to the pool")
    parser.add_argument("--questions", default="0:100", help="slice of the dev-100, e.g. 0:50")
    parser.add_argument("--no-ablation", action="store_true", help="skip the refinement/early-exit ablation")
    parser.add_argument("--no-baselines", action="store_true")
    parser.add_argument("--dump", action="store_true", help="print every question's answer")
    parser.add_argument(
        "--removal", action="store_true", help="also run the questions with their gold paragraphs removed from the pool"
    )
    parser.add_argument(
        "--acceptance",
        choices=["rules", "learned"],
        help="OfflineThresholds.acceptance of the offline reader (default: the setting's)",
    )
    parser.add_argument("--acceptance-threshold", type=float, help="OfflineThresholds.acceptance_threshold")
    args = parser.parse_args(argv)
    from benchmarks.longdocs_agent import offline_roles_with

    roles = offline_roles_with(args.acceptance, args.acceptance_threshold)
    records = load_questions()
    lo, hi = (int(x) for x in args.questions.split(":"))
    idx = list(range(lo, min(hi, len(records))))
    payload: dict[str, Any] = {"questions": [lo, hi], "settings": {}}
    payload["acceptance"] = {"mode": args.acceptance, "threshold": args.acceptance_threshold}
    pool = pooled_corpus(records, distractors=args.distractors)
    by_file = by_title_file(pool)
    shared = pooled_agent(records, distractors=args.distractors, roles=roles) if args.setting != "distractor" else None
    embedder = shared.embedder if shared else None

    settings: list[tuple[str, AgentFor]] = []
    if args.setting in ("distractor", "both"):
        cache: dict[int, Agent] = {}

        def per_question(i: int) -> Agent:
            nonlocal embedder
            if i not in cache:
                cache.clear()  # one small index open at a time
                cache[i] = distractor_agent(i, records[i], embedder, roles)
                embedder = cache[i].embedder
            return cache[i]

        settings.append(("distractor", per_question))
    if shared is not None:
        pooled_name = "pooled+wiki" if args.distractors else "pooled"
        settings.append((pooled_name, lambda _i: shared))

    for name, agent_for in settings:
        t0 = time.perf_counter()
        rows = run_agent(records, idx, agent_for, by_file, lambda _i: None, label=name)
        summary: dict[str, Any] = {"agent": summarise(rows, idx), "per_question": rows}
        k_match = max(5, round(summary["agent"]["all"]["paragraphs_retrieved"]))
        summary["k_match"] = k_match
        if not args.no_baselines:
            summary["baselines"] = baselines(records, idx, agent_for, lambda _i: None, k_match)
        summary["seconds"] = round(time.perf_counter() - t0, 1)
        if args.dump:
            for r in rows:
                mark = "ok" if r["f1"] >= 0.5 else "--"
                print(f"  {mark} q{r['q']:02d} {r['answer']!r} | gold {r['gold']!r}  ev {r['evidence_recall']:.1f}")
        if not args.no_baselines:
            print_setting(name, summary)
        else:
            print_table([{"split": s} | v for s, v in summary["agent"].items()], ["split", *METRICS])
        payload["settings"][name] = summary

    if args.removal and shared is not None:
        bare = removal_agent(records, idx, distractors=args.distractors, embedder=shared.embedder, roles=roles)
        rows = run_agent(records, idx, lambda _i: bare, by_file, lambda _i: None, label="gold removed")
        answered = payload["settings"][settings[-1][0]]["per_question"]
        removal = {
            "supported": _mean(rows, "supported"),
            "answered": _mean(rows, "answered"),
            "supported_answerable": _mean(answered, "supported"),
            "answered_answerable": _mean(answered, "answered"),
            "n": len(rows),
        }
        print("\n== gold paragraphs removed from the pool (unanswerable) vs the answerable run")
        print_table([removal], list(removal))
        if args.dump:
            for r in rows:
                if r["supported"]:
                    print(f"  supported without gold: q{r['q']:02d} {r['answer']!r} | gold {r['gold']!r}")
        payload["removal"] = removal | {"per_question": rows}

    if not args.no_ablation and settings:
        name, agent_for = settings[-1]  # the pooled setting when it ran
        print(f"\n== ablation on {name}: max_refinements x early exit (#4)")
        abl_rows = []
        payload["ablation"] = {"setting": name, "runs": []}
        for refinements, early in ABLATION:
            limits = ablation_limits(refinements, early)
            rows = run_agent(records, idx, agent_for, by_file, lambda _i: None, limits, f"r{refinements} exit={early}")
            summ = summarise(rows, idx)
            entry = {"max_refinements": refinements, "early_exit": early, "summary": summ}
            payload["ablation"]["runs"].append(entry)
            for split in ("all", "untuned"):
                s = summ.get(split)
                if s:
                    abl_rows.append(
                        {"split": split, "max_refinements": refinements, "early_exit": "on" if early else "off"}
                        | {k: s[k] for k in ("em", "f1", "refinements", "hops", "llm_calls", "seconds")}
                    )
        print_table(
            abl_rows,
            ["split", "max_refinements", "early_exit", "em", "f1", "refinements", "hops", "llm_calls", "seconds"],
        )
    path = write_results("agent", payload)
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
