"""Typed results at the public boundary; their JSON is the stable contract (additive changes only)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from tools.types import Hit, Level

__all__ = [
    "SCHEMA_VERSION",
    "AnswerItem",
    "Citation",
    "Claim",
    "Degradation",
    "Hit",
    "IngestReport",
    "Level",
    "Outcome",
    "RunResult",
    "RunStats",
    "SkippedFile",
    "SubgoalResult",
    "TraceEvent",
    "Verdict",
]

SCHEMA_VERSION = "1.0"

Verdict = Literal["supported", "contradicted", "not_enough_evidence"]
Outcome = Literal["answered", "partial", "not_found"]


class Citation(BaseModel):
    """Where a claim comes from: `quote` is verbatim text of the cited node."""

    model_config = ConfigDict(extra="forbid")

    source: str
    section: list[str] = Field(default_factory=list)
    quote: str
    node_id: str = ""
    start: int = 0
    end: int = 0


class Claim(BaseModel):
    """An atomic statement of the answer and how well its evidence supports it."""

    model_config = ConfigDict(extra="forbid")

    text: str
    verdict: Verdict
    citations: list[Citation] = Field(default_factory=list)
    confidence: float = 0.0
    reasons: list[str] = Field(default_factory=list)


class SubgoalResult(BaseModel):
    """A planned step and what the solver found for it."""

    model_config = ConfigDict(extra="forbid")

    id: str
    query: str
    kind: str = "lookup"
    depends_on: list[str] = Field(default_factory=list)
    depth: int = 0
    status: str = "pending"
    answer: str = ""
    hops: int = 0
    confidence: float = 0.0


class AnswerItem(BaseModel):
    """One item of a list answer ("list the three …"): `citation` is the 1-based number, in
    `RunResult.citations`, of the sentence that names it."""

    model_config = ConfigDict(extra="forbid")

    text: str
    citation: int = Field(ge=1)


class Degradation(BaseModel):
    """A role that fell back to the offline engine during a run, and why (never a silent switch).

    `reason`: `llm_unavailable` (the model stayed down or refused the request), `llm_invalid_output`
    (still invalid after one repair), or the spent budget (`max_llm_calls`, `max_tokens`, `timeout`)."""

    model_config = ConfigDict(extra="forbid")

    role: str
    reason: str
    detail: str = ""


class RunStats(BaseModel):
    """Counters the graph enforced its limits on."""

    model_config = ConfigDict(extra="forbid")

    hops: int = 0
    depth: int = 0
    refinements: int = 0
    llm_calls: int = 0
    tokens: int = 0
    elapsed_s: float = 0.0


class TraceEvent(BaseModel):
    """One node execution, for debugging and Studio-like inspection after the fact."""

    model_config = ConfigDict(extra="allow")

    node: str
    ms: float = 0.0
    detail: dict[str, Any] = Field(default_factory=dict)


class RunResult(BaseModel):
    """Everything a caller needs from one run: the cited answer and how it was reached."""

    model_config = ConfigDict(extra="forbid")

    schema_version: str = SCHEMA_VERSION
    task: str = ""
    answer: str
    short_answer: str = ""
    # answered: every kept claim supported; partial: some; not_found: none (short_answer is empty).
    outcome: Outcome = "not_found"
    claims: list[Claim] = Field(default_factory=list)
    citations: list[Citation] = Field(default_factory=list)
    # An enumeration's answer, item by item, each with its own citation (empty for other answers).
    items: list[AnswerItem] = Field(default_factory=list)
    subgoals: list[SubgoalResult] = Field(default_factory=list)
    halt_reason: str
    limits_hit: list[str] = Field(default_factory=list)
    engines: dict[str, str] = Field(default_factory=dict)
    degraded: list[Degradation] = Field(default_factory=list)
    stats: RunStats = Field(default_factory=RunStats)
    usage: dict[str, int] = Field(default_factory=dict)
    trace: list[TraceEvent] = Field(default_factory=list)
    run_id: str = ""
    thread_id: str = ""

    @property
    def answered(self) -> bool:
        """True unless the run abstained (`outcome == "not_found"`)."""
        return self.outcome != "not_found"

    @property
    def supported(self) -> bool:
        """True when the run answered and every one of its claims is supported (never for `not_found`:
        supported side claims that carry no headline are not an answer)."""
        return self.answered and bool(self.claims) and all(c.verdict == "supported" for c in self.claims)

    def to_markdown(self) -> str:
        """The answer with footnote citations, ready for a chat UI or a report."""
        if self.outcome == "not_found":
            return f"> **Not found.** {self.answer.strip()}\n"
        lines = [self.answer.strip(), ""]
        if self.items:
            # A list answer: one bullet per item, each pointing at the footnote that names it.
            lines += [f"- {item.text} [^{item.citation}]" for item in self.items] + [""]
        if self.outcome == "partial":
            lines += ["_Partly answered: some claims were not supported by the documents._", ""]
        for i, cit in enumerate(self.citations, start=1):
            where = " > ".join(cit.section) if cit.section else "(document)"
            lines.append(f'[^{i}]: {cit.source} — {where}: "{cit.quote.strip()}"')
        return "\n".join(lines).rstrip() + "\n"


class SkippedFile(BaseModel):
    """A file ingestion passed over, and why (so nothing is skipped silently)."""

    path: str
    reason: str


class IngestReport(BaseModel):
    """What one `Agent.ingest` call changed in the index."""

    model_config = ConfigDict(extra="forbid")

    added: list[str] = Field(default_factory=list)
    updated: list[str] = Field(default_factory=list)
    unchanged: list[str] = Field(default_factory=list)
    removed: list[str] = Field(default_factory=list)
    skipped: list[SkippedFile] = Field(default_factory=list)
    documents: int = 0
    nodes: int = 0
    embedded: int = 0
    encoded: int = 0  # texts the encoder read; the other vectors were reused from identical texts
    reused: int = 0
    elapsed_s: float = 0.0
