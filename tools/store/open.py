"""Pick the storage backend from settings (the embedded default needs nothing: `HierarchicalIndex`
builds it from its directory)."""

from __future__ import annotations

from tools.errors import ConfigError
from tools.store.protocol import IndexStore


def open_store(backend: str, dsn: str | None, schema_name: str = "hragent") -> IndexStore | None:
    """None for the embedded backend; a `PostgresStore` for `backend="postgres"`."""
    if backend == "embedded":
        return None
    if backend != "postgres":
        raise ConfigError(f"unknown index backend {backend!r}; use 'embedded' or 'postgres'")
    if not dsn:
        raise ConfigError("index.backend='postgres' needs HRAGENT_INDEX__DSN (postgresql://user:pass@host/db)")
    from tools.store.postgres import PostgresStore

    return PostgresStore(dsn, schema_name)
