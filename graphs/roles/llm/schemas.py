"""Pydantic output schemas, one per role call. Each model's title is the function name the model
calls; field descriptions are what the model reads. Validators check what JSON Schema cannot (known
sentence ids, an acyclic plan) and their messages are written for the repair prompt.

Validation context keys: `ids` (sentence aliases shown), `max_subgoals`, `claims` (how many
claims were judged), `sources` (citation numbers shown).
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationInfo, model_validator

from graphs.roles.llm.evidence import normalize_alias

PlanKind = Literal["lookup", "bridge", "choice", "both", "same", "conjunction", "enumeration"]
SubgoalKind = Literal["lookup", "bridge", "compare_item", "yesno_item"]
Verdict = Literal["supported", "contradicted", "not_enough_evidence"]

_SLOT = re.compile(r"\{s(\d+)\}")


def _lower(value: Any) -> Any:
    return value.strip().lower().replace(" ", "_") if isinstance(value, str) else value


def _known_ids(ids: list[str], info: ValidationInfo) -> list[str]:
    known = (info.context or {}).get("ids")
    ids = list(dict.fromkeys(ids))
    if known is not None:
        bad = [i for i in ids if i not in known]
        if bad:
            example = ", ".join(sorted(known, key=lambda a: int(a[1:]))[:3])
            raise ValueError(f"unknown sentence ids {bad}; cite only ids shown in the evidence (e.g. {example})")
    return ids


SentenceIds = Annotated[list[Annotated[str, BeforeValidator(normalize_alias)]], AfterValidator(_known_ids)]


class _Output(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)


class SubgoalSpec(_Output):
    query: str = Field(
        min_length=3,
        max_length=400,
        description="A self-contained search question. A later subgoal that needs an earlier answer writes it as "
        "a slot like {s1} (the answer of subgoal 1).",
    )
    kind: Annotated[SubgoalKind, BeforeValidator(_lower)] = Field(
        "lookup",
        description="lookup: find a fact; bridge: a fact about an earlier answer; compare_item: one item of a "
        "comparison; yesno_item: one item of a yes/no question about two things.",
    )
    depends_on: list[int] = Field(
        default_factory=list, description="Numbers (1-based) of earlier subgoals whose answers fill this query's slots."
    )


class PlanOutput(_Output):
    """Submit the plan: the subgoals in the order they must run."""

    model_config = ConfigDict(title="submit_plan", extra="ignore", str_strip_whitespace=True)

    kind: Annotated[PlanKind, BeforeValidator(_lower)] = Field(description="The shape of the task.")
    subgoals: list[SubgoalSpec] = Field(min_length=1, max_length=32)
    options: list[str] = Field(
        default_factory=list, description="choice/both/same: the two things compared, as named in the task."
    )
    attribute: str = Field("", description="choice: the attribute compared, e.g. 'flight time'.")
    comparator: Annotated[Literal["min", "max"] | None, BeforeValidator(_lower)] = Field(
        None, description="choice: 'min' when the smaller/earlier value wins, 'max' when the larger/later wins."
    )
    yes_no_property: str = Field("", description="both/same: the property asked about, e.g. 'made in Finland'.")

    @model_validator(mode="after")
    def _acyclic(self, info: ValidationInfo) -> PlanOutput:
        limit = (info.context or {}).get("max_subgoals")
        if limit is not None and len(self.subgoals) > limit:
            raise ValueError(f"the plan has {len(self.subgoals)} subgoals; at most {limit} are allowed")
        for i, sg in enumerate(self.subgoals, start=1):
            bad = [d for d in sg.depends_on if not 1 <= d < i]
            if bad:
                raise ValueError(f"subgoal {i} depends on {bad}; depends_on may only name earlier subgoals")
            slots = {int(n) for n in _SLOT.findall(sg.query)}
            if slots - set(sg.depends_on):
                raise ValueError(f"subgoal {i} uses slots {sorted(slots)} but depends_on is {sg.depends_on}")
        if self.kind in ("choice", "both", "same") and len(self.options) < 2:
            raise ValueError(f"a {self.kind} plan needs the two compared things in options")
        return self


class ReadingOutput(_Output):
    """Submit what the evidence says about one subgoal."""

    model_config = ConfigDict(title="submit_reading", extra="ignore", str_strip_whitespace=True)

    answer: str = Field(
        "", max_length=300, description="The shortest span that answers the subgoal, or '' if the evidence lacks it."
    )
    support: SentenceIds = Field(default_factory=list, description="Ids of the sentences that state the answer.")
    confidence: float = Field(ge=0.0, le=1.0, description="How sure you are that the answer is right.")
    follow_query: str | None = Field(
        None, description="Only when the answer is missing: a better search query for one more search."
    )
    follow_titles: list[str] = Field(
        default_factory=list, max_length=5, description="Names of entities the next search should look up."
    )

    @model_validator(mode="after")
    def _grounded(self) -> ReadingOutput:
        if self.answer and not self.support:
            raise ValueError("an answer needs the ids of the sentences that state it in support")
        return self


class ClaimSpec(_Output):
    text: str = Field(min_length=3, max_length=500, description="One atomic statement that supports the answer.")
    citations: SentenceIds = Field(min_length=1, description="Ids of the evidence sentences that state it.")


class DraftOutput(_Output):
    """Submit the answer to the task with the claims that justify it."""

    model_config = ConfigDict(title="submit_answer", extra="ignore", str_strip_whitespace=True)

    short_answer: str = Field(
        max_length=300, description="The bare answer: a name, number with unit, date, or yes/no; '' if unknown."
    )
    claims: list[ClaimSpec] = Field(default_factory=list, max_length=12)
    confidence: float = Field(ge=0.0, le=1.0)

    @model_validator(mode="after")
    def _claims_for_answer(self) -> DraftOutput:
        if self.short_answer and not self.claims:
            raise ValueError("an answer needs at least one claim citing the evidence")
        return self


class ClaimVerdict(_Output):
    claim: int = Field(ge=1, description="The claim's number.")
    verdict: Annotated[Verdict, BeforeValidator(_lower)]
    confidence: float = Field(ge=0.0, le=1.0)
    reason: str = Field("", max_length=400, description="One short sentence.")


class VerdictsOutput(_Output):
    """Submit one verdict per claim."""

    model_config = ConfigDict(title="submit_verdicts", extra="ignore", str_strip_whitespace=True)

    verdicts: list[ClaimVerdict]

    @model_validator(mode="after")
    def _one_each(self, info: ValidationInfo) -> VerdictsOutput:
        n = (info.context or {}).get("claims")
        if n is not None:
            got = sorted(v.claim for v in self.verdicts)
            if got != list(range(1, n + 1)):
                raise ValueError(f"give exactly one verdict for each claim 1..{n}; got claims {got}")
        return self


class AnswerSentence(_Output):
    text: str = Field(min_length=1, max_length=600, description="One sentence of the answer, without [n] markers.")
    sources: list[int] = Field(min_length=1, description="Numbers of the sources this sentence rests on.")


class ComposeOutput(_Output):
    """Submit the final answer text, one cited sentence at a time."""

    model_config = ConfigDict(title="submit_answer_text", extra="ignore", str_strip_whitespace=True)

    sentences: list[AnswerSentence] = Field(min_length=1, max_length=6)

    @model_validator(mode="after")
    def _known_sources(self, info: ValidationInfo) -> ComposeOutput:
        known = (info.context or {}).get("sources")
        if known is not None:
            bad = sorted({n for s in self.sentences for n in s.sources if n not in known})
            if bad:
                raise ValueError(f"unknown source numbers {bad}; use only {sorted(known)}")
        return self
