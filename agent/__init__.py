"""hragent's public API: `from agent import Agent`."""

from agent.agent import Agent
from agent.errors import (
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
)
from agent.events import StepEvent
from agent.results import (
    AnswerItem,
    Citation,
    Claim,
    Degradation,
    Hit,
    IngestReport,
    RunResult,
    RunStats,
    SubgoalResult,
)
from agent.settings import LLMSettings, RetrievalSettings, Settings
from policies.limits import Limits
from tools.acl import Principal

__all__ = [
    "AccessDeniedError",
    "Agent",
    "AnswerItem",
    "Citation",
    "Claim",
    "ConfigError",
    "Degradation",
    "Hit",
    "HragentError",
    "IndexMismatchError",
    "IndexNotFoundError",
    "IndexStoreError",
    "IngestError",
    "IngestReport",
    "InvalidTaskError",
    "LLMBudgetError",
    "LLMConfigError",
    "LLMError",
    "LLMOutputError",
    "LLMSettings",
    "LLMUnavailableError",
    "Limits",
    "Principal",
    "RetrievalSettings",
    "RunResult",
    "RunStats",
    "Settings",
    "StepEvent",
    "SubgoalResult",
]
