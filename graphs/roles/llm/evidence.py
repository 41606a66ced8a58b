"""Evidence as the model sees it: numbered sentences inside delimited data blocks.

The model cites sentences by short ids (`S1`, `S2`, ...) that map one-to-one to our sentence node
ids; quotes are then taken from our stored text, never from the model, so they stay verbatim.
Data text cannot close its own block: angle brackets are replaced before it enters a prompt, and
each block ends only at a marker carrying the prompt's random nonce (`policies.injection.fence`).
Sentences that read like instructions (`policies.injection`) are shown labelled and can never be
an answer's support or a claim's citation; each run of sentences from one place is headed by its
document title and the end of its heading path (for API references: the entry it belongs to).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from graphs.state import CitationDict, EvidenceItem, SentenceRef
from graphs.text.entries import parse_entry
from graphs.text.tables import parse_table
from graphs.text.words import content_terms
from policies.injection import fence, flag_label, injection_markers, new_nonce

__all__ = ["EvidenceView", "clean", "data_block", "new_nonce", "normalize_alias", "where_of"]

_ALIAS = re.compile(r"^\[?\s*(?:[sS]\s*)?(\d+)\s*\]?$")


def clean(text: str, limit: int = 10_000) -> str:
    """One line, no markup that could end a data block, at most `limit` characters."""
    text = " ".join(str(text).split()).replace("<", "‹").replace(">", "›")
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def data_block(name: str, lines: Iterable[str], nonce: str) -> str:
    """Delimit untrusted text; the system prompt tells the model never to obey what is inside."""
    return fence(name, lines, nonce)


def where_of(item: EvidenceItem, parts: int = 3) -> str:
    """Document title and the last `parts` headings of the item's section path (the deepest
    headings name the entry: a function, an option, a subsection). An entry whose heading line the
    item shows as a sentence of its own (its full signature) is named here by its name alone
    (`pkg.connect(…)`), so a long signature is not printed twice."""
    section = [p for p in item["section"] if p and p != item["title"]]
    trail = [item["title"], *section[-parts:]] if item["title"] else section[-parts:]
    if trail and _heading_shown(item):
        trail[-1] = _entry_name(trail[-1])
    return " › ".join(dict.fromkeys(p for p in trail if p))


def _heading_shown(item: EvidenceItem) -> bool:
    last = item["section"][-1] if item["section"] else ""
    return bool(last) and any(s.get("kind") == "heading" and s["text"] == last for s in item["sentences"])


def _entry_name(heading: str) -> str:
    """`click.open(url, wait=False)` -> `click.open(…)`; any other heading unchanged."""
    entry = parse_entry(heading)
    if entry is None or "(" not in heading or len(heading) <= len(entry.name) + 12:
        return heading
    prefix = heading[: heading.index(entry.name)] if entry.name in heading else ""
    return f"{prefix}{entry.name}(…)"


def normalize_alias(value: object) -> str:
    """Accept `S3`, `[S3]`, `s3`, `3` from the model; anything else is returned unchanged (and rejected later)."""
    text = str(value).strip()
    m = _ALIAS.match(text)
    return f"S{int(m.group(1))}" if m else text


@dataclass(frozen=True)
class Shown:
    alias: str
    sentence: SentenceRef
    item: EvidenceItem


class EvidenceView:
    """The sentences one prompt shows, in evidence order with `first` node ids promoted to the top."""

    def __init__(
        self,
        evidence: Iterable[EvidenceItem],
        *,
        limit: int,
        chars: int = 600,
        first: Iterable[str] = (),
        query: str = "",
    ) -> None:
        pairs: list[tuple[SentenceRef, EvidenceItem]] = []
        seen: set[str] = set()
        for item in evidence:
            for sent in item["sentences"] or [_whole(item)]:
                if sent["node_id"] not in seen and sent["text"].strip():
                    seen.add(sent["node_id"])
                    pairs.append((sent, item))
        promoted = list(dict.fromkeys(first))
        rank = {nid: i for i, nid in enumerate(promoted)}
        pairs.sort(key=lambda p: rank.get(p[0]["node_id"], len(rank)))  # stable: evidence order otherwise
        self.chars = chars
        self.query_terms = set(content_terms(query))
        self.shown = [Shown(f"S{i}", s, e) for i, (s, e) in enumerate(pairs[:limit], start=1)]
        self._by_alias = {s.alias: s for s in self.shown}
        self._by_node = {s.sentence["node_id"]: s.alias for s in self.shown}
        self.flagged = {s.alias: m for s in self.shown if (m := injection_markers(s.sentence["text"]))}

    def __bool__(self) -> bool:
        return bool(self.shown)

    @property
    def ids(self) -> frozenset[str]:
        return frozenset(self._by_alias)

    def usable(self, aliases: Iterable[str]) -> list[str]:
        """The aliases that may count as support: shown, and not flagged as instructions."""
        return [a for a in aliases if a in self._by_alias and a not in self.flagged]

    def alias_of(self, node_id: str) -> str | None:
        return self._by_node.get(node_id)

    def node_id(self, alias: str) -> str:
        return self._by_alias[alias].sentence["node_id"]

    def text(self, alias: str) -> str:
        return self._by_alias[alias].sentence["text"]

    def citation(self, alias: str) -> CitationDict:
        """A citation built from stored text: the quote is exactly the sentence we retrieved."""
        shown = self._by_alias[alias]
        return CitationDict(
            source=shown.item["source"],
            section=list(shown.item["section"]),
            quote=shown.sentence["text"],
            node_id=shown.sentence["node_id"],
            start=shown.sentence["start"],
            end=shown.sentence["end"],
        )

    def render(self, nonce: str, name: str = "evidence") -> str:
        """One `[Sn] sentence` line each, under a `(title › headings)` line that names where the
        sentences below it come from; consecutive sentences of one place share that line (a
        section's sentences would otherwise repeat the same long path, a third of a read's prompt)."""
        lines = []
        where: str | None = None
        for s in self.shown:
            here = clean(where_of(s.item), 200) or "untitled"
            if here != where:
                lines.append(f"({here})")
                where = here
            label = f"{flag_label(self.flagged[s.alias])} " if s.alias in self.flagged else ""
            text = fit_table(s.sentence["text"], self.chars, self.query_terms)
            lines.append(f"[{s.alias}] {label}{clean(text, self.chars)}")
        return data_block(name, lines, nonce)


def fit_table(text: str, limit: int, query_terms: set[str]) -> str:
    """A table longer than `limit` shown as its header row plus the rows sharing the most query words
    (table order kept, `…` where rows were left out), so an asked row past the clip is still read
    under its column headers; any other text, or a table that fits, is returned unchanged."""
    if len(text) <= limit or parse_table(text) is None:
        return text
    header, *rows = [line.strip() for line in text.splitlines() if line.strip()]
    ranked = sorted(range(len(rows)), key=lambda i: (-len(query_terms & set(content_terms(rows[i]))), i))
    keep: set[int] = set()
    used = len(header) + 2
    for i in ranked:
        if used + len(rows[i]) + 3 <= limit:
            keep.add(i)
            used += len(rows[i]) + 3
    shown = [rows[i] for i in sorted(keep)]
    return " / ".join([header, *shown, *(["…"] if len(keep) < len(rows) else [])])


def _whole(item: EvidenceItem) -> SentenceRef:
    return SentenceRef(node_id=item["node_id"], text=item["text"], start=item["start"], end=item["end"])
