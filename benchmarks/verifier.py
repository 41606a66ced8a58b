"""The claim verifier on HotpotQA dev-100: does it accept true claims and refuse doctored ones?

    python -m benchmarks.verifier

True claims are the gold supporting sentences, lightly paraphrased by rules (pronoun resolved to the
page's subject, asides dropped, a leading date moved to the end, a few synonyms). False claims are
the same paraphrases perturbed: a number or a date swapped, a named entity swapped for another of
the same type from the corpus, a negation inserted. Each claim is judged against its gold sentence
(and the page title as heading) with `Agent.verify_claim` — the check every run applies to its claims.
Reports balanced accuracy and the false-"supported" rate per perturbation, over all questions and
per split (tune 0-49, untuned 50-99).
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

import argparse
import calendar
import random
import re
import statistics
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

from agent import Agent, Settings
from benchmarks.hotpot import CACHE, load_questions, print_table, write_results

SIMILARITY_ONLY = 0.62  # the offline verifier's support_similarity (policies/offline.py)
SPLITS = {"all": range(0, 10_000), "tune": range(0, 50), "untuned": range(50, 100)}
MONTHS = [calendar.month_name[i] for i in range(1, 13)]
_AUX = re.compile(r"\b(is|was|are|were|has|have|had|can|could|will|would|does|did)\b")
_CAP = re.compile(r"\b[A-Z][\w'’.-]*(?:\s+(?:of|the|de|and|for)?\s*[A-Z][\w'’.-]*)*")
_NUM = re.compile(r"(?<![\w.])\d[\d,]*(?:\.\d+)?(?![\w])")
_SYNONYMS = [
    (r"\bfilm\b", "movie"),
    (r"\bbegan\b", "started"),
    (r"\blocated in\b", "situated in"),
    (r"\bis known as\b", "is called"),
    (r"\balso\s+", ""),
    (r"\bapproximately\b", "about"),
    (r"\blargest\b", "biggest"),
]
_FUNCTION_CAPS = {"The", "A", "An", "In", "On", "At", "He", "She", "It", "They", "His", "Her", "Its", "Their", "This"}


@dataclass
class Case:
    q: int
    kind: str  # true | number_swap | date_swap | entity_swap | negation | other_sentence
    claim: str
    evidence: str
    title: str


def clean_title(title: str) -> str:
    return re.sub(r"\s*\([^)]*\)\s*$", "", title).strip()


# ----------------------------------------------------------------------------- paraphrase (meaning kept)
def paraphrase(sentence: str, title: str) -> str:
    s = " ".join(sentence.split())
    s = re.sub(r"^(He|She|It|They)\b", clean_title(title), s)
    s = re.sub(r"\s*\([^)]*\)", "", s)
    m = re.match(r"^(In|On|By|During)\s+([^,]{2,30}),\s+(.+?)[.]?$", s)
    if m:
        s = f"{m.group(3)} {m.group(1).lower()} {m.group(2)}."
    for pattern, repl in _SYNONYMS:
        s = re.sub(pattern, repl, s)
    s = re.split(r",\s+which\b|;\s+", s)[0]
    s = " ".join(s.split()).rstrip(" ,")
    return s if s.endswith(".") else s + "."


# ----------------------------------------------------------------------------- perturbations (meaning broken)
def swap_number(claim: str, rng: random.Random) -> tuple[str, str] | None:
    """('date_swap' | 'number_swap', claim) with one year, month or number changed."""
    nums = list(_NUM.finditer(claim))
    months = [m for m in re.finditer(r"\b(" + "|".join(MONTHS) + r")\b", claim)]
    options: list[tuple[str, Any]] = [("num", m) for m in nums] + [("month", m) for m in months]
    if not options:
        return None
    kind, m = rng.choice(options)
    if kind == "month":
        other = rng.choice([x for x in MONTHS if x != m.group(0)])
        return "date_swap", claim[: m.start()] + other + claim[m.end() :]
    raw = m.group(0)
    value = float(raw.replace(",", ""))
    if raw.isdigit() and 1000 <= value <= 2100:
        new = str(int(value) + rng.choice([-7, -5, -3, -2, -1, 1, 2, 3, 5, 7]))
        return "date_swap", claim[: m.start()] + new + claim[m.end() :]
    if "." in raw:
        new = f"{value * rng.choice([0.5, 2, 3]):.{len(raw.split('.')[-1])}f}"
    else:
        new = f"{int(value) + rng.choice([1, 2, 3, 5, 10]) if value < 20 else int(value * rng.choice([0.5, 2, 3])):,}"
        if "," not in raw:
            new = new.replace(",", "")
    if new == raw:
        return None
    return "number_swap", claim[: m.start()] + new + claim[m.end() :]


def entity_pool(records: list[dict[str, Any]]) -> dict[str, list[str]]:
    """Paragraph titles typed by their opening sentence: person, place, work, org, other."""
    pool: dict[str, set[str]] = defaultdict(set)
    for rec in records:
        for title, sents in zip(rec["context"]["title"], rec["context"]["sentences"], strict=False):
            first = sents[0] if sents else ""
            pool[entity_type(first)].add(clean_title(title))
    return {k: sorted(v) for k, v in pool.items()}


def entity_type(opening: str) -> str:
    text = opening[:200]
    if re.search(r"\((?:born|[A-Z][a-z]+ \d{1,2}, \d{4}|\d{1,2} [A-Z][a-z]+ \d{4}|\d{4}\s*[–-])", text):
        return "person"
    if re.search(
        r"\bis an? (?:[\w-]+ ){0,3}(?:city|town|village|county|state|country|region|municipality|island)\b", text
    ):
        return "place"
    if re.search(r"\bis an? (?:[\w-]+ ){0,4}(?:film|album|song|novel|book|series|game|single|magazine|show)\b", text):
        return "work"
    if re.search(r"\bis an? (?:[\w-]+ ){0,4}(?:company|band|university|team|club|organization|group|party)\b", text):
        return "org"
    return "other"


def swap_entity(
    claim: str, title: str, pool: dict[str, list[str]], types: dict[str, str], rng: random.Random
) -> str | None:
    """Replace one named entity of the claim by another of the same type from the corpus."""
    spans = [
        m for m in _CAP.finditer(claim) if m.group(0).split()[0] not in _FUNCTION_CAPS or len(m.group(0).split()) > 1
    ]
    known = [m for m in spans if m.group(0) in types]
    candidates = known or [m for m in spans if len(m.group(0)) > 3]
    if not candidates:
        return None
    m = rng.choice(candidates)
    kind = types.get(m.group(0)) or ("person" if len(m.group(0).split()) in (2, 3) else "other")
    choices = [e for e in pool.get(kind, []) if e != m.group(0) and e.lower() not in claim.lower()]
    if not choices:
        return None
    return claim[: m.start()] + rng.choice(choices) + claim[m.end() :]


def negate(claim: str) -> str | None:
    m = _AUX.search(claim)
    if m and not re.match(r"\s+(not|never)\b", claim[m.end() :]):
        return claim[: m.end()] + " not" + claim[m.end() :]
    m = re.search(r"\b([a-z]{3,}ed)\b", claim)
    if m:
        return claim[: m.start()] + "never " + claim[m.start() :]
    return None


def build_cases(records: list[dict[str, Any]], seed: int = 13) -> list[Case]:
    rng = random.Random(seed)
    pool = entity_pool(records)
    types = {name: kind for kind, names in pool.items() for name in names}
    cases: list[Case] = []
    for qi, rec in enumerate(records):
        by_title = dict(zip(rec["context"]["title"], rec["context"]["sentences"], strict=False))
        for title, sid in zip(rec["supporting_facts"]["title"], rec["supporting_facts"]["sent_id"], strict=False):
            sents = by_title.get(title, [])
            if sid >= len(sents) or len(sents[sid].split()) < 4:
                continue
            evidence = sents[sid].strip()
            claim = paraphrase(evidence, title)
            cases.append(Case(qi, "true", claim, evidence, title))
            swapped = swap_number(claim, rng)
            if swapped:
                cases.append(Case(qi, swapped[0], swapped[1], evidence, title))
            ent = swap_entity(claim, title, pool, types, rng)
            if ent and ent != claim:
                cases.append(Case(qi, "entity_swap", ent, evidence, title))
            neg = negate(claim)
            if neg:
                cases.append(Case(qi, "negation", neg, evidence, title))
            # Harder, beyond the spec: a true sentence of the same page, checked against the wrong one.
            gold_ids = {
                i
                for t, i in zip(rec["supporting_facts"]["title"], rec["supporting_facts"]["sent_id"], strict=False)
                if t == title
            }
            others = [x for i, x in enumerate(sents) if i not in gold_ids and len(x.split()) >= 6]
            if others:
                cases.append(Case(qi, "other_sentence", paraphrase(rng.choice(others), title), evidence, title))
    return cases


# ----------------------------------------------------------------------------- scoring
SPEC = ("number_swap", "date_swap", "entity_swap", "negation")


def summarise(rows: list[dict[str, Any]]) -> dict[str, Any]:
    true = [r for r in rows if r["kind"] == "true"]
    false = [r for r in rows if r["kind"] in SPEC]
    tpr = statistics.fmean(r["verdict"] == "supported" for r in true) if true else 0.0
    tnr = statistics.fmean(r["verdict"] != "supported" for r in false) if false else 0.0
    out: dict[str, Any] = {
        "n_true": len(true),
        "n_false": len(false),
        "true_supported": round(tpr, 4),
        "false_rejected": round(tnr, 4),
        "balanced_accuracy": round((tpr + tnr) / 2, 4),
        "per_perturbation": {},
    }
    other = [r for r in rows if r["kind"] == "other_sentence"]
    if other:
        tnr_all = statistics.fmean(r["verdict"] != "supported" for r in false + other)
        out["balanced_accuracy_with_other_sentence"] = round((tpr + tnr_all) / 2, 4)
    for kind in (*SPEC, "other_sentence"):
        part = [r for r in rows if r["kind"] == kind]
        if part:
            verdicts = Counter(r["verdict"] for r in part)
            out["per_perturbation"][kind] = {
                "n": len(part),
                "false_supported": round(verdicts["supported"] / len(part), 4),
                "contradicted": round(verdicts["contradicted"] / len(part), 4),
                "not_enough_evidence": round(verdicts["not_enough_evidence"] / len(part), 4),
            }
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--show", type=int, default=0, help="print this many misjudged claims")
    args = parser.parse_args(argv)
    records = load_questions()
    cases = build_cases(records)
    agent = Agent(CACHE / "indexes" / "verifier-empty", settings=Settings(checkpointer="none", log_level="ERROR"))
    t0 = time.perf_counter()
    rows = []
    for case in cases:
        judged = agent.verify_claim(case.claim, [case.evidence], section=[case.title])
        rows.append(
            {"q": case.q, "kind": case.kind, "claim": case.claim, "evidence": case.evidence}
            | {"verdict": judged.verdict, "reasons": judged.reasons}
        )
    elapsed = time.perf_counter() - t0
    # Baseline: embedding similarity alone (the verifier's own threshold), what the lexical checks add to.
    vecs = agent.embedder.embed([t for c in cases for t in (c.claim, c.evidence)])
    for i, row in enumerate(rows):
        sim = float(vecs[2 * i] @ vecs[2 * i + 1])
        row["similarity"] = round(sim, 4)
        row["similarity_only"] = "supported" if sim >= SIMILARITY_ONLY else "not_enough_evidence"
    summary = {split: summarise([r for r in rows if r["q"] in rng]) for split, rng in SPLITS.items()}
    baseline = {
        split: summarise([r | {"verdict": r["similarity_only"]} for r in rows if r["q"] in rng])
        for split, rng in SPLITS.items()
    }
    true_rows = [r for r in rows if r["kind"] == "true"]
    paraphrased = statistics.fmean(r["claim"].rstrip(".") != r["evidence"].rstrip(".") for r in true_rows)
    table = []
    for split, s in [*summary.items(), *(("similarity only: " + k, v) for k, v in baseline.items())]:
        row: dict[str, Any] = {"split": split, "true": s["n_true"], "false": s["n_false"]}
        row |= {"true_supported": s["true_supported"], "balanced_acc": s["balanced_accuracy"]}
        for kind, p in s["per_perturbation"].items():
            row[f"{kind} false-sup"] = p["false_supported"]
        table.append(row)
    cols = ["split", "true", "false", "true_supported", "balanced_acc"]
    cols += [f"{k} false-sup" for k in (*SPEC, "other_sentence")]
    print_table(table, cols)
    print(f"\n{len(rows)} claims judged in {elapsed:.1f}s; {paraphrased:.0%} of true claims differ from their evidence")
    if args.show:
        wrong = [r for r in rows if (r["kind"] == "true") != (r["verdict"] == "supported")]
        wrong.sort(key=lambda r: r["kind"] == "other_sentence")
        for r in wrong[: args.show]:
            print(f"\n[{r['kind']} -> {r['verdict']}] {r['claim']}\n   evidence: {r['evidence']}\n   {r['reasons']}")
    payload = {"summary": summary, "similarity_only": baseline, "paraphrased_share": round(paraphrased, 4)}
    path = write_results("verifier", payload | {"cases": rows, "seconds": round(elapsed, 1)})
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
