"""The storage backends the conformance suite runs against. A backend registers a factory here (the
way LangGraph checkpointers register with `langgraph-checkpoint-conformance`); every test that takes
the `backend` fixture then runs once per registered backend."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tools.embeddings import Embedder, HashingEmbedder
from tools.index import HierarchicalIndex
from tools.store.open import open_store


@dataclass
class Backend:
    """One backend under test: `env` holds the `HRAGENT_INDEX__*` variables that make `Settings` (and
    so a child process) open the very same index; `open` returns a new handle onto it."""

    name: str
    env: dict[str, str] = field(default_factory=dict)

    def open(self, path: Path, embedder: Embedder | None = None, **kwargs: Any) -> HierarchicalIndex:
        if self.name == "embedded":  # a new handle must not reuse this process's cached Chroma client
            from chromadb.api.shared_system_client import SharedSystemClient

            SharedSystemClient.clear_system_cache()
        store = open_store(
            self.env.get("HRAGENT_INDEX__BACKEND", "embedded"),
            self.env.get("HRAGENT_INDEX__DSN"),
            self.env.get("HRAGENT_INDEX__SCHEMA_NAME", "hragent"),
        )
        return HierarchicalIndex(path, embedder or HashingEmbedder(), store=store, **kwargs)

    def child_env(self) -> dict[str, str]:
        return {**os.environ, **self.env}


BACKENDS: dict[str, Callable[[pytest.FixtureRequest], Backend]] = {}


def register(name: str) -> Callable[[Callable[[pytest.FixtureRequest], Backend]], Callable[..., Backend]]:
    def add(factory: Callable[[pytest.FixtureRequest], Backend]) -> Callable[..., Backend]:
        BACKENDS[name] = factory
        return factory

    return add


@register("embedded")
def embedded(request: pytest.FixtureRequest) -> Backend:
    return Backend("embedded", {"HRAGENT_INDEX__BACKEND": "embedded"})


@register("postgres")
def postgres(request: pytest.FixtureRequest) -> Backend:
    from tests.support.postgres import fresh_schema

    dsn = request.getfixturevalue("postgres_dsn")
    return Backend(
        "postgres",
        {"HRAGENT_INDEX__BACKEND": "postgres", "HRAGENT_INDEX__DSN": dsn, "HRAGENT_INDEX__SCHEMA_NAME": fresh_schema()},
    )
