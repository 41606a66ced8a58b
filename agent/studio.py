"""The graph LangGraph Studio / `langgraph dev` serves: compiled without a checkpointer (the server
brings its own) and without import-time side effects: importing this module reads no settings,
opens no index and loads no model.

Each assistant configures its runs through the runtime context (`graphs.context.HragentContext`):
its own index directory, strategy, k, budget, limits and model, e.g. with `langgraph_sdk`:

    client.assistants.create("hragent", context={"index_dir": "/srv/idx/manuals", "strategy": "hybrid"})

On its first run each distinct set of dependencies (index, model) opens one `Agent`, shared by
every later run that names the same ones; unset fields fall back to `Settings` (`HRAGENT_*`).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from agent.agent import Agent
from agent.settings import Settings
from graphs.build import build_graph
from graphs.context import HragentContext
from graphs.deps import GraphDeps
from graphs.roles.base import Roles
from tools.index import HierarchicalIndex


class ServedAgents:
    """One `Agent` (index, embedder, roles) per distinct assistant dependencies, opened lazily,
    at most `max_agents` kept (least recently used dropped first)."""

    def __init__(self, settings: Settings | None = None, *, max_agents: int = 8) -> None:
        self._settings = settings
        self._max = max_agents
        self._deps: OrderedDict[HragentContext, GraphDeps] = OrderedDict()
        self._lock = threading.Lock()

    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = Settings.load()
        return self._settings

    def deps_for(self, ctx: HragentContext) -> GraphDeps:
        with self._lock:
            deps = self._deps.get(ctx)
            if deps is None:
                deps = self._make(ctx)
                self._deps[ctx] = deps
                while len(self._deps) > self._max:
                    self._deps.popitem(last=False)
            self._deps.move_to_end(ctx)
            return deps

    def _make(self, ctx: HragentContext) -> GraphDeps:
        base = self.settings()
        llm = base.llm.model_copy(
            update={
                k: v
                for k, v in {"backend": ctx.llm_backend, "model": ctx.llm_model, "base_url": ctx.llm_base_url}.items()
                if v is not None
            }
        )
        settings = base.model_copy(update={"llm": llm})
        agent = Agent(ctx.index_dir or settings.index_dir, settings=settings, checkpointer=None)
        return GraphDeps(
            index_factory=lambda: agent.index,
            roles_factory=agent._roles,
            limits=settings.limits,
            strategy=settings.retrieval.strategy,
            k=settings.retrieval.k,
            budget_tokens=settings.retrieval.budget_tokens,
        )


def _unresolved_index() -> HierarchicalIndex:  # pragma: no cover - `resolve` always answers first
    raise AssertionError("the served graph resolves its index per assistant")


def _unresolved_roles(_index: HierarchicalIndex) -> Roles:  # pragma: no cover
    raise AssertionError("the served graph resolves its roles per assistant")


def make_graph(served: ServedAgents | None = None) -> Any:
    """The served graph: dependencies come from each run's context via `served`."""
    agents = served or ServedAgents()
    deps = GraphDeps(index_factory=_unresolved_index, roles_factory=_unresolved_roles, resolve=agents.deps_for)
    return build_graph(deps, checkpointer=None)


graph = make_graph()
