"""Graph state: what flows between nodes. Plain TypedDicts (checkpoint-friendly); list and dict
fields that several nodes write declare their reducer so parallel subgoals merge instead of clobber."""

from __future__ import annotations

import operator
from typing import (
    Annotated,
    Any,
    NotRequired,  # pydantic (Studio schemas) needs these on Python < 3.12
)

from langchain_core.messages import AnyMessage
from langgraph.graph.message import add_messages
from typing_extensions import TypedDict

from policies.limits import LimitsOverrides


class SentenceRef(TypedDict):
    """A citable sentence: the unit claims point at."""

    node_id: str
    text: str
    start: int
    end: int
    sim: NotRequired[float]  # cosine similarity to the query of the hop that retrieved it
    # "heading": the entry's heading line (name, signature), citable like a sentence; "entry_row": a
    # field-list or `Default:` row of the hit's entry outside the hit (graphs/entry_rows.py)
    kind: NotRequired[str]


class EvidenceItem(TypedDict):
    """One retrieved node as a subgoal saw it (hits are flattened to dicts for checkpoints)."""

    node_id: str
    doc_id: str
    text: str
    source: str
    title: str
    section: list[str]
    level: str
    start: int
    end: int
    score: float
    hop: int
    query: str
    sentences: list[SentenceRef]


class Subgoal(TypedDict, total=False):
    """A step of the plan. `query` may hold `{s1}`-style slots filled from earlier answers."""

    id: str
    query: str
    kind: str  # lookup | bridge | compare_item | yesno_item
    answer_type: str
    depends_on: list[str]
    depth: int
    status: str  # pending | retrieving | retrieved | answered | failed
    answer: str
    confidence: float
    hops: int
    queries: list[str]  # every query a hop of this subgoal retrieved with, in order
    hop_query: str  # the query the latest retrieval hop ran (set by `retrieve`, read by `solve`)
    follow_query: str  # the query the solver asks the next hop to run (set by `solve`, read by routing)
    follow_titles: list[str]
    support: list[str]  # sentence node ids the answer rests on
    avoid: list[str]  # answers a verifier rejected in an earlier round
    round: int


def pending_subgoal(
    id: str, query: str, kind: str, answer_type: str, depends_on: list[str], depth: int, round: int
) -> Subgoal:
    """A subgoal as both planners create it: nothing read, answered or relied on yet."""
    return Subgoal(
        id=id,
        query=query,
        kind=kind,
        answer_type=answer_type,
        depends_on=depends_on,
        depth=depth,
        status="pending",
        answer="",
        confidence=0.0,
        hops=0,
        queries=[],
        support=[],
        round=round,
    )


class PlanInfo(TypedDict, total=False):
    """How a plan's subgoal answers combine into the task's answer: the planner -> solver hand-off.

    Which keys a plan sets depends on its kind: `options`/`attribute`/`comparator` for a choice,
    `options`/`property`/`attribute` for yes/no over options, `final` for a bridge (the subgoal whose
    answer is the task's), `count` for an enumeration; a refinement round adds `feedback`/`fallback`."""

    options: list[str]
    attribute: str
    property: str
    comparator: str | None
    final: str
    count: int  # an enumeration asks for this many items ("list the three …")
    feedback: list[str]
    fallback: bool


class CitationDict(TypedDict):
    source: str
    section: list[str]
    quote: str
    node_id: str
    start: int
    end: int


class AnswerItemDict(TypedDict):
    """One item of a list answer: its text and the 1-based number of the citation that names it."""

    text: str
    citation: int


class ClaimDict(TypedDict, total=False):
    text: str
    verdict: str
    citations: list[CitationDict]
    confidence: float
    reasons: list[str]


class Draft(TypedDict, total=False):
    """The solver's answer before verification."""

    short_answer: str
    claims: list[ClaimDict]
    confidence: float
    missing: list[str]
    not_found: bool  # the drafter said explicitly that the evidence does not answer the task
    items: list[str]  # an enumeration's answers, in order; each is named by the claim at the same index


class Report(TypedDict, total=False):
    """The verifier's findings: per-claim verdicts, checklist results, and feedback for re-planning."""

    claims: list[ClaimDict]
    checks: list[dict[str, Any]]
    passed: bool
    confidence: float
    feedback: list[str]
    acceptance: dict[str, Any]  # the offline acceptance features, and the model's score when it is on
    reply_with_message: bool  # asked through `messages`: `reply` appends an AIMessage


def merge_dicts(left: dict[str, Any] | None, right: dict[str, Any] | None) -> dict[str, Any]:
    """Shallow-merge per key, deep for dict values: parallel subgoal updates land side by side."""
    out = dict(left or {})
    for key, value in (right or {}).items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = {**out[key], **value}
        else:
            out[key] = value
    return out


def add_counters(left: dict[str, float] | None, right: dict[str, float] | None) -> dict[str, float]:
    """Counters only ever grow: each node reports its increments."""
    out = dict(left or {})
    for key, value in (right or {}).items():
        out[key] = out.get(key, 0) + value
    return out


def merge_evidence(
    left: dict[str, list[EvidenceItem]] | None, right: dict[str, list[EvidenceItem]] | None
) -> dict[str, list[EvidenceItem]]:
    """Evidence per subgoal accumulates across hops, without duplicate nodes."""
    out = {k: list(v) for k, v in (left or {}).items()}
    for key, items in (right or {}).items():
        have = {e["node_id"] for e in out.get(key, [])}
        out.setdefault(key, []).extend(e for e in items if e["node_id"] not in have)
    return out


def add_unique(left: list[str] | None, right: list[str] | None) -> list[str]:
    out = list(left or [])
    out.extend(x for x in (right or []) if x not in out)
    return out


class BestRound(TypedDict, total=False):
    """The best (draft, report) of all refinement rounds so far, with the round and its score."""

    draft: Draft
    report: Report
    round: int
    score: float


class InputState(TypedDict, total=False):
    """What a caller (or Studio's form) sends: a task, or `messages` (the last human message is the
    task; earlier turns resolve its follow-ups), and optionally who asks and with which bounds."""

    task: str
    messages: Annotated[list[AnyMessage], add_messages]
    principal: list[str] | str | None
    limits: LimitsOverrides | None
    strategy: str | None
    approve_plan: bool  # pause after planning for a human to accept, reject or edit the subgoals


class OutputState(TypedDict, total=False):
    """What a caller gets back: the same fields as `RunResult` (plus the reply in `messages` when
    asked with messages)."""

    messages: Annotated[list[AnyMessage], add_messages]

    answer: str
    short_answer: str
    outcome: str  # answered | partial | not_found (policies/outcome.py)
    claims: list[ClaimDict]
    citations: list[CitationDict]
    items: list[AnswerItemDict]  # an enumeration's items, each with the number of its citation
    halt_reason: str
    limits_hit: Annotated[list[str], add_unique]
    subgoals: Annotated[dict[str, Subgoal], merge_dicts]
    counters: Annotated[dict[str, float], add_counters]
    engines: Annotated[dict[str, str], merge_dicts]
    degraded: Annotated[list[dict[str, str]], operator.add]  # roles that fell back to the offline engine
    refinements: int
    trace: Annotated[list[dict[str, Any]], operator.add]


class AgentState(InputState, OutputState, total=False):
    """Everything the graph carries between nodes."""

    run_limits: dict[str, Any]
    started_at: float
    plan_kind: str
    plan_info: PlanInfo
    evidence: Annotated[dict[str, list[EvidenceItem]], merge_evidence]
    draft: Draft
    report: Report
    best: BestRound  # the best (draft, report) of all rounds: a refinement may do worse
    feedback: list[str]
    acceptance: dict[str, Any]  # the offline acceptance features, and the model's score when it is on
    reply_with_message: bool  # asked through `messages`: `reply` appends an AIMessage
