"""`Agent.as_retriever()`: the index as a LangChain retriever for other LangChain/LangGraph apps."""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict


class HragentRetriever(BaseRetriever):
    """Returns `Document`s whose metadata carries the `Hit` fields (source, section, offsets, score)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    agent: Any
    k: int = 5
    strategy: str = "auto"
    principal: list[str] | None = None

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun, k: int | None = None
    ) -> list[Document]:
        """`k` passed to `invoke(query, k=3)` overrides the constructor's for that call (LangChain's
        standard retriever contract). The principal is the constructor's only: a call cannot widen it."""
        hits = self.agent.retrieve(query, k or self.k, strategy=self.strategy, principal=self.principal)
        return [Document(page_content=h.text, metadata=h.model_dump(exclude={"text"})) for h in hits]
