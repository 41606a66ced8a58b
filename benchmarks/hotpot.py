"""HotpotQA dev-100 helpers shared by the benchmarks: load questions, materialise the pooled corpus
(optionally with the 6,119 Wikipedia distractors) as Markdown files, build a cached index through the
public API, and score with the official normalisation."""

from __future__ import annotations

import collections
import gzip
import hashlib
import json
import os
import re
import string
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data"
HOTPOT = SHARED / "hotpotqa" / "hotpot_dev_distractor_first100.json.gz"
DISTRACTORS = SHARED / "wiki-distractors" / "wiki_paragraphs_6119.json.gz"
# HRAGENT_BENCH_CACHE lets several checkouts share built indexes and embeddings (default: in-tree).
CACHE = Path(os.environ.get("HRAGENT_BENCH_CACHE") or ROOT / "benchmarks" / ".cache")
RESULTS = ROOT / "benchmarks" / "results"


def load_questions(path: Path = HOTPOT) -> list[dict[str, Any]]:
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        return list(json.load(fh))


def gold_titles(record: dict[str, Any]) -> list[str]:
    return list(dict.fromkeys(record["supporting_facts"]["title"]))


def gold_sentences(record: dict[str, Any]) -> list[str]:
    """The supporting sentences' text (stripped), looked up by title and sentence id."""
    by_title = dict(zip(record["context"]["title"], record["context"]["sentences"], strict=False))
    out = []
    for title, sid in zip(record["supporting_facts"]["title"], record["supporting_facts"]["sent_id"], strict=False):
        sents = by_title.get(title, [])
        if sid < len(sents):
            out.append(sents[sid].strip())
    return out


def pooled_corpus(records: list[dict[str, Any]], *, distractors: bool = False) -> dict[str, str]:
    """title -> paragraph text: the 1,000 paragraphs of the questions (+ 6,119 distractors)."""
    corpus: dict[str, str] = {}
    for rec in records:
        for title, sents in zip(rec["context"]["title"], rec["context"]["sentences"], strict=False):
            corpus.setdefault(title, "".join(sents).strip())
    if distractors:
        with gzip.open(DISTRACTORS, "rt", encoding="utf-8") as fh:
            for row in json.load(fh):
                corpus.setdefault(row["title"], row["text"].strip())
    return corpus


def _safe_name(title: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9]+", "-", title).strip("-")[:60] or "doc"
    return f"{slug}-{hashlib.sha1(title.encode()).hexdigest()[:8]}.md"


def materialise(corpus: dict[str, str], name: str) -> Path:
    """Write one Markdown file per paragraph ('# Title' + text); reused when already there."""
    folder = CACHE / "corpora" / name
    marker = folder / ".complete"
    if marker.exists():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    for title, text in corpus.items():
        (folder / _safe_name(title)).write_text(f"# {title}\n\n{text}\n", encoding="utf-8")
    marker.write_text(str(len(corpus)))
    return folder


def corpus_key(corpus: dict[str, str], extra: str = "") -> str:
    h = hashlib.sha1(extra.encode())
    for title in sorted(corpus):
        h.update(title.encode())
        h.update(corpus[title].encode())
    return h.hexdigest()[:12]


def normalize_answer(s: str) -> str:
    """Official HotpotQA normalisation."""
    s = s.lower()
    s = "".join(ch for ch in s if ch not in set(string.punctuation))
    s = re.sub(r"\b(a|an|the)\b", " ", s)
    return " ".join(s.split())


def exact_match(prediction: str, gold: str) -> float:
    return float(normalize_answer(prediction) == normalize_answer(gold))


def f1_score(prediction: str, gold: str) -> float:
    """Official HotpotQA token F1 (yes/no/noanswer must match exactly)."""
    pred, ref = normalize_answer(prediction), normalize_answer(gold)
    if (pred in {"yes", "no", "noanswer"} or ref in {"yes", "no", "noanswer"}) and pred != ref:
        return 0.0
    p_toks, g_toks = pred.split(), ref.split()
    common = collections.Counter(p_toks) & collections.Counter(g_toks)
    same = sum(common.values())
    if same == 0:
        return 0.0
    precision, recall = same / len(p_toks), same / len(g_toks)
    return 2 * precision * recall / (precision + recall)


def title_of_hit(hit: Any) -> str:
    """Each pooled document is '# Title' + text, so the heading path starts with the title."""
    return str(hit.section[0]) if getattr(hit, "section", None) else ""


def write_results(name: str, payload: dict[str, Any]) -> Path:
    """`name` is a results name (`benchmarks/results/NAME.json`) or, with a slash or `.json`, a path:
    a run of many minutes must not be lost to a file name given the other way."""
    path = Path(name) if ("/" in name or name.endswith(".json")) else RESULTS / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2, sort_keys=True))
    return path


def print_table(rows: list[dict[str, Any]], columns: list[str]) -> None:
    widths = {c: max(len(c), *(len(_fmt(r.get(c))) for r in rows)) for c in columns}
    print("  ".join(c.ljust(widths[c]) for c in columns))
    print("  ".join("-" * widths[c] for c in columns))
    for r in rows:
        print("  ".join(_fmt(r.get(c)).ljust(widths[c]) for c in columns))


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.3f}"
    return "" if v is None else str(v)
