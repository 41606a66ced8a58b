"""Citation rules: a citation's quote must be verbatim text of a node the run actually retrieved."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def citation_is_verbatim(citation: Mapping[str, Any], known_nodes: Mapping[str, str]) -> bool:
    """True when the quote is a non-empty substring of the cited node's retrieved text."""
    quote = str(citation.get("quote", "")).strip()
    node_text = known_nodes.get(str(citation.get("node_id", "")))
    return bool(quote) and node_text is not None and quote in node_text


def number_citations(citations: list[Mapping[str, Any]]) -> dict[str, int]:
    """Stable footnote numbers by first appearance, keyed by node id."""
    numbers: dict[str, int] = {}
    for cit in citations:
        key = str(cit.get("node_id", "")) or str(cit.get("quote", ""))
        if key not in numbers:
            numbers[key] = len(numbers) + 1
    return numbers
