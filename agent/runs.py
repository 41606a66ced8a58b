"""Running the graph: `run` / `arun` / `batch` / `abatch` / `resume`, and the thread bookkeeping
they share (preparing the input, resuming or restarting a caller's thread, forgetting one-off runs)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import structlog

from agent.core import AgentCore
from agent.inputs import UNSET, Unset, check_text, principal_payload
from agent.results import RunResult
from agent.run_result import run_result
from graphs.roles.llm import async_models
from policies.limits import Limits, recursion_limit_for, resolve_limits
from tools.acl import PrincipalLike
from tools.errors import AccessDeniedError, ConfigError, InvalidTaskError
from tools.logs import get_logger

log = get_logger(__name__)
# How long past `limits.timeout_s` an async run may take before it is cancelled outright (the graph
# itself stops at the limit between nodes; this bounds a node stuck in, say, a hung model request).
HARD_STOP_GRACE_S = 2.0


class RunsMixin(AgentCore):
    """Answering tasks through the compiled graph, sync and async."""

    def _prepare(
        self,
        task: str,
        principal: PrincipalLike,
        limits: Limits | Mapping[str, Any] | None,
        thread_id: str | None,
        strategy: str | None,
    ) -> tuple[dict[str, Any], dict[str, Any], Limits, str]:
        check_text(task, "task")
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
            "principal": principal_payload(principal),
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
        result = run_result(self._final_state(final, config), payload["task"], tid, time.perf_counter() - t0)
        if thread_id is None:
            self._forget_finished(config)
        return result

    def resume(
        self,
        thread_id: str,
        decision: bool | list[str] = True,
        *,
        principal: PrincipalLike | Unset = UNSET,
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
        if not isinstance(principal, Unset):
            self._check_owner(snapshot.values, principal_payload(principal), thread_id)
        limits = Limits.model_validate(snapshot.values.get("run_limits") or self.settings.limits.model_dump())
        config["recursion_limit"] = recursion_limit_for(limits)
        t0 = time.perf_counter()
        pending = any(task.interrupts for task in snapshot.tasks)
        final = self.graph.invoke(Command(resume=decision) if pending else None, config, durability=self._durability())
        return run_result(
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
        owner = principal_payload(values.get("principal"))
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
        """Async `run`, on the caller's event loop: the reads of independent subgoals are model
        requests awaited on this loop (`ainvoke`, at most 4 at once, on async HTTP clients opened for
        this run and closed at its end, so any loop and any number of `asyncio.run`s work); the
        other nodes' work is awaited in a worker thread. Cancelling the task stops the run (no
        further node, no further model request).

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
                async with async_models(), asyncio.timeout(run_limits.timeout_s + HARD_STOP_GRACE_S):
                    final = await graph.ainvoke(None if resume else payload, config, durability=self._durability())
            except TimeoutError:
                timed_out = True
                log.warning("run.hard_timeout", timeout_s=run_limits.timeout_s)
        state = dict(self._final_state(final, config))
        if timed_out:
            state["halt_reason"] = "timeout"
            state["limits_hit"] = [*(state.get("limits_hit") or []), "timeout"]
        result = run_result(state, payload["task"], tid, time.perf_counter() - t0)
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
