"""The LLM engine: the four roles backed by any LangChain chat model, each falling back to its
offline counterpart (labelled as degraded) when the model fails or the run's budget is spent.

The chat model is built in `agent.llm` and passed in; nothing here knows about API keys."""

from __future__ import annotations

from typing import Literal

from graphs.roles.base import Roles
from graphs.roles.llm.client import Meter, StructuredLLM, async_models
from graphs.roles.llm.composer import LLMComposer
from graphs.roles.llm.guard import LLMRole, OnFailure
from graphs.roles.llm.planner import LLMPlanner
from graphs.roles.llm.replies import parse_reply
from graphs.roles.llm.solver import LLMSolver
from graphs.roles.llm.verifier import LLMVerifier


def llm_roles(
    llm: StructuredLLM,
    fallback: Roles,
    *,
    on_failure: OnFailure = "auto",
    composer: Literal["structured", "prose"] = "structured",
) -> Roles:
    """All four roles on `llm`; `fallback` (normally the offline engine) serves whatever the model cannot."""
    return Roles(
        LLMPlanner(llm, fallback.planner, on_failure=on_failure),
        LLMSolver(llm, fallback.solver, on_failure=on_failure),
        LLMVerifier(llm, fallback.verifier, on_failure=on_failure),
        LLMComposer(llm, fallback.composer, on_failure=on_failure, mode=composer),
    )


__all__ = [
    "LLMComposer",
    "LLMPlanner",
    "LLMRole",
    "LLMSolver",
    "LLMVerifier",
    "Meter",
    "StructuredLLM",
    "async_models",
    "llm_roles",
    "parse_reply",
]
