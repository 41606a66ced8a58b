"""`Agent` as LangChain parts: a `BaseRetriever` over its index and a tool that runs it."""

from __future__ import annotations

from typing import Any

from agent.inputs import principal_payload
from agent.runs import RunsMixin
from tools.acl import PrincipalLike


class AdaptersMixin(RunsMixin):
    """The agent dropped into other LangChain / LangGraph apps."""

    def as_retriever(self, *, k: int = 5, strategy: str = "auto", principal: PrincipalLike = None) -> Any:
        """This index as a LangChain `BaseRetriever`, for use in other LangChain/LangGraph apps."""
        from agent.retriever import HragentRetriever

        return HragentRetriever(agent=self, k=k, strategy=strategy, principal=principal_payload(principal))

    def as_tool(
        self,
        *,
        name: str = "ask_documents",
        description: str = (
            "Answer a question from the indexed documents with verified claims and citations"
            " (each sentence carries [n] markers); says so when the documents do not answer it."
        ),
        principal: PrincipalLike = None,
    ) -> Any:
        """This agent as a LangChain tool: content = the cited answer; artifact = short answer,
        outcome, claims and citations (see `agent/tool.py`). Runs as `principal`."""
        from agent.tool import make_tool

        return make_tool(self, name=name, description=description, principal=principal)
