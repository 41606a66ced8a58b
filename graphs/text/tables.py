"""Tables read as rows under their column headers.

Ingest keeps a table whole, one row per line with cells joined by " | ". A value in a table is only
meaningful with its row and column: "TIMEOUT | 5" says the default of TIMEOUT is 5, and the cell
next to it belongs to another setting. `cell_answers` picks the row the question is about and the
column it asks for.
"""

from __future__ import annotations

from dataclasses import dataclass

from graphs.text.words import content_terms


@dataclass(frozen=True)
class Cell:
    """One answer-bearing cell: its text, its row's first cell, its column's header, and how well the
    row and column match the question (0..1 each)."""

    text: str
    row_key: str
    header: str
    row_match: float
    column_match: float


def parse_table(text: str) -> tuple[list[str], list[list[str]]] | None:
    """(header, rows) of a " | "-separated table; None when `text` is not one."""
    lines = [line for line in text.splitlines() if line.strip()]
    if len(lines) > 2 and " | " not in lines[0]:
        lines = lines[1:]  # a caption above the header row ("Supported versions")
    if len(lines) < 2 or not all(" | " in line for line in lines[:2]):
        return None
    rows = [[c.strip() for c in line.split(" | ")] for line in lines]
    return rows[0], rows[1:]


def cell_answers(text: str, question: str, asked: str = "") -> list[Cell]:
    """Cells that may answer `question`: in the rows sharing its terms, under the column whose header
    matches what it asks for (`asked`: the wh-phrase's noun, e.g. "default"), else any other column."""
    table = parse_table(text)
    if table is None:
        return []
    header, rows = table
    q_terms = set(content_terms(question))
    asked_terms = set(content_terms(asked)) | ({"default", "value"} & q_terms)
    out: list[Cell] = []
    for row in rows:
        row_terms = set(content_terms(" ".join(row)))
        row_match = len(q_terms & row_terms) / len(q_terms) if q_terms else 0.0
        if not row_match:
            continue
        for i, cell in enumerate(row):
            if not cell or i >= len(header):
                continue
            cell_terms = set(content_terms(cell))
            if cell_terms and cell_terms <= q_terms:
                continue  # the cell the question names is the row's key, not its answer
            head_terms = set(content_terms(header[i]))
            column_match = len(head_terms & (asked_terms | q_terms)) / len(head_terms) if head_terms else 0.0
            out.append(Cell(cell, row[0], header[i], row_match, column_match))
    return out
