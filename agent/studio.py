"""The graph LangGraph Studio / `langgraph dev` serves: compiled without a checkpointer (the server
brings its own); the index and models open lazily on the first run, from `Settings`."""

from __future__ import annotations

from typing import Any

from agent.agent import Agent
from agent.settings import Settings
from graphs.build import build_graph
from graphs.deps import GraphDeps


def make_graph() -> Any:
    settings = Settings()
    agent = Agent(settings=settings, checkpointer=None)
    deps = GraphDeps(
        index_factory=lambda: agent.index,
        roles_factory=agent._roles,
        limits=settings.limits,
        strategy=settings.retrieval.strategy,
        k=settings.retrieval.k,
        budget_tokens=settings.retrieval.budget_tokens,
    )
    return build_graph(deps, checkpointer=None)


graph = make_graph()
