"""The public exception tree (defined in `tools.errors` so lower layers can raise it)."""

from tools.errors import (
    AccessDeniedError,
    ConfigError,
    HragentError,
    IndexMismatchError,
    IndexNotFoundError,
    IndexStoreError,
    IngestError,
    InvalidTaskError,
    LLMBudgetError,
    LLMConfigError,
    LLMError,
    LLMOutputError,
    LLMUnavailableError,
    VectorSegmentError,
)

__all__ = [
    "AccessDeniedError",
    "ConfigError",
    "HragentError",
    "IndexMismatchError",
    "IndexNotFoundError",
    "IndexStoreError",
    "IngestError",
    "InvalidTaskError",
    "LLMBudgetError",
    "LLMConfigError",
    "LLMError",
    "LLMOutputError",
    "LLMUnavailableError",
    "VectorSegmentError",
]
