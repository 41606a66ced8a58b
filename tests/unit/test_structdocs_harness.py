"""The #18 benchmark harness on invented inputs: answer matching, retrieval-at-budget scoring,
answer scoring, abstention, the question-file schema and the oracle reader's span rule.
No benchmark question appears here."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from benchmarks.longdocs_agent import abstained, spread
from benchmarks.oracle_reader import OracleReader
from benchmarks.structdocs_corpus import (
    MANUALS,
    QUESTIONS,
    QuestionFileError,
    check_balance,
    default_manuals,
    load_questions,
    page_of,
    parse_questions,
)
from benchmarks.structdocs_metrics import answer_scores, contains, first_end, score_retrieval, token_f1


def _row(**over: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "id": "x1",
        "manual": "click",
        "kind": "name",
        "question": "Which widget frobs the gizmo?",
        "gold_pages": ["click/api.html"],
        "answers": [["frob_gizmo", "frob"]],
        "split": "dev",
    }
    row.update(over)
    return row


def test_matching_respects_word_boundaries_case_and_quotes() -> None:
    assert contains(["ok"], "Returns True if OK.")
    assert not contains(["ok"], "the token expired")
    assert contains(["--no-zap"], "use widget merge --no-zap here")
    assert not contains(["--no-zap"], "use --no-zapp")
    assert contains(["it's"], "it\u2019s fine")
    assert contains(["$(prefix)/etc/widgetrc"], "writes $(prefix)/etc/widgetrc instead")
    assert first_end(["beta", "alpha"], "Alpha then beta") == 5


def test_retrieval_counts_characters_read_and_only_gold_pages() -> None:
    texts = ["x" * 900, "the answer is frob_gizmo here", "frob_gizmo again"]
    pages = ["other.html", "click/api.html", "click/api.html"]
    s = score_retrieval(texts, pages, ["click/api.html"], [["frob_gizmo"]], budgets=(900, 930, 2000))
    # the first hit is off the gold pages; the answer ends 24 characters into the second
    assert s.within == {900: 0.0, 930: 1.0, 2000: 1.0}
    assert s.top5 == 1.0 and s.page_top5 == 1.0
    assert s.chars_top5 == sum(map(len, texts))
    miss = score_retrieval(["frob_gizmo"], ["other.html"], ["click/api.html"], [["frob_gizmo"]])
    assert miss.top5 == 0.0 and all(v == 0.0 for v in miss.within.values())


def test_retrieval_reads_only_the_evidence_form_but_answers_take_any_variant() -> None:
    parts = [["retries=0", "0"]]
    assert score_retrieval(["version 0 of it"], ["g.html"], ["g.html"], parts).top5 == 0.0
    assert score_retrieval(["f(retries=0)"], ["g.html"], ["g.html"], parts).top5 == 1.0
    assert answer_scores("0", parts)[0] == 1.0


def test_retrieval_scores_the_share_of_required_parts() -> None:
    s = score_retrieval(["alpha only"], ["g.html"], ["g.html"], [["alpha"], ["beta"]], budgets=(1000,))
    assert s.within[1000] == 0.5 and s.top5 == 0.5


def test_answer_scores_parts_and_f1() -> None:
    assert answer_scores("frob_gizmo", [["frob_gizmo", "frob"]]) == (1.0, 1.0)
    correct, f1 = answer_scores("alpha", [["alpha"], ["beta"]])
    assert correct == 0.5 and f1 == 0.5
    assert answer_scores("", [["alpha"]]) == (0.0, 0.0)
    assert token_f1("the big alpha", ["alpha"]) == pytest.approx(0.5)


def test_abstention_reads_outcome_when_present() -> None:
    assert abstained(SimpleNamespace(outcome="not_found", supported=True, short_answer="x"))
    assert not abstained(SimpleNamespace(outcome="partial", supported=False, short_answer=""))
    assert abstained(SimpleNamespace(supported=False, short_answer="  "))
    assert not abstained(SimpleNamespace(supported=False, short_answer="Spain"))
    assert not abstained(SimpleNamespace(supported=True, short_answer=""))


def test_spread_takes_evenly_and_never_repeats() -> None:
    items = parse_questions([_row(id=f"s{i}") for i in range(10)])
    assert [q.id for q in spread(items, 3)] == ["s0", "s3", "s6"]
    assert spread(items, None) == items and spread(items, 50) == items


def test_parse_accepts_a_valid_row_and_normalises_parts() -> None:
    (q,) = parse_questions([_row(answers=["plain", ["a", "b"]])])
    assert q.answers == (("plain",), ("a", "b")) and q.answerable


@pytest.mark.parametrize(
    "bad",
    [
        {"kind": "riddle"},
        {"split": "test"},  # click is a dev manual
        {"manual": "nowhere"},
        {"gold_pages": []},
        {"answers": []},
        {"answers": [[""]]},
        {"answers": "frob"},
        {"gold_pages": ["flask/api.html"]},  # another manual's page
        {"kind": "unanswerable"},  # but has gold pages and answers
    ],
)
def test_parse_rejects_broken_rows(bad: dict[str, Any]) -> None:
    with pytest.raises(QuestionFileError):
        parse_questions([_row(**bad)])


def test_parse_rejects_duplicates_and_missing_fields() -> None:
    with pytest.raises(QuestionFileError, match="duplicate"):
        parse_questions([_row(), _row()])
    row = _row()
    del row["split"]
    with pytest.raises(QuestionFileError, match="fields"):
        parse_questions([row])


KINDS_ANSWERABLE = ["name", "value", "plain", "two_sections", "bridge", "comparison", "enumeration"]


def _split_rows(manual: str, split: str, prefix: str, kinds: list[str] = KINDS_ANSWERABLE) -> list[dict[str, Any]]:
    """One answerable row per kind plus one unanswerable row, on `manual` (invented questions)."""
    rows = [
        _row(id=f"{prefix}{i}", manual=manual, split=split, kind=k, gold_pages=[f"{manual}/api.html"])
        for i, k in enumerate(kinds)
    ]
    return [*rows, _row(id=f"{prefix}u", manual=manual, split=split, kind="unanswerable", gold_pages=[], answers=[])]


def test_balance_checks_size_kinds_and_unanswerable_share() -> None:
    dev, val, test = (
        _split_rows("click", "dev", "d"),
        _split_rows("pytest", "val", "v"),
        _split_rows("flask", "test", "t"),
    )
    check_balance(parse_questions(dev + val + test), minimum=24)
    with pytest.raises(QuestionFileError, match="at least"):
        check_balance(parse_questions(dev + val + test), minimum=150)
    diluted = dev + [_row(id=f"dx{i}") for i in range(3)]  # 1 unanswerable of 11: under 10 %
    with pytest.raises(QuestionFileError, match=r"dev: 9% unanswerable"):
        check_balance(parse_questions(diluted + val + test), minimum=1)


def test_balance_holds_each_split_to_its_own_share_and_kinds() -> None:
    dev, val, test = (
        _split_rows("click", "dev", "d"),
        _split_rows("pytest", "val", "v"),
        _split_rows("flask", "test", "t"),
    )
    with pytest.raises(QuestionFileError, match="no val questions"):
        check_balance(parse_questions(dev + test), minimum=1)
    diluted = val + [_row(id=f"vx{i}", manual="pytest", split="val", gold_pages=["pytest/api.html"]) for i in range(3)]
    with pytest.raises(QuestionFileError, match=r"val: 9% unanswerable"):
        check_balance(parse_questions(dev + diluted + test), minimum=1)
    with pytest.raises(QuestionFileError, match=r"val: no question of kind\(s\) \['unanswerable'\]"):
        check_balance(parse_questions(dev + val[:-1] + test), minimum=1)
    # a kind present in dev and test but missing from val is caught, not hidden by the other splits
    no_bridge = _split_rows("pytest", "val", "v", [k for k in KINDS_ANSWERABLE if k != "bridge"])
    with pytest.raises(QuestionFileError, match=r"val: no question of kind\(s\) \['bridge'\]"):
        check_balance(parse_questions(dev + no_bridge + test), minimum=1)


def test_val_rows_belong_to_the_val_manual() -> None:
    (q,) = parse_questions([_row(manual="pytest", split="val", gold_pages=["pytest/reference/reference.html"])])
    assert q.split == "val"
    with pytest.raises(QuestionFileError, match="split"):
        parse_questions([_row(manual="pytest", split="dev", gold_pages=["pytest/api.html"])])
    with pytest.raises(QuestionFileError, match="split"):
        parse_questions([_row(split="val")])  # click is a dev manual


def test_default_manuals_keep_the_four_manual_index_and_give_val_its_own() -> None:
    four = ["click", "requests", "git", "flask"]
    assert default_manuals("test") == four  # test numbers stay comparable with every earlier session
    assert sorted(default_manuals("dev")) == sorted(default_manuals("all")) == sorted([*four, "sqlalchemy"])
    assert default_manuals("val") == ["pytest"]


@pytest.mark.skipif(not MANUALS["sqlalchemy"].root.is_dir(), reason="python-sqlalchemy-doc is not installed")
def test_the_sqlalchemy_dev_manual_is_a_bounded_page_set() -> None:
    pages = MANUALS["sqlalchemy"].pages()
    assert len(pages) == 13 and all(p.is_file() for p in pages)
    assert MANUALS["sqlalchemy"].split == "dev"


def test_the_shipped_question_file_keeps_its_promises(tmp_path: Path) -> None:
    questions = load_questions(QUESTIONS)
    check_balance(questions)  # ≥150, every kind, ≥10 % unanswerable in each split
    assert {q.split for q in questions if q.manual == "flask"} == {"test"}
    assert {q.split for q in questions if q.manual == "pytest"} == {"val"}
    assert len([q for q in questions if q.split == "val"]) >= 60
    copy = tmp_path / "q.json"
    copy.write_text(json.dumps(json.loads(QUESTIONS.read_text())[:3]))
    assert len(load_questions(copy)) == 3


def test_page_of_names_manual_pages_and_passes_foreign_sources_through(tmp_path: Path) -> None:
    assert page_of("/usr/share/doc/python-click-doc/html/api.html") == "click/api.html"
    assert page_of("/usr/share/doc/git-doc/git-log.html") == "git/git-log.html"
    assert page_of("/usr/share/doc/python-pytest-doc/html/how-to/x.html") == "pytest/how-to/x.html"
    foreign = tmp_path / "x.html"
    assert page_of(str(foreign)) == str(foreign.resolve())


def _chat(tool: str, user: str) -> dict[str, Any]:
    return {"tools": [{"function": {"name": tool}}], "messages": [{"role": "user", "content": user}]}


def test_oracle_answers_only_with_a_span_it_is_shown() -> None:
    oracle = OracleReader({"Which widget frobs the gizmo?": [["frob_gizmo"]]})
    shown = (
        "Overall task (for context): Which widget frobs the gizmo?\nSubgoal question: Which widget frobs the gizmo?\n"
        '<data name="evidence">\n[S1] (API) Something else entirely.\n[S2] (API) Call frob_gizmo to frob it.\n</data>'
    )
    reading = oracle.arguments(_chat("submit_reading", shown))
    assert reading["answer"] == "frob_gizmo" and reading["support"] == ["S2"]
    hidden = shown.replace("Call frob_gizmo to frob it.", "Call the helper.")
    assert oracle.arguments(_chat("submit_reading", hidden))["answer"] == ""
    draft = oracle.arguments(_chat("submit_answer", shown.replace("Overall task (for context)", "Task")))
    assert draft["short_answer"] == "frob_gizmo" and draft["claims"][0]["citations"] == ["S2"]
    unknown = shown.replace("Which widget frobs the gizmo?", "Something never asked?")
    assert oracle.arguments(_chat("submit_answer", unknown))["short_answer"] == ""
    verdicts = oracle.arguments(
        _chat("submit_verdicts", "Task: Which widget frobs the gizmo?\nclaim 1: Call frob_gizmo.\nclaim 2: Nothing.")
    )["verdicts"]
    assert [v["verdict"] for v in verdicts] == ["supported", "not_enough_evidence"]


@pytest.mark.skipif(not MANUALS["pytest"].root.is_dir(), reason="python-pytest-doc is not installed")
def test_the_val_manual_leaves_out_announcements_and_name_lists() -> None:
    pages = {page_of(str(p)) for p in MANUALS["pytest"].pages()}
    assert "pytest/reference/reference.html" in pages and "pytest/how-to/fixtures.html" in pages
    assert not {p for p in pages if p.startswith(("pytest/announce/", "pytest/_"))}
    assert not pages & {"pytest/reference/plugin_list.html", "pytest/contents.html", "pytest/genindex.html"}


def test_reader_options_reach_the_offline_thresholds() -> None:
    from pydantic import ValidationError

    from benchmarks.longdocs_agent import offline_roles_with
    from graphs.roles.offline.entry_meaning import EntryMeaning

    assert offline_roles_with(None, None) is None
    roles = offline_roles_with(None, None, ["entry_meaning=true", "entry_meaning_margin=0.3"])(
        SimpleNamespace(embedder=None)
    )
    assert roles.solver.t.entry_meaning and roles.verifier.t.entry_meaning_margin == 0.3
    assert isinstance(roles.solver.meaning, EntryMeaning) and roles.solver.meaning.min_margin == 0.3
    assert roles.verifier.t.acceptance == "rules"  # an option alone leaves the acceptance setting as it is
    with pytest.raises(ValidationError):
        offline_roles_with(None, None, ["no_such_field=1"])
