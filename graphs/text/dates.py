"""Dates in running text: month names, years, year ranges, and the first date a text states."""

from __future__ import annotations

import re

MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
_MONTH_NUM = {m.lower(): i for i, m in enumerate(MONTHS.split("|"), start=1)}
YEAR = r"(?:1[0-9]\d\d|20\d\d)"
DATE_RE = re.compile(
    rf"\b(?:\d{{1,2}}\s+(?:{MONTHS}),?\s+{YEAR}|(?:{MONTHS})\s+\d{{1,2}},?\s+{YEAR}|(?:{MONTHS}),?\s+{YEAR}"
    rf"|(?:{MONTHS})\s+\d{{1,2}}|{YEAR}s?)\b"
)
YEAR_RANGE_RE = re.compile(rf"\b{YEAR}\s*(?:–|-|—|to|until|till|through)\s*(?:{YEAR}|present)\b")
YEAR_RE = re.compile(r"\b(1[0-9]\d\d|20\d\d)\b")


def parse_date(text: str) -> tuple[int, int, int] | None:
    """(year, month, day) of the first date in `text`; month/day are 0 when unknown."""
    m = re.search(rf"\b(\d{{1,2}})\s+({MONTHS}),?\s+({YEAR})\b", text)
    if m:
        return int(m.group(3)), _MONTH_NUM[m.group(2).lower()], int(m.group(1))
    m = re.search(rf"\b({MONTHS})\s+(\d{{1,2}}),?\s+({YEAR})\b", text)
    if m:
        return int(m.group(3)), _MONTH_NUM[m.group(1).lower()], int(m.group(2))
    m = re.search(rf"\b({MONTHS}),?\s+({YEAR})\b", text)
    if m:
        return int(m.group(2)), _MONTH_NUM[m.group(1).lower()], 0
    m = YEAR_RE.search(text)
    if m:
        return int(m.group(1)), 0, 0
    return None
