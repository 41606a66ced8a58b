"""CI runs the bring-your-own-model benchmark in smoke mode against the stub server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks.llm_quality import main

pytestmark = pytest.mark.integration


def test_llm_quality_smoke(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "smoke.json"
    main(["--smoke", "--questions", "2", "--out", str(out)])
    engines = json.loads(out.read_text())["engines"]
    assert set(engines) == {"offline", "llm"}
    llm = engines["llm"]
    assert llm["n"] == 2 and llm["degraded"] == 0 and llm["calls"] >= 5
    assert {"planner", "reader", "drafter", "verifier", "composer"} <= set(llm["per_role"])
    assert engines["offline"]["calls"] == 0
    assert "per role" in capsys.readouterr().out
