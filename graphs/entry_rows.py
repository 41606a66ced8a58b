"""The rows of an API entry that travel with any sentence of it: its field list and `Default:` lines.

An API entry (a Sphinx `<dl>` object, a man page option) states its parameters, types, return
values and defaults in a field list — `timeout (float) – seconds to wait.`, `Default: 80` — that
ingest keeps as sentences of the entry's first leaf. A search hit deep in a long entry (an example,
a note) brings the entry's heading line with it (`graphs/retriever.py`) but not those rows, so a
reader shown the hit sees a parameter named without its type or default. `entry_rows` picks, from
the rest of the hit's entry, the few field-list and default rows that share the most words with the
query (document order kept), never a sentence the hit already shows. Prose sections are not
entries and add nothing: this follows the page's structure, not its words.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from graphs.text.entries import parse_entry, parse_field_row
from graphs.text.words import content_terms
from tools.index import NodeRecord

MAX_ENTRY_ROWS = 3  # rows one hit may bring (the prompt's sentence cap is shared by every hit)

# `name (type) – text`, `name – text`, `**name** – text`: one parameter of a field list (and
# `name=default – text`, `name: type = default – text`: `graphs.text.entries.parse_field_row`).
_FIELD_ITEM = re.compile(r"^\**[A-Za-z_*][\w.*]*\**(?:\s*\([^)]{0,80}\))?\s+[–—-]\s+\S")
# `Default: 80`, `Defaults to 5.`, `Type: int`, `Returns: …`, `Raises: …`: a labelled row.
# A bare label ("Return type", "Parameters:") says nothing alone and is not a row.
_LABELLED = re.compile(
    r"^(?:defaults?(?:\s+value)?|type|return\s+type|returns?|raises?|yields?|"
    r"environment\s+variables?)(?:\s*:|\s+(?:to|is))\s*\S",
    re.I,
)


def is_entry(section: NodeRecord | None) -> bool:
    """A section whose heading reads as an API entry (a name, a signature, an option)."""
    return (
        section is not None
        and section.level == "section"
        and bool(section.section)
        and parse_entry(section.section[-1]) is not None
    )


def is_field_row(text: str) -> bool:
    """A field-list or labelled row: a parameter with its description, or a `Default:`-style line."""
    line = text.strip()
    if len(line) > 400:
        return False
    return bool(_FIELD_ITEM.match(line) or _LABELLED.match(line) or parse_field_row(line) is not None)


def entry_rows(query: str, sentences: Sequence[NodeRecord], shown: set[str]) -> list[NodeRecord]:
    """At most `MAX_ENTRY_ROWS` field rows of an entry (its `sentences`, in order) that the hit does
    not already show, the ones sharing the most query words first, returned in document order."""
    terms = set(content_terms(query))
    rows = [s for s in sentences if s.node_id not in shown and is_field_row(s.text)]
    if not rows:
        return []
    ranked = sorted(rows, key=lambda s: (-len(terms & set(content_terms(s.text))), s.start))
    keep = {s.node_id for s in ranked[:MAX_ENTRY_ROWS]}
    return [s for s in rows if s.node_id in keep]
