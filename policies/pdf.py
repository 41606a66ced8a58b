"""How font sizes become headings in PDFs without an outline (general typography, not per-file rules)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class PdfHeadingPolicy(BaseModel):
    """A line is a heading when it is set clearly larger than the body and reads like a title."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    min_ratio: float = Field(1.15, gt=1.0, description="Heading size >= body size * this.")
    size_step: float = Field(0.5, gt=0.0, description="Sizes are rounded to this many points before counting.")
    max_chars: int = Field(120, ge=1, description="Longer lines (or merged wrapped lines) are body text.")
    max_words: int = Field(16, ge=1, description="Lines with more words are body text.")
    max_levels: int = Field(4, ge=1, le=6, description="Distinct heading sizes beyond this share the last level.")
    sentence_ends: str = Field(".,;", description="A line ending in one of these is a sentence, not a heading.")


PDF_HEADINGS = PdfHeadingPolicy()
