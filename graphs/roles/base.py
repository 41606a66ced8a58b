"""Role protocols: the planner (slow, high level), solver (fast, low level), verifier and composer.

Offline and LLM implementations are interchangeable; every method returns its output plus the
`Usage` it spent so the graph can count and bound LLM calls and tokens.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from graphs.state import Draft, EvidenceItem, PlanInfo, Report, Subgoal
from policies.limits import Limits


@dataclass
class Usage:
    """What one role call cost and which engine served it."""

    llm_calls: int = 0
    tokens: int = 0
    engine: str = "offline"
    degraded: bool = False
    note: str = ""


@dataclass
class Plan:
    """A subgoal DAG plus how the subgoal answers combine into the task's answer."""

    kind: str  # lookup | bridge | choice | both | same | conjunction | enumeration
    subgoals: list[Subgoal]
    info: PlanInfo = field(default_factory=PlanInfo)


@dataclass
class Reading:
    """The solver's decision after reading a subgoal's evidence: an answer, or one more hop."""

    answer: str
    confidence: float
    support: list[str] = field(default_factory=list)
    follow_query: str | None = None
    follow_titles: list[str] = field(default_factory=list)
    not_found: bool = False  # the reader said explicitly that the evidence lacks the answer


class Planner(Protocol):
    def plan(
        self, task: str, *, limits: Limits, feedback: list[str], previous: dict[str, Subgoal], round: int
    ) -> tuple[Plan, Usage]: ...


class Solver(Protocol):
    def read(
        self, task: str, subgoal: Subgoal, query: str, evidence: list[EvidenceItem], *, last_hop: bool
    ) -> tuple[Reading, Usage]: ...

    def finalize(
        self,
        task: str,
        plan_kind: str,
        plan_info: PlanInfo,
        subgoals: dict[str, Subgoal],
        evidence: dict[str, list[EvidenceItem]],
    ) -> tuple[Draft, Usage]: ...


class Verifier(Protocol):
    def verify(self, task: str, draft: Draft, evidence: dict[str, list[EvidenceItem]]) -> tuple[Report, Usage]: ...


class Composer(Protocol):
    def compose(self, task: str, draft: Draft, report: Report, halt_reason: str) -> tuple[dict[str, Any], Usage]: ...


@dataclass
class Roles:
    """The four roles a graph is built with."""

    planner: Planner
    solver: Solver
    verifier: Verifier
    composer: Composer
