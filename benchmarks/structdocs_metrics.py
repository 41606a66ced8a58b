"""Scoring for the structured-documents benchmarks (#18): retrieval at a reading budget and the
agent's answers.

Answers are matched after `longdocs_metrics.norm` (case, whitespace, typographic quotes) and at word
boundaries, so a short identifier such as `ok` does not match inside `token`. A question's answer is a
list of required parts, each with acceptable variants; a question scores the share of its parts
found.

Retrieval: hits are read in rank order as one stream; a part counts as found "within B characters"
when its FIRST variant — the evidence form, e.g. `max_retries=0` or `Defaults to 5000` rather than a
bare `0` or `5000` that any chunk of a long page contains — ends at or before character B of that
stream inside a hit from a gold page (a match on any other page is luck, not retrieval). "In top-5"
reads the first five hits whole. The agent's answer counts when ANY variant is in `short_answer`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from benchmarks.longdocs_metrics import norm

BUDGETS = (1000, 2000, 4000)
TOP = 5


@lru_cache(maxsize=4096)
def _pattern(variant: str) -> re.Pattern[str]:
    text = norm(variant)
    body = re.escape(text)
    if text[:1].isalnum() or text[:1] == "_":
        body = r"(?<!\w)" + body
    if text[-1:].isalnum() or text[-1:] == "_":
        body += r"(?!\w)"
    return re.compile(body)


def first_end(variants: Sequence[str], text: str) -> int | None:
    """End offset (in the normalised text) of the earliest-ending match of any variant, or None."""
    normed = norm(text)
    ends = [m.end() for v in variants if (m := _pattern(v).search(normed))]
    return min(ends) if ends else None


def contains(variants: Sequence[str], text: str) -> bool:
    return first_end(variants, text) is not None


@dataclass(frozen=True)
class RetrievalScore:
    within: dict[int, float]  # budget -> share of parts found within that many characters read
    top5: float  # share of parts found in the first TOP hits read whole
    chars_top5: int  # characters returned by the first TOP hits
    page_top5: float  # share of gold pages among the first TOP hits


def score_retrieval(
    texts: Sequence[str],
    pages: Sequence[str],
    gold_pages: Sequence[str],
    parts: Sequence[Sequence[str]],
    budgets: Sequence[int] = BUDGETS,
) -> RetrievalScore:
    """Score one ranked list (hit texts and their pages, in rank order) against one question."""
    gold = set(gold_pages)
    # per part: characters read (cumulative) when it is first found, and the rank of that hit
    found_at: list[tuple[int, int] | None] = []
    for variants in parts:
        offset = 0
        hit_at: tuple[int, int] | None = None
        for rank, (text, page) in enumerate(zip(texts, pages, strict=True)):
            if page in gold:
                end = first_end(variants[:1], text)
                if end is not None:
                    hit_at = (offset + min(end, len(text)), rank)
                    break
            offset += len(text)
        found_at.append(hit_at)
    n = max(len(parts), 1)
    within = {b: sum(1 for f in found_at if f is not None and f[0] <= b) / n for b in budgets}
    top5 = sum(1 for f in found_at if f is not None and f[1] < TOP) / n
    head_pages = set(pages[:TOP])
    page_top5 = len(gold & head_pages) / len(gold) if gold else 0.0
    return RetrievalScore(within, top5, sum(len(t) for t in texts[:TOP]), page_top5)


_TOKEN = re.compile(r"\w+")


def token_f1(prediction: str, variants: Sequence[str]) -> float:
    """Best token-level F1 of `prediction` against any variant (SQuAD-style, after `norm`)."""
    pred = _TOKEN.findall(norm(prediction))
    best = 0.0
    for variant in variants:
        gold = _TOKEN.findall(norm(variant))
        common = sum(min(pred.count(t), gold.count(t)) for t in set(gold))
        if not pred or not gold or common == 0:
            continue
        precision, recall = common / len(pred), common / len(gold)
        best = max(best, 2 * precision * recall / (precision + recall))
    return best


def answer_scores(short_answer: str, parts: Sequence[Sequence[str]]) -> tuple[float, float]:
    """(correct, f1) of an answer: the share of parts whose variant appears in it, and the mean over
    parts of the best token F1 (multi-part answers are read whole against each part)."""
    if not parts:
        return 0.0, 0.0
    correct = sum(contains(v, short_answer) for v in parts) / len(parts)
    f1 = sum(token_f1(short_answer, v) for v in parts) / len(parts)
    return correct, f1
