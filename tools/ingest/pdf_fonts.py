"""Headings from font sizes, for PDFs that carry no outline: pypdf reports each text run with its size.

The page text is pypdf's own `extract_text` output, so offsets stay exact; the sizes only decide which
of its lines are headings. Any surprise in a run's data leaves that run (or page) without a size, and a
line without a size is body text, so odd files degrade to the page sections, never to an error.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from policies.pdf import PDF_HEADINGS, PdfHeadingPolicy
from tools.ingest.blocks import Block

_ALIGN_SLACK = 64  # a run is looked for this far past the previous one (pypdf adds newlines and spaces)


def effective_size(font_size: Any, tm: Sequence[Any], cm: Sequence[Any]) -> float | None:
    """Rendered glyph height: the Tf size scaled by the text matrix times the CTM (their y axis)."""
    size = float(font_size)
    tc, td = float(tm[2]), float(tm[3])  # only the y row of Tm matters for height
    ca, cb, cc, cd = (float(v) for v in cm[:4])
    y_x = tc * ca + td * cc
    y_y = tc * cb + td * cd
    out = abs(size) * math.hypot(y_x, y_y)
    return out if math.isfinite(out) and 0.0 < out < 10_000.0 else None


@dataclass
class SizeCollector:
    """A `visitor_text` for `PageObject.extract_text`: records (text, size) runs and never raises."""

    runs: list[tuple[str, float | None]] = field(default_factory=list)
    failed: bool = False

    def __call__(self, text: Any, cm: Any, tm: Any, font_dict: Any, font_size: Any) -> None:
        if self.failed:
            return
        try:
            if isinstance(text, str) and text.strip():
                self.runs.append((text, effective_size(font_size, tm, cm)))
        except Exception:  # noqa: BLE001 - hostile matrices or sizes: this page just gets no sizes
            self.failed = True
            self.runs = []


def char_sizes(page_text: str, runs: Sequence[tuple[str, float | None]]) -> list[float | None]:
    """The size of each character of `page_text`, matching runs in order (None where none matched)."""
    sizes: list[float | None] = [None] * len(page_text)
    cursor = 0
    for text, size in runs:
        at = page_text.find(text, cursor, cursor + len(text) + _ALIGN_SLACK)
        if at < 0:
            continue
        if size is not None:
            sizes[at : at + len(text)] = [size] * len(text)
        cursor = at + len(text)
    return sizes


@dataclass(frozen=True)
class Line:
    """One non-blank line of the document text: stripped bounds, its main size and its visible chars."""

    start: int
    end: int
    size: float | None
    chars: int


def page_lines(page_text: str, sizes: Sequence[float | None], offset: int, step: float) -> list[Line | None]:
    """Lines of one page (None for a blank line); a line's size is its most common rounded size by chars."""
    out: list[Line | None] = []
    pos = 0
    for raw in page_text.split("\n"):
        line_start = pos
        pos += len(raw) + 1
        stripped = raw.strip()
        if not stripped:
            out.append(None)
            continue
        lo = line_start + (len(raw) - len(raw.lstrip()))
        hi = lo + len(stripped)
        votes: Counter[float] = Counter()
        for i in range(lo, hi):
            s = sizes[i]
            if s is not None and not page_text[i].isspace():
                votes[round(s / step) * step] += 1
        size = votes.most_common(1)[0][0] if votes else None
        out.append(Line(offset + lo, offset + hi, size, sum(1 for c in stripped if not c.isspace())))
    return out


def heading_levels(lines: Sequence[Line], text: str, policy: PdfHeadingPolicy) -> dict[int, int]:
    """Level (1 = largest) of each line that is a heading, keyed by its start offset."""
    weights: Counter[float] = Counter()
    for line in lines:
        if line.size is not None:
            weights[line.size] += line.chars
    if not weights:
        return {}
    body = weights.most_common(1)[0][0]
    heads: dict[int, float] = {}
    for line in lines:
        if line.size is None or line.size < body * policy.min_ratio:
            continue
        s = " ".join(text[line.start : line.end].split())
        if (
            len(s) <= policy.max_chars
            and len(s.split()) <= policy.max_words
            and not s.endswith(tuple(policy.sentence_ends))
            and any(c.isalpha() for c in s)
        ):
            heads[line.start] = line.size
    ranks = {size: i + 1 for i, size in enumerate(sorted(set(heads.values()), reverse=True))}
    return {start: min(ranks[size], policy.max_levels) for start, size in heads.items()}


def font_size_blocks(
    pages: Sequence[str],
    runs: Sequence[Sequence[tuple[str, float | None]]],
    policy: PdfHeadingPolicy = PDF_HEADINGS,
) -> list[Block] | None:
    """Heading and paragraph blocks over `"".join(p + "\\n\\n" for p in pages)`; None when no heading is found.

    Adjacent heading lines of one level on one page are one wrapped heading.
    """
    lines: list[Line | None] = []
    offset = 0
    for page_no, page_text in enumerate(pages):
        sizes = char_sizes(page_text, runs[page_no] if page_no < len(runs) else [])
        lines.extend(page_lines(page_text, sizes, offset, policy.size_step))
        lines.append(None)  # a page break ends a paragraph and a wrapped heading
        offset += len(page_text) + 2
    text = "".join(p + "\n\n" for p in pages)
    real = [ln for ln in lines if ln is not None]
    levels = heading_levels(real, text, policy)
    if not levels:
        return None
    blocks: list[Block] = []
    para: tuple[int, int] | None = None
    prev_heading = False
    for line in lines:
        level = levels.get(line.start) if line is not None else None
        if (line is None or level is not None) and para is not None:
            blocks.append(Block("paragraph", para[0], para[1]))
            para = None
        if line is None:
            prev_heading = False
            continue
        if level is not None:
            title = " ".join(text[line.start : line.end].split())
            last = blocks[-1] if blocks else None
            if (
                prev_heading
                and last is not None
                and last.level == level
                and len(last.title) + 1 + len(title) <= policy.max_chars
            ):
                blocks[-1] = replace(last, end=line.end, title=f"{last.title} {title}")
            else:
                blocks.append(Block("heading", line.start, line.end, level, title))
            prev_heading = True
            continue
        prev_heading = False
        para = (para[0] if para is not None else line.start, line.end)
    return blocks
