"""Types shared by ingestion, the index and retrieval; `Hit` is re-exported as public API by `agent`."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Level = Literal["document", "section", "chunk", "leaf", "sentence"]
LEVELS: tuple[Level, ...] = ("document", "section", "chunk", "leaf", "sentence")


class Hit(BaseModel):
    """One piece of retrieved evidence, with enough position data to cite it exactly."""

    model_config = ConfigDict(extra="forbid")

    text: str
    source: str
    section: list[str] = Field(default_factory=list)
    level: Level = "leaf"
    score: float = 0.0
    doc_id: str = ""
    node_id: str = ""
    start: int = 0
    end: int = 0
    sentence_ids: list[str] = Field(default_factory=list)
    strategy: str = ""
