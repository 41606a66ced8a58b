"""`Agent.as_tool()`: the agent as a LangChain tool, for other agents (a ReAct agent, a supervisor).

The tool's content is the cited answer (what a calling model reads); its artifact (kept out of the
model's context, in `ToolMessage.artifact`) carries the short answer, outcome, halt reason, claims
and citations, so the calling program can check or show the evidence."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from langchain_core.tools import StructuredTool
from pydantic import BaseModel, Field

if TYPE_CHECKING:
    from agent.results import RunResult
    from agent.runs import RunsMixin
    from tools.acl import PrincipalLike


class AskInput(BaseModel):
    question: str = Field(description="A self-contained question about the indexed documents.")


def _artifact(result: RunResult) -> dict[str, Any]:
    return {
        "short_answer": result.short_answer,
        "outcome": getattr(result, "outcome", None),  # answered / partial / not_found where available
        "halt_reason": result.halt_reason,
        "claims": [c.model_dump() for c in result.claims],
        "citations": [c.model_dump() for c in result.citations],
    }


def make_tool(agent: RunsMixin, *, name: str, description: str, principal: PrincipalLike = None) -> StructuredTool:
    """A tool answering with `agent.run` (sync callers) or `agent.arun` (async callers), as `principal`."""

    def ask(question: str) -> tuple[str, dict[str, Any]]:
        result = agent.run(question, principal=principal)
        return result.answer, _artifact(result)

    async def aask(question: str) -> tuple[str, dict[str, Any]]:
        result = await agent.arun(question, principal=principal)
        return result.answer, _artifact(result)

    return StructuredTool.from_function(
        func=ask,
        coroutine=aask,
        name=name,
        description=description,
        args_schema=AskInput,
        response_format="content_and_artifact",
    )
