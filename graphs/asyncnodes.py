"""Nodes for both APIs. `graph.invoke` runs each node's sync body as before; `graph.ainvoke` /
`astream` await it in a worker thread, so the graph loop itself lives on the caller's event loop.
A node with a native async form (the solve node's model reads) awaits that instead, and hands
only its computing parts to a worker (`in_worker`).

Cancellation stops work: when the awaiting task is cancelled, the node's cancel event is set; the
run's LLM budget then reads as spent (`graphs.roles.budget.RoleBudget.left`), so the node makes no
further model request (an HTTP request already in flight ends at its timeout) and finishes on the
offline engine, and the graph schedules no further node. Its thread returns to the pool."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from langchain_core.runnables import RunnableLambda

from graphs.roles.budget import bind_cancel_event

T = TypeVar("T")


async def in_worker(func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """`func(*args, **kwargs)` in a worker thread (a copy of this context). When the awaiting task
    is cancelled the thread is left to finish (the cancel event bound when its budget was made
    sends it offline at once) and the cancellation goes on."""
    work = asyncio.ensure_future(asyncio.to_thread(func, *args, **kwargs))
    work.add_done_callback(lambda done: done.cancelled() or done.exception())  # retrieved, never "lost"
    return await asyncio.shield(work)


def dual(func: Callable[[Any], Any], native: Callable[[Any], Any] | None = None) -> Any:
    """`func` as a node with a sync and an async implementation: `native` when given (it handles
    its own cancellation), else `func` in a worker thread, cancellable."""
    if native is not None:
        return RunnableLambda(func, native, name=getattr(func, "__name__", "node"))

    async def afunc(state: Any) -> Any:
        cancel = threading.Event()
        # to_thread copies this context, so the worker sees the event (and LangGraph's runtime).
        with bind_cancel_event(cancel):
            work = asyncio.ensure_future(asyncio.to_thread(func, state))
        work.add_done_callback(lambda done: done.cancelled() or done.exception())  # retrieved, never "lost"
        try:
            return await asyncio.shield(work)
        except asyncio.CancelledError:
            cancel.set()
            raise

    return RunnableLambda(func, afunc, name=getattr(func, "__name__", "node"))
