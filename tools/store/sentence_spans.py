"""Sentences stored as offsets inside their leaf's row, not as rows of their own (#20: disk per leaf).

A leaf's sentences were ~10 `nodes` rows of ~440 bytes each with their index entries: 4 of the 14 KB an
embedded index spent per leaf, to say what the leaf row plus a few offsets say already. `build_tree`
gives a leaf's sentences the ordinals right after the leaf's (ids `{doc_id}-{version}-{ord:05d}`), the
leaf's heading path and section, and text that is a slice of the leaf's. So an embedded `tree.sqlite`
with a `spans` column keeps one short string per leaf (gap and length of each sentence, relative to the
leaf's start) and the reads rebuild the same ids, offsets and text. A leaf whose sentences break one
of those rules (a tree built another way) keeps its sentence rows, and reads still find them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from tools.ingest.tree import DocumentTree, Node

_DOC_ID_CHARS = 16  # tools.ingest.tree.doc_id_for


@dataclass(frozen=True)
class Sentence:
    """A sentence rebuilt from its leaf: what a `nodes` row of it would have said."""

    node_id: str
    ord: int
    start: int
    end: int
    text: str

    @property
    def content_hash(self) -> str:
        return hashlib.sha1(self.text.encode("utf-8")).hexdigest()[:16]


def sentence_id(doc_id: str, version: str, ordinal: int) -> str:
    return f"{doc_id}-{version}-{ordinal:05d}"


def parse_id(node_id: str) -> tuple[str, str, int] | None:
    """(doc_id, version, ordinal) of an id `build_tree` made, or None."""
    prefix, sep, ordinal = node_id.rpartition("-")
    if not sep or not ordinal.isdigit() or len(prefix) <= _DOC_ID_CHARS + 1 or prefix[_DOC_ID_CHARS] != "-":
        return None
    return prefix[:_DOC_ID_CHARS], prefix[_DOC_ID_CHARS + 1 :], int(ordinal)


def encode(tree: DocumentTree, leaf: Node, sentences: Sequence[Node]) -> str | None:
    """The `spans` string of a leaf ("gap,length" per sentence, comma-separated), or None when its
    sentences cannot be rebuilt from it (they then keep rows of their own)."""
    if leaf.node_id != sentence_id(tree.doc_id, tree.version, leaf.ord):
        return None
    parts: list[str] = []
    pos = leaf.start
    for i, s in enumerate(sentences):
        ordinal = leaf.ord + 1 + i
        if (
            s.ord != ordinal
            or s.node_id != sentence_id(tree.doc_id, tree.version, ordinal)
            or s.section != leaf.section
            or s.section_id != leaf.section_id
            or not pos <= s.start <= s.end <= leaf.end
            or s.text != tree.doc.text[s.start : s.end]
            or s.text != leaf.text[s.start - leaf.start : s.end - leaf.start]
        ):
            return None
        parts.append(f"{s.start - pos},{s.end - s.start}")
        pos = s.end
    return ",".join(parts)


def count(spans: str | None) -> int:
    return (spans.count(",") + 1) // 2 if spans else 0


def decode(leaf_id: str, leaf_ord: int, leaf_start: int, leaf_text: str, spans: str | None) -> list[Sentence]:
    """The sentences of a leaf row, in order."""
    if not spans:
        return []
    prefix = leaf_id.rpartition("-")[0]
    numbers = [int(x) for x in spans.split(",")]
    out: list[Sentence] = []
    pos = leaf_start
    for i in range(0, len(numbers) - 1, 2):
        start = pos + numbers[i]
        end = start + numbers[i + 1]
        ordinal = leaf_ord + 1 + i // 2
        text = leaf_text[start - leaf_start : end - leaf_start]
        out.append(Sentence(f"{prefix}-{ordinal:05d}", ordinal, start, end, text))
        pos = end
    return out
