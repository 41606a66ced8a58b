"""The facade users call: `Agent(index_dir=...)` then `ingest`, `retrieve`, `run` (and async/stream).

Data flow: `Agent.run` → `graphs.build` (plan → retrieve → solve → verify → compose) → `RunResult`.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import structlog

from agent.checkpoint import ThreadedSqliteSaver, with_async_methods
from agent.events import StepEvent, event_from_update
from agent.results import (
    Citation,
    Claim,
    Degradation,
    Hit,
    IngestReport,
    RunResult,
    RunStats,
    SkippedFile,
    SubgoalResult,
    TraceEvent,
)
from agent.settings import Settings
from graphs.build import build_graph
from graphs.deps import GraphDeps
from graphs.roles.base import Roles
from graphs.roles.offline import offline_roles
from policies.limits import Limits, recursion_limit_for, resolve_limits
from tools.acl import PrincipalLike, identities_of
from tools.embeddings import Embedder, make_embedder
from tools.errors import AccessDeniedError, ConfigError, IndexStoreError, InvalidTaskError
from tools.index import HierarchicalIndex, IndexConfig
from tools.ingest.pipeline import IngestProgress, ingest_paths
from tools.logs import get_logger
from tools.retrieval import retrieve as retrieve_hits
from tools.store.open import open_store

log = get_logger(__name__)
# How long past `limits.timeout_s` an async run may take before it is cancelled outright (the graph
# itself stops at the limit between nodes; this bounds a node stuck in, say, a hung model request).
HARD_STOP_GRACE_S = 2.0


def _postgres_saver(settings: Settings) -> Any:
    """LangGraph's Postgres checkpointer (for many processes / the LangGraph server's database)."""
    if settings.postgres_dsn is None:
        raise ConfigError("checkpointer='postgres' needs HRAGENT_POSTGRES_DSN (postgresql://user:pass@host/db)")
    try:
        from langgraph.checkpoint.postgres import PostgresSaver
        from psycopg import Connection
        from psycopg.rows import dict_row
    except ImportError as exc:
        raise ConfigError("the Postgres checkpointer needs: pip install 'hragent[postgres]'") from exc
    conn = Connection.connect(
        settings.postgres_dsn.get_secret_value(), autocommit=True, prepare_threshold=0, row_factory=dict_row
    )
    saver = with_async_methods(PostgresSaver)(conn)
    saver.setup()
    return saver


def _principal_payload(principal: PrincipalLike) -> list[str] | None:
    ids = identities_of(principal)
    return sorted(ids) if ids else None


class _Unset:
    """Marks an argument the caller did not pass (distinct from `None`, the anonymous principal)."""


_UNSET = _Unset()


def _check_text(text: object, what: str) -> str:
    """Tasks and queries must be encodable text: a lone surrogate would otherwise crash deep in SQLite
    or the tokenizer instead of failing here with a clear error."""
    if not isinstance(text, str):
        raise InvalidTaskError(f"{what} must be a string, got {type(text).__name__}")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidTaskError(f"{what} is not valid Unicode text ({exc.reason} at position {exc.start})") from exc
    return text


class Agent:
    """A planner–solver–verifier agent over one hierarchical index.

    Everything is passed in or built from `Settings`; nothing global, so many agents can coexist.
    Constructing one changes nothing in the host process: logging stays the host's (the CLI, or a
    caller of `agent.logging.configure_logging`, sets it up) and no environment variable is written.
    """

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
            self._owned_saver = _postgres_saver(self.settings)
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

    def __enter__(self) -> Agent:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ ingestion and retrieval
    def ingest(
        self,
        paths: str | Path | Iterable[str | Path],
        *,
        acl: Iterable[str] | None = None,
        prune: bool = False,
        progress: IngestProgress | None = None,
    ) -> IngestReport:
        """Index files and directories (Markdown, text, HTML, PDF). Re-ingesting unchanged files is a no-op."""
        t0 = time.perf_counter()
        items = [paths] if isinstance(paths, str | Path) else list(paths)
        out = ingest_paths(self.index, items, acl=acl, prune=prune, progress=progress)
        stats = self.index.stats()
        return IngestReport(
            added=out.added,
            updated=out.updated,
            unchanged=out.unchanged,
            removed=out.removed,
            skipped=[SkippedFile(path=p, reason=r) for p, r in out.skipped],
            documents=int(stats["documents"]),
            nodes=out.nodes,
            embedded=out.embedded,
            encoded=out.encoded,
            reused=out.reused,
            elapsed_s=round(time.perf_counter() - t0, 3),
        )

    def delete(self, source: str | Path) -> bool:
        """Remove one document from the index (by its path, or the `source` a hit reports); returns
        False when it was not there. Works for files that no longer exist on disk."""
        key = str(source)
        try:
            resolved = str(Path(source).expanduser().resolve())
        except (OSError, RuntimeError, ValueError):
            resolved = key
        return self.index.delete(resolved) or (resolved != key and self.index.delete(key))

    def check_index(self) -> dict[str, Any]:
        """Cross-check the index stores (the tree, BM25 and vectors): `ok` is False when a visible
        document is incomplete; `orphans` counts leftovers that reads ignore and the next ingest removes."""
        found = self.index.check()
        return {"ok": found.ok, "documents": found.documents, "problems": found.problems, "orphans": found.orphans}

    def retrieve(
        self,
        query: str,
        k: int = 5,
        *,
        strategy: str = "auto",
        principal: PrincipalLike = None,
        budget_chars: int | None = None,
    ) -> list[Hit]:
        """Ranked evidence for `query` (k counts hits), filtered by what `principal` may see.

        `budget_chars` (default `Settings.retrieval.budget_chars`) caps the characters returned; hits
        then grow to their whole entry (an API entry's signature and body) while it allows."""
        _check_text(query, "query")
        return retrieve_hits(
            self.index,
            query,
            k,
            strategy=strategy,
            identities=identities_of(principal),
            budget_tokens=self.settings.retrieval.budget_tokens,
            budget_chars=budget_chars if budget_chars is not None else self.settings.retrieval.budget_chars,
        )

    def as_retriever(self, *, k: int = 5, strategy: str = "auto", principal: PrincipalLike = None) -> Any:
        """This index as a LangChain `BaseRetriever`, for use in other LangChain/LangGraph apps."""
        from agent.retriever import HragentRetriever

        return HragentRetriever(agent=self, k=k, strategy=strategy, principal=_principal_payload(principal))

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

    def verify_claim(self, claim: str, evidence: Sequence[str], *, section: Sequence[str] = ()) -> Claim:
        """Judge one statement against evidence sentences with this agent's verifier: the same
        supported / contradicted / not-enough-evidence check every run applies to its own claims.
        `section` is the evidence's heading path (it tells the verifier who "He" or "It" is)."""
        from graphs.state import CitationDict, ClaimDict, Draft, EvidenceItem, SentenceRef

        quotes = [q for q in evidence if q.strip()]
        refs = [SentenceRef(node_id=f"e{i}", text=q, start=0, end=len(q)) for i, q in enumerate(quotes)]
        item = EvidenceItem(
            node_id="evidence",
            doc_id="",
            text=" ".join(quotes),
            source="",
            title=section[0] if section else "",
            section=list(section),
            level="leaf",
            start=0,
            end=0,
            score=1.0,
            hop=1,
            query=claim,
            sentences=refs,
        )
        cites = [
            CitationDict(source="", section=list(section), quote=r["text"], node_id=r["node_id"], start=0, end=r["end"])
            for r in refs
        ]
        draft = Draft(short_answer="", claims=[ClaimDict(text=claim, citations=cites)], confidence=1.0, missing=[])
        report, _usage = self._roles(self.index).verifier.verify(claim, draft, {"evidence": [item]})
        judged = (report.get("claims") or [{}])[0]
        return Claim(
            text=claim,
            verdict=judged.get("verdict") or "not_enough_evidence",
            citations=[Citation(**c) for c in judged.get("citations", [])],
            confidence=float(judged.get("confidence", 0.0)),
            reasons=list(judged.get("reasons", [])),
        )

    # ------------------------------------------------------------------ running the graph
    def _prepare(
        self,
        task: str,
        principal: PrincipalLike,
        limits: Limits | Mapping[str, Any] | None,
        thread_id: str | None,
        strategy: str | None,
    ) -> tuple[dict[str, Any], dict[str, Any], Limits, str]:
        _check_text(task, "task")
        try:
            run_limits = resolve_limits(limits, self.settings.limits)
        except ValueError as exc:
            raise ConfigError(f"invalid limits: {exc}") from exc
        clean = " ".join(task.split())
        if not clean:
            raise InvalidTaskError("task is empty; ask a question")
        if len(clean) > run_limits.max_task_chars:
            raise InvalidTaskError(
                f"task is {len(clean)} characters, over max_task_chars={run_limits.max_task_chars}; shorten it"
            )
        tid = thread_id or uuid.uuid4().hex
        payload: dict[str, Any] = {
            "task": clean,
            "principal": _principal_payload(principal),
            "limits": run_limits.model_dump(),
        }
        if strategy:
            payload["strategy"] = strategy
        config = {
            "configurable": {"thread_id": tid},
            "recursion_limit": recursion_limit_for(run_limits),
            "run_name": "hragent",
            "metadata": {"thread_id": tid},
        }
        return payload, config, run_limits, tid

    def run(
        self,
        task: str,
        *,
        principal: PrincipalLike = None,
        limits: Limits | Mapping[str, Any] | None = None,
        thread_id: str | None = None,
        strategy: str | None = None,
    ) -> RunResult:
        """Answer `task` with cited, verified claims. `thread_id` makes the run resumable and keeps
        its checkpoints; without one, a finished run's checkpoints are dropped (bounded disk use)."""
        payload, config, _limits, tid = self._prepare(task, principal, limits, thread_id, strategy)
        t0 = time.perf_counter()
        resume = thread_id is not None and self._claim_thread(payload, config)
        with structlog.contextvars.bound_contextvars(run_id=tid, thread_id=tid):
            final = self.graph.invoke(None if resume else payload, config, durability=self._durability())
        result = self._result(self._final_state(final, config), payload["task"], tid, time.perf_counter() - t0)
        if thread_id is None:
            self._forget_finished(config)
        return result

    def resume(
        self,
        thread_id: str,
        decision: bool | list[str] = True,
        *,
        principal: PrincipalLike | _Unset = _UNSET,
    ) -> RunResult:
        """Continue a run paused for plan approval: `True` accepts, `False` rejects, a list of
        queries replaces the planned ones. Also finishes a run that crashed mid-graph.

        The run continues as the principal that started it; pass `principal=` to have that checked
        (a thread id is otherwise a capability: whoever holds it can finish the run)."""
        from langgraph.types import Command

        config = {
            "configurable": {"thread_id": thread_id},
            "recursion_limit": recursion_limit_for(self.settings.limits),
        }
        snapshot = self.graph.get_state(config)
        if not snapshot or not snapshot.values:
            raise InvalidTaskError(f"no run with thread_id {thread_id!r} to resume")
        if not isinstance(principal, _Unset):
            self._check_owner(snapshot.values, _principal_payload(principal), thread_id)
        limits = Limits.model_validate(snapshot.values.get("run_limits") or self.settings.limits.model_dump())
        config["recursion_limit"] = recursion_limit_for(limits)
        t0 = time.perf_counter()
        pending = any(task.interrupts for task in snapshot.tasks)
        final = self.graph.invoke(Command(resume=decision) if pending else None, config, durability=self._durability())
        return self._result(
            self._final_state(final, config), snapshot.values.get("task", ""), thread_id, time.perf_counter() - t0
        )

    def _final_state(self, output: Any, config: dict[str, Any]) -> Mapping[str, Any]:
        """The full final state when checkpointed (it has the trace and counters), else the output."""
        if self.graph.checkpointer is not None:
            return dict(self.graph.get_state(config).values)
        return dict(output or {})

    def _forget_finished(self, config: dict[str, Any], *, force: bool = False) -> None:
        """Drop the checkpoints of a finished run whose thread id the caller did not choose: nobody
        can resume it, and 1,000 runs would otherwise leave ~0.5 MB each in checkpoints.sqlite.
        A run paused for plan approval is kept (its `RunResult.thread_id` resumes it)."""
        if self.graph.checkpointer is None or (not force and self.graph.get_state(config).next):
            return
        self.graph.checkpointer.delete_thread(str(config["configurable"]["thread_id"]))

    def _durability(self) -> Any:
        """Commit each step's checkpoint before the next step starts. LangGraph's default ("async")
        writes it in the background, so a SIGKILL loses the last steps and a resume redoes them."""
        return "sync" if self.graph.checkpointer is not None else None

    def _claim_thread(self, payload: dict[str, Any], config: dict[str, Any]) -> bool:
        """What a caller-chosen `thread_id` that already has a checkpoint means; True = resume it.

        Unfinished: resume, but only for the same principal and task. Finished: its state (evidence
        included) must not leak into a new run, so the thread starts over, again only for its owner."""
        if self.graph.checkpointer is None:
            return False
        snapshot = self.graph.get_state(config)
        if not snapshot or not snapshot.values:
            return False
        tid = str(config["configurable"]["thread_id"])
        self._check_owner(snapshot.values, payload["principal"], tid)
        if snapshot.next:
            if snapshot.values.get("task") != payload["task"]:
                raise InvalidTaskError(
                    f"thread {tid!r} holds an unfinished run of another task; finish it with"
                    " Agent.resume or use a new thread_id"
                )
            return True
        self.graph.checkpointer.delete_thread(tid)
        log.info("thread.restarted", thread_id=tid)
        return False

    @staticmethod
    def _check_owner(values: Mapping[str, Any], principal: list[str] | None, thread_id: str) -> None:
        owner = _principal_payload(values.get("principal"))
        if owner != principal:
            raise AccessDeniedError(f"thread {thread_id!r} belongs to another principal; use a new thread_id")

    async def arun(
        self,
        task: str,
        *,
        principal: PrincipalLike = None,
        limits: Limits | Mapping[str, Any] | None = None,
        thread_id: str | None = None,
        strategy: str | None = None,
    ) -> RunResult:
        """Async `run`, on the caller's event loop: each node's work is awaited in a worker thread
        and cancelling the task stops the run (no further node, no further model request).

        `limits.timeout_s` holds even when a node is stuck (a hung model request): a moment after
        it the run is cancelled and the result says `halt_reason="timeout"`, with what was
        checkpointed so far."""
        payload, config, run_limits, tid = self._prepare(task, principal, limits, thread_id, strategy)
        t0 = time.perf_counter()
        resume = thread_id is not None and self._claim_thread(payload, config)
        graph = self.graph
        timed_out = False
        final: Any = {}
        with structlog.contextvars.bound_contextvars(run_id=tid, thread_id=tid):
            try:
                async with asyncio.timeout(run_limits.timeout_s + HARD_STOP_GRACE_S):
                    final = await graph.ainvoke(None if resume else payload, config, durability=self._durability())
            except TimeoutError:
                timed_out = True
                log.warning("run.hard_timeout", timeout_s=run_limits.timeout_s)
        state = dict(self._final_state(final, config))
        if timed_out:
            state["halt_reason"] = "timeout"
            state["limits_hit"] = [*(state.get("limits_hit") or []), "timeout"]
        result = self._result(state, payload["task"], tid, time.perf_counter() - t0)
        if thread_id is None:
            self._forget_finished(config, force=timed_out)
        return result

    async def abatch(self, tasks: Sequence[str], *, max_concurrency: int = 4, **kwargs: Any) -> list[RunResult]:
        """Run many tasks concurrently on the event loop; results keep the input order."""
        gate = asyncio.Semaphore(max(1, max_concurrency))

        async def one(task: str) -> RunResult:
            async with gate:
                return await self.arun(task, **kwargs)

        return list(await asyncio.gather(*(one(t) for t in tasks)))

    def batch(self, tasks: Sequence[str], *, max_concurrency: int = 4, **kwargs: Any) -> list[RunResult]:
        """Run many tasks concurrently (threads); results keep the input order."""
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=max(1, max_concurrency)) as pool:
            return list(pool.map(lambda t: self.run(t, **kwargs), tasks))

    def stream(
        self,
        task: str,
        *,
        principal: PrincipalLike = None,
        limits: Limits | Mapping[str, Any] | None = None,
        thread_id: str | None = None,
        strategy: str | None = None,
    ) -> Iterator[StepEvent]:
        """Yield a typed `StepEvent` as each node finishes (plan made, subgoal retrieved, subgoal
        solved, claims verified, answer composed), then one `result` event carrying the `RunResult`."""
        payload, config, _limits, tid = self._prepare(task, principal, limits, thread_id, strategy)
        t0 = time.perf_counter()
        last: dict[str, Any] = {}
        resume = thread_id is not None and self._claim_thread(payload, config)
        with structlog.contextvars.bound_contextvars(run_id=tid, thread_id=tid):
            for mode, chunk in self.graph.stream(
                None if resume else payload,
                config,
                stream_mode=["updates", "values"],
                durability=self._durability(),
            ):
                if mode == "values":
                    last = chunk
                    continue
                yield from _step_events(chunk)
        yield self._result_event(last, config, payload["task"], tid, t0, forget=thread_id is None)

    async def astream(
        self,
        task: str,
        *,
        principal: PrincipalLike = None,
        limits: Limits | Mapping[str, Any] | None = None,
        thread_id: str | None = None,
        strategy: str | None = None,
    ) -> AsyncIterator[StepEvent]:
        """Async `stream`, on the event loop; closing or cancelling the iterator stops the run."""
        payload, config, _limits, tid = self._prepare(task, principal, limits, thread_id, strategy)
        t0 = time.perf_counter()
        last: dict[str, Any] = {}
        resume = thread_id is not None and self._claim_thread(payload, config)
        with structlog.contextvars.bound_contextvars(run_id=tid, thread_id=tid):
            async for mode, chunk in self.graph.astream(
                None if resume else payload,
                config,
                stream_mode=["updates", "values"],
                durability=self._durability(),
            ):
                if mode == "values":
                    last = chunk
                    continue
                for step in _step_events(chunk):
                    yield step
        yield self._result_event(last, config, payload["task"], tid, t0, forget=thread_id is None)

    def _result_event(
        self, last: Mapping[str, Any], config: dict[str, Any], task: str, tid: str, t0: float, *, forget: bool
    ) -> StepEvent:
        """The closing `result` event of a stream (a one-off thread is forgotten once it finished)."""
        final = self._final_state(last, config)
        result = self._result(final, task, tid, time.perf_counter() - t0)
        if forget:
            self._forget_finished(config)
        return StepEvent(kind="result", node="result", result=result)

    # ------------------------------------------------------------------ results
    def _result(self, final: Mapping[str, Any], task: str, tid: str, elapsed: float) -> RunResult:
        counters = final.get("counters") or {}
        subgoals = sorted((final.get("subgoals") or {}).values(), key=lambda s: (s.get("round", 0), s.get("id", "")))
        claims = [
            Claim(
                text=c.get("text", ""),
                verdict=c.get("verdict") or "not_enough_evidence",
                citations=[Citation(**cit) for cit in c.get("citations", [])],
                confidence=float(c.get("confidence", 0.0)),
                reasons=list(c.get("reasons", [])),
            )
            for c in final.get("claims") or []
        ]
        return RunResult(
            task=task,
            answer=final.get("answer", ""),
            short_answer=final.get("short_answer", ""),
            outcome=final.get("outcome") or ("answered" if final.get("short_answer") else "not_found"),
            claims=claims,
            citations=[Citation(**c) for c in final.get("citations") or []],
            subgoals=[
                SubgoalResult(
                    id=s.get("id", ""),
                    query=s.get("query", ""),
                    kind=s.get("kind", "lookup"),
                    depends_on=list(s.get("depends_on", [])),
                    depth=int(s.get("depth", 0)),
                    status=s.get("status", "pending"),
                    answer=s.get("answer", ""),
                    hops=int(s.get("hops", 0)),
                    confidence=float(s.get("confidence", 0.0)),
                )
                for s in subgoals
            ],
            halt_reason=final.get("halt_reason") or "interrupted",
            limits_hit=list(final.get("limits_hit") or []),
            engines=dict(final.get("engines") or {}),
            degraded=[Degradation(**d) for d in final.get("degraded") or []],
            stats=RunStats(
                hops=int(counters.get("hops", 0)),
                depth=max([int(s.get("depth", 0)) for s in subgoals] or [0]),
                refinements=int(final.get("refinements", 0)),
                llm_calls=int(counters.get("llm_calls", 0)),
                tokens=int(counters.get("tokens", 0)),
                elapsed_s=round(elapsed, 4),
            ),
            usage={"llm_calls": int(counters.get("llm_calls", 0)), "tokens": int(counters.get("tokens", 0))},
            trace=[TraceEvent(**t) for t in final.get("trace") or []],
            run_id=tid,
            thread_id=tid,
        )


def _step_events(chunk: Mapping[str, Any]) -> Iterator[StepEvent]:
    """The typed events of one `updates` chunk (nodes that report nothing a caller watches yield none)."""
    for node, update in chunk.items():
        step = event_from_update(node, update if isinstance(update, dict) else {"items": update})
        if step is not None:
            yield step
