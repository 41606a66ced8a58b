from __future__ import annotations

import pytest

from graphs.roles.offline.planner import OfflinePlanner
from graphs.text.answer_types import answer_type
from policies.limits import Limits


def plan(task: str):  # type: ignore[no-untyped-def]
    result, usage = OfflinePlanner().plan(task, limits=Limits(), feedback=[], previous={}, round=0)
    assert usage.llm_calls == 0
    return result


def test_bridge_chain_fills_slots_from_earlier_answers() -> None:
    p = plan("In which city was the chief executive of the company that makes the Kestrel drone born?")
    assert p.kind == "bridge"
    assert [s["query"] for s in p.subgoals] == [
        "Which company makes the Kestrel drone?",
        "Who is the chief executive of {s1}?",
        "In which city was {s2} born?",
    ]
    assert p.subgoals[2]["depends_on"] == ["s2"]


def test_comparison_gives_independent_subgoals() -> None:
    p = plan("Which has a longer maximum flight time, the Kestrel or the Harrier?")
    assert p.kind == "choice"
    assert p.info["options"] == ["Kestrel", "Harrier"] and p.info["comparator"] == "max"
    assert all(not s["depends_on"] for s in p.subgoals)


def test_comparison_without_comma() -> None:
    p = plan("Which magazine was started first Arthur's Magazine or First for Women?")
    assert p.info["options"] == ["Arthur's Magazine", "First for Women"]
    assert p.info["comparator"] == "min"


def test_both_question() -> None:
    p = plan("Were Lakeside Works and Amber Works both opened before 2018?")
    assert p.kind == "both" and p.info["options"] == ["Lakeside Works", "Amber Works"]


def test_plain_lookup_and_subgoal_cap() -> None:
    assert plan("In what year was Halden Robotics founded?").kind == "lookup"
    capped, _ = OfflinePlanner().plan(
        "In which city was the chief executive of the company that makes the Kestrel drone born?",
        limits=Limits(max_subgoals=2),
        feedback=[],
        previous={},
        round=0,
    )
    assert len(capped.subgoals) <= 2


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("Who founded Halden Robotics?", "person"),
        ("Where was Mira Okafor born?", "place"),
        ("In which city is the plant located?", "place"),
        ("What year did the plant open?", "date"),
        ("How many employees does it have?", "number"),
        ("What is the maximum payload of the Harrier?", "number"),
        ("Is the Kestrel made in Finland?", "yesno"),
        ("Which company makes the Kestrel?", "org"),
    ],
)
def test_answer_types(question: str, kind: str) -> None:
    assert answer_type(question).kind == kind
