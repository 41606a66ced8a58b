"""The knobs of the `auto` retrieval strategy, in one place (tuned on HotpotQA dev q0-49; the
structured-page knobs — `w_heading_bm25`, `prf_sections`, the budget ones — on the structured-docs
dev split and checked on the untuned val split in aggregate, RESULTS.md #18).

They are fusion weights and depths, not answers: every one is a general property of multi-hop search
(names are matched exactly; the best first hit's evidence suggests the next query).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

# BM25 leaves out query terms found in more leaves than this (their IDF is low and scoring every
# row they match dominates latency on large indexes); below ~1k leaves nothing is ever left out.
BM25_COMMON_DF = 1000


class AutoRetrievalPolicy(BaseModel):
    """How `auto` fuses its first pass and how far its internal second pass looks."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    depth_factor: int = Field(4, ge=1, description="Candidates per signal = max(k * depth_factor, min_depth).")
    min_depth: int = Field(30, ge=1)
    rrf_k: int = Field(60, ge=1, description="Reciprocal-rank-fusion constant.")
    w_dense: float = Field(1.0, ge=0.0, description="First pass: dense leaves.")
    w_bm25: float = Field(1.0, ge=0.0, description="First pass: BM25 leaves.")
    w_named: float = Field(1.0, ge=0.0, description="First pass: documents whose title the query names.")
    seeds: int = Field(1, ge=0, le=1, description="1: the top first-pass hit seeds a second pass; 0: no second pass.")
    prf_alpha: float = Field(1.0, ge=0.0, description="Second-pass query = query + alpha * seed vector.")
    w_second_dense: float = Field(1.0, ge=0.0, description="Second pass: dense leaves for the expanded query.")
    w_linked: float = Field(1.0, ge=0.0, description="Second pass: documents whose title the seed names.")
    lead_named: int = Field(2, ge=1, description="Distinct names in the query that lead when all rank high.")
    lead_window: int = Field(3, ge=1, description="'Rank high' = within this many first-pass hits.")
    max_linked_docs: int = Field(8, ge=0, description="Titles followed per seed (longest evidence names many).")
    w_section: float = Field(
        0.0, ge=0.0, description="First pass: the best leaf of each section whose section vector matches."
    )
    section_depth: int = Field(10, ge=1, description="Sections the section signal looks at.")
    w_heading_bm25: float = Field(
        0.5,
        ge=0.0,
        description="First pass: BM25 for the query plus the entry headings of the best hits (structured documents).",
    )
    budget_w_heading_bm25: float = Field(
        0.25,
        ge=0.0,
        description="w_heading_bm25 when the caller sets a character budget (the Rocchio list shares its work).",
    )
    heading_bm25_hits: int = Field(3, ge=1, description="Hits whose entry headings expand the BM25 query.")
    budget_depth_factor: int = Field(
        2, ge=1, description="depth_factor when the caller sets a character budget (few hits fit; a shallow pool)."
    )
    budget_second_pass: bool = Field(
        False, description="Under a character budget, run the second pass also for a seed inside an entry."
    )
    prf_headings: int = Field(
        0, ge=0, description="Second pass: a dense query of the query plus the headings of this many top hits."
    )
    section_lift: float = Field(
        0.0, ge=0.0, description="Dense leaves re-ranked by cos(leaf) + this * cos(the leaf's section vector)."
    )
    prf_sections: int = Field(
        0, ge=0, description="First pass, no budget: sections of this many top hits feed a Rocchio query."
    )
    budget_prf_sections: int = Field(
        3, ge=0, description="prf_sections when the caller sets a character budget (measured to win only there)."
    )
    prf_beta: float = Field(1.0, ge=0.0, description="Rocchio query = query + beta * mean of those section vectors.")
    w_prf_sections: float = Field(0.5, ge=0.0, description="First pass: dense leaves for the Rocchio query.")
