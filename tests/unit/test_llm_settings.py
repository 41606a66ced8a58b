"""Backend selection (env, `.env`, `hragent.toml`), the model factory, and keys kept secret."""

from __future__ import annotations

from pathlib import Path

import pytest
from langchain_openai import AzureChatOpenAI, ChatOpenAI

from agent import ConfigError, LLMSettings, Settings
from agent.llm import build_roles, make_chat_model
from graphs.roles.llm import LLMPlanner, LLMSolver
from graphs.roles.offline import OfflinePlanner
from tools.embeddings import HashingEmbedder

SECRET = "sk-hragent-UNIT-SECRET-42"


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "AZURE_OPENAI_ENDPOINT", "OPENAI_API_VERSION"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.chdir(tmp_path)  # no stray hragent.toml / .env


def test_offline_unless_something_is_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().llm.resolved_backend() == "offline"
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    assert Settings().llm.resolved_backend() == "openai"  # CONVENTIONS.md: the variable turns it on
    monkeypatch.delenv("OPENAI_BASE_URL")
    monkeypatch.setenv("HRAGENT_LLM__BASE_URL", "http://127.0.0.1:9/v1")
    assert Settings().llm.resolved_backend() == "openai"
    monkeypatch.setenv("HRAGENT_LLM__BACKEND", "offline")
    assert Settings().llm.resolved_backend() == "offline"


def test_toml_and_env_and_dotenv(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "hragent.toml").write_text(
        '[llm]\nbackend = "openai"\nmodel = "qwen2.5-7b-instruct"\nbase_url = "http://127.0.0.1:8000/v1"\n'
        'structured_output = "json_mode"\nmax_retries = 5\n[llm.prompt]\nread_sentences = 12\n'
        "[limits]\nmax_llm_calls = 9\n"
    )
    (tmp_path / ".env").write_text(f"HRAGENT_LLM__API_KEY={SECRET}\n")
    monkeypatch.setenv("HRAGENT_LLM__TEMPERATURE", "0.3")
    s = Settings()
    assert s.llm.model == "qwen2.5-7b-instruct" and s.llm.structured_output == "json_mode"
    assert s.llm.max_retries == 5 and s.llm.prompt.read_sentences == 12 and s.limits.max_llm_calls == 9
    assert s.llm.temperature == 0.3
    assert s.llm.api_key is not None and s.llm.api_key.get_secret_value() == SECRET
    assert SECRET not in repr(s) and SECRET not in str(s) and SECRET not in s.model_dump_json()


def test_openai_compatible_server_model() -> None:
    llm = LLMSettings(backend="openai", model="llama3.1", base_url="http://127.0.0.1:11434/v1", timeout_s=7)
    model = make_chat_model(llm)
    assert isinstance(model, ChatOpenAI)
    assert model.max_retries == 0 and model.use_responses_api is False
    assert model.openai_api_base == "http://127.0.0.1:11434/v1" and model.request_timeout == 7
    assert model.openai_api_key is not None  # a placeholder: local servers take any key


def test_openai_key_is_secret_in_the_model(monkeypatch: pytest.MonkeyPatch) -> None:
    model = make_chat_model(LLMSettings(backend="openai", api_key=SECRET))  # type: ignore[arg-type]
    assert SECRET not in repr(model) and SECRET not in str(model.model_dump())


def test_openai_without_key_or_url_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="OPENAI_API_KEY"):
        make_chat_model(LLMSettings(backend="openai"))


def test_azure_model(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError, match="AZURE_ENDPOINT"):
        make_chat_model(LLMSettings(backend="azure", api_key=SECRET))  # type: ignore[arg-type]
    model = make_chat_model(
        LLMSettings(
            backend="azure",
            azure_endpoint="https://example.openai.azure.com",
            azure_deployment="prod-4o",
            api_key=SECRET,  # type: ignore[arg-type]
        )
    )
    assert isinstance(model, AzureChatOpenAI)
    assert model.deployment_name == "prod-4o" and model.max_retries == 0
    assert SECRET not in repr(model)
    monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", "https://example.openai.azure.com")
    assert LLMSettings().resolved_backend() == "azure"  # CONVENTIONS.md: the endpoint variable turns it on
    assert LLMSettings(backend="offline").resolved_backend() == "offline"


def test_build_roles_offline_or_llm_with_offline_fallback() -> None:
    offline = build_roles(Settings(llm={"backend": "offline"}), HashingEmbedder())  # type: ignore[arg-type]
    assert isinstance(offline.planner, OfflinePlanner)
    roles = build_roles(
        Settings(llm={"backend": "openai", "base_url": "http://127.0.0.1:9/v1", "api_key": SECRET}),  # type: ignore[arg-type]
        HashingEmbedder(),
    )
    assert isinstance(roles.planner, LLMPlanner) and isinstance(roles.planner.fallback, OfflinePlanner)
    assert isinstance(roles.solver, LLMSolver)
    assert roles.solver.llm.label == "llm:gpt-4o-mini"
    assert SECRET not in repr(roles) and SECRET not in repr(roles.solver.llm)
