"""Per-assistant configuration through LangGraph's runtime context (`context_schema`).

One compiled graph serves many assistants: each assistant (created in Studio or with
`langgraph_sdk`'s `assistants.create(..., context={...})`) names its own index, strategy, k, budget,
limits and model, and every run of that assistant reads them from `Runtime.context`. Unset fields
fall back to the server's `Settings`. Per-run `limits` in the input state still win over these.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any, Literal

from tools.errors import ConfigError


@dataclass(frozen=True)
class HragentContext:
    """What an assistant may set. Hashable, so the served graph keeps one opened index per distinct
    set of dependencies (index, embedder, model), however many runs use it."""

    index_dir: str | None = None  # the assistant's index directory
    strategy: str | None = None  # retrieval strategy of each hop (`auto`, `hybrid`, ...)
    k: int | None = None  # hits per hop
    budget_tokens: int | None = None  # token budget of each hop's evidence
    budget_chars: int | None = None  # characters of each hop's evidence (whole entries within it)
    max_hops: int | None = None
    max_subgoals: int | None = None
    max_llm_calls: int | None = None
    timeout_s: float | None = None
    llm_backend: Literal["offline", "openai", "azure"] | None = None  # the model profile
    llm_model: str | None = None
    llm_base_url: str | None = None

    def limit_overrides(self) -> dict[str, Any]:
        keys = ("max_hops", "max_subgoals", "max_llm_calls", "timeout_s")
        return {k: v for k, v in asdict(self).items() if k in keys and v is not None}

    def needs_own_deps(self) -> bool:
        """Does this context name other dependencies (an index or a model), not just run values?"""
        return any(v is not None for v in (self.index_dir, self.llm_backend, self.llm_model, self.llm_base_url))

    def dependencies(self) -> HragentContext:
        """The part that picks the opened index and roles (the cache key of the served graph)."""
        return HragentContext(
            index_dir=self.index_dir,
            llm_backend=self.llm_backend,
            llm_model=self.llm_model,
            llm_base_url=self.llm_base_url,
        )


def coerce_context(value: object) -> HragentContext | None:
    """The run's context as `HragentContext` (the server may hand over a plain dict); unknown keys
    are a `ConfigError` naming them (a misspelt assistant setting must not be silently ignored)."""
    if value is None or isinstance(value, HragentContext):
        return value
    if not isinstance(value, dict):
        return None
    known = {f.name for f in fields(HragentContext)}
    unknown = sorted(set(value) - known)
    if unknown:
        raise ConfigError(f"unknown hragent context keys {unknown}; valid: {sorted(known)}")
    return HragentContext(**{k: v for k, v in value.items() if v is not None})


def current_context() -> HragentContext | None:
    """The context of the graph run this code executes in, or None outside a run."""
    try:
        from langgraph.runtime import get_runtime

        runtime = get_runtime()
    except (RuntimeError, KeyError):
        return None
    return coerce_context(getattr(runtime, "context", None))
