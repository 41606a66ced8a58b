"""What the nodes need, passed in once (no module-level singletons): the index, the roles, defaults."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from graphs.context import HragentContext, current_context
from graphs.roles.base import Roles
from policies.limits import Limits, resolve_limits
from tools.errors import ConfigError
from tools.index import HierarchicalIndex


@dataclass
class GraphDeps:
    """Dependencies of one compiled graph. `index_factory` lets Studio build the graph before the
    index (and its embedding model) is opened: the first node that needs it opens it.

    `resolve` makes the graph serve many assistants: given a run's `HragentContext` it returns the
    deps (index, roles, defaults) for that assistant. Without it, a context may still set run values
    (strategy, k, budget, limits) but naming another index or model is a `ConfigError`."""

    index_factory: Callable[[], HierarchicalIndex]
    roles_factory: Callable[[HierarchicalIndex], Roles]
    limits: Limits = field(default_factory=Limits)
    strategy: str = "auto"
    k: int = 6
    budget_tokens: int | None = None
    budget_chars: int | None = None
    resolve: Callable[[HragentContext], GraphDeps] | None = None
    _index: HierarchicalIndex | None = None
    _roles: Roles | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def of(cls, index: HierarchicalIndex, roles: Roles, **kwargs: object) -> GraphDeps:
        deps = cls(lambda: index, lambda _i: roles, **kwargs)  # type: ignore[arg-type]
        deps._index, deps._roles = index, roles
        return deps

    def _base(self, ctx: HragentContext | None) -> GraphDeps:
        if ctx is None:
            return self if self.resolve is None else self.resolve(HragentContext())
        if self.resolve is not None:
            return self.resolve(ctx.dependencies())
        if ctx.needs_own_deps():
            raise ConfigError(
                "this graph was built over one index and model; the run context may set strategy, k,"
                " budget and limits only (serve agent/studio.py:graph for per-assistant indexes and models)"
            )
        return self

    def active(self) -> RunDeps:
        """The deps of the run this call is part of: the assistant's index and roles, and its run
        values over the defaults."""
        ctx = current_context()
        base = self._base(ctx)
        if ctx is None:
            return RunDeps(base, base.limits, base.strategy, base.k, base.budget_tokens, base.budget_chars)
        overrides = ctx.limit_overrides()
        return RunDeps(
            base,
            resolve_limits(overrides, base.limits) if overrides else base.limits,
            ctx.strategy or base.strategy,
            ctx.k or base.k,
            ctx.budget_tokens if ctx.budget_tokens is not None else base.budget_tokens,
            ctx.budget_chars if ctx.budget_chars is not None else base.budget_chars,
        )

    @property
    def index(self) -> HierarchicalIndex:
        return self._base(current_context())._own_index()

    @property
    def roles(self) -> Roles:
        return self._base(current_context())._own_roles()

    def _own_index(self) -> HierarchicalIndex:
        with self._lock:
            if self._index is None:
                self._index = self.index_factory()
            return self._index

    def _own_roles(self) -> Roles:
        index = self._own_index()
        with self._lock:
            if self._roles is None:
                self._roles = self.roles_factory(index)
            return self._roles


@dataclass(frozen=True)
class RunDeps:
    """One run's view of its deps: the index and roles (opened lazily) and the run values."""

    base: GraphDeps
    limits: Limits
    strategy: str
    k: int
    budget_tokens: int | None
    budget_chars: int | None

    @property
    def index(self) -> HierarchicalIndex:
        return self.base._own_index()

    @property
    def roles(self) -> Roles:
        return self.base._own_roles()
