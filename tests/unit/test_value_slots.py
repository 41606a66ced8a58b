"""Values read from the slot the question names: a signature's parameter, a parameter row, an option
entry, a table row — each with a neighbouring value that stands as close to the question's words
and must lose. Invented mini API references (no real manual), hand-made evidence and a hashing agent."""

from __future__ import annotations

from typing import Any

import pytest

from graphs.roles.offline.slots import OTHER_SLOT, SlotFocus, row_default
from graphs.roles.offline.solver import OfflineSolver
from graphs.text.entries import parse_field_row
from tests.support.evidence import entry_item


def _entry(heading: str, *rows: str) -> Any:
    return entry_item(["Tender API", heading], *rows, title="tenderlib API", heading=heading, key=heading)


@pytest.mark.parametrize(
    ("row", "name", "value", "description"),
    [
        ("crew_limit=4¶ – the number of crew kept aboard.", "crew_limit", "4", "the number of crew kept aboard."),
        ("hull_paint='ochre'¶ –", "hull_paint", "ochre", ""),
        ("ballast=-1 – tonnes of ballast; -1 leaves it to the yard.", "ballast", "-1", None),
        ("draught (float) – metres below the waterline. Defaults to 2.5.", "draught", None, None),
        ("mooring: str = 'bow' – which end is tied first", "mooring", "bow", "which end is tied first"),
        ("**keel** (int) - the keel number", "keel", None, "the keel number"),
    ],
)
def test_parameter_rows_parse_with_their_declared_value(
    row: str, name: str, value: str | None, description: str | None
) -> None:
    parsed = parse_field_row(row)
    assert parsed is not None and parsed.name == name and parsed.value == value
    if description is not None:
        assert parsed.description == description


@pytest.mark.parametrize(
    "sentence",
    ["Moor the tender at a berth.", "tender - a small boat that serves a larger one.", "The crew_limit setting – odd."],
)
def test_prose_is_not_a_parameter_row(sentence: str) -> None:
    assert parse_field_row(sentence) is None


def test_a_rows_default_in_words_belongs_to_the_row_unless_another_parameter_claims_it() -> None:
    own = parse_field_row("draught (float) – metres below the waterline. Defaults to 2.5.")
    assert own is not None and row_default(own) == "2.5"
    # "… beyond the crew_limit setting, which defaults to four": crew_limit's default, not spare_crew's.
    other = parse_field_row("spare_crew (int) – crew allowed beyond the crew_limit setting, which defaults to four.")
    assert other is not None and row_default(other) is None


# The trap of every slot: two parameters side by side, the question naming one of them.
LAUNCH = _entry(
    "tenderlib.launch(harbour, **options)",
    "Launch a tender from the harbour.",
    "spare_crew=10¶ – crew allowed aboard beyond the crew_limit setting, which defaults to four.",
    "crew_limit=4¶ – the number of crew kept aboard the tender.",
    "fuel_reserve=12¶ – litres of fuel kept back for the return trip.",
)


def test_the_asked_parameter_row_gives_its_value_not_the_neighbouring_rows() -> None:
    solver = OfflineSolver()
    assert solver.extract("What is the default crew_limit of tenderlib.launch()?", [LAUNCH]).answer == "4"
    assert solver.extract("What is the default spare_crew of tenderlib.launch()?", [LAUNCH]).answer == "10"
    assert solver.extract("What is the default fuel_reserve of tenderlib.launch()?", [LAUNCH]).answer == "12"


def test_the_slot_a_value_fills_is_read_from_its_notation() -> None:
    focus = SlotFocus.of("What is the default crew_limit of tenderlib.launch()?", [LAUNCH])
    assert focus.asked == {"crew_limit"} and {"spare_crew", "fuel_reserve"} <= focus.declared
    row = parse_field_row(LAUNCH["sentences"][2]["text"])
    text = LAUNCH["sentences"][2]["text"]
    assert focus.owner(text, text.index("10"), row) == "spare_crew"  # `spare_crew=10`
    assert focus.owner(text, text.index("four"), row) == "crew_limit"  # "the crew_limit setting, which defaults to"
    assert focus.factor("spare_crew") == OTHER_SLOT
    # A question naming no declared slot judges every value by its words alone.
    assert SlotFocus.of("How do I launch a tender?", [LAUNCH]).factor("spare_crew") == 1.0


def test_a_signature_gives_the_asked_parameters_default_not_its_neighbours() -> None:
    ev = _entry("class tenderlib.Tender(hull, crew_limit=4, fuel_reserve=12, speed=7.5)", "A small boat.")
    solver = OfflineSolver()
    assert solver.extract("What is the default fuel_reserve of tenderlib.Tender?", [ev]).answer == "12"
    assert solver.extract("What is the default speed of tenderlib.Tender?", [ev]).answer == "7.5"


def test_an_option_entry_owns_the_default_its_body_states() -> None:
    jobs = entry_item(["OPTIONS", "--jobs <n>"], "Run this many transfers at once. Defaults to 3.", key="jobs")
    chunk = entry_item(["OPTIONS", "--chunk <kb>"], "Send files in chunks of this many kilobytes. Defaults to 64.")
    solver = OfflineSolver()
    question = "How many transfers does tender sync run at once with --jobs by default?"
    assert solver.extract(question, [chunk, jobs]).answer == "3"
    assert solver.extract("What is the default --chunk size of tender sync?", [jobs, chunk]).answer == "64"


TABLE_PAGE = """<html><head><title>tenderlib settings</title></head><body><div role="main">
<h1>Settings</h1>
<p>Every tender reads these settings when it is launched.</p>
<table>
<tr><th>Setting</th><th>Default</th><th>Meaning</th></tr>
<tr><td>CREW_LIMIT</td><td>4</td><td>Crew kept aboard a tender.</td></tr>
<tr><td>SPARE_CREW</td><td>10</td><td>Crew allowed aboard beyond the limit.</td></tr>
</table>
</div></body></html>
"""


def test_agent_reads_the_table_cell_of_the_asked_row(agent_over: Any) -> None:
    agent = agent_over({"settings.html": TABLE_PAGE}, "tender")
    assert agent.run("What is the default SPARE_CREW setting of tenderlib?").short_answer == "10"
    assert agent.run("What is the default CREW_LIMIT setting of tenderlib?").short_answer == "4"


def test_a_row_described_in_the_questions_words_is_the_asked_slot() -> None:
    ev = _entry(
        "tenderlib.launch(harbour, **options)",
        "spare_crew=10¶ – crew allowed aboard beyond the crew_limit setting.",
        "dock_wait=45¶ –",
        "minutes to wait at the dock before it abandons a berth.",
        "crew_limit=4¶ – the number of crew kept aboard the tender.",
    )
    question = "How many minutes does a tender wait at the dock before it abandons a berth, by default?"
    assert SlotFocus.of(question, [ev]).asked == {"dock_wait"}
    assert OfflineSolver().extract(question, [ev]).answer == "45"


def test_a_slot_named_only_in_words_is_ambiguous_when_a_rival_slot_is_named_too() -> None:
    ev = _entry(
        "tenderlib.launch(harbour, **options)",
        "max_spill=10¶ – extra crew allowed aboard beyond the crew_limit setting, which defaults to four.",
        "crew_limit=4¶ – the number of crew kept aboard the tender.",
    )
    # "beyond the crew limit" says crew_limit's words, but "spill" is the other slot's: not crew_limit.
    question = "How many spill crew beyond the crew limit does tenderlib.launch allow aboard by default?"
    assert "crew_limit" not in SlotFocus.of(question, [ev]).asked
    assert OfflineSolver().extract(question, [ev]).answer == "10"
    # Spelled in its own notation, the slot is unambiguous.
    assert SlotFocus.of("What is the default crew_limit beyond the spill?", [ev]).asked == {"crew_limit"}


def test_a_rows_value_in_its_run_on_sentence_belongs_to_the_row() -> None:
    ev = _entry(
        "tenderlib.launch(harbour, **options)",
        "lantern¶ –",
        "if True, a lantern is lit at the bow. Defaults to False.",
        "horn¶ –",
        "if set, the horn sounds on leaving. Defaults to True.",
    )
    solver = OfflineSolver()
    assert solver.extract("What is the default lantern setting of tenderlib.launch?", [ev]).answer == "False"
    assert solver.extract("What is the default horn setting of tenderlib.launch?", [ev]).answer == "True"


def test_the_same_parameter_of_a_sibling_entry_is_a_neighbour() -> None:
    fleet = _entry(
        "tenderlib.Fleet.launch_all(harbour=None, checklist=True)",
        "Launch every tender of the fleet.",
        "checklist¶ – Defaults to True, run the checklist for each tender first.",
    )
    single = _entry(
        "tenderlib.Tender.launch(harbour=None, checklist=False)",
        "Launch this tender.",
        "checklist¶ – whether the checklist is run first.",
    )
    solver = OfflineSolver()
    assert (
        solver.extract("What is the default checklist of tenderlib's Tender.launch()?", [fleet, single]).answer
        == "False"
    )
    assert solver.extract("What is the default checklist of Fleet.launch_all()?", [single, fleet]).answer == "True"


def test_a_row_default_is_claimed_in_the_entrys_notation() -> None:
    from graphs.roles.offline.claims import claim_text
    from graphs.roles.offline.evidence import Ranked

    crew_row = Ranked(1.0, LAUNCH["sentences"][3], LAUNCH, 3)
    question = "What is the default crew_limit of tenderlib.launch()?"
    assert claim_text(question, "4", [crew_row]) == "In tenderlib.launch, crew_limit = 4."
    # Another slot's row, or a value the row does not state, is restated in the question's words.
    assert claim_text(question, "10", [crew_row]).startswith("10 ")
    spare_row = Ranked(1.0, LAUNCH["sentences"][2], LAUNCH, 2)
    assert not claim_text(question, "4", [spare_row]).startswith("In tenderlib.launch")


def test_a_captioned_version_table_is_read_by_its_rows() -> None:
    from graphs.text.tables import parse_table

    table = "Supported hull versions\nSupport | Versions\nFully tested | 2.1, 2.8+\nBest effort | 1.4+"
    assert parse_table(table) == (["Support", "Versions"], [["Fully tested", "2.1, 2.8+"], ["Best effort", "1.4+"]])
    ev = _entry("Hull support", "Every tender hull is checked against these versions.", table)
    solver = OfflineSolver()
    assert solver.extract("Which hull versions are fully tested by tenderlib?", [ev]).answer == "2.1, 2.8+"
    assert solver.extract("Which hull versions does tenderlib support on a best effort basis?", [ev]).answer == "1.4+"


def test_a_parameter_of_a_sibling_entry_is_not_the_asked_slot_of_the_named_entry() -> None:
    hail = _entry("tenderlib.hail(call=None, loud=False)", "Hail the harbour master.", "call – Defaults to Ahoy.")
    echo = _entry("tenderlib.echo(message=None, loud=False)", "Repeat a message to the crew.")
    focus = SlotFocus.of("What message does tenderlib.hail shout by default?", [hail, echo])
    assert focus.asked == set()  # `message` is echo's parameter; hail declares call and loud
    assert OfflineSolver().extract("What message does tenderlib.hail shout by default?", [hail, echo]).answer != "None"


def test_a_constructor_entry_is_named_by_its_class() -> None:
    from graphs.roles.offline.slots import entry_named_depth, question_terms
    from graphs.text.entries import parse_entry

    ctor = parse_entry("method tenderlib.Tender.__init__(hull, crew_limit=4)")
    assert ctor is not None and entry_named_depth(ctor, question_terms("What crew_limit does a Tender take?")) == 1


def test_an_entry_is_named_by_its_spelling_not_by_a_common_word() -> None:
    pier = _entry("class tenderlib.Pier(berths=6, wait=30)", "A pier.", "wait – minutes to wait for a berth.")
    launch = _entry("tenderlib.launch(harbour, **options)", "pier_wait=45¶ – minutes to wait at the pier.")
    # "the pier" is a word, not the entry `Pier`: the asked slot is not narrowed to Pier's parameters.
    assert SlotFocus.of("What is the default pier_wait of a launch at the pier?", [pier, launch]).asked == {"pier_wait"}
    assert SlotFocus.of("What is the default pier_wait of Pier?", [pier, launch]).asked == set()
