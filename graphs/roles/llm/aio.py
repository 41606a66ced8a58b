"""Async HTTP clients for model requests sent from an event loop.

An `httpx.AsyncClient`'s pooled connections belong to the event loop that opened them, and
langchain-openai shares one per process (bound to the first loop that used it): a second
`asyncio.run`, or a run on another thread's loop, then fails with "Event loop is closed"
(langchain-ai/langchain#35783). So each async run opens its models on clients of its own, on its
own loop, and closes them when it ends (`async_models`, used by `Agent.arun` / `astream`); an
async request outside a run opens a client for itself (`model_scope`)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from langchain_core.language_models import BaseChatModel

# A chat model with its own async HTTP client, and how to close that client.
OpenedModel = tuple[BaseChatModel, Callable[[], Awaitable[None]]]
AsyncModelFactory = Callable[[], OpenedModel]


@dataclass
class AsyncScope:
    """A chat model as one async scope uses it, with the schema bindings made on it."""

    model: BaseChatModel
    bound: dict[tuple[str, str, str], Any] = field(default_factory=dict)


class AsyncModels:
    """The chat models of one async run, each on an async HTTP client of its own.

    An `httpx.AsyncClient`'s pooled connections belong to the event loop that opened them, and
    langchain-openai shares one per process (the first loop's): a second `asyncio.run`, or a run
    on another thread's loop, then fails with "Event loop is closed". A run's models are opened on
    its own loop when first needed and closed when the run ends (`Agent.arun` / `astream` open one
    with `async_models()`)."""

    def __init__(self) -> None:
        self.loop = asyncio.get_running_loop()  # the clients are this loop's, and only this loop's
        self._open: dict[int, tuple[AsyncScope, Callable[[], Awaitable[None]]]] = {}

    def get(self, owner: object, factory: AsyncModelFactory) -> AsyncScope:
        if id(owner) not in self._open:  # no await in between: one per owner even when reads race
            model, close = factory()
            self._open[id(owner)] = (AsyncScope(model), close)
        return self._open[id(owner)][0]

    async def aclose(self) -> None:
        opened, self._open = list(self._open.values()), {}
        for _model, close in opened:
            await close()


_ASYNC_MODELS: ContextVar[AsyncModels | None] = ContextVar("hragent_async_models", default=None)


@asynccontextmanager
async def async_models() -> AsyncIterator[AsyncModels]:
    """The scope of one async run: model requests sent from the event loop inside it share
    per-run async clients, closed (on this loop) at the end. Outside such a scope each async
    request opens and closes a client of its own."""
    models = AsyncModels()
    token = _ASYNC_MODELS.set(models)
    try:
        yield models
    finally:
        try:
            _ASYNC_MODELS.reset(token)
        except ValueError:  # an async generator closed from another context
            _ASYNC_MODELS.set(None)
        await models.aclose()


@asynccontextmanager
async def model_scope(
    owner: object, model: BaseChatModel, bound: dict[tuple[str, str, str], Any], factory: AsyncModelFactory | None
) -> AsyncIterator[AsyncScope]:
    """The model an async request of `owner` goes through: the run's (`async_models`), else one
    opened for this request and closed after it, else `model` itself when `factory` is None (a
    test double, or a model whose client its caller owns)."""
    if factory is None:
        yield AsyncScope(model, bound)
        return
    run = _ASYNC_MODELS.get()
    if run is not None and run.loop is asyncio.get_running_loop():  # a copied context on another loop: not ours
        yield run.get(owner, factory)
        return
    opened, close = factory()
    try:
        yield AsyncScope(opened)
    finally:
        await close()
