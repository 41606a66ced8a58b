"""Settings: one pydantic-settings model read from arguments, `HRAGENT_*` env vars, `.env` and
`hragent.toml`. Unknown keys are an error naming the closest valid one (a typo must not silently fall
back to a default). Data egress is explicit: the LLM path is on only for a backend chosen by name
(`llm.backend="openai"|"azure"`) or a host named in hragent's own settings (`llm.base_url`,
`llm.azure_endpoint`); a stray `OPENAI_API_KEY` in the process never sends documents anywhere."""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from policies.budget import PromptLimits
from policies.limits import Limits
from tools.errors import ConfigError


class LLMSettings(BaseModel):
    """Which chat model runs the roles. `backend="auto"` is offline unless hragent itself was given a
    host (`base_url` → an OpenAI-compatible server, `azure_endpoint` → Azure): ambient variables
    (`OPENAI_API_KEY`, `OPENAI_BASE_URL`, `AZURE_OPENAI_ENDPOINT`) are credentials and endpoints for
    an explicitly chosen backend, never a reason to send document text off the machine.

    `provider` picks the server profile (`agent.llm_profiles`: what the server accepts and does
    reliably); "auto" detects it from `base_url` and `model`. Per-run budgets (LLM calls, tokens,
    wall clock) are `Settings.limits`; these are per request."""

    model_config = ConfigDict(extra="forbid")

    backend: Literal["auto", "offline", "openai", "azure"] = "auto"
    provider: Literal[
        "auto", "openai", "openai_reasoning", "azure", "vllm", "ollama", "llamacpp", "transformers", "generic"
    ] = Field(
        "auto",
        description="Server profile; auto: from base_url (Ollama's port 11434, a vllm/llama.cpp host) and model.",
    )
    model: str = "gpt-4o-mini"
    base_url: str | None = None
    api_key: SecretStr | None = None
    temperature: float | None = Field(
        0.0, ge=0.0, le=2.0, description="None: never sent (reasoning-model profiles never send it)."
    )
    max_output_tokens: int | None = Field(
        None, ge=16, description="Cap on generated tokens per call (max_completion_tokens or max_tokens, per profile)."
    )
    reasoning_effort: Literal["none", "minimal", "low", "medium", "high"] | None = Field(
        None, description="Reasoning models only (o-series, gpt-5)."
    )
    extra_body: dict[str, Any] = Field(
        default_factory=dict, description="Passed through in every request body (e.g. vLLM or Ollama options)."
    )
    timeout_s: float = Field(60.0, gt=0, description="Per-request timeout (capped by the run's remaining time).")
    max_retries: int = Field(3, ge=0, le=10, description="Retries after the first attempt (timeouts, 429, 5xx).")
    backoff_initial_s: float = Field(0.5, ge=0.0, le=60.0, description="First exponential backoff wait.")
    backoff_max_s: float = Field(8.0, ge=0.0, le=600.0, description="Longest backoff wait.")
    retry_after_max_s: float = Field(
        30.0, ge=0.0, le=3600.0, description="Give up rather than honour a longer Retry-After."
    )
    structured_output: Literal["auto", "function_calling", "json_schema", "json_mode"] = Field(
        "auto", description="auto: the profile's choice; json_schema/json_mode for servers without tool calling."
    )
    strict: bool | None = Field(None, description="json_schema strict mode; None: the profile's choice.")
    on_failure: Literal["auto", "degrade", "raise"] = Field(
        "auto",
        description="auto: configuration errors (bad key, unknown model, unsupported parameter) stop the run with "
        "LLMConfigError, outages finish offline, labelled; degrade: always finish offline; raise: fail on any.",
    )
    composer: Literal["structured", "prose"] = Field(
        "structured",
        description="prose: the answer streams token by token under stream_mode='messages' ([n] markers checked).",
    )
    prompt: PromptLimits = Field(default_factory=PromptLimits)
    azure_endpoint: str | None = None
    azure_deployment: str | None = None
    api_version: str | None = None
    azure_ad_token_provider: str | None = Field(
        None,
        description="Entra ID instead of a key: 'azure-identity' (DefaultAzureCredential) or 'module:callable' "
        "returning a bearer token.",
    )

    def resolved_backend(self) -> Literal["offline", "openai", "azure"]:
        if self.backend != "auto":
            return self.backend
        # CONVENTIONS.md: the LLM path is on when OPENAI_API_KEY / OPENAI_BASE_URL (or Azure's endpoint)
        # is set, or hragent's own settings say so; `backend="offline"` keeps a process with those
        # variables fully local, and `RunResult.engines` always says which engine ran.
        if self.provider == "azure" or self.azure_endpoint or os.environ.get("AZURE_OPENAI_ENDPOINT"):
            return "azure"
        if self.api_key or self.base_url or os.environ.get("OPENAI_API_KEY") or os.environ.get("OPENAI_BASE_URL"):
            return "openai"
        return "offline"

    def effective_base_url(self) -> str | None:
        return self.base_url or os.environ.get("OPENAI_BASE_URL") or None


class RetrievalSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    strategy: str = "auto"
    k: int = Field(6, ge=1, le=100)
    budget_tokens: int | None = Field(None, ge=16)
    # Characters of context per retrieval: hits grow to whole entries (heading + body) within it.
    budget_chars: int | None = Field(None, ge=100)


class IndexSettings(BaseModel):
    """Build-time choices of a new index (recorded in its manifest; an existing index keeps its own)."""

    model_config = ConfigDict(extra="forbid")

    leaf_headings: bool = True  # embed leaves with their heading path in front
    # Which headings go in front of a leaf vector: fewer encoded tokens (-13 % / -15 % on Click) for
    # .018 / .032 less answer recall on the structured-docs dev split (#20, RESULTS.md); BM25 always
    # indexes the whole path. A non-"full" index records schema 2 (older hragent refuses it).
    leaf_heading_path: Literal["full", "last", "page_and_last"] = "full"
    dl_sections: bool = True  # HTML definition-list entries (API objects, options) become sections
    # Sentence vectors are ~85 % of a full ingest's texts and only the sentence_window strategy
    # searches them; the agent's sentence scores are embedded on demand instead (#20, RESULTS.md).
    # Turn on for sentence_window (it raises ConfigError on an index built without them).
    embed_sentences: bool = False
    section_vectors: Literal["text", "mean"] = "mean"  # section vector: mean of its leaves, or its summary text
    backend: Literal["embedded", "postgres"] = Field(
        "embedded", description="embedded: SQLite + FTS5 + Chroma in index_dir; postgres: one schema in `dsn`."
    )
    dsn: SecretStr | None = Field(None, description="postgresql://user:pass@host/db for backend='postgres'.")
    schema_name: str = Field(
        "hragent", pattern=r"^[a-z_][a-z0-9_]{0,62}$", description="The PostgreSQL schema holding this index."
    )


class Settings(BaseSettings):
    """Everything configurable, with safe offline defaults."""

    model_config = SettingsConfigDict(
        env_prefix="HRAGENT_",
        env_nested_delimiter="__",
        env_file=".env",
        env_file_encoding="utf-8",
        dotenv_filtering="match_prefix",  # `.env` may hold other tools' keys (OPENAI_API_KEY): only HRAGENT_* are ours
        extra="forbid",
        toml_file="hragent.toml",
    )

    index_dir: Path = Path(".hragent")
    embedder: str = "minilm"
    # Where a local embedder runs: "auto" (CUDA, then Apple MPS, then the CPU), "cpu", "cuda", "cuda:N", "mps".
    embedder_device: str = "auto"
    llm: LLMSettings = Field(default_factory=LLMSettings)
    retrieval: RetrievalSettings = Field(default_factory=RetrievalSettings)
    index: IndexSettings = Field(default_factory=IndexSettings)
    limits: Limits = Field(default_factory=Limits)
    checkpointer: Literal["sqlite", "memory", "postgres", "none"] = "sqlite"
    postgres_dsn: SecretStr | None = None  # for checkpointer="postgres" (pip install 'hragent[postgres]')
    chroma_host: str | None = None
    chroma_port: int = 8000
    log_format: Literal["auto", "json", "console"] = "auto"
    log_level: str = "WARNING"

    @classmethod
    def load(cls, **overrides: Any) -> Settings:
        """Read settings from every source, turning validation failures into a `ConfigError` that
        names the bad field (a bad `HRAGENT_*` variable otherwise surfaces as a pydantic traceback)."""
        _check_env_names(os.environ)
        try:
            return cls(**overrides)
        except ValidationError as exc:
            problems = "; ".join(_describe(err) for err in exc.errors())
            raise ConfigError(
                f"invalid hragent settings ({problems}); check HRAGENT_* variables, .env and hragent.toml"
            ) from exc

    @field_validator("index_dir", mode="before")
    @classmethod
    def _expand(cls, value: object) -> object:
        return Path(str(value)).expanduser() if value is not None else value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (
            init_settings,
            env_settings,
            dotenv_settings,
            TomlConfigSettingsSource(settings_cls),
            file_secret_settings,
        )


_ENV_PREFIX = "HRAGENT_"
# Process-wide switches read where they act, not Settings fields: the test suite's, the benchmarks'
# (`HRAGENT_BENCH_*`), PostgreSQL's pool and BM25 bound (`HRAGENT_PG_*`), the ONNX cache folder,
# and the offline reader's fitting switches. A typo of a real setting is still an error.
_NOT_SETTINGS = (
    "HRAGENT_TEST_",
    "HRAGENT_BENCH_",
    "HRAGENT_PG_",
    "HRAGENT_CACHE_DIR",
    "HRAGENT_ENCODER_WORKERS",
    "HRAGENT_OFFLINE_SCORER",
    "HRAGENT_ACCEPTANCE_FEATURES",
)


def _closest(name: str, valid: Sequence[str]) -> str:
    match = difflib.get_close_matches(name, list(valid), n=1, cutoff=0.5)
    return f" (did you mean {match[0]!r}?)" if match else f" (valid: {', '.join(sorted(valid))})"


def _fields_at(loc: Sequence[str | int]) -> list[str]:
    """Field names of the (nested) settings model that `loc` points into."""
    model: Any = Settings
    for part in loc:
        field = getattr(model, "model_fields", {}).get(part)
        if field is None or not isinstance(field.annotation, type):
            return []
        model = field.annotation
    return list(getattr(model, "model_fields", {}))


def _describe(err: Any) -> str:
    loc = [str(p) for p in err["loc"]]
    where = ".".join(loc) or "(settings)"
    if err["type"] == "extra_forbidden" and loc:
        valid = _fields_at(loc[:-1])
        return f"unknown setting {where!r}{_closest(loc[-1], valid) if valid else ''}"
    return f"{where}: {err['msg']}"


def _check_env_names(environ: Mapping[str, str]) -> None:
    """pydantic-settings reads only the `HRAGENT_*` variables it knows, so `HRAGENT_RETRIEVL__K=3` would
    be ignored without a word; name it and its closest valid spelling instead."""
    fields = list(Settings.model_fields)
    for name in environ:
        upper = name.upper()
        if not upper.startswith(_ENV_PREFIX) or upper.startswith(_NOT_SETTINGS):
            continue
        head = upper[len(_ENV_PREFIX) :].split("__", 1)[0].lower()
        if head not in fields:
            match = difflib.get_close_matches(head, fields, n=1, cutoff=0.5)
            hint = f"did you mean {_ENV_PREFIX}{match[0].upper()}?" if match else f"valid: {', '.join(fields)}"
            raise ConfigError(f"unknown setting in environment variable {name} ({hint})")
