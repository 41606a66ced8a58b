from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent.cli import main
from tests.conftest import SAMPLE


@pytest.fixture(autouse=True)
def hashing_embedder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HRAGENT_EMBEDDER", "hashing")
    monkeypatch.setenv("HRAGENT_CHECKPOINTER", "memory")


def test_ingest_then_ask_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    index = str(tmp_path / "idx")
    assert main(["ingest", str(SAMPLE), "--index", index, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert len(report["added"]) == 10 and report["documents"] == 10
    assert main(["ask", "In what year was Halden Robotics founded?", "--index", index, "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["schema_version"] and result["halt_reason"]
    assert all(c["quote"] for c in result["citations"])


def test_ask_renders_citations(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    index = str(tmp_path / "idx")
    main(["ingest", str(SAMPLE), "--index", index])
    capsys.readouterr()
    assert main(["ask", "What is the maximum payload of the Harrier?", "--index", index]) == 0
    out = capsys.readouterr().out
    assert "Citations" in out and "section:" in out and "quote:" in out and "Verification" in out


def test_ask_stream_prints_steps_and_the_answer_as_it_is_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    index = str(tmp_path / "idx")
    main(["ingest", str(SAMPLE), "--index", index])
    capsys.readouterr()
    assert main(["ask", "What is the maximum payload of the Harrier?", "--index", index, "--stream"]) == 0
    err = capsys.readouterr().err.splitlines()
    answer = [line for line in err if line.startswith("· answer: ")]
    assert len(answer) == 1 and "[1]" in answer[0]  # the tokens, on one line
    assert err.index(answer[0]) > next(i for i, line in enumerate(err) if line.startswith("· claims_verified"))
    assert err[-1].startswith("· answer_composed")


def test_errors_map_to_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    index = str(tmp_path / "idx")
    main(["ingest", str(SAMPLE), "--index", index])
    assert main(["ask", "   ", "--index", index]) == 3
    assert "invalid task" in capsys.readouterr().err
    assert main(["ask", "anything", "--index", index, "--strategy", "nope"]) == 1


def test_graph_prints_mermaid(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["graph", "--index", str(tmp_path / "idx")]) == 0
    out = capsys.readouterr().out
    for node in ("plan", "review_plan", "retrieve", "solve", "verify", "compose"):
        assert node in out
