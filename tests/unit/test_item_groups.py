"""Enumerations read by structure (`graphs.roles.offline.item_groups`): the items of a list question
are the members of one group in the evidence — sibling entries under a heading, an entry's field
rows, or the names one sentence enumerates. Invented mini-documents only."""

from __future__ import annotations

from typing import Any

from graphs.roles.offline.item_groups import GROUP_FLOOR, asked_noun, listed_names, structural_items
from graphs.state import EvidenceItem
from tests.support.evidence import entry_item


def _item(section: list[str], *sentences: str, doc: str = "api", start: int = 0, sim: float = 0.5) -> EvidenceItem:
    return entry_item(section, *sentences, doc=doc, title="harbourlib API", sim=sim, start=start)


def test_a_sentence_list_gives_its_names_without_parentheticals_or_clauses() -> None:
    assert listed_names("Keel (since 2.1), Rudder, and Mast are supported.") == ["Keel", "Rudder", "Mast"]
    assert listed_names("kind – one of: PIER, JETTY, QUAY or SLIPWAY.") == ["PIER", "JETTY", "QUAY", "SLIPWAY"]
    assert listed_names("Catching this error also catches both BerthTaken and BerthClosed errors.") == [
        "BerthTaken",
        "BerthClosed",
    ]
    assert listed_names(
        "The harbour has two gates: NorthGate which opens at dawn and SouthGate which never closes."
    ) == [
        "NorthGate",
        "SouthGate",
    ]
    # Prose with commas and "and" names nothing: lower-case words and a sentence's opening word are not names.
    assert listed_names("The vessel waits, turns and leaves when the tide is high.") == []


def test_the_asked_noun_is_the_kind_of_item() -> None:
    assert asked_noun("Which three hull types does harbourlib support?") == "hull types"
    assert asked_noun("List the errors harbourlib.dock raises.") == "errors"
    assert asked_noun("Which two attributes of a Fleet control its size?") == "attributes"


def test_sibling_entries_under_the_matching_heading_are_the_items_and_named_ones_are_left_out() -> None:
    errors = ["API", "Errors"]
    evidence = [
        _item([*errors, "exception harbourlib.HarbourError"], "Base of every error harbourlib raises.", start=0),
        _item([*errors, "exception harbourlib.BerthTaken"], "Raised when another vessel holds the berth.", start=100),
        _item([*errors, "exception harbourlib.TideTooLow"], "Raised when the water is too shallow.", start=200),
        _item(["API", "Vessels", "harbourlib.dock(vessel)"], "Moor a vessel.", start=300),
        _item(["API", "Vessels", "harbourlib.cast_off(vessel)"], "Release a vessel.", start=400),
    ]
    items = structural_items("Which two errors does harbourlib raise besides HarbourError?", evidence, 2, GROUP_FLOOR)
    assert [i.answer for i in items] == ["harbourlib.BerthTaken", "harbourlib.TideTooLow"]
    # Every item is cited by a sentence of its own entry.
    assert all(len(i.support) == 1 and i.answer in i.support[0].ev["section"][-1] for i in items)


def test_field_rows_answer_only_a_question_asking_for_parameters_or_attributes() -> None:
    entry = _item(
        ["API", "class harbourlib.Fleet(size=3, flag=None)"],
        "A group of vessels that sail together.",
        "size (int) – how many vessels the fleet holds.",
        "flag (str) – the flag every vessel of the fleet flies.",
    )
    asked = structural_items("Which two attributes of a Fleet does it document?", [entry], 2, GROUP_FLOOR)
    assert [i.answer for i in asked] == ["size", "flag"]
    assert structural_items("Which two fleets sail together?", [entry], 2, GROUP_FLOOR) == []


def test_the_sentence_that_states_the_count_wins_over_a_larger_group() -> None:
    evidence = [
        _item(
            ["Guide", "Gates"],
            "The harbour has two gates: NorthGate which opens at dawn and SouthGate which never closes.",
        ),
        _item(["API", "Gates", "harbourlib.NorthGate"], "The north gate.", start=100, sim=0.3),
        _item(["API", "Gates", "harbourlib.EastGate"], "The east gate.", start=200, sim=0.3),
        _item(["API", "Gates", "harbourlib.SouthGate"], "The south gate.", start=300, sim=0.3),
    ]
    items = structural_items("Name the two gates the harbour has.", evidence, 2, GROUP_FLOOR)
    assert [i.answer for i in items] == ["NorthGate", "SouthGate"]


HULLS = """<html><head><title>harbourlib guide</title></head><body><div role="main">
<h1>Hulls</h1>
<p>harbourlib models three hull types: Catamaran, Trimaran and Monohull.</p>
<p>Each hull type has its own draught table.</p>
<h1>Tides</h1>
<p>Tide tables are read from the harbour office every morning.</p>
</div></body></html>
"""


def test_agent_lists_the_names_a_sentence_enumerates_each_cited(agent_over: Any) -> None:
    agent = agent_over({"guide.html": HULLS}, "hulls")
    result = agent.run("Which three hull types does harbourlib model?")
    assert [i.text for i in result.items] == ["Catamaran", "Trimaran", "Monohull"]
    assert result.short_answer == "Catamaran, Trimaran, Monohull" and result.outcome == "answered"
    for item in result.items:
        assert item.text in result.citations[item.citation - 1].quote
