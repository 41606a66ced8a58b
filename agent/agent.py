"""The facade users call: `Agent(index_dir=...)` then `ingest`, `retrieve`, `run` (and async/stream).

Data flow: `Agent.run` → `graphs.build` (plan → retrieve → solve → verify → compose) → `RunResult`.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import structlog

from agent.logging import configure_logging
from agent.results import (
    Citation,
    Claim,
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
from tools.errors import ConfigError, InvalidTaskError
from tools.index import HierarchicalIndex
from tools.ingest.pipeline import IngestProgress, ingest_paths
from tools.retrieval import retrieve as retrieve_hits

log = structlog.get_logger(__name__)


def _principal_payload(principal: PrincipalLike) -> list[str] | None:
    ids = identities_of(principal)
    return sorted(ids) if ids else None


class Agent:
    """A planner–solver–verifier agent over one hierarchical index.

    Everything is passed in or built from `Settings`; nothing global, so many agents can coexist.
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
        self.settings = settings or Settings()
        configure_logging(self.settings.log_level, self.settings.log_format)
        self.index_dir = Path(index_dir).expanduser() if index_dir is not None else self.settings.index_dir
        self.embedder = embedder or make_embedder(self.settings.embedder)
        self._index: HierarchicalIndex | None = None
        self._roles_arg = roles
        self._checkpointer = checkpointer
        self._approve_plans = approve_plans
        self._graph: Any = None

    # ------------------------------------------------------------------ plumbing
    @property
    def index(self) -> HierarchicalIndex:
        if self._index is None:
            client = None
            if self.settings.chroma_host:
                import chromadb

                client = chromadb.HttpClient(host=self.settings.chroma_host, port=self.settings.chroma_port)
            self._index = HierarchicalIndex(self.index_dir, self.embedder, chroma_client=client)
        return self._index

    def _roles(self, index: HierarchicalIndex) -> Roles:
        if isinstance(self._roles_arg, Roles):
            return self._roles_arg
        if callable(self._roles_arg):
            roles: Roles = self._roles_arg(index)
            return roles
        backend = self.settings.llm.resolved_backend()
        if backend == "offline":
            return offline_roles(index.embedder)
        raise ConfigError(
            f"LLM backend {backend!r} is configured but this build has only the offline engine; "
            "unset OPENAI_API_KEY/OPENAI_BASE_URL or set HRAGENT_LLM__BACKEND=offline"
        )

    @property
    def graph(self) -> Any:
        """The compiled LangGraph graph (with this agent's checkpointer)."""
        if self._graph is None:
            deps = GraphDeps(
                index_factory=lambda: self.index,
                roles_factory=self._roles,
                limits=self.settings.limits,
                strategy=self.settings.retrieval.strategy,
                k=self.settings.retrieval.k,
                budget_tokens=self.settings.retrieval.budget_tokens,
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
        from langgraph.checkpoint.sqlite import SqliteSaver

        self.index_dir.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.index_dir / "checkpoints.sqlite", check_same_thread=False, timeout=60)
        return SqliteSaver(conn)

    def close(self) -> None:
        if self._index is not None:
            self._index.close()

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
            elapsed_s=round(time.perf_counter() - t0, 3),
        )

    def delete(self, source: str | Path) -> bool:
        """Remove one document from the index; returns False when it was not there."""
        key = str(Path(source).expanduser().resolve()) if Path(source).exists() else str(source)
        return self.index.delete(key)

    def retrieve(self, query: str, k: int = 5, *, strategy: str = "auto", principal: PrincipalLike = None) -> list[Hit]:
        """Ranked evidence for `query` (k counts hits), filtered by what `principal` may see."""
        return retrieve_hits(
            self.index,
            query,
            k,
            strategy=strategy,
            identities=identities_of(principal),
            budget_tokens=self.settings.retrieval.budget_tokens,
        )

    def as_retriever(self, *, k: int = 5, strategy: str = "auto", principal: PrincipalLike = None) -> Any:
        """This index as a LangChain `BaseRetriever`, for use in other LangChain/LangGraph apps."""
        from agent.retriever import HragentRetriever

        return HragentRetriever(agent=self, k=k, strategy=strategy, principal=_principal_payload(principal))

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
        if not isinstance(task, str):
            raise InvalidTaskError(f"task must be a string, got {type(task).__name__}")
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
        config = {"configurable": {"thread_id": tid}, "recursion_limit": recursion_limit_for(run_limits)}
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
        """Answer `task` with cited, verified claims. `thread_id` makes the run resumable."""
        payload, config, _limits, tid = self._prepare(task, principal, limits, thread_id, strategy)
        t0 = time.perf_counter()
        resume = thread_id is not None and self._has_checkpoint(config)
        with structlog.contextvars.bound_contextvars(run_id=tid, thread_id=tid):
            final = self.graph.invoke(None if resume else payload, config)
        return self._result(self._final_state(final, config), payload["task"], tid, time.perf_counter() - t0)

    def resume(self, thread_id: str, decision: bool | list[str] = True) -> RunResult:
        """Continue a run paused for plan approval: `True` accepts, `False` rejects, a list of
        queries replaces the planned ones. Also finishes a run that crashed mid-graph."""
        from langgraph.types import Command

        config = {
            "configurable": {"thread_id": thread_id},
            "recursion_limit": recursion_limit_for(self.settings.limits),
        }
        snapshot = self.graph.get_state(config)
        if not snapshot or not snapshot.values:
            raise InvalidTaskError(f"no run with thread_id {thread_id!r} to resume")
        limits = Limits.model_validate(snapshot.values.get("run_limits") or self.settings.limits.model_dump())
        config["recursion_limit"] = recursion_limit_for(limits)
        t0 = time.perf_counter()
        pending = any(task.interrupts for task in snapshot.tasks)
        final = self.graph.invoke(Command(resume=decision) if pending else None, config)
        return self._result(
            self._final_state(final, config), snapshot.values.get("task", ""), thread_id, time.perf_counter() - t0
        )

    def _final_state(self, output: Any, config: dict[str, Any]) -> Mapping[str, Any]:
        """The full final state when checkpointed (it has the trace and counters), else the output."""
        if self.graph.checkpointer is not None:
            return dict(self.graph.get_state(config).values)
        return dict(output or {})

    def _has_checkpoint(self, config: dict[str, Any]) -> bool:
        if self.graph.checkpointer is None:
            return False
        snapshot = self.graph.get_state(config)
        return bool(snapshot and snapshot.next)

    async def arun(self, task: str, **kwargs: Any) -> RunResult:
        """Async `run`: the CPU-bound offline engine runs in a worker thread."""
        return await asyncio.to_thread(self.run, task, **kwargs)

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
    ) -> Iterator[dict[str, Any]]:
        """Yield one event per node as it finishes (`{"node": ..., "update": ...}`), then the result."""
        payload, config, _limits, tid = self._prepare(task, principal, limits, thread_id, strategy)
        t0 = time.perf_counter()
        for chunk in self.graph.stream(payload, config, stream_mode="updates"):
            for node, update in chunk.items():
                yield {"node": node, "update": update}
        final = self.graph.get_state(config).values if self.graph.checkpointer else {}
        yield {"node": "result", "result": self._result(final, payload["task"], tid, time.perf_counter() - t0)}

    async def astream(self, task: str, **kwargs: Any) -> AsyncIterator[dict[str, Any]]:
        queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
        loop = asyncio.get_running_loop()

        def pump() -> None:
            try:
                for item in self.stream(task, **kwargs):
                    loop.call_soon_threadsafe(queue.put_nowait, item)
            finally:
                loop.call_soon_threadsafe(queue.put_nowait, None)

        fut = loop.run_in_executor(None, pump)
        while (item := await queue.get()) is not None:
            yield item
        await fut

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
