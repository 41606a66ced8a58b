"""Plain records that cross the storage seam: what a backend returns to the index facade."""

from __future__ import annotations

from dataclasses import dataclass, field

from tools.ingest.tree import TreeConfig
from tools.types import Level

SCHEMA_VERSION = 1
EMBEDDED_LEVELS: tuple[Level, ...] = ("leaf", "sentence", "section")


@dataclass
class IndexConfig:
    """Build-time choices recorded in the manifest (changing them means re-ingesting)."""

    tree: TreeConfig = field(default_factory=TreeConfig)
    embed_sentences: bool = True
    embed_sections: bool = True
    leaf_headings: bool = True
    dl_sections: bool = True
    # "mean" (mean of the section's leaf vectors; measured better for section routing on both benchmark
    # corpora and free at ingest) | "text" (the embedding of the section's extractive summary)
    section_vectors: str = "mean"

    def embedded_levels(self) -> set[str]:
        """The levels that carry vectors in an index built with this configuration."""
        levels = {"leaf"}
        if self.embed_sentences:
            levels.add("sentence")
        if self.embed_sections:
            levels.add("section")
        return levels


@dataclass(frozen=True)
class NodeRecord:
    """A stored node joined with its document: everything needed to build a `Hit` or a citation."""

    node_id: str
    doc_id: str
    level: Level
    parent_id: str | None
    section_id: str | None
    ord: int
    section: list[str]
    start: int
    end: int
    text: str
    source: str
    title: str
    acl: tuple[str, ...]


@dataclass
class IndexCheck:
    """What `HierarchicalIndex.check` found: `problems` break consistency; `orphans` are leftovers
    that reads already ignore and the next ingest removes."""

    documents: int
    problems: list[str]
    orphans: dict[str, int]

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class VectorRow:
    """One vector to store, with what a backend needs to filter it (version and ACL of its document)."""

    node_id: str
    doc_id: str
    version: str
    section_id: str


def empty_orphans() -> dict[str, int]:
    return {"pending_documents": 0, "nodes": 0, "fts_rows": 0, "vectors": 0, "garbage_records": 0}


def tree_problems(
    source: str, version: str, text: str, rows: list[tuple[str, str, str | None, int, int, str]]
) -> list[str]:
    """Consistency problems of one visible document version, from its node rows
    (node_id, level, parent_id, start, end, text): the same rule for every backend."""
    problems: list[str] = []
    ids = {r[0] for r in rows}
    levels = [r[1] for r in rows]
    if levels.count("document") != 1 or "leaf" not in levels:
        problems.append(f"{source}: visible version {version} has an incomplete tree")
    for nid, level, parent, start, end, ntext in rows:
        if level != "document" and parent not in ids:
            problems.append(f"{source}: node {nid} has no parent in its version")
        if not 0 <= start <= end <= len(text) or (ntext and ntext != text[start:end]):
            problems.append(f"{source}: node {nid} text does not match its offsets")
    return problems
