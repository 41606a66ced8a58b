"""Pydantic output schemas, one per role call. Each model's title is the function name the model
calls; field descriptions are what the model reads. Validators check what JSON Schema cannot (known
sentence ids, an acyclic plan) and their messages are written for the repair prompt.

Small models get the shape slightly wrong in predictable ways; these are accepted rather than
sent back for repair: sentence ids as integers (`3`), bracketed (`[S3]`) or comma-joined
(`"S1, S3"`), arrays sent as JSON strings (`"[\"S1\"]"`), confidences as percentages (`85`), verdict
synonyms (`supports`, `insufficient`), and a missing `confidence` (0.5: neither sure nor unsure).

Validation context keys: `ids` (sentence aliases shown), `max_subgoals`, `claims` (how many
claims were judged), `sources` (citation numbers shown).
"""

from __future__ import annotations

import json
import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationInfo, model_validator

from graphs.roles.llm.evidence import normalize_alias

PlanKind = Literal["lookup", "bridge", "choice", "both", "same", "conjunction", "enumeration"]
SubgoalKind = Literal["lookup", "bridge", "compare_item", "yesno_item"]
Verdict = Literal["supported", "contradicted", "not_enough_evidence"]

_SLOT = re.compile(r"\{s(\d+)\}")


DEFAULT_CONFIDENCE = 0.5

_VERDICT_SYNONYMS = {
    "support": "supported",
    "supports": "supported",
    "entailed": "supported",
    "true": "supported",
    "yes": "supported",
    "contradicts": "contradicted",
    "contradiction": "contradicted",
    "refuted": "contradicted",
    "false": "contradicted",
    "insufficient": "not_enough_evidence",
    "insufficient_evidence": "not_enough_evidence",
    "not_enough_info": "not_enough_evidence",
    "unsupported": "not_enough_evidence",
    "unknown": "not_enough_evidence",
    "nei": "not_enough_evidence",
}


def _lower(value: Any) -> Any:
    return value.strip().lower().replace(" ", "_").replace("-", "_") if isinstance(value, str) else value


def _verdict(value: Any) -> Any:
    value = _lower(value)
    return _VERDICT_SYNONYMS.get(value, value) if isinstance(value, str) else value


def _listish(value: Any) -> Any:
    """A list the model sent as a JSON string, a comma-joined string, or a single item."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                parsed = json.loads(text)
            except json.JSONDecodeError:
                text = text.strip("[]")
            else:
                return parsed if isinstance(parsed, list) else [parsed]
        return [part for part in re.split(r"[,;\s]+", text) if part.strip("[]")] if text else []
    if isinstance(value, int | float) and not isinstance(value, bool):
        return [value]
    return value


def _int_item(value: Any) -> Any:
    """`3`, `"3"`, `"[3]"`, `"S3"` → 3 (numbers of claims, sources, subgoals)."""
    if isinstance(value, str) and (m := re.fullmatch(r"\[?\s*[A-Za-z]*\s*(\d+)\s*\]?", value.strip())):
        return int(m.group(1))
    return value


def _confidence(value: Any) -> Any:
    if isinstance(value, str):
        text = value.strip().rstrip("%")
        try:
            value = float(text) / (100 if value.strip().endswith("%") else 1)
        except ValueError:
            return value
    if isinstance(value, int | float) and not isinstance(value, bool) and 1 < value <= 100:
        return value / 100
    return DEFAULT_CONFIDENCE if value is None else value


def _json_list(value: Any) -> Any:
    """An array of objects the model sent as a JSON string."""
    if isinstance(value, str) and value.strip().startswith("["):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


Confidence = Annotated[float, Field(ge=0.0, le=1.0), BeforeValidator(_confidence)]
IntList = Annotated[list[Annotated[int, BeforeValidator(_int_item)]], BeforeValidator(_listish)]


def _known_ids(ids: list[str], info: ValidationInfo) -> list[str]:
    known = (info.context or {}).get("ids")
    ids = list(dict.fromkeys(ids))
    if known is not None:
        bad = [i for i in ids if i not in known]
        if bad:
            example = ", ".join(sorted(known, key=lambda a: int(a[1:]))[:3])
            raise ValueError(f"unknown sentence ids {bad}; cite only ids shown in the evidence (e.g. {example})")
    return ids


SentenceIds = Annotated[
    list[Annotated[str, BeforeValidator(normalize_alias)]], BeforeValidator(_listish), AfterValidator(_known_ids)
]


class _Output(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    @model_validator(mode="before")
    @classmethod
    def _some_field(cls, data: Any) -> Any:
        """Missing optional fields are fine; an object with none of the fields is not this schema."""
        if isinstance(data, dict) and data and not data.keys() & cls.model_fields.keys():
            raise ValueError(f"the object has none of the fields {sorted(cls.model_fields)}")
        return data


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
    depends_on: IntList = Field(
        default_factory=list, description="Numbers (1-based) of earlier subgoals whose answers fill this query's slots."
    )


class PlanOutput(_Output):
    """Submit the plan: the subgoals in the order they must run."""

    model_config = ConfigDict(title="submit_plan", extra="ignore", str_strip_whitespace=True)

    kind: Annotated[PlanKind, BeforeValidator(_lower)] = Field(description="The shape of the task.")
    subgoals: Annotated[list[SubgoalSpec], BeforeValidator(_json_list)] = Field(min_length=1, max_length=32)
    options: Annotated[list[str], BeforeValidator(_json_list)] = Field(
        default_factory=list, description="choice/both/same: the two things compared, as named in the task."
    )
    attribute: str = Field("", description="choice: the attribute compared, e.g. 'flight time'.")
    comparator: Annotated[Literal["min", "max"] | None, BeforeValidator(_lower)] = Field(
        None, description="choice: 'min' when the smaller/earlier value wins, 'max' when the larger/later wins."
    )
    yes_no_property: str = Field("", description="both/same: the property asked about, e.g. 'made in Finland'.")
    count: Annotated[int, BeforeValidator(_int_item)] = Field(
        0,
        ge=0,
        le=50,
        description="enumeration: how many items the task asks for ('list the three ...' is 3); 0 if none.",
    )

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
    confidence: Confidence = Field(DEFAULT_CONFIDENCE, description="How sure you are that the answer is right.")
    not_found: bool = Field(False, description="True when the evidence does not contain the answer.")
    follow_query: str | None = Field(
        None, description="Only when the answer is missing: a better search query for one more search."
    )
    follow_titles: Annotated[list[str], BeforeValidator(_json_list)] = Field(
        default_factory=list, max_length=5, description="Names of entities the next search should look up."
    )

    @model_validator(mode="after")
    def _grounded(self) -> ReadingOutput:
        if self.not_found and self.answer and not self.support:
            self.answer = ""  # "not found" with a guess and nothing cited: the guess is not evidence
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
        "",
        max_length=300,
        description="The bare answer copied verbatim from a cited sentence (or yes/no); '' if unknown.",
    )
    claims: Annotated[list[ClaimSpec], BeforeValidator(_json_list)] = Field(default_factory=list, max_length=12)
    items: Annotated[list[str], BeforeValidator(_json_list)] = Field(
        default_factory=list,
        max_length=12,
        description="enumeration only: the list's items in order, item i named by claim i (one claim per item).",
    )
    confidence: Confidence = DEFAULT_CONFIDENCE
    not_found: bool = Field(False, description="True when the evidence does not answer the task.")

    @model_validator(mode="after")
    def _claims_for_answer(self) -> DraftOutput:
        if self.not_found and not self.claims:
            self.short_answer = ""
        if self.short_answer and not self.claims:
            raise ValueError("an answer needs at least one claim citing the evidence")
        return self


class ClaimVerdict(_Output):
    claim: Annotated[int, BeforeValidator(_int_item)] = Field(ge=1, description="The claim's number.")
    verdict: Annotated[Verdict, BeforeValidator(_verdict)]
    confidence: Confidence = DEFAULT_CONFIDENCE
    reason: str = Field("", max_length=400, description="One short sentence.")


class VerdictsOutput(_Output):
    """Submit one verdict per claim."""

    model_config = ConfigDict(title="submit_verdicts", extra="ignore", str_strip_whitespace=True)

    verdicts: Annotated[list[ClaimVerdict], BeforeValidator(_json_list)]

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
    sources: IntList = Field(min_length=1, description="Numbers of the sources this sentence rests on.")


class ComposeOutput(_Output):
    """Submit the final answer text, one cited sentence at a time."""

    model_config = ConfigDict(title="submit_answer_text", extra="ignore", str_strip_whitespace=True)

    sentences: Annotated[list[AnswerSentence], BeforeValidator(_json_list)] = Field(min_length=1, max_length=6)

    @model_validator(mode="after")
    def _known_sources(self, info: ValidationInfo) -> ComposeOutput:
        known = (info.context or {}).get("sources")
        if known is not None:
            bad = sorted({n for s in self.sentences for n in s.sources if n not in known})
            if bad:
                raise ValueError(f"unknown source numbers {bad}; use only {sorted(known)}")
        return self
