"""Contract tests every implementation of the four roles must pass (the offline engine today; an LLM
engine adds itself to `IMPLEMENTATIONS`). They check the shape of what each role returns, that it
stays inside the limits, cites only evidence it was given, and reports its usage."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from graphs.roles.base import Roles
from graphs.roles.offline import offline_roles
from graphs.state import Draft, Report, Subgoal
from policies.limits import Limits
from tests.unit.test_offline_engine import KESTREL, ev
from tools.embeddings import HashingEmbedder

IMPLEMENTATIONS: dict[str, Callable[[], Roles]] = {"offline": lambda: offline_roles(HashingEmbedder())}
VERDICTS = {"supported", "contradicted", "not_enough_evidence"}
TASKS = [
    "In which city was the chief executive of the company that makes the Kestrel drone born?",
    "Which has a longer maximum flight time, the Kestrel or the Harrier?",
    "Were Lakeside Works and Amber Works both opened before 2018?",
    "In what year was Halden Robotics founded?",
    "What is A and what is B?",
    "List the three plants of Halden Robotics.",
]


@pytest.fixture(params=sorted(IMPLEMENTATIONS))
def roles(request: pytest.FixtureRequest) -> Roles:
    return IMPLEMENTATIONS[request.param]()


@pytest.mark.parametrize("task", TASKS)
def test_planner_returns_a_dag_within_limits(roles: Roles, task: str) -> None:
    limits = Limits(max_subgoals=2)
    plan, usage = roles.planner.plan(task, limits=limits, feedback=[], previous={}, round=0)
    assert usage.engine and usage.llm_calls >= 0
    assert 1 <= len(plan.subgoals) <= limits.max_subgoals
    ids = [s["id"] for s in plan.subgoals]
    assert len(set(ids)) == len(ids)
    for sg in plan.subgoals:
        assert sg["query"] and sg["status"] == "pending"
        assert all(dep in ids[: ids.index(sg["id"])] for dep in sg.get("depends_on", []))  # only earlier steps
        for slot in re.findall(r"\{(\w+)\}", sg["query"]):
            assert slot in sg.get("depends_on", [])  # a slot is filled by a declared dependency


def test_replanning_renames_subgoals_for_the_new_round(roles: Roles) -> None:
    plan, _ = roles.planner.plan(TASKS[0], limits=Limits(), feedback=[], previous={}, round=0)
    previous = {s["id"]: Subgoal(**{**s, "status": "answered", "answer": "x"}) for s in plan.subgoals}
    again, _ = roles.planner.plan(
        TASKS[0], limits=Limits(), feedback=["claim not supported: x"], previous=previous, round=1
    )
    assert again.subgoals and all(s["id"] not in previous and s["round"] == 1 for s in again.subgoals)


def test_solver_reads_and_finalizes_with_verbatim_citations(roles: Roles) -> None:
    sg = Subgoal(id="s1", query="Which company makes the Kestrel drone?", kind="lookup", depends_on=[], round=0, hops=1)
    reading, usage = roles.solver.read("task", sg, sg["query"], KESTREL, last_hop=True)
    assert usage.engine and reading.follow_query is None  # the last hop never asks for another
    assert 0.0 <= reading.confidence <= 1.0
    known = {s["node_id"]: s["text"] for e in KESTREL for s in e["sentences"]}
    assert set(reading.support) <= set(known)
    sg.update(answer=reading.answer, status="answered", confidence=reading.confidence, support=reading.support)
    draft, _ = roles.solver.finalize("task", "lookup", {}, {"s1": sg}, {"s1": KESTREL})
    assert draft["short_answer"] == reading.answer
    for claim in draft["claims"]:
        assert claim["citations"]
        for cit in claim["citations"]:
            assert cit["quote"] in known[cit["node_id"]]


def test_solver_finalizes_even_when_nothing_was_found(roles: Roles) -> None:
    sg = Subgoal(id="s1", query="Who founded it?", kind="lookup", depends_on=[], round=0, status="failed", answer="")
    draft, _ = roles.solver.finalize("Who founded it?", "lookup", {}, {"s1": sg}, {"s1": []})
    assert draft["short_answer"] == "" and draft.get("missing")


def test_verifier_gives_a_verdict_per_claim_and_drops_foreign_citations(roles: Roles) -> None:
    quote = "The Kestrel is an inspection drone made by Halden Robotics."
    good = {"source": "s", "section": ["Products"], "quote": quote, "node_id": "Products-0", "start": 0, "end": 1}
    foreign = {**good, "node_id": "nowhere", "quote": "Made up."}
    draft = Draft(
        short_answer="Halden Robotics",
        claims=[
            {"text": "Halden Robotics makes the Kestrel drone.", "citations": [good, foreign]},
            {"text": "Halden Robotics makes the Kestrel drone in 1999.", "citations": [good]},
        ],
        confidence=0.9,
        missing=[],
    )
    report, usage = roles.verifier.verify("Which company makes the Kestrel drone?", draft, {"s1": KESTREL})
    assert usage.engine
    assert [c["verdict"] in VERDICTS for c in report["claims"]] == [True, True]
    assert all(c["node_id"] != "nowhere" for cl in report["claims"] for c in cl["citations"])
    assert report["claims"][0]["verdict"] == "supported"
    assert report["claims"][1]["verdict"] != "supported" and not report["passed"]
    assert report["feedback"]  # a failed report says why, for the planner's next round


def test_composer_cites_every_sentence_it_writes(roles: Roles) -> None:
    cite = {
        "source": "s",
        "section": ["P"],
        "quote": "Mira Okafor was born in Bergen.",
        "node_id": "n",
        "start": 0,
        "end": 1,
    }
    report = Report(
        claims=[{"text": "Mira Okafor was born in Bergen.", "verdict": "supported", "citations": [cite]}],
        checks=[],
        passed=True,
        confidence=0.9,
        feedback=[],
    )
    out, usage = roles.composer.compose("Where was Mira Okafor born?", Draft(short_answer="Bergen"), report, "verified")
    assert usage.engine
    assert out["short_answer"] == "Bergen" and out["citations"]
    body = [line for line in out["answer"].splitlines() if line.strip()]
    assert body and all("[" in line for line in body)


def test_evidence_helper_matches_the_retrieve_node_shape() -> None:
    item = ev("T", "One sentence.", sims=[0.5])
    assert item["sentences"][0]["sim"] == 0.5 and item["sentences"][0]["start"] == len("T") + 4
