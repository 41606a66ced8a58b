"""The offline reader on structured documents: entry names, signature defaults, table rows, technical
answer types and enumerations. Invented mini API references (no real manual), hashing embedder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from graphs.roles.offline.evidence import Ranked
from graphs.roles.offline.planner import OfflinePlanner
from graphs.roles.offline.solver import OfflineSolver
from graphs.state import EvidenceItem, SentenceRef
from graphs.text.answer_types import answer_type
from graphs.text.code_spans import default_values, technical_spans
from graphs.text.entries import parse_entry
from graphs.text.tables import cell_answers
from policies.limits import Limits
from tests.conftest import offline_settings
from tests.support.evidence import entry_item
from tests.support.ferry_pages import FERRY_TIE_MODES, write_ferry_tie

# A Sphinx-like page: one <dl> entry per object, a settings table, a code block.
REFERENCE = """<html><head><title>ferrylib API</title></head><body><div role="main">
<h1>API reference</h1>
<dl class="py function">
<dt id="ferrylib.dock">ferrylib.dock(vessel, berth=None, timeout=5.0, retries=3)</dt>
<dd><p>Moor a vessel at a berth and wait until the harbour master confirms it.</p>
<p>Raises <code>BerthTaken</code> when another vessel holds the berth.</p></dd>
</dl>
<dl class="py function">
<dt id="ferrylib.cast_off">ferrylib.cast_off(vessel, *, drift=False)</dt>
<dd><p>Release the lines of a moored vessel so that it can leave the berth.</p></dd>
</dl>
<dl class="py exception">
<dt id="ferrylib.BerthTaken">exception ferrylib.BerthTaken</dt>
<dd><p>Raised when a vessel asks for a berth that another vessel already holds.</p></dd>
</dl>
<h2>Settings</h2>
<table>
<tr><th>Setting</th><th>Default</th><th>Meaning</th></tr>
<tr><td>TIDE_WINDOW</td><td>45</td><td>Minutes a berth stays reserved around high tide.</td></tr>
<tr><td>PILOT_LIMIT</td><td>12</td><td>Vessels one pilot may guide per day.</td></tr>
</table>
<pre>ferry dock --berth 4 --wait</pre>
</div></body></html>
"""
OPTIONS = """<html><head><title>ferry-dock(1)</title></head><body><div role="main">
<h1>ferry-dock(1)</h1>
<h2>OPTIONS</h2>
<dl>
<dt>--wait</dt><dd><p>Block until the harbour master confirms the mooring.</p></dd>
<dt>-q, --quiet</dt><dd><p>Print nothing except errors.</p></dd>
<dt>--log-level &lt;level&gt;</dt><dd><p>Choose how much the tool reports; the default is warn.</p></dd>
</dl>
</div></body></html>
"""


@pytest.fixture
def reference_agent(make_agent: Any, tmp_path: Path) -> Any:
    docs = tmp_path / "ref"
    docs.mkdir()
    (docs / "api.html").write_text(REFERENCE, encoding="utf-8")
    (docs / "ferry-dock.html").write_text(OPTIONS, encoding="utf-8")
    agent = make_agent("structured")
    agent.ingest(docs)
    return agent


# --------------------------------------------------------------------------- text modules
@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("Which ferrylib function releases the lines of a vessel?", "identifier"),
        ("Which exception does dock raise when the berth is held?", "exception"),
        ("Which ferry dock option blocks until the mooring is confirmed?", "option"),
        ("Which subcommand frees a berth?", "command"),
        ("Which versions of ferrylib support tides?", "version"),
        ("What is the default log level of ferry dock?", "value"),
        ("What is the maximum draught of the Harrier?", "number"),
    ],
)
def test_technical_answer_types(question: str, kind: str) -> None:
    assert answer_type(question).kind == kind


def test_entries_parse_signatures_flags_and_reject_prose() -> None:
    dock = parse_entry("ferrylib.dock(vessel, berth=None, timeout=5.0, retries=3)¶")
    assert dock is not None and dock.name == "ferrylib.dock" and dock.short == "dock"
    assert dock.defaults == {"berth": "None", "timeout": "5.0", "retries": "3"}
    flag = parse_entry("-q, --quiet")
    assert flag is not None and flag.kind == "option" and flag.aliases == ("-q", "--quiet")
    taken = parse_entry("exception ferrylib.BerthTaken")
    assert taken is not None and taken.kind == "exception"
    assert parse_entry("Making a mooring request") is None
    assert parse_entry("Harbour Lights (1951 film)") is None
    assert parse_entry("Settings") is None


def test_technical_spans_and_defaults() -> None:
    spans = {
        s.text: s.kind for s in technical_spans("Use ferrylib.dock() with --wait, or set TIDE_WINDOW=45 in ~/.ferryrc.")
    }
    assert spans["ferrylib.dock()"] == "code" and spans["--wait"] == "flag"
    assert spans["TIDE_WINDOW=45"] == "value" and spans["~/.ferryrc"] == "value"
    assert "e.g" not in {s.text for s in technical_spans("Pick one, e.g. a pier.")}
    assert [s.text for s in default_values("The level defaults to warn unless set.")] == ["warn"]


def test_table_cells_come_from_the_asked_row_and_column() -> None:
    table = "Setting | Default | Meaning\nTIDE_WINDOW | 45 | Minutes a berth stays reserved.\nPILOT_LIMIT | 12 | Vessels per pilot."
    cells = cell_answers(table, "What is the default PILOT_LIMIT?", "default")
    best = max(cells, key=lambda c: c.row_match + c.column_match)
    assert (best.text, best.row_key, best.header) == ("12", "PILOT_LIMIT", "Default")


# --------------------------------------------------------------------------- planner
def test_enumeration_plans_carry_a_count_and_an_item_question() -> None:
    plan, _ = OfflinePlanner().plan(
        "List the three berths of the north pier.", limits=Limits(), feedback=[], previous={}, round=0
    )
    assert plan.kind == "enumeration" and plan.info["count"] == 3
    assert plan.subgoals[0]["query"] == "Which berths of the north pier?"
    plan, _ = OfflinePlanner().plan(
        "Which two options silence ferry dock?", limits=Limits(), feedback=[], previous={}, round=0
    )
    assert plan.kind == "enumeration" and plan.info["count"] == 2
    plan, _ = OfflinePlanner().plan(
        "List the settings of ferrylib.", limits=Limits(), feedback=[], previous={}, round=0
    )
    assert plan.kind == "enumeration" and plan.info["count"] == 0


@pytest.mark.parametrize(
    ("question", "options"),
    [
        ("Which ferry dock mode does not wait for the master: --drift or --wait?", ["--drift", "--wait"]),
        ("Of BerthTaken and PierClosed, which one is safe to retry?", ["BerthTaken", "PierClosed"]),
        ("Which of Pier.read_lines and Pier.read_blocks returns bytes?", ["Pier.read_lines", "Pier.read_blocks"]),
        ("Between ferry dock --fast and --slow, which one waits for the tide?", ["--fast", "--slow"]),
    ],
)
def test_choice_plans_take_technical_options(question: str, options: list[str]) -> None:
    plan, _ = OfflinePlanner().plan(question, limits=Limits(), feedback=[], previous={}, round=0)
    assert plan.kind == "choice" and plan.info["options"] == options


def test_two_questions_joined_by_a_comma_and_the_same_wh_word_are_two_subgoals() -> None:
    plan, _ = OfflinePlanner().plan(
        "Which ferry dock option waits for the master, and which option prints nothing?",
        limits=Limits(),
        feedback=[],
        previous={},
        round=0,
    )
    assert plan.kind == "conjunction" and len(plan.subgoals) == 2
    plan, _ = OfflinePlanner().plan(
        "What does dock raise when the berth is held, and with what code does it exit?",
        limits=Limits(),
        feedback=[],
        previous={},
        round=0,
    )
    assert plan.kind == "conjunction" and plan.subgoals[1]["query"].startswith("with what code")
    # A prepositional tail qualifies the first question; it is not a second one.
    plan, _ = OfflinePlanner().plan(
        "How do I see who moored each vessel, and in which berth?", limits=Limits(), feedback=[], previous={}, round=0
    )
    assert plan.kind == "lookup"
    # One person under two constraints stays one lookup.
    plan, _ = OfflinePlanner().plan(
        "Who composed the Harbour Suite and who retired in 1999?", limits=Limits(), feedback=[], previous={}, round=0
    )
    assert plan.kind == "lookup"


def test_a_how_to_question_is_not_split_at_its_relative_clause() -> None:
    plan, _ = OfflinePlanner().plan(
        "How can my script show a lamp that blinks while the ferry docks?",
        limits=Limits(),
        feedback=[],
        previous={},
        round=0,
    )
    assert plan.kind == "lookup" and len(plan.subgoals) == 1


def test_flags_closing_a_clause_are_not_a_choice() -> None:
    plan, _ = OfflinePlanner().plan(
        "Which setting makes ferry dock refuse to leave unless given -f or -x?",
        limits=Limits(),
        feedback=[],
        previous={},
        round=0,
    )
    assert plan.kind != "choice"


# --------------------------------------------------------------------------- solver on hand-made evidence
def _entry(heading: str, *sentences: str, doc: str = "api") -> EvidenceItem:
    return entry_item(["API reference", heading], *sentences, doc=doc, title="ferrylib API", key=heading)


def test_the_entry_name_answers_which_function() -> None:
    evidence = [
        _entry(
            "ferrylib.cast_off(vessel, *, drift=False)", "Release the lines of a moored vessel so that it can leave."
        ),
        _entry("ferrylib.dock(vessel, berth=None, timeout=5.0)", "Moor a vessel at a berth and wait for the master."),
    ]
    ex = OfflineSolver().extract("Which ferrylib function releases the lines of a moored vessel?", evidence)
    assert ex.answer == "ferrylib.cast_off"
    assert ex.support[0].ev["section"][-1].startswith("ferrylib.cast_off(")  # the citation carries the heading


def test_a_signature_default_answers_what_is_the_default() -> None:
    evidence = [_entry("ferrylib.dock(vessel, berth=None, timeout=5.0, retries=3)", "Moor a vessel at a berth.")]
    assert OfflineSolver().extract("What is the default timeout of ferrylib.dock?", evidence).answer == "5.0"
    assert OfflineSolver().extract("How many retries does ferrylib.dock make by default?", evidence).answer == "3"


def _with_heading(ev: EvidenceItem) -> EvidenceItem:
    """The entry's heading line as a citable sentence, as the retrieve node adds it."""
    head = SentenceRef(node_id=f"{ev['node_id']}-heading", text=ev["section"][-1], start=0, end=10, kind="heading")
    return EvidenceItem(**{**ev, "sentences": [head, *ev["sentences"]]})


def test_a_default_rests_on_the_signature_line_and_keeps_its_spelling() -> None:
    ev = _with_heading(
        _entry(
            "ferrylib.moor(vessel, rope=None, log_suffix='.tide', berth=None)",
            "Moor a vessel with a rope.",
            "Writes a log file next to the berth; see tide.log for the format.",
        )
    )
    ex = OfflineSolver().extract("What log suffix does ferrylib.moor use when none is given?", [ev])
    assert ex.answer == ".tide"  # the signature's spelling, not "tide" from the prose
    assert ex.support[0].sent.get("kind") == "heading"


def test_a_parameter_described_in_plain_words_gives_its_default() -> None:
    ev = _with_heading(
        _entry(
            "class ferrylib.Harbour(charset='latin-9', berths=12, pilot=False)",
            "A harbour with berths and a pilot.",
            "charset (str) – the character encoding of the harbour master's radio log.",
            "pilot (bool) – whether a pilot guides every vessel in.",
        )
    )
    question = "Which character encoding does ferrylib.Harbour use for the radio log by default?"
    assert OfflineSolver().extract(question, [ev]).answer == "latin-9"


def test_the_named_entry_wins_over_a_sibling_with_the_same_parameter() -> None:
    evidence = [
        _with_heading(_entry("ferrylib.Pier.read_lines(chunk=64, strip=False)", "Read the log one line at a time.")),
        _with_heading(_entry("ferrylib.Pier.read_blocks(chunk=8, strip=False)", "Read the log in blocks.")),
    ]
    solver = OfflineSolver()
    assert solver.extract("What chunk does Pier.read_blocks read by default?", evidence).answer == "8"
    assert solver.extract("What chunk does Pier.read_lines read by default?", evidence).answer == "64"


def test_a_parameter_called_default_is_not_what_by_default_asks_for() -> None:
    ev = _with_heading(_entry("ferrylib.ask(text, default=False, abort=False)", "Ask the master a yes/no question."))
    assert OfflineSolver().extract("How many seconds does ferrylib.ask wait by default?", [ev]).answer != "False"


def test_a_signature_default_claim_names_entry_and_parameter(reference_agent: Any) -> None:
    result = reference_agent.run("How many retries does ferrylib.dock make by default?")
    assert result.short_answer == "3" and result.outcome == "answered"
    assert any(c.text == "In ferrylib.dock, retries = 3." and c.verdict == "supported" for c in result.claims)
    assert any(c.quote.startswith("ferrylib.dock(") for c in result.citations)  # the signature line is cited


def test_a_manual_pages_name_line_answers_how_do_i() -> None:
    name_line = _entry("NAME", "ferry-moor - Tie a vessel to a berth until the next high tide", doc="moor")
    body = _entry("DESCRIPTION", "Ties the vessel with two ropes. None of the ropes may be wet.", doc="moor")
    ex = OfflineSolver().extract("How do I tie a vessel to a berth until high tide?", [name_line, body])
    assert ex.answer == "ferry-moor"


def test_a_literal_never_answers_a_how_question() -> None:
    ev = _with_heading(_entry("ferrylib.moor(vessel, rope=None)", "Tie up a vessel. None is returned without a rope."))
    assert OfflineSolver().extract("How can my script tie up a vessel?", [ev]).answer == "ferrylib.moor"


def test_a_choice_between_flags_reads_each_flags_entry(reference_agent: Any) -> None:
    result = reference_agent.run("Which ferry dock option prints nothing except errors: --wait or --quiet?")
    assert result.short_answer == "--quiet" and result.outcome == "answered"
    assert any(c.text.startswith("--quiet: ") for c in result.claims)  # the claim names the option chosen


def test_literals_and_numbers_are_not_followed_as_titles() -> None:
    from graphs.roles.offline.relevance import followable

    assert not followable("None") and not followable("512") and not followable("'True'")
    assert followable("Harbour Master") and followable("ferrylib.dock")


def test_a_table_value_comes_from_its_row_not_the_neighbouring_one() -> None:
    table = "Setting | Default | Meaning\nTIDE_WINDOW | 45 | Minutes a berth stays reserved.\nPILOT_LIMIT | 12 | Vessels one pilot may guide."
    evidence = [_entry("Settings", table)]
    assert OfflineSolver().extract("What is the default value of PILOT_LIMIT?", evidence).answer == "12"
    assert OfflineSolver().extract("What is the default TIDE_WINDOW?", evidence).answer == "45"


def test_enumeration_returns_each_item_with_its_own_support() -> None:
    evidence = [
        _entry("--wait", "Block until the harbour master confirms the mooring.", doc="cli"),
        _entry("-q, --quiet", "Print nothing except errors.", doc="cli"),
        _entry("--log-level <level>", "Choose how much the tool reports.", doc="cli"),
    ]
    items = OfflineSolver().enumerate_items("Which options of ferry dock?", evidence, 3)
    assert sorted(i.answer for i in items) == ["--log-level", "--wait", "-q"]
    assert all(len(i.support) == 1 and i.answer in i.support[0].ev["section"][-1] for i in items)


# --------------------------------------------------------------------------- end to end
def test_agent_answers_an_entry_name_and_cites_its_entry(reference_agent: Any) -> None:
    result = reference_agent.run("Which ferrylib function releases the lines of a moored vessel?")
    assert "cast_off" in result.short_answer
    assert any(c.section and "cast_off" in c.section[-1] for c in result.citations)


def test_agent_reads_a_default_from_a_signature(reference_agent: Any) -> None:
    result = reference_agent.run("What is the default timeout of ferrylib.dock?")
    assert result.short_answer == "5.0"
    assert any(c.section and c.section[-1].startswith("ferrylib.dock(") for c in result.citations)


def test_agent_enumerates_options_each_cited(reference_agent: Any) -> None:
    result = reference_agent.run("List the three options of ferry dock.")
    items = [x.strip() for x in result.short_answer.split(",")]
    assert len(items) == 3 and {"--wait", "--log-level"} <= set(items)
    cited = {c.section[-1] for c in result.citations if c.section}
    assert all(any(item in heading for heading in cited) for item in items)


def test_an_enumeration_reads_every_sibling_entry_of_the_list(make_agent: Any, tmp_path: Path) -> None:
    docs = write_ferry_tie(tmp_path / "tie")
    agent = make_agent("modes", settings=offline_settings(retrieval={"k": 2}))
    agent.ingest(docs)
    result = agent.run("List the six knot modes of ferry tie.")
    items = {x.strip() for x in result.short_answer.split(",")}
    assert items == set(FERRY_TIE_MODES)  # k = 2 hits found two
    assert all(any(c.text.startswith(f"{i}: ") or i in c.text for c in result.claims) for i in items)


# ---------------------------------------------------------------- values read as the docs state them
def test_a_default_named_by_a_constant_also_offers_the_value_it_stands_for() -> None:
    spans = [s.text for s in default_values("This defaults to ferrylib.limits.MAX_HOPS, which is 12.")]
    assert spans == ["ferrylib.limits.MAX_HOPS", "12"]


def test_a_quoted_default_is_read_whole() -> None:
    assert [s.text for s in default_values('Defaults to "Hold fast and wait".')] == ["Hold fast and wait"]


def test_codes_and_files_have_their_own_answer_types() -> None:
    assert answer_type("What return code does ferry dock give back on a full berth?").kind == "number"
    assert answer_type("Below which error code does ferry dock count a mooring as clean?").kind == "number"
    assert answer_type("Which file does ferry sync --global write to?").kind == "value"
    assert answer_type("Which file does ferry sync --global write to?").noun == "file"
    # Files the verb acts on are not what is asked: this asks for an option.
    assert answer_type("Which ferry rm option removes paths only from the ledger?").kind == "option"


def test_a_negated_condition_does_not_negate_the_statement() -> None:
    from graphs.text.words import negates

    assert not negates("The berth defaults to north if not set.")
    assert not negates("Which speed does ferry dock pick when no speed is specified?")
    assert not negates("Return 7 when the vessel cannot be weighed.")
    assert negates("The dock will not wait longer than 40 minutes.")


def test_the_question_asking_for_a_default_in_other_words_is_recognised() -> None:
    from graphs.roles.offline.structure import asks_default

    assert asks_default("Which speed does ferry dock pick when no speed is specified?")
    assert asks_default("What suffix does save() add if omitted?")
    assert not asks_default("Which mode moors a vessel at night?")


def test_the_entry_a_question_names_outranks_its_siblings() -> None:
    from graphs.roles.offline.structure import NAMED_ENTRY_BOOST, SIBLING_ENTRY_FACTOR, named_entry_focus

    evidence = [_entry("--frozen", "Write to the harbour file."), _entry("--loose", "Write to the quay file.")]
    evidence.append(_entry("DESCRIPTION", "Sync the harbour."))
    focus = named_entry_focus("Which file does ferry sync --frozen write to?", evidence)
    assert focus == {"--frozen-leaf": NAMED_ENTRY_BOOST, "--loose-leaf": SIBLING_ENTRY_FACTOR}


def test_the_default_is_read_from_the_body_when_the_signature_says_none(make_agent: Any, tmp_path: Path) -> None:
    page = """<html><head><title>ferrylib API</title></head><body><div role="main"><h1>API</h1>
<dl class="py function"><dt id="ferrylib.hail">ferrylib.hail(call=None, loud=False)</dt>
<dd><p>Hail the harbour master and wait for an answer.</p>
<p>call – the words to shout. Defaults to "Ahoy the harbour".</p></dd></dl></div></body></html>"""
    docs = tmp_path / "hail"
    docs.mkdir()
    (docs / "api.html").write_text(page, encoding="utf-8")
    agent = make_agent("hail")
    agent.ingest(docs)
    result = agent.run("What words does ferrylib.hail shout by default?")
    assert result.short_answer == "Ahoy the harbour"


def test_a_how_to_question_in_plain_words_is_answered_by_the_entry_in_its_own_words() -> None:
    from graphs.roles.offline.claims import entry_statement

    ev = _entry("ferrylib.meter(items, width=30)", "Show a bar that fills as the items are worked through.")
    r = Ranked(1.0, ev["sentences"][0], ev, 0)
    said = entry_statement("How can my tool display progress while it loops over a long list?", "ferrylib.meter", r)
    assert said == "ferrylib.meter: Show a bar that fills as the items are worked through."
    # Not for other questions, nor for a name that is not the entry's own.
    assert entry_statement("Which function shows a bar?", "ferrylib.meter", r) is None
    assert entry_statement("How can my tool display progress?", "ferrylib.gauge", r) is None
