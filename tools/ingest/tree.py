"""Split a parsed document into the hierarchy document → section → chunk → leaf → sentence.

Leaves are sized by the embedder's own tokenizer; code blocks and tables are never cut mid-way
(an oversize one is split on its own line boundaries). Every node keeps its character offsets
into the extracted text, so any node's text is `doc.text[start:end]` and quotes stay verbatim.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field

from tools.ingest.blocks import Block, ParsedDocument
from tools.ingest.sentences import split_sentences
from tools.types import Level


@dataclass
class TreeConfig:
    """Sizes in embedder tokens; defaults fit MiniLM's 256-piece window with room for a heading path."""

    leaf_tokens: int = 200
    chunk_leaves: int = 4
    chunk_tokens: int = 800
    summary_sentences: int = 6


@dataclass
class Node:
    """One node of the tree. `section` is the heading path; `parent_id` links levels."""

    node_id: str
    doc_id: str
    level: Level
    parent_id: str | None
    section: list[str]
    start: int
    end: int
    ord: int
    text: str
    content_hash: str = ""
    children: list[str] = field(default_factory=list)
    section_id: str = ""  # the nearest enclosing section (itself for sections)

    def __post_init__(self) -> None:
        if not self.content_hash:
            self.content_hash = hashlib.sha1(self.text.encode("utf-8")).hexdigest()[:16]


def doc_id_for(source: str) -> str:
    return hashlib.sha1(source.encode("utf-8")).hexdigest()[:16]


def content_hash_of(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


@dataclass
class DocumentTree:
    """All nodes of one document version, in document order."""

    doc: ParsedDocument
    doc_id: str
    version: str
    nodes: list[Node]

    def by_level(self, level: Level) -> list[Node]:
        return [n for n in self.nodes if n.level == level]


def _split_oversize(doc: ParsedDocument, block: Block, limit: int, count: Callable[[str], int]) -> list[Block]:
    """Cut a block that exceeds `limit` tokens: prose on sentences, code and tables on lines."""
    text = doc.block_text(block)
    if count(text) <= limit:
        return [block]
    if block.kind in ("code", "table"):
        units: list[tuple[int, int]] = []
        pos = block.start
        for line in text.splitlines(keepends=True):
            units.append((pos, pos + len(line.rstrip("\n"))))
            pos += len(line)
    else:
        units = split_sentences(text, block.start)
    pieces: list[Block] = []
    cur_start: int | None = None
    cur_end = block.start
    for start, end in units:
        if cur_start is not None and count(doc.text[cur_start:end]) > limit:
            pieces.append(Block(block.kind, cur_start, cur_end))
            cur_start = None
        if cur_start is None:
            cur_start = start
        cur_end = end
    if cur_start is not None:
        pieces.append(Block(block.kind, cur_start, cur_end))
    return [p for p in pieces if p.end > p.start]


def build_tree(
    doc: ParsedDocument,
    count_tokens: Callable[[str], int],
    config: TreeConfig | None = None,
    version: str | None = None,
) -> DocumentTree:
    """Build the node tree of one parsed document."""
    cfg = config or TreeConfig()
    doc_id = doc_id_for(doc.source)
    version = version or content_hash_of(doc.text)[:10]
    nodes: list[Node] = []

    def new_id(ordinal: int) -> str:
        return f"{doc_id}-{version}-{ordinal:05d}"

    root = Node(new_id(0), doc_id, "document", None, [], 0, len(doc.text), 0, doc.text)
    nodes.append(root)

    # 1. Sections from headings; body blocks attach to the deepest open section.
    sections: list[tuple[Node, int, list[Block]]] = []  # (node, heading level, own body blocks)
    stack: list[tuple[Node, int, list[Block]]] = []
    implicit: tuple[Node, int, list[Block]] | None = None
    for block in doc.blocks:
        if block.kind == "end":  # a definition list closed: its entries' sections end here
            while stack and stack[-1][1] >= block.level:
                stack.pop()
            continue
        if block.kind == "heading":
            while stack and stack[-1][1] >= block.level:
                stack.pop()
            parent = stack[-1][0] if stack else root
            path = stack[-1][0].section if stack else []
            node = Node(
                new_id(len(nodes)),
                doc_id,
                "section",
                parent.node_id,
                [*path, block.title],
                block.start,
                block.end,
                len(nodes),
                "",
            )
            nodes.append(node)
            parent.children.append(node.node_id)
            entry: tuple[Node, int, list[Block]] = (node, block.level, [])
            sections.append(entry)
            stack.append(entry)
            continue
        if stack:
            stack[-1][2].append(block)
        else:
            if implicit is None:
                node = Node(
                    new_id(len(nodes)),
                    doc_id,
                    "section",
                    root.node_id,
                    [doc.title],
                    block.start,
                    block.end,
                    len(nodes),
                    "",
                )
                nodes.append(node)
                root.children.append(node.node_id)
                implicit = (node, 0, [])
                sections.append(implicit)
            implicit[2].append(block)

    # A section spans from its heading to the end of its last descendant's content.
    by_id = {n.node_id: n for n in nodes}
    for node, _, own in reversed(sections):
        end = max([node.end] + [b.end for b in own] + [by_id[c].end for c in node.children])
        node.end = end
    for node, _, _ in sections:
        node.text = doc.text[node.start : node.end]
        node.section_id = node.node_id

    # 2. Leaves: pack a section's own blocks up to the token budget, heading path included.
    for section, _, own in sections:
        prefix_tokens = count_tokens(" > ".join(section.section)) + 2
        limit = max(32, cfg.leaf_tokens - prefix_tokens)
        units: list[Block] = []
        for block in own:
            units.extend(_split_oversize(doc, block, limit, count_tokens))
        leaves: list[tuple[int, int, list[Block]]] = []
        cur: list[Block] = []
        for unit in units:
            if cur and count_tokens(doc.text[cur[0].start : unit.end]) > limit:
                leaves.append((cur[0].start, cur[-1].end, cur))
                cur = []
            cur.append(unit)
        if cur:
            leaves.append((cur[0].start, cur[-1].end, cur))
        # 3. Chunks: runs of consecutive leaves inside the section (the auto-merge parent level).
        i = 0
        while i < len(leaves):
            group = [leaves[i]]
            i += 1
            while (
                i < len(leaves)
                and len(group) < cfg.chunk_leaves
                and count_tokens(doc.text[group[0][0] : leaves[i][1]]) <= cfg.chunk_tokens
            ):
                group.append(leaves[i])
                i += 1
            c_start, c_end = group[0][0], group[-1][1]
            chunk = Node(
                new_id(len(nodes)),
                doc_id,
                "chunk",
                section.node_id,
                section.section,
                c_start,
                c_end,
                len(nodes),
                doc.text[c_start:c_end],
                section_id=section.node_id,
            )
            nodes.append(chunk)
            section.children.append(chunk.node_id)
            for l_start, l_end, blocks in group:
                leaf = Node(
                    new_id(len(nodes)),
                    doc_id,
                    "leaf",
                    chunk.node_id,
                    section.section,
                    l_start,
                    l_end,
                    len(nodes),
                    doc.text[l_start:l_end],
                    section_id=section.node_id,
                )
                nodes.append(leaf)
                chunk.children.append(leaf.node_id)
                # 4. Sentences inside the leaf; code and tables are one unit each.
                for block in blocks:
                    if block.kind in ("code", "table"):
                        spans = [(block.start, block.end)]
                    else:
                        spans = split_sentences(doc.text[block.start : block.end], block.start)
                    for s_start, s_end in spans:
                        sent = Node(
                            new_id(len(nodes)),
                            doc_id,
                            "sentence",
                            leaf.node_id,
                            section.section,
                            s_start,
                            s_end,
                            len(nodes),
                            doc.text[s_start:s_end],
                            section_id=section.node_id,
                        )
                        nodes.append(sent)
                        leaf.children.append(sent.node_id)
    # Drop sections that ended up with no content at all (e.g. a heading followed by nothing).
    return DocumentTree(doc, doc_id, version, nodes)


HEADING_PATHS = ("full", "last", "page_and_last")  # what `IndexConfig.leaf_heading_path` may say


def with_heading_path(path: list[str], text: str, keep: str = "full") -> str:
    """`text` with its heading path in front: all of it ("full"), its last heading ("last"), or the
    page's title and the last heading ("page_and_last")."""
    if keep == "last":
        path = path[-1:]
    elif keep == "page_and_last" and len(path) > 2:
        path = [path[0], path[-1]]
    return " > ".join(path) + ". " + text if path else text


def leaf_embedding_text(node: Node, with_headings: bool = True, keep: str = "full") -> str:
    """What the embedder reads for a leaf: its heading path in front (measured on/off in benchmarks),
    or a shorter part of it (`IndexConfig.leaf_heading_path`: fewer tokens to encode)."""
    return with_heading_path(node.section, node.text, keep) if with_headings else node.text


def section_summary(tree: DocumentTree, section: Node, max_sentences: int = 6) -> str:
    """Extractive summary for routing: heading path, then the first sentence of each leaf below it."""
    ids = set()
    frontier = [section.node_id]
    by_parent: dict[str | None, list[Node]] = {}
    for n in tree.nodes:
        by_parent.setdefault(n.parent_id, []).append(n)
    firsts: list[str] = []
    while frontier and len(firsts) < max_sentences:
        nid = frontier.pop(0)
        for child in by_parent.get(nid, []):
            if child.node_id in ids:
                continue
            ids.add(child.node_id)
            if child.level == "leaf":
                sents = [c for c in by_parent.get(child.node_id, []) if c.level == "sentence"]
                if sents:
                    firsts.append(sents[0].text)
            elif child.level in ("section", "chunk"):
                frontier.append(child.node_id)
            if len(firsts) >= max_sentences:
                break
    return " > ".join(section.section) + ". " + " ".join(firsts)
