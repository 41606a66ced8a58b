"""What the nodes need, passed in once (no module-level singletons): the index, the roles, defaults."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from graphs.roles.base import Roles
from policies.limits import Limits
from tools.index import HierarchicalIndex


@dataclass
class GraphDeps:
    """Dependencies of one compiled graph. `index_factory` lets Studio build the graph before the
    index (and its embedding model) is opened: the first node that needs it opens it."""

    index_factory: Callable[[], HierarchicalIndex]
    roles_factory: Callable[[HierarchicalIndex], Roles]
    limits: Limits = field(default_factory=Limits)
    strategy: str = "auto"
    k: int = 6
    budget_tokens: int | None = None
    budget_chars: int | None = None
    _index: HierarchicalIndex | None = None
    _roles: Roles | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def of(cls, index: HierarchicalIndex, roles: Roles, **kwargs: object) -> GraphDeps:
        deps = cls(lambda: index, lambda _i: roles, **kwargs)  # type: ignore[arg-type]
        deps._index, deps._roles = index, roles
        return deps

    @property
    def index(self) -> HierarchicalIndex:
        with self._lock:
            if self._index is None:
                self._index = self.index_factory()
            return self._index

    @property
    def roles(self) -> Roles:
        index = self.index
        with self._lock:
            if self._roles is None:
                self._roles = self.roles_factory(index)
            return self._roles
