"""Scoring one ranked list against a question: gold page in the top 1/3/5, answer in the top 1/5,
characters returned and characters read before the answer.

An answer counts only from a hit on a gold page whose text contains the answer string (after
normalising case, whitespace and typographic quotes). With two answer strings (two-section
questions) a question scores the share of them found. "Characters read" is every character of the
hits ranked before the first answer-bearing hit plus the answer's end offset inside it; a miss
counts everything returned.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\xa0": " ", "¶": " "})


def norm(text: str) -> str:
    return " ".join(text.translate(_QUOTES).lower().split())


class Returned(Protocol):
    text: str
    source: str


@dataclass
class Scored:
    page_at: dict[int, float]
    answer_at: dict[int, float]
    answer_all_at5: float
    chars_returned: int
    chars_to_answer: int
    first_answer_rank: int | None


def score(hits: Sequence[Any], pages: Sequence[str], gold_pages: Sequence[str], answers: Sequence[str]) -> Scored:
    gold = set(gold_pages)
    wanted = [norm(a) for a in answers]
    found_by_rank: list[set[int]] = []
    offsets: list[int] = []
    for hit, page in zip(hits, pages, strict=True):
        text = norm(hit.text)
        found: set[int] = set()
        end = -1
        if page in gold:
            for i, ans in enumerate(wanted):
                pos = text.find(ans)
                if pos >= 0:
                    found.add(i)
                    end = pos + len(ans) if end < 0 else min(end, pos + len(ans))
        found_by_rank.append(found)
        offsets.append(end)
    page_at = {k: len(gold & set(pages[:k])) / len(gold) for k in (1, 3, 5)}
    answer_at: dict[int, float] = {}
    for k in (1, 5):
        got: set[int] = set().union(*found_by_rank[:k]) if found_by_rank[:k] else set()
        answer_at[k] = len(got) / len(wanted)
    got5: set[int] = set().union(*found_by_rank[:5]) if found_by_rank else set()
    lengths = [len(h.text) for h in hits]
    first = next((i for i, f in enumerate(found_by_rank) if f), None)
    to_answer = sum(lengths) if first is None else sum(lengths[:first]) + offsets[first]
    return Scored(page_at, answer_at, float(len(got5) == len(wanted)), sum(lengths), to_answer, first)


def summarise(rows: list[Scored], latencies: list[float]) -> dict[str, float]:
    """Means over questions; latency percentiles in milliseconds."""
    if not rows:
        return {}
    out = {
        "page@1": float(np.mean([r.page_at[1] for r in rows])),
        "page@3": float(np.mean([r.page_at[3] for r in rows])),
        "page@5": float(np.mean([r.page_at[5] for r in rows])),
        "ans@1": float(np.mean([r.answer_at[1] for r in rows])),
        "ans@5": float(np.mean([r.answer_at[5] for r in rows])),
        "ans_all@5": float(np.mean([r.answer_all_at5 for r in rows])),
        "chars": float(np.mean([r.chars_returned for r in rows])),
        "chars_to_ans": float(np.mean([r.chars_to_answer for r in rows])),
    }
    if latencies:
        out["p50_ms"] = float(np.percentile(latencies, 50) * 1000)
        out["p95_ms"] = float(np.percentile(latencies, 95) * 1000)
    return out
