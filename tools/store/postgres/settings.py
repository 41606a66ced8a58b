"""The PostgreSQL backend's own settings, read from the environment (README, "Scaling out")."""

from __future__ import annotations

import os

from tools.errors import ConfigError

POOL_ENV = "HRAGENT_PG_POOL"
DEFAULT_POOL = 8
BM25_ENV = "HRAGENT_PG_BM25_POSTINGS"
IMPACT_ENV = "HRAGENT_PG_BM25_IMPACT"


def _whole_number(env: str, default: int, unit: str) -> int:
    """A non-negative whole number from the environment variable `env`, or `default` when unset."""
    raw = os.environ.get(env, "").strip()
    if not raw:
        return default
    if not raw.isdigit():
        raise ConfigError(f"{env} must be a whole number of {unit}, not {raw!r}")
    return int(raw)


def read_bm25_postings() -> int:
    """Postings BM25 reads per query term at most (`HRAGENT_PG_BM25_POSTINGS`; 0: all, exact)."""
    return _whole_number(BM25_ENV, 0, "postings per term (0: all)")


def read_bm25_impact() -> bool:
    """Whether `prepare` builds the impact-ordered postings index even without a bound
    (`HRAGENT_PG_BM25_IMPACT=1`), for the exact threshold top-k of all-common queries."""
    value = _whole_number(IMPACT_ENV, 0, "(0 or 1)")
    if value > 1:
        raise ConfigError(f"{IMPACT_ENV} must be 0 or 1, not {value}")
    return bool(value)


def read_pool_size() -> int:
    """Connections the readers of one process share (`HRAGENT_PG_POOL`; 0: one per thread, no pool)."""
    return _whole_number(POOL_ENV, DEFAULT_POOL, "connections (0: no pool)")
