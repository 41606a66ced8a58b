"""Thresholds of the offline reasoning engine, in one place (tuned on HotpotQA dev questions 0-49)."""

from __future__ import annotations

import os
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


def _scorer_default() -> Literal["rules", "learned"]:
    """`HRAGENT_OFFLINE_SCORER` picks the offline reader's candidate scorer (benchmarks compare both)."""
    return "learned" if os.environ.get("HRAGENT_OFFLINE_SCORER", "").strip().lower() == "learned" else "rules"


def _acceptance_features_default() -> bool:
    """`HRAGENT_ACCEPTANCE_FEATURES=1` records acceptance features under `acceptance="rules"` too
    (`benchmarks.fit_acceptance` sets it to collect its training rows)."""
    return os.environ.get("HRAGENT_ACCEPTANCE_FEATURES", "").strip().lower() in {"1", "true", "yes"}


class OfflineThresholds(BaseModel):
    """When the extractive solver hops again, and when the verifier calls a claim supported."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    follow_below: float = Field(0.6, ge=0.0, le=1.0, description="Hop again when an answer's confidence is below.")
    follow_entities: int = Field(4, ge=0, le=16, description="Entities (as document titles) a follow-up hop chases.")
    read_sentences: int = Field(18, ge=1, le=200, description="Top-ranked sentences the solver reads per subgoal.")
    off_focus: float = Field(
        0.7, ge=0.0, le=1.0, description="Relevance kept by sentences off the page of an entity the query names."
    )
    agreement: float = Field(
        0.15, ge=0.0, le=1.0, description="Weight of each of two more sentences that name the same answer."
    )
    own_page: float = Field(1.25, ge=1.0, le=3.0, description="Boost for answers that have a page of their own.")
    dense_weight: float = Field(0.5, ge=0.0, le=1.0, description="Share of dense similarity in sentence relevance.")
    scorer: Literal["rules", "learned"] = Field(
        default_factory=_scorer_default,
        description="How the solver ranks answer candidates: the hand-set factors multiplied (rules) or the "
        "logistic model of graphs/roles/offline/reader_weights.json (learned; re-fit with "
        "`python -m benchmarks.fit_reader`). Default from HRAGENT_OFFLINE_SCORER, else rules.",
    )
    reader_weights: str | None = Field(
        None, description="Weights file of the learned scorer (default: the packaged one)."
    )
    support_similarity: float = Field(0.62, ge=0.0, le=1.0, description="Embedding similarity that supports a claim.")
    support_coverage: float = Field(0.75, ge=0.0, le=1.0, description="Share of claim terms found that supports it.")
    support_min_coverage: float = Field(
        0.5, ge=0.0, le=1.0, description="Similarity supports a claim only when this share of its terms is found."
    )
    support_grounding: float = Field(
        0.7,
        ge=0.0,
        le=1.0,
        description="Share of the asked terms the entry naming the answer must state (question grounding).",
    )
    grounding_names: bool = Field(
        True,
        description="Question grounding also requires every name the question asks about (an identifier, a flag, "
        "a capitalised name) in the entry naming the answer or its heading path.",
    )
    grounding_semantic: bool = Field(
        False,
        description="A how-to question may be grounded by meaning: the entry it names is as similar to the "
        "question as support_similarity asks of a quote (plain-word questions share few words with the entry). "
        "Off: on the dev split it answers two more plain-word questions but supports 6 instead of 4 of 116 "
        "answers whose gold pages were removed.",
    )
    entry_meaning: bool = Field(
        False,
        description="A how-to question in plain words (typed text, spelling no identifier or flag) is answered by "
        "the name of the retrieved API entry whose heading and body read most like it by the index's embedder, "
        "when that entry is ahead of the runner-up entry by entry_meaning_margin (a difference of cosines within "
        "one pool, so not tied to corpus size); the verifier then takes that choice as the question grounding the "
        "entry's own words cannot give (graphs/roles/offline/entry_meaning.py). Off by default until it passes "
        "the keep rule (benchmarks/RESULTS.md, #18, tenth session).",
    )
    entry_meaning_margin: float = Field(
        0.25,
        ge=0.0,
        le=1.0,
        description="How far ahead of the runner-up entry the chosen entry must be: its lead in cosine by heading "
        "and body plus its best sentence's lead (fitted on the dev split's plain-word questions with their gold "
        "pages withheld: above every such pool's lead).",
    )
    entry_meaning_entries: int = Field(
        2, ge=2, le=50, description="Distinct retrieved entries needed before a margin means anything."
    )
    contradiction_coverage: float = Field(
        0.5, ge=0.0, le=1.0, description="Coverage above which a mismatched number/entity/negation contradicts."
    )
    calibration_midpoint: float = Field(
        0.37, ge=0.0, le=1.0, description="Raw draft score at which a passing draft is right half the time."
    )
    calibration_slope: float = Field(25.0, gt=0.0, description="Steepness of the raw-score-to-confidence logistic.")
    acceptance: Literal["rules", "learned", "auto"] = Field(
        "rules",
        description="Who has the last word on a draft the rules pass: 'rules' (coverage, similarity, question "
        "grounding), 'learned' (also the fitted acceptance model's P(right) >= acceptance_threshold; "
        "graphs/roles/offline/acceptance_weights.json, fitted by `python -m benchmarks.fit_acceptance`; an "
        "index embedder other than the one the weights were fitted with is an AcceptanceModelError) or "
        "'auto' (learned when the index embeds with the weights' embedder, the bundled MiniLM; rules "
        "otherwise, as the model's similarity features mean nothing on other vectors). Default 'rules': "
        "'auto' meets the dev and demo conditions, not val's or HotpotQA's (benchmarks/RESULTS.md, ninth session).",
    )
    acceptance_threshold: float | None = Field(
        None,
        ge=0.0,
        le=1.0,
        description="The precision/recall knob of acceptance='learned': higher declines more (fewer confident "
        "wrong answers, fewer right ones). None: the operating point stored with the weights.",
    )
    acceptance_features: bool = Field(
        default_factory=_acceptance_features_default,
        description="Compute and report the acceptance features of every draft even with acceptance='rules' "
        "(they cost MiniLM calls per draft, so only fitting asks for them). Default from "
        "HRAGENT_ACCEPTANCE_FEATURES, else off.",
    )
    acceptance_weights: str | None = Field(
        None, description="Path of another acceptance weights file (default: the one shipped in the package)."
    )
