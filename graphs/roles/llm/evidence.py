"""Evidence as the model sees it: numbered sentences inside delimited data blocks.

The model cites sentences by short ids (`S1`, `S2`, ...) that map one-to-one to our sentence node
ids; quotes are then taken from our stored text, never from the model, so they stay verbatim.
Data text cannot close its own block: angle brackets are replaced before it enters a prompt.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from graphs.state import CitationDict, EvidenceItem, SentenceRef

_ALIAS = re.compile(r"^\[?\s*[sS]\s*(\d+)\s*\]?$")


def clean(text: str, limit: int = 10_000) -> str:
    """One line, no markup that could end a data block, at most `limit` characters."""
    text = " ".join(str(text).split()).replace("<", "‹").replace(">", "›")
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def data_block(name: str, lines: Iterable[str]) -> str:
    """Delimit untrusted text; the system prompt tells the model never to obey what is inside."""
    body = "\n".join(lines) or "(empty)"
    return f'<data name="{name}">\n{body}\n</data>'


def normalize_alias(value: object) -> str:
    """Accept `S3`, `[S3]`, `s3` from the model; anything else is returned unchanged (and rejected later)."""
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
        self.shown = [Shown(f"S{i}", s, e) for i, (s, e) in enumerate(pairs[:limit], start=1)]
        self._by_alias = {s.alias: s for s in self.shown}
        self._by_node = {s.sentence["node_id"]: s.alias for s in self.shown}

    def __bool__(self) -> bool:
        return bool(self.shown)

    @property
    def ids(self) -> frozenset[str]:
        return frozenset(self._by_alias)

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

    def render(self, name: str = "evidence") -> str:
        lines = []
        for s in self.shown:
            where = " › ".join(list(dict.fromkeys(p for p in [s.item["title"], *s.item["section"]] if p))[:4])
            lines.append(f"[{s.alias}] ({clean(where, 160)}) {clean(s.sentence['text'], self.chars)}")
        return data_block(name, lines)


def _whole(item: EvidenceItem) -> SentenceRef:
    return SentenceRef(node_id=item["node_id"], text=item["text"], start=item["start"], end=item["end"])
