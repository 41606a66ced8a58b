"""The reader funnel's stage logic (`benchmarks.funnel_stages`) on an invented mini-corpus: a kiln
controller's manual, one question lost at each stage, and the recorder (`benchmarks.reader_capture`)
on a real offline run over invented pages."""

from __future__ import annotations

from typing import Any

from benchmarks.funnel_stages import (
    CORRECT,
    Round,
    Trail,
    answer_shape,
    candidate_overlap,
    candidate_rank,
    decline_reason,
    evidence_place,
    loosely_holds,
    part_stage,
    question_stage,
    round_of,
    sentence_rank,
    spanned,
)
from benchmarks.reader_capture import Read, Reading, captured_reading
from benchmarks.reader_funnel import reader_spans, trail_of, why_filtered
from graphs.roles.offline.pool import CandidatePool
from policies.offline import OfflineThresholds

# The mini-corpus: what the runs below "retrieved".
HEADING = "kiln.fire(profile, ramp_rate=120, hold='soak')"
ROW = "max_temp – the hottest the kiln may run. Defaults to 1260."
SENTENCE = "The controller keeps its log for eight hours before it rotates the file."
EVIDENCE = [("heading line", HEADING), ("entry row", ROW), ("sentence", SENTENCE)]


def trail(**kw: Any) -> Trail:
    base: dict[str, Any] = {"evidence": EVIDENCE, "candidates": [], "rounds": [], "short_answer": "", "answered": False}
    return Trail(**(base | kw))


def test_an_answer_the_evidence_lacks_is_lost_before_the_reader() -> None:
    # "Which glaze does the kiln suggest?": no retrieved text names the glaze.
    assert part_stage(["celadon"], trail(candidates=[["soak", "120"]])) == "not in evidence"


def test_an_answer_in_the_evidence_that_no_candidate_holds() -> None:
    # "How long is the log kept?": the sentence says so, the pools offered only the bare number.
    t = trail(candidates=[["eight", "1260"]])
    assert part_stage(["eight hours"], t) == "no candidate"
    assert evidence_place(["eight hours"], t) == "sentence"
    assert candidate_overlap(["eight hours"], t) == "part of the answer"


def test_a_candidate_that_no_draft_headlines() -> None:
    # "What is the default ramp rate?": 120 ranks third, the draft headlined 1260.
    t = trail(candidates=[["1260", "soak", "120"]], rounds=[Round("1260", passed=True)], short_answer="1260")
    t.answered = True
    assert part_stage(["120"], t) == "not top draft"
    assert candidate_rank(["120"], t.candidates) == 3


def test_a_draft_the_verifier_declined() -> None:
    # "What is the hottest the kiln may run?": drafted, then declined by grounding.
    reasons = ["the text naming '1260' does not state what was asked (grounding 0.40; missing hottest)"]
    t = trail(candidates=[["1260"]], rounds=[Round("1260", passed=False, reasons=reasons)])
    assert part_stage(["1260"], t) == "declined"
    assert decline_reason(["1260"], t) == "grounding"


def test_an_answer_in_another_form() -> None:
    # "Which phase ends a firing?": answered "Soak-phase" against the key "soak phase": the same words.
    t = trail(candidates=[["soak"]], rounds=[Round("soak", passed=True)], short_answer="Soak-phase", answered=True)
    assert part_stage(["soak phase"], t) == "wrong form"
    assert loosely_holds(["30.0"], "30") and not loosely_holds(["30.0"], "300")


def test_a_right_answer_and_the_earliest_loss_of_a_question() -> None:
    t = trail(candidates=[["1260", "120"]], rounds=[Round("1260", passed=True)], short_answer="1260", answered=True)
    assert part_stage(["1260"], t) == CORRECT
    stage, parts = question_stage([["1260"], ["celadon"], ["120"]], t)
    assert parts == [CORRECT, "not in evidence", "not top draft"]
    assert stage == "not in evidence"
    assert question_stage([["1260"]], t) == (CORRECT, [CORRECT])


def test_the_details_of_a_loss() -> None:
    t = trail(read=[[SENTENCE, ROW], [HEADING]])
    assert sentence_rank(["1260"], t) == 2 and sentence_rank(["celadon"], t) is None
    assert evidence_place(["120"], t) == "heading line"
    assert spanned(["1260"], [ROW], reader_spans) == "spanned"
    assert spanned(["kiln may run"], [ROW], reader_spans) == "not spanned"
    assert spanned(["celadon"], [ROW], reader_spans) == ""
    shapes = [answer_shape([a], [HEADING, ROW]) for a in ("1260", "8 hours", "True", "--dry-run", "ramp_rate", "soak")]
    assert shapes == ["number", "number + unit", "literal", "flag", "identifier", "word"]


def test_a_report_becomes_a_round() -> None:
    report = {
        "passed": False,
        "claims": [{"verdict": "not_enough_evidence", "reasons": ["weak support (coverage 0.20, similarity 0.50)"]}],
        "checks": [{"id": "numbers_carry_units", "passed": False, "detail": "the number has no unit"}],
        "acceptance": {"declined": True},
    }
    r = round_of("1260", report)
    assert r.short_answer == "1260" and not r.passed
    assert r.reasons[0].startswith("acceptance") and "check numbers_carry_units" in r.reasons[-1]
    assert decline_reason(["1260"], trail(rounds=[r])) == "acceptance"
    assert decline_reason(["1260"], trail(rounds=[Round("1260", passed=True)])) == "passed, replaced"


def test_the_recorder_on_a_real_run(agent_over: Any) -> None:
    pages = {
        "kiln.md": "# Kiln controller\n\n## Firing\n\nThe kiln controller fires a glaze load to cone six. "
        "The firing holds at peak for 20 minutes.\n",
        "studio.md": "# Studio\n\nThe studio opens at 9 am. Clay is stored in the Marrow Cellar.\n",
    }
    agent = agent_over(pages)
    with captured_reading() as reading:
        result = agent.run("How many minutes does the firing hold at peak?")
    t = trail_of(reading, result, OfflineThresholds())
    assert reading.reads and reading.verified  # a pool was built and a draft verified
    assert any("20 minutes" in text for _, text in t.evidence)
    assert any(pool for pool in t.candidates) and t.read and t.rounds
    assert t.short_answer == result.short_answer
    assert part_stage(["20"], t) == CORRECT, (t.short_answer, t.candidates)
    assert part_stage(["celadon"], t) == "not in evidence"
    seen = len(reading.reads)
    agent.run("When does the studio open?")
    assert len(reading.reads) == seen  # the patches are undone: nothing is recorded outside the block


def test_why_a_spanned_answer_is_no_candidate() -> None:
    def asked(question: str, kind: str) -> Reading:
        return Reading([Read(question, [], CandidatePool(), kind)], [], [])

    # A literal spanned from the row, under an answer type whose prior gives literals nothing.
    row = "dry_run – when True the kiln only prints the schedule."
    assert why_filtered(["True"], [row], asked("Which schedule is printed?", "date")) == "type fit"
    # The question spells the span itself: the reader never answers with what was asked.
    assert why_filtered(["dry_run"], [row], asked("What does dry_run print?", "value")) == "named by the question"
    assert why_filtered(["True"], [row], asked("What turns printing on?", "value")) == "a rule of the candidate loop"
