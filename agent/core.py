"""How an `Agent` is built and torn down: settings, embedder, and the lazily opened index, roles,
compiled graph and checkpointer (each built once even when many threads ask at once)."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, Self

from agent.checkpoint import ThreadedSqliteSaver, postgres_saver
from agent.settings import Settings
from graphs.build import build_graph
from graphs.deps import GraphDeps
from graphs.roles.base import Roles
from graphs.roles.offline import offline_roles
from tools.embeddings import Embedder, make_embedder
from tools.errors import IndexStoreError
from tools.index import HierarchicalIndex, IndexConfig
from tools.store.open import open_store


class AgentCore:
    """The parts every `Agent` surface uses. Everything is passed in or built from `Settings`;
    nothing global, so many agents can coexist."""

    def __init__(
        self,
        index_dir: str | Path | None = None,
        *,
        settings: Settings | None = None,
        embedder: Embedder | None = None,
        roles: Roles | Callable[[HierarchicalIndex], Roles] | None = None,
        checkpointer: Any | None = None,
        approve_plans: bool = False,
    ) -> None:
        self.settings = settings or Settings.load()
        self.index_dir = Path(index_dir).expanduser() if index_dir is not None else self.settings.index_dir
        if self.index_dir.exists() and not self.index_dir.is_dir():
            raise IndexStoreError(f"index path {self.index_dir} is a file, not a directory; pass an index directory")
        self.embedder = embedder or self._make_embedder()
        self._index: HierarchicalIndex | None = None
        self._roles_arg = roles
        self._built_roles: Roles | None = None
        self._checkpointer = checkpointer
        self._owned_saver: Any = None  # a checkpointer this agent opened (closed by `close()`)
        self._approve_plans = approve_plans
        self._graph: Any = None
        # Lazy parts (index, roles, graph) are built once even when many threads ask at once.
        self._init_lock = threading.RLock()

    # ------------------------------------------------------------------ plumbing
    def _make_embedder(self) -> Embedder:
        spec = self.settings.embedder
        if not spec.startswith("openai:"):
            # The index directory lets the default MiniLM keep the encoding an existing index was built with.
            return make_embedder(spec, device=self.settings.embedder_device, index_dir=self.index_dir)
        # An OpenAI-compatible embeddings endpoint shares the chat model's server, key and retry policy.
        from agent.llm import make_retrying

        llm = self.settings.llm
        return make_embedder(
            spec,
            base_url=llm.base_url,
            api_key=llm.api_key.get_secret_value() if llm.api_key else None,
            timeout_s=llm.timeout_s,
            retrying=make_retrying(llm),
        )

    @property
    def index(self) -> HierarchicalIndex:
        if self._index is not None:
            return self._index
        with self._init_lock:
            if self._index is not None:
                return self._index
            client = None
            if self.settings.chroma_host:
                import chromadb

                client = chromadb.HttpClient(host=self.settings.chroma_host, port=self.settings.chroma_port)
            cfg = self.settings.index
            config = IndexConfig(
                embed_sentences=cfg.embed_sentences,
                leaf_headings=cfg.leaf_headings,
                leaf_heading_path=cfg.leaf_heading_path,
                dl_sections=cfg.dl_sections,
                section_vectors=cfg.section_vectors,
            )
            store = open_store(cfg.backend, cfg.dsn.get_secret_value() if cfg.dsn else None, cfg.schema_name)
            self._index = HierarchicalIndex(
                self.index_dir, self.embedder, chroma_client=client, config=config, store=store
            )
            return self._index

    def _roles(self, index: HierarchicalIndex) -> Roles:
        """The roles every run of this agent shares (built once; they hold no per-run state)."""
        if self._built_roles is not None:
            return self._built_roles
        with self._init_lock:
            if self._built_roles is None:
                self._built_roles = self._make_roles(index)
            return self._built_roles

    def _make_roles(self, index: HierarchicalIndex) -> Roles:
        if isinstance(self._roles_arg, Roles):
            return self._roles_arg
        if callable(self._roles_arg):
            roles: Roles = self._roles_arg(index)
            return roles
        if self.settings.llm.resolved_backend() == "offline":
            return offline_roles(index.embedder)
        from agent.llm import build_roles

        return build_roles(self.settings, index.embedder)

    @property
    def graph(self) -> Any:
        """The compiled LangGraph graph (with this agent's checkpointer)."""
        if self._graph is not None:
            return self._graph
        with self._init_lock:
            if self._graph is not None:
                return self._graph
            deps = GraphDeps(
                index_factory=lambda: self.index,
                roles_factory=self._roles,
                limits=self.settings.limits,
                strategy=self.settings.retrieval.strategy,
                k=self.settings.retrieval.k,
                budget_tokens=self.settings.retrieval.budget_tokens,
                budget_chars=self.settings.retrieval.budget_chars,
            )
            self._graph = build_graph(deps, checkpointer=self._make_checkpointer(), approve_plans=self._approve_plans)
            return self._graph

    def _make_checkpointer(self) -> Any:
        if self._checkpointer is not None:
            return self._checkpointer
        if self.settings.checkpointer == "none":
            return None
        if self.settings.checkpointer == "memory":
            from langgraph.checkpoint.memory import InMemorySaver

            return InMemorySaver()
        if self.settings.checkpointer == "postgres":
            self._owned_saver = postgres_saver(self.settings)
            return self._owned_saver
        self.index_dir.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.index_dir / "checkpoints.sqlite", check_same_thread=False, timeout=60)
        self._owned_saver = ThreadedSqliteSaver(conn)
        return self._owned_saver

    def close(self) -> None:
        """Release every connection, client and pool this agent opened: the index's SQLite
        connections (all threads'), its worker pool and Chroma client, the checkpointer's database
        connection, and the roles built for it. A checkpointer or roles passed in belong to the
        caller and stay open. The chat model's HTTP pool is langchain-openai's process-wide cached
        client, shared by every model in the process, so it is not ours to close. Using the agent
        again reopens what it needs."""
        with self._init_lock:
            index, self._index = self._index, None
            saver, self._owned_saver = self._owned_saver, None
            self._built_roles = None
            self._graph = None  # it holds the closed index, roles and checkpointer
        if index is not None:
            index.close()
        if saver is not None and getattr(saver, "conn", None) is not None:
            saver.conn.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
