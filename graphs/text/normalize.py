"""Canonical forms that make two surface strings comparable: answers, titles, numbers."""

from __future__ import annotations

import re

_PAREN_TAIL = re.compile(r"\s*\([^)]*\)\s*$")


def title_key(text: str) -> str:
    """Titles and names compare without case, a trailing '(film)'-style qualifier, articles or punctuation."""
    text = _PAREN_TAIL.sub("", text).lower().replace("&amp;", "&")
    text = re.sub(r"[^\w\s]", " ", text)
    text = re.sub(r"^(the|a|an)\s+", "", text.strip())
    return " ".join(text.split())


def normalize_answer(text: str) -> str:
    """HotpotQA's official normalisation: lower-case, drop punctuation and articles, squeeze spaces."""
    text = text.lower()
    text = re.sub(r"[^\w\s]", " ", text)
    text = re.sub(r"\b(a|an|the)\b", " ", text)
    return " ".join(text.split())


def numbers_in(text: str) -> list[float]:
    out: list[float] = []
    for m in re.finditer(r"(?<![\w.])\d[\d,]*(?:\.\d+)?", text):
        try:
            out.append(float(m.group(0).replace(",", "").rstrip(".")))
        except ValueError:
            continue
    return out
