"""hragent as a guest in someone else's process (#17): typed one-line CLI errors, unknown settings
named with their closest spelling, no process-wide changes, and no data egress unless asked for."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
import structlog

from agent import Agent, ConfigError, LLMSettings, Settings
from agent.cli import main
from tests.conftest import SAMPLE, offline_settings
from tools.embeddings import HashingEmbedder, make_embedder


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HRAGENT_EMBEDDER", "hashing")
    monkeypatch.setenv("HRAGENT_CHECKPOINTER", "memory")
    monkeypatch.chdir(tmp_path)  # no stray hragent.toml / .env


# ------------------------------------------------------------------------------------------- CLI input
def test_ask_with_a_regular_file_as_index_is_one_line_and_non_zero(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    not_a_dir = tmp_path / "notes.txt"
    not_a_dir.write_text("a file, not an index\n")
    assert main(["ask", "What is the maximum payload?", "--index", str(not_a_dir)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "is a file, not a directory" in err and "Traceback" not in err
    assert not_a_dir.read_text() == "a file, not an index\n"


def test_ingest_of_a_missing_path_fails_and_ingests_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    index = tmp_path / "idx"
    typo = tmp_path / "docs-typo"
    assert main(["ingest", str(SAMPLE), str(typo), "--index", str(index)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(typo) in err and "Traceback" not in err
    assert not index.exists()  # checked before anything was written


# ------------------------------------------------------------------------------------ unknown settings
def test_misspelt_keyword_and_nested_keys_name_the_closest_valid_one() -> None:
    with pytest.raises(ConfigError, match=r"'log_levl' \(did you mean 'log_level'\?\)"):
        Settings.load(log_levl="INFO")
    with pytest.raises(ConfigError, match=r"'llm.modle' \(did you mean 'model'\?\)"):
        Settings.load(llm={"modle": "x"})
    with pytest.raises(ConfigError, match=r"'limits.max_hop' \(did you mean 'max_hops'\?\)"):
        Settings.load(limits={"max_hop": 2})


def test_misspelt_toml_dotenv_and_environment_keys_are_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "hragent.toml").write_text("[retrieval]\nstrategy = 'bm25'\nkk = 3\n")
    with pytest.raises(ConfigError, match=r"'retrieval.kk' \(did you mean 'k'\?\)"):
        Settings.load()
    (tmp_path / "hragent.toml").unlink()
    # Other tools' keys in .env (the LangGraph server reads the same file) are not ours to judge.
    (tmp_path / ".env").write_text("OPENAI_API_KEY=sk-not-ours\nHRAGENT_LOG_LEVL=INFO\n")
    with pytest.raises(ConfigError, match=r"'log_levl' \(did you mean 'log_level'\?\)"):
        Settings.load()
    (tmp_path / ".env").write_text("OPENAI_API_KEY=sk-not-ours\nHRAGENT_LOG_LEVEL=INFO\n")
    assert Settings.load().log_level == "INFO"
    monkeypatch.setenv("HRAGENT_RETRIEVL__K", "3")
    with pytest.raises(ConfigError, match=r"HRAGENT_RETRIEVL__K.*did you mean HRAGENT_RETRIEVAL"):
        Settings.load()
    with pytest.raises(ConfigError, match="HRAGENT_RETRIEVL__K"):
        Agent(tmp_path / "idx", embedder=HashingEmbedder())


def _switches_read_in_the_code() -> list[str]:
    """Every whole `HRAGENT_…` name the package's code spells out (prefixes such as `HRAGENT_PG_` end
    in `_` and are left out): each is read somewhere, so setting it must never break `Settings.load()`."""
    root = Path(__file__).resolve().parents[2]
    names: set[str] = set()
    for package in ("agent", "graphs", "tools", "policies"):
        for source in (root / package).rglob("*.py"):
            names.update(re.findall(r"[\"'](HRAGENT_[A-Z0-9_]*[A-Z0-9])[\"']", source.read_text()))
    return sorted(names)


@pytest.mark.parametrize("name", [*_switches_read_in_the_code(), "HRAGENT_BENCH_CACHE"])
def test_process_switches_read_where_they_act_are_not_unknown_settings(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A documented switch such as `HRAGENT_PG_POOL` must not make `Settings.load()` (and so the CLI) fail."""
    monkeypatch.setenv(name, "4")
    assert Settings.load().log_level  # loads
    monkeypatch.setenv("HRAGENT_CACHE_DRI", "4")  # a typo outside the switches is still named
    with pytest.raises(ConfigError, match="HRAGENT_CACHE_DRI"):
        Settings.load()


# --------------------------------------------------------------------------- no process-wide changes
def test_constructing_and_running_an_agent_leaves_logging_alone(tmp_path: Path) -> None:
    structlog.reset_defaults()
    assert not structlog.is_configured()
    with Agent(tmp_path / "idx", settings=offline_settings(), embedder=HashingEmbedder()) as agent:
        agent.ingest(SAMPLE / "01-company-overview.md")
        agent.run("In what year was Halden Robotics founded?")
    assert not structlog.is_configured()


def test_loading_the_embedder_writes_no_environment_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "TOKENIZERS_PARALLELISM"):
        monkeypatch.delenv(var, raising=False)
    import sentence_transformers  # noqa: F401  (torch's own import-time settings are not ours)

    before = dict(os.environ)
    embedder = make_embedder("minilm")
    assert embedder.embed(["a sentence to load the model"]).shape == (1, embedder.dim)
    assert dict(os.environ) == before


# ------------------------------------------------------------------------------------------ data egress
def test_the_llm_path_follows_the_conventions_and_offline_pins_it_local(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "AZURE_OPENAI_ENDPOINT"):
        monkeypatch.delenv(var, raising=False)
    assert Settings.load().llm.resolved_backend() == "offline"  # nothing configured: nothing leaves
    assert LLMSettings(base_url="http://127.0.0.1:9/v1").resolved_backend() == "openai"
    assert LLMSettings(azure_endpoint="https://example.openai.azure.com").resolved_backend() == "azure"
    # CONVENTIONS.md: OPENAI_API_KEY / OPENAI_BASE_URL switch the LLM path on ...
    monkeypatch.setenv("OPENAI_API_KEY", "sk-someone-elses")
    assert Settings.load().llm.resolved_backend() == "openai"
    # ... and an explicit offline backend keeps such a process fully local.
    monkeypatch.setenv("HRAGENT_LLM__BACKEND", "offline")
    assert Settings.load().llm.resolved_backend() == "offline"
