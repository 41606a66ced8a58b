"""Answer spans keep whole values: times, quantities with their units, counts in words, lower-case
names, and "how" phrases. Invented sentences only."""

from __future__ import annotations

import pytest

from graphs.text.spans import candidate_spans, names_in


def spans(sentence: str) -> list[tuple[str, str]]:
    return [(s.text, s.kind) for s in candidate_spans(sentence)]


@pytest.mark.parametrize(
    ("sentence", "span"),
    [
        ("The Orvik ferry sails at 06:15 on Sundays.", ("06:15", "date")),
        ("The Orvik museum opens at 9 o'clock.", ("9 o'clock", "date")),
        ("The last bus leaves at 11.45 pm from the square.", ("11.45 pm", "date")),
        ("The Orvik smelter runs at 1,450 degrees Celsius.", ("1,450 degrees Celsius", "number")),
        ("The Orvik turbine delivers 3.2 kilowatts.", ("3.2 kilowatts", "number")),
        ("The tank holds 40 cubic metres of brine.", ("40 cubic metres", "number")),
        ("Each carriage of the Orvik train has six berths.", ("six", "number")),
        ("Guests may bring up to twenty-four bottles.", ("twenty-four", "number")),
        ("Drafts are kept in a folder named outbox until sent.", ("outbox", "quoted")),
    ],
)
def test_values_come_whole(sentence: str, span: tuple[str, str]) -> None:
    assert span in spans(sentence)


def test_a_time_is_not_split_into_a_bare_number() -> None:
    assert ("06", "number") not in spans("The Orvik ferry sails at 06:15 on Sundays.")
    assert ("06:15", "date") in spans("The Orvik ferry sails at 06:15 on Sundays.")


def test_how_phrases_end_the_clause_and_overlap_what_they_contain() -> None:
    found = spans("The Orvik pump connects to the tank by two braided hoses.")
    assert ("two braided hoses", "manner") in found and ("two", "number") in found
    assert not [s for s in found if s[1] == "manner" and s[0] == "default"]
    assert all(k != "manner" for _, k in spans("The folder is used by default."))


def test_one_and_named_after_are_not_values() -> None:
    assert ("one", "number") not in spans("It is one of the oldest bridges.")
    assert all(k != "quoted" for _, k in spans("The street was named after a painter."))


def test_manner_phrases_are_never_names_of_a_question() -> None:
    assert names_in("Does the Orvik pump connect by two braided hoses?") == ["Orvik"]
