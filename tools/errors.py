"""One exception tree, defined low so every layer can raise it; `agent.errors` re-exports it."""

from __future__ import annotations


class HragentError(Exception):
    """Base of every error hragent raises on purpose."""


class ConfigError(HragentError):
    """Settings or arguments are invalid; fix the named setting."""


class InvalidTaskError(HragentError):
    """The task is empty, too long or not text; send a question of reasonable size."""


class IndexStoreError(HragentError):
    """Base for problems with the index directory or its stores."""


class IndexNotFoundError(IndexStoreError):
    """No index at the given directory; run `hragent ingest PATH --index DIR` first."""


class IndexMismatchError(IndexStoreError):
    """The index was built by another embedder, head or schema; rebuild it or use the matching one."""


class IngestError(HragentError):
    """A file could not be ingested; the report says which and why."""


class LLMError(HragentError):
    """The chat model failed after retries or returned output that could not be repaired."""


class AccessDeniedError(HragentError):
    """The principal may not see the requested document."""
