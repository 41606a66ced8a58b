"""Citation rules: a citation's quote must be verbatim text of a node the run actually retrieved."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any


def citation_is_verbatim(citation: Mapping[str, Any], known_nodes: Mapping[str, str]) -> bool:
    """True when the quote is a non-empty substring of the cited node's retrieved text."""
    quote = str(citation.get("quote", "")).strip()
    node_text = known_nodes.get(str(citation.get("node_id", "")))
    return bool(quote) and node_text is not None and quote in node_text


_MARKER = re.compile(r"\[(\^?)(\d{1,4})\]")


def neutralize_markers(text: str) -> str:
    """Document text quoted into an answer must not carry `[n]`/`[^n]` markers: a reader (or a parser)
    would take a planted "[2]" for one of our citations. They become `(n)`; quotes stay verbatim."""
    return _MARKER.sub(lambda m: f"({m.group(1)}{m.group(2)})", text)


def number_citations(citations: list[Mapping[str, Any]]) -> dict[str, int]:
    """Stable footnote numbers by first appearance, keyed by node id."""
    numbers: dict[str, int] = {}
    for cit in citations:
        key = str(cit.get("node_id", "")) or str(cit.get("quote", ""))
        if key not in numbers:
            numbers[key] = len(numbers) + 1
    return numbers
