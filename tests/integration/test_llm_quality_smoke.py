"""CI runs the bring-your-own-model benchmark in smoke mode against the stub server: HotpotQA
and the structured-docs questions (Click only, when its Debian doc package is installed)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks.hotpot import HOTPOT
from benchmarks.llm_quality import main, structdocs_questions
from benchmarks.structdocs_corpus import MANUALS

pytestmark = pytest.mark.integration
CLICK_DOCS = MANUALS["click"].root.is_dir()
HOTPOT_DATA = HOTPOT.is_file()  # ../shared/data beside the checkout; a clone elsewhere lacks it


def _check_engines(engines: dict[str, dict[str, object]], n: int) -> None:
    assert set(engines) == {"offline", "llm"}
    llm = engines["llm"]
    assert llm["n"] == n and llm["degraded"] == 0 and float(llm["calls"]) >= 5  # type: ignore[arg-type]
    assert {"planner", "reader", "drafter", "verifier", "composer"} <= set(llm["per_role"])  # type: ignore[arg-type]
    assert engines["offline"]["calls"] == 0


def test_llm_quality_smoke_runs_hotpot_and_structured_docs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "smoke.json"
    main(["--smoke", "--questions", "2", "--out", str(out)])
    payload = json.loads(out.read_text())
    printed = capsys.readouterr().out
    if HOTPOT_DATA:
        _check_engines(payload["sets"]["hotpot"], 2)
        assert "per role" in printed and "hotpot (n=2" in printed
    else:
        assert "hotpot" not in payload["sets"]
        assert any(note.startswith("hotpot skipped") for note in payload["notes"])
    if not CLICK_DOCS:
        assert "structdocs" not in payload["sets"]
        assert any("python-click-doc" in note for note in payload["notes"])
        pytest.skip("python-click-doc is not installed: the structured-docs half was skipped (and said so)")
    structdocs = payload["sets"]["structdocs"]
    _check_engines(structdocs, 2)
    assert "structdocs (n=2" in printed
    assert structdocs["llm"]["unanswerable"] == 1  # abstention is measured on it
    assert structdocs["llm"]["abstained_unans"] in (0.0, 1.0)
    assert structdocs["offline"]["citation_precision"] is not None


@pytest.mark.skipif(not CLICK_DOCS, reason="needs python-click-doc")
def test_a_small_structdocs_slice_keeps_unanswerable_questions_in_their_share() -> None:
    questions = structdocs_questions(["click"], "all", 10)
    assert len(questions) == 10 and len({q.id for q in questions}) == 10
    assert sum(not q.answerable for q in questions) == 1  # 5 of Click's 46 are unanswerable
    assert {q.manual for q in questions} == {"click"}
