"""The graph enforces every limit itself, whatever the roles say."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent import Agent, InvalidTaskError, Limits
from graphs.roles.base import Reading, Roles, Usage
from graphs.roles.offline import offline_roles
from graphs.state import Draft, EvidenceItem, Report, Subgoal
from tools.index import HierarchicalIndex


class GreedySolver:
    """Always asks for one more hop; pretends each read costs an LLM call."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def read(
        self, task: str, subgoal: Subgoal, query: str, evidence: list[EvidenceItem], *, last_hop: bool
    ) -> tuple[Reading, Usage]:
        return Reading("x", 0.1, [], follow_query=query + " more", follow_titles=[]), Usage(
            llm_calls=1, tokens=50, engine="fake"
        )

    def finalize(self, *args: Any) -> tuple[Draft, Usage]:
        return self.inner.finalize(*args)


class NeverSatisfied:
    def verify(self, task: str, draft: Draft, evidence: dict[str, list[EvidenceItem]]) -> tuple[Report, Usage]:
        return Report(claims=[], checks=[], passed=False, confidence=0.0, feedback=["try again"]), Usage()


def adversarial(index: HierarchicalIndex) -> Roles:
    base = offline_roles(index.embedder)
    return Roles(base.planner, GreedySolver(base.solver), NeverSatisfied(), base.composer)


@pytest.fixture
def adversarial_agent(make_agent: Any) -> Agent:
    from tests.conftest import SAMPLE

    agent: Agent = make_agent("adv", roles=adversarial)
    agent.ingest(SAMPLE)
    return agent


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    hops=st.integers(1, 4),
    refinements=st.integers(0, 3),
    subgoals=st.integers(1, 4),
    calls=st.integers(1, 30),
    depth=st.integers(1, 3),
)
def test_no_run_exceeds_any_limit(
    adversarial_agent: Agent, hops: int, refinements: int, subgoals: int, calls: int, depth: int
) -> None:
    limits = Limits(
        max_hops=hops, max_refinements=refinements, max_subgoals=subgoals, max_llm_calls=calls, max_depth=depth
    )
    result = adversarial_agent.run(
        "In which city was the chief executive of the company that makes the Kestrel drone born?", limits=limits
    )
    assert result.halt_reason
    assert result.stats.refinements <= refinements
    assert all(s.hops <= hops for s in result.subgoals)
    rounds = refinements + 1
    assert len(result.subgoals) <= subgoals * rounds
    assert all(s.depth < depth for s in result.subgoals)
    # A budget may be overshot by at most the calls of one parallel step (one per subgoal).
    assert result.stats.llm_calls <= calls + subgoals
    assert result.stats.hops <= hops * subgoals * rounds


def test_failed_verification_replans_once_per_allowed_refinement(adversarial_agent: Agent) -> None:
    for n in (0, 1, 2):
        result = adversarial_agent.run(
            "In what year was Halden Robotics founded?", limits={"max_refinements": n, "max_llm_calls": 1000}
        )
        plans = [t for t in result.trace if t.node == "plan"]
        assert len(plans) == n + 1
        assert result.stats.refinements == n
        assert result.halt_reason == "max_refinements"


def test_budget_exhaustion_halts_with_reason(adversarial_agent: Agent) -> None:
    result = adversarial_agent.run(
        "In what year was Halden Robotics founded?", limits={"max_llm_calls": 2, "max_hops": 8}
    )
    assert result.halt_reason == "max_llm_calls"
    assert "max_llm_calls" in result.limits_hit


def test_offline_run_is_cited_and_traced(sample_agent: Agent) -> None:
    result = sample_agent.run("Which has a longer maximum flight time, the Kestrel or the Harrier?")
    assert result.halt_reason in {"confident", "verified", "max_refinements"}
    assert next(t.node for t in result.trace) == "plan"
    assert {"retrieve", "solve", "verify", "compose"} <= {t.node for t in result.trace}
    assert result.engines == {"planner": "offline", "solver": "offline", "verifier": "offline", "composer": "offline"}
    assert result.stats.llm_calls == 0
    for claim in result.claims:
        for cit in claim.citations:
            text = Path(cit.source).read_text(encoding="utf-8")
            assert text[cit.start : cit.end] == cit.quote


def test_early_exit_skips_refinement_when_confident(sample_agent: Agent) -> None:
    eager = sample_agent.run(
        "Who was born earlier, Mira Okafor or Tomas Lindqvist?",
        limits={"early_exit_threshold": 0.0, "max_refinements": 2},
    )
    assert eager.halt_reason == "confident" and eager.stats.refinements == 0
    never = sample_agent.run(
        "Who was born earlier, Mira Okafor or Tomas Lindqvist?",
        limits={"early_exit_threshold": 1.0, "max_refinements": 2},
    )
    assert never.stats.refinements == 2


def test_checkpointed_run_can_be_inspected_and_resumed(make_agent: Any) -> None:
    from langgraph.checkpoint.memory import InMemorySaver

    from tests.conftest import SAMPLE

    saver = InMemorySaver()
    agent: Agent = make_agent("ckpt", checkpointer=saver, approve_plans=True)
    agent.ingest(SAMPLE)
    paused = agent.run("In what year was Halden Robotics founded?", thread_id="t1")
    assert paused.halt_reason == "interrupted"
    snapshot = agent.graph.get_state({"configurable": {"thread_id": "t1"}})
    assert snapshot.next == ("review_plan",)
    assert snapshot.tasks[0].interrupts[0].value["subgoals"][0]["query"].startswith("In what year")
    assert not [t for t in paused.trace if t.node == "retrieve"]
    resumed = agent.resume("t1", True)
    plain = make_agent("plain")
    plain.ingest(SAMPLE)
    fresh = plain.run("In what year was Halden Robotics founded?")
    assert resumed.answer == fresh.answer and resumed.halt_reason == fresh.halt_reason


@pytest.mark.parametrize("task", ["", "   \n\t", "x" * 5000])
def test_bad_tasks_are_typed_errors(sample_agent: Agent, task: str) -> None:
    with pytest.raises(InvalidTaskError):
        sample_agent.run(task)


def test_result_json_is_stable(sample_agent: Agent) -> None:
    result = sample_agent.run("In what year was Halden Robotics founded?")
    data = result.model_dump(mode="json")
    assert set(data) >= {
        "schema_version",
        "answer",
        "short_answer",
        "claims",
        "citations",
        "subgoals",
        "halt_reason",
        "limits_hit",
        "usage",
        "trace",
        "stats",
        "engines",
    }
    assert set(data["stats"]) == {"hops", "depth", "refinements", "llm_calls", "tokens", "elapsed_s"}
    assert type(result).model_validate_json(result.model_dump_json()) == result
    assert result.to_markdown().count("[^") == len(result.citations)


def test_rejected_plan_stops_without_retrieval(make_agent: Any) -> None:
    from langgraph.checkpoint.memory import InMemorySaver

    from tests.conftest import SAMPLE

    agent: Agent = make_agent("rej", checkpointer=InMemorySaver(), approve_plans=True)
    agent.ingest(SAMPLE)
    agent.run("In what year was Halden Robotics founded?", thread_id="t2")
    result = agent.resume("t2", False)
    assert not [t for t in result.trace if t.node == "retrieve"]
    assert result.short_answer == ""
