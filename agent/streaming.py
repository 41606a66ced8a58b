"""`Agent.stream` / `astream`: typed events while a run goes, then one closing `result` event."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Any

import structlog

from agent.events import StepEvent, composed_chunks, event_from_update, token_event
from agent.run_result import run_result
from agent.runs import RunsMixin
from graphs.roles.llm import async_models
from policies.limits import Limits
from tools.acl import PrincipalLike

# "messages" carries the composer's prose tokens; "values" the state the closing result is built from.
STREAM_MODES = ["updates", "values", "messages"]


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
        solved, claims verified, answer composed), `answer_token` events while the answer is
        written, then one `result` event carrying the `RunResult`."""
        payload, config, _limits, tid = self._prepare(task, principal, limits, thread_id, strategy)
        t0 = time.perf_counter()
        events = EventMapper()
        resume = thread_id is not None and self._claim_thread(payload, config)
        with structlog.contextvars.bound_contextvars(run_id=tid, thread_id=tid):
            for mode, chunk in self.graph.stream(
                None if resume else payload, config, stream_mode=STREAM_MODES, durability=self._durability()
            ):
                yield from events.feed(mode, chunk)
        yield self._result_event(events.last, config, payload["task"], tid, t0, forget=thread_id is None)

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
        events = EventMapper()
        resume = thread_id is not None and self._claim_thread(payload, config)
        with structlog.contextvars.bound_contextvars(run_id=tid, thread_id=tid):
            async with async_models():  # this run's async model clients (see `Agent.arun`)
                async for mode, chunk in self.graph.astream(
                    None if resume else payload, config, stream_mode=STREAM_MODES, durability=self._durability()
                ):
                    for step in events.feed(mode, chunk):
                        yield step
        yield self._result_event(events.last, config, payload["task"], tid, t0, forget=thread_id is None)

    def _result_event(
        self, last: Mapping[str, Any], config: dict[str, Any], task: str, tid: str, t0: float, *, forget: bool
    ) -> StepEvent:
        """The closing `result` event of a stream (a one-off thread is forgotten once it finished)."""
        final = self._final_state(last, config)
        result = run_result(final, task, tid, time.perf_counter() - t0)
        if forget:
            self._forget_finished(config)
        return StepEvent(kind="result", node="result", result=result)


class EventMapper:
    """Turns one run's LangGraph stream (`STREAM_MODES`) into `StepEvent`s; keeps the last full
    state for the closing result and whether the model's own answer tokens were streamed."""

    def __init__(self) -> None:
        self.last: Mapping[str, Any] = {}
        self.model_tokens = False

    def feed(self, mode: str, chunk: Any) -> Iterator[StepEvent]:
        if mode == "values":
            self.last = chunk
            return
        if mode == "messages":
            token = token_event(*chunk)
            if token is not None:
                self.model_tokens = True
                yield token
            return
        for node, update in chunk.items():
            body = update if isinstance(update, dict) else {"items": update}
            if node == "compose" and not self.model_tokens:
                yield from composed_chunks(str(body.get("answer") or ""))
            step = event_from_update(node, body)
            if step is not None:
                yield step
