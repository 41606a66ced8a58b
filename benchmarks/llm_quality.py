"""Bring-your-own-model quality benchmark: the LLM path next to the offline engine on the same
index, on the HotpotQA dev set and the structured-docs questions, with answer correct / F1,
citation precision, abstention on unanswerable questions, and calls, tokens and seconds per
question and per role (planner, reader, drafter, verifier, composer).

    python -m benchmarks.llm_quality --base-url http://127.0.0.1:8000/v1 --model Qwen/Qwen2.5-7B-Instruct
    python -m benchmarks.llm_quality --model gpt-4o-mini            # OPENAI_API_KEY from the environment
    python -m benchmarks.llm_quality --smoke                         # CI: the stub server, no model needed

Question sets (`--set`, repeatable; default `hotpot` and `structdocs`):
- `hotpot`: the shared HotpotQA dev-100 (pooled index). Questions 0-49 were used to tune the
  offline engine, 50-99 are held out. Correct = exact match; citation precision = share of
  citations quoting a gold supporting sentence.
- `structdocs`: the structured-docs questions (`benchmarks/data/structdocs_questions.json`: Click,
  Requests, git, Flask manuals from their Debian doc packages), over the cached index
  `benchmarks.structdocs_index` builds; `--split dev` (Click, Requests, git) was used to tune the
  offline engine, `--split test` (Flask) was not. Correct = every answer part found in the short
  answer (`benchmarks.structdocs_metrics`); citation precision is page-level; abstention is
  measured on the unanswerable questions (as `benchmarks.longdocs_agent` scores it).
- `longdocs` (the older python3-doc / git-doc questions) and `sample` (the bundled sample corpus).

`--smoke` runs against the local stub (`tests/support/stub_openai.py`) whose "model" is a
deterministic schema-filler that asks for one follow-up hop per subgoal
(`llm_responder.hopping`), with the hashing embedder and a few questions per set (Click only on
structured docs; skipped with a note when python-click-doc is not installed): its quality numbers
mean nothing, its calls and tokens show the call economy — with `--compare-follow-up` each set
also runs with `llm.prompt.follow_up_evidence="all"` (every gathered sentence re-sent on a
follow-up hop, the behaviour before #16; the RESULTS table uses `--smoke --set sample --questions 12`).
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

import argparse
import collections
import json
import statistics
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import structlog

from agent import Agent, RunResult, Settings
from agent.logging import configure_logging
from benchmarks.hotpot import RESULTS, ROOT, exact_match, f1_score, load_questions, normalize_answer
from benchmarks.longdocs_agent import abstained, spread
from benchmarks.structdocs_metrics import answer_scores

SAMPLE = ROOT / "agent" / "sample_corpus"
SAMPLE_QUESTIONS = ROOT / "tests" / "fixtures" / "sample_corpus_questions.json"
FOLLOW_UP_ALL = "llm, follow-up sends all"


SMOKE_QUESTIONS = 3  # per set, in smoke mode
SMOKE_MANUALS = ("click",)


def _sentence_match(quote: str, gold: str) -> bool:
    q, g = normalize_answer(quote), normalize_answer(gold)
    return bool(q and g) and (q in g or g in q or f1_score(quote, gold) >= 0.8)


def citation_precision(record: dict[str, Any], result: RunResult) -> float:
    """Share of citations on gold: a gold supporting sentence, or (structured docs) a gold page."""
    if not result.citations:
        return 0.0
    if "gold_pages" in record:
        page_of: Callable[[str], str] = record["page_of"]
        return sum(page_of(c.source) in record["gold_pages"] for c in result.citations) / len(result.citations)
    gold = record["gold_sentences"]
    return sum(any(_sentence_match(c.quote, g) for g in gold) for c in result.citations) / len(result.citations)


def correctness(record: dict[str, Any], short_answer: str) -> tuple[float, float]:
    """(correct, F1): exact match against any gold answer, or for structured docs every answer
    part found in the answer (a share for multi-part answers) and the parts' mean token F1."""
    if "parts" in record:
        return answer_scores(short_answer, record["parts"])
    answers = record.get("answers") or [record["answer"]]
    return max(exact_match(short_answer, a) for a in answers), max(f1_score(short_answer, a) for a in answers)


def score(record: dict[str, Any], result: RunResult, calls: list[dict[str, Any]]) -> dict[str, Any]:
    roles: dict[str, dict[str, float]] = defaultdict(lambda: {"calls": 0, "tokens": 0, "seconds": 0.0})
    for call in calls:
        role = roles[call.get("role") or "role"]
        role["calls"] += 1
        role["tokens"] += int(call.get("tokens", 0))
        role["seconds"] += float(call.get("ms", 0.0)) / 1000
    answerable = record.get("answerable", True)
    correct, f1 = correctness(record, result.short_answer) if answerable else (0.0, 0.0)
    return {
        "answerable": answerable,
        "correct": correct,
        "f1": f1,
        "citation_precision": citation_precision(record, result) if answerable else 0.0,
        "abstained": float(abstained(result)),
        "degraded": float(bool(result.degraded)),
        "fallbacks": [f"{d.role}:{d.reason}" for d in result.degraded],
        "calls": result.stats.llm_calls,
        "tokens": result.stats.tokens,
        "seconds": result.stats.elapsed_s,
        "hops": result.stats.hops,
        "roles": dict(roles),
    }


@contextmanager
def recorded_calls() -> Iterator[list[dict[str, Any]]]:
    """The `llm.called` events (role, tokens, ms) of everything run inside."""
    configure_logging("DEBUG", force=True)
    try:
        with structlog.testing.capture_logs() as events:
            out: list[dict[str, Any]] = []
            yield out
            out.extend(e for e in events if e.get("event") == "llm.called")
    finally:
        configure_logging("WARNING", force=True)


def run_set(agent: Agent, records: list[dict[str, Any]], label: str) -> list[dict[str, Any]]:
    rows = []
    t0 = time.perf_counter()
    for n, rec in enumerate(records, start=1):
        with recorded_calls() as calls:
            result = agent.run(rec["question"])
        rows.append(score(rec, result, calls) | {"q": n - 1})
        if n % 20 == 0:
            print(f"  [{label}] {n}/{len(records)} {time.perf_counter() - t0:.0f}s", flush=True)
    return rows


def _mean(values: Sequence[float]) -> float | None:
    return round(statistics.fmean(values), 4) if values else None


def summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Means per question: answer quality and citations over the answerable questions, abstention
    over the unanswerable ones (and `declined`: answerable ones the run declined), the rest over all."""
    answerable = [r for r in rows if r["answerable"]]
    unanswerable = [r for r in rows if not r["answerable"]]
    out: dict[str, Any] = {"n": len(rows), "unanswerable": len(unanswerable)}
    for key in ("correct", "f1", "citation_precision"):
        out[key] = _mean([r[key] for r in answerable])
    out["abstained_unans"] = _mean([r["abstained"] for r in unanswerable])
    out["declined"] = _mean([r["abstained"] for r in answerable])
    for key in ("degraded", "calls", "tokens", "seconds", "hops"):
        out[key] = _mean([r[key] for r in rows])
    roles: dict[str, dict[str, float]] = defaultdict(lambda: {"calls": 0.0, "tokens": 0.0, "seconds": 0.0})
    for row in rows:
        for role, spent in row["roles"].items():
            for k, v in spent.items():
                roles[role][k] += v / len(rows)
    out["per_role"] = {r: {k: round(v, 3) for k, v in d.items()} for r, d in sorted(roles.items())}
    # Which role fell back and why, over all questions (a real server's failures show up here).
    out["fallbacks"] = dict(sorted(collections.Counter(f for r in rows for f in r.get("fallbacks", [])).items()))
    return out


# ---------------------------------------------------------------- question sets
Opener = Callable[[dict[str, Any]], Agent]


@dataclass
class QuestionSet:
    """Scored records and how to open an agent with given LLM settings on the set's index."""

    name: str
    records: list[dict[str, Any]]
    open_agent: Opener
    notes: list[str] = field(default_factory=list)


def _on_index(index: Path, embedder: str) -> Opener:
    def open_agent(llm: dict[str, Any]) -> Agent:
        return Agent(index, settings=Settings(checkpointer="none", embedder=embedder, llm=llm))  # type: ignore[arg-type]

    return open_agent


def sample_set(tmp: Path, embedder: str) -> QuestionSet:
    records = json.loads(SAMPLE_QUESTIONS.read_text())
    return QuestionSet("sample", records, _on_index(index_for(SAMPLE, tmp / "sample", embedder), embedder))


def hotpot_set(tmp: Path, limit: int, embedder: str) -> QuestionSet:
    from benchmarks.hotpot import HOTPOT, gold_sentences, materialise, pooled_corpus

    if not HOTPOT.is_file():  # the data set lives beside the checkout (../shared/data), not in it
        note = f"hotpot skipped: {HOTPOT} is not there"
        return QuestionSet("hotpot", [], lambda llm: _never(note), notes=[note])
    chosen = load_questions()[:limit]
    folder = materialise(pooled_corpus(chosen), f"llm-quality-{len(chosen)}")
    records = [{"question": r["question"], "answer": r["answer"], "gold_sentences": gold_sentences(r)} for r in chosen]
    return QuestionSet("hotpot", records, _on_index(index_for(folder, tmp / "hotpot", embedder), embedder))


def longdocs_set(tmp: Path, split: str, limit: int, embedder: str) -> QuestionSet:
    from benchmarks.longdocs_corpus import corpus_files, page_of
    from benchmarks.longdocs_corpus import load_questions as load_longdocs

    questions = [q for q in load_longdocs() if split in ("all", q.split)][:limit]
    records = [
        {"question": q.question, "answers": list(q.answers), "gold_pages": list(q.gold_pages), "page_of": page_of}
        for q in questions
    ]
    index = index_for(corpus_files(), tmp / "longdocs", embedder)
    return QuestionSet("longdocs", records, _on_index(index, embedder))


def structdocs_questions(manuals: Sequence[str], split: str, limit: int | None) -> list[Any]:
    """The split's questions on these manuals; `limit` of them spread over the set, unanswerable
    ones in their share of it (at least one when there are two or more)."""
    from benchmarks.structdocs_corpus import load_questions as load_structdocs

    questions = [q for q in load_structdocs(split=split) if q.manual in manuals]
    if limit is None or limit >= len(questions):
        return questions
    unanswerable = [q for q in questions if not q.answerable]
    share = round(limit * len(unanswerable) / len(questions)) if unanswerable else 0
    k = min(len(unanswerable), max(share, 1 if limit >= 2 and unanswerable else 0))
    return spread([q for q in questions if q.answerable], limit - k) + spread(unanswerable, k)


def structdocs_set(manuals: Sequence[str], split: str, limit: int | None, embedder: str) -> QuestionSet:
    """The structured-docs questions on the cached index `benchmarks.structdocs_index` builds (the
    one `benchmarks.structdocs` and `benchmarks.longdocs_agent` use, with MiniLM)."""
    from benchmarks.embed_cache import CachingEmbedder
    from benchmarks.structdocs_corpus import MANUALS, page_of
    from benchmarks.structdocs_index import INDEX_SETTINGS, build_index, index_folder, make_embedder
    from tools.embeddings import make_embedder as make_plain

    missing = [MANUALS[m].package for m in manuals if not MANUALS[m].root.is_dir()]
    if missing:
        note = f"structdocs skipped: apt-get install {' '.join(missing)}"
        return QuestionSet("structdocs", [], lambda llm: _never(note), notes=[note])
    questions = structdocs_questions(manuals, split, limit)
    records = [
        {
            "question": q.question,
            "parts": q.answers,
            "gold_pages": list(q.gold_pages),
            "page_of": page_of,
            "answerable": q.answerable,
        }
        for q in questions
    ]
    vectors = make_embedder() if embedder == "minilm" else CachingEmbedder(make_plain(embedder))
    name = "tree" if embedder == "minilm" else f"tree-{embedder}"
    built, _meta = build_index(manuals, vectors, name=name)
    built.close()
    folder = index_folder(name, manuals)

    def open_agent(llm: dict[str, Any]) -> Agent:
        settings = Settings(checkpointer="none", llm=llm, index=dict(INDEX_SETTINGS))  # type: ignore[arg-type]
        return Agent(folder, settings=settings, embedder=vectors)

    return QuestionSet("structdocs", records, open_agent)


def _never(note: str) -> Agent:
    raise SystemExit(note)


def index_for(folder: Path | list[Path], where: Path, embedder: str) -> Path:
    settings = Settings(checkpointer="none", embedder=embedder, llm={"backend": "offline"})  # type: ignore[arg-type]
    with Agent(where, settings=settings) as agent:
        agent.ingest(folder)
    return where


def _cell(value: Any) -> str:
    return f"{value:>11.4g}" if isinstance(value, int | float) else f"{'-':>11}"


def print_rows(name: str, table: dict[str, dict[str, Any]]) -> None:
    cols = ["n", "correct", "f1", "citation_precision", "abstained_unans", "declined", "degraded"]
    cols += ["calls", "tokens", "seconds", "hops"]
    heads = {"citation_precision": "cite_prec", "abstained_unans": "abst_unans"}
    print(f"\n{name}")
    print(f"{'engine':<26}" + "".join(f"{heads.get(c, c):>11}" for c in cols))
    for engine, s in table.items():
        print(f"{engine:<26}" + "".join(_cell(s[c]) for c in cols))
    for engine, s in table.items():
        if s["per_role"]:
            print(f"{engine}: per role (mean per question): {json.dumps(s['per_role'])}")
        if s.get("fallbacks"):
            print(f"{engine}: fallbacks (role:reason, all questions): {json.dumps(s['fallbacks'])}")
    now, before = table.get("llm", {}).get("per_role", {}), table.get(FOLLOW_UP_ALL, {}).get("per_role", {})
    if "reader.follow_up" in now and "reader.follow_up" in before:
        new, old = now["reader.follow_up"]["tokens"], before["reader.follow_up"]["tokens"]
        print(f"follow-up reads: {new:.0f} tokens per question, {new / old:.1%} of re-sending everything ({old:.0f})")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--base-url", default=None)
    ap.add_argument("--model", default="gpt-4o-mini")
    ap.add_argument("--provider", default="auto", help="llm.provider (auto: from the base URL and model)")
    ap.add_argument("--api-key-env", default="OPENAI_API_KEY")
    ap.add_argument("--set", action="append", choices=["hotpot", "structdocs", "longdocs", "sample"], dest="sets")
    ap.add_argument("--split", choices=["dev", "val", "test", "all"], default="all", help="structdocs / longdocs split")
    ap.add_argument(
        "--manuals",
        help="structdocs manuals, comma-separated (default: the split's, see structdocs_corpus; smoke: click)",
    )
    ap.add_argument("--questions", type=int, default=None, help="per set (default all; hotpot 100; smoke 3)")
    ap.add_argument("--embedder", default="minilm", help="embedder of the benchmark indexes (hashing: fastest)")
    ap.add_argument("--smoke", action="store_true", help="the local stub server, hashing, a few questions (CI)")
    ap.add_argument("--compare-follow-up", action="store_true", help="also run with follow_up_evidence='all'")
    ap.add_argument("--llm", default="{}", help="extra Settings.llm fields as JSON (e.g. timeout_s, prompt)")
    ap.add_argument("--out", type=Path, default=None, help="JSON results path (default: benchmarks/results/)")
    args = ap.parse_args(argv)

    stub = None
    manuals = args.manuals.split(",") if args.manuals else None
    if args.smoke:
        from tests.support.llm_responder import hopping
        from tests.support.stub_openai import StubOpenAI

        stub = StubOpenAI(responder=hopping)
        args.base_url, args.embedder, args.provider = stub.base_url, "hashing", "openai"
        args.questions = args.questions or SMOKE_QUESTIONS
        manuals = manuals or list(SMOKE_MANUALS)
    from benchmarks.structdocs_corpus import default_manuals

    manuals = manuals or default_manuals(args.split)
    key = os.environ.get(args.api_key_env) or ("sk-stub" if stub else None)
    llm: dict[str, Any] = {"backend": "openai", "model": args.model, "provider": args.provider, "on_failure": "degrade"}
    llm.update(json.loads(args.llm))
    if args.base_url:
        llm["base_url"] = args.base_url
    if key:
        llm["api_key"] = key
    variants: list[tuple[str, dict[str, Any]]] = [("offline", {"backend": "offline"}), ("llm", llm)]
    if args.compare_follow_up:
        variants.append((FOLLOW_UP_ALL, {**llm, "prompt": {"follow_up_evidence": "all"}}))
    results: dict[str, dict[str, Any]] = {}
    notes: list[str] = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for name in args.sets or ["hotpot", "structdocs"]:
                qset = open_set(name, Path(tmp), args, manuals)
                notes += qset.notes
                if not qset.records:
                    continue
                table: dict[str, dict[str, Any]] = {}
                for engine, llm_settings in variants:
                    with qset.open_agent(llm_settings) as agent:
                        table[engine] = summary(run_set(agent, qset.records, f"{name}/{engine}"))
                results[name] = table
    finally:
        if stub is not None:
            stub.close()
    print(f"model={args.model if not args.smoke else 'stub'} sets={','.join(results)}")
    for name, table in results.items():
        print_rows(f"{name} (n={table['llm']['n']}, unanswerable {table['llm']['unanswerable']})", table)
    for note in notes:
        print(note)
    out = args.out or RESULTS / ("llm_quality_smoke.json" if args.smoke else "llm_quality.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    payload = {"args": {k: str(v) for k, v in vars(args).items()}, "sets": results, "notes": notes}
    out.write_text(json.dumps(payload, indent=2))
    print(f"wrote {out}")


def open_set(name: str, tmp: Path, args: argparse.Namespace, manuals: list[str]) -> QuestionSet:
    if name == "sample":
        qset = sample_set(tmp, args.embedder)
        qset.records = qset.records[: args.questions]
        return qset
    if name == "hotpot":
        return hotpot_set(tmp, args.questions or 100, args.embedder)
    if name == "longdocs":
        return longdocs_set(tmp, args.split, args.questions or 10_000, args.embedder)
    return structdocs_set(manuals, args.split, args.questions, args.embedder)


if __name__ == "__main__":
    main()
