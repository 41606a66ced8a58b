"""`Agent.stream` / `astream`: typed events while a run goes, then one closing `result` event."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Any

import structlog

from agent.events import StepEvent, event_from_update
from agent.run_result import run_result
from agent.runs import RunsMixin
from policies.limits import Limits
from tools.acl import PrincipalLike


class StreamsMixin(RunsMixin):
    """Runs a person can watch."""

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
                yield from step_events(chunk)
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
                for step in step_events(chunk):
                    yield step
        yield self._result_event(last, config, payload["task"], tid, t0, forget=thread_id is None)

    def _result_event(
        self, last: Mapping[str, Any], config: dict[str, Any], task: str, tid: str, t0: float, *, forget: bool
    ) -> StepEvent:
        """The closing `result` event of a stream (a one-off thread is forgotten once it finished)."""
        final = self._final_state(last, config)
        result = run_result(final, task, tid, time.perf_counter() - t0)
        if forget:
            self._forget_finished(config)
        return StepEvent(kind="result", node="result", result=result)


def step_events(chunk: Mapping[str, Any]) -> Iterator[StepEvent]:
    """The typed events of one `updates` chunk (nodes that report nothing a caller watches yield none)."""
    for node, update in chunk.items():
        step = event_from_update(node, update if isinstance(update, dict) else {"items": update})
        if step is not None:
            yield step
