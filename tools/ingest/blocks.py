"""The loader output: extracted text plus typed blocks with offsets into it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

BlockKind = Literal["heading", "paragraph", "code", "table", "list", "end"]  # "end" closes sections >= level


@dataclass(frozen=True)
class Block:
    """A structural unit of a document; `start`/`end` index into `ParsedDocument.text`."""

    kind: BlockKind
    start: int
    end: int
    level: int = 0  # heading depth (1 = top); 0 for body blocks
    title: str = ""  # heading text, cleaned of markup


@dataclass
class ParsedDocument:
    """What every loader returns: text we can quote verbatim, and its structure."""

    source: str
    title: str
    text: str
    blocks: list[Block] = field(default_factory=list)
    media_type: str = "text/plain"

    def block_text(self, block: Block) -> str:
        return self.text[block.start : block.end]
