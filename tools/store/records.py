"""Plain records that cross the storage seam: what a backend returns to the index facade."""

from __future__ import annotations

from dataclasses import dataclass, field

from tools.errors import ConfigError
from tools.ingest.tree import HEADING_PATHS, TreeConfig
from tools.types import Level

# 2: leaves may be embedded under only part of their heading path (`leaf_heading_path` in the
# manifest). An older hragent ignores that key and would embed changed leaves under the whole path,
# mixing two encodings in one index, so such an index records schema 2 and an older hragent refuses
# it ("newer schema"). An index that embeds the whole path records schema 1 (`manifest_schema`), so
# older versions still open it; this version reads both.
# 3: an embedded `tree.sqlite` keeps a leaf's sentences as offsets in the leaf's row, not as rows
# (`tools.store.sentence_spans`); an older hragent would find no sentences, so it must refuse the index.
# 4: an embedded tree stores no vector for a section whose only leaf's vector it equals (a mean-merged
# section with one leaf); its row names that leaf (`nodes.shared`, `tools.store.shared_vectors`). An
# older hragent would search sections without them and call the index inconsistent, so it refuses it.
SCHEMA_VERSION = 4
SENTENCE_SPANS_SCHEMA = 3
SHARED_VECTORS_SCHEMA = 4
EMBEDDED_LEVELS: tuple[Level, ...] = ("leaf", "sentence", "section")


@dataclass
class IndexConfig:
    """Build-time choices recorded in the manifest (changing them means re-ingesting)."""

    tree: TreeConfig = field(default_factory=TreeConfig)
    embed_sentences: bool = True
    embed_sections: bool = True
    leaf_headings: bool = True
    # Which headings go in front of a leaf's text when it is embedded: "full" (the whole path),
    # "last" or "page_and_last" (fewer tokens: the heading path was ~30 % of what a manual encoded,
    # #20; "last" cost .032 of structured-docs answer recall, RESULTS.md). BM25 always reads the path.
    leaf_heading_path: str = "full"
    dl_sections: bool = True
    # "mean" (mean of the section's leaf vectors; measured better for section routing on both benchmark
    # corpora and free at ingest) | "text" (the embedding of the section's extractive summary)
    section_vectors: str = "mean"

    def __post_init__(self) -> None:
        if self.leaf_heading_path not in HEADING_PATHS:
            raise ConfigError(f"leaf_heading_path must be one of {HEADING_PATHS}, not {self.leaf_heading_path!r}")

    def manifest_schema(self) -> int:
        """The schema an index built with this configuration records (see `SCHEMA_VERSION`)."""
        return 1 if self.leaf_heading_path == "full" else 2

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
    # Levels whose vector segment cannot give back every vector its metadata lists (#19); the
    # problem line says how to rebuild.
    damaged_vectors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def raise_for_damage(self) -> None:
        """`VectorSegmentError` when a vector segment is damaged (reads of it fail or lose hits)."""
        if self.damaged_vectors:
            from tools.errors import VectorSegmentError

            lines = [p for p in self.problems if p.startswith("damaged ")]
            raise VectorSegmentError("; ".join(lines) or f"damaged vector segment(s): {self.damaged_vectors}")


@dataclass(frozen=True)
class VectorRow:
    """One vector to store, with what a backend needs to filter it (version and ACL of its document)."""

    node_id: str
    doc_id: str
    version: str
    section_id: str
    # A leaf (same document version) whose vector equals this one: a mean-merged section with a single
    # leaf. A backend may store nothing for this row and answer with the leaf's vector (#20: disk).
    same_as: str = ""


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
