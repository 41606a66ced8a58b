"""Checkpointers for both APIs: LangGraph's SQLite (and Postgres) savers are sync-only (their async
methods raise), so `Agent.arun`/`astream` could not run the graph on the event loop. These add the
async methods by running each sync call in a worker thread: the graph loop stays on the event loop,
only the short database call leaves it, and sync `run` shares the very same saver and file."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from typing import TYPE_CHECKING, Any

from langgraph.checkpoint.sqlite import SqliteSaver

from tools.errors import ConfigError

if TYPE_CHECKING:
    from agent.settings import Settings


class ThreadedAsyncMixin:
    """Async checkpoint methods over the sync ones (each one call in `asyncio.to_thread`)."""

    async def aget_tuple(self, config: Any) -> Any:
        return await asyncio.to_thread(self.get_tuple, config)  # type: ignore[attr-defined]

    async def alist(
        self, config: Any, *, filter: dict[str, Any] | None = None, before: Any = None, limit: int | None = None
    ) -> AsyncIterator[Any]:
        items = await asyncio.to_thread(
            lambda: list(self.list(config, filter=filter, before=before, limit=limit))  # type: ignore[attr-defined]
        )
        for item in items:
            yield item

    async def aput(self, config: Any, checkpoint: Any, metadata: Any, new_versions: Any) -> Any:
        return await asyncio.to_thread(self.put, config, checkpoint, metadata, new_versions)  # type: ignore[attr-defined]

    async def aput_writes(
        self, config: Any, writes: Sequence[tuple[str, Any]], task_id: str, task_path: str = ""
    ) -> None:
        await asyncio.to_thread(self.put_writes, config, writes, task_id, task_path)  # type: ignore[attr-defined]

    async def adelete_thread(self, thread_id: str) -> None:
        await asyncio.to_thread(self.delete_thread, thread_id)  # type: ignore[attr-defined]


class ThreadedSqliteSaver(ThreadedAsyncMixin, SqliteSaver):
    """`SqliteSaver` usable from `ainvoke`/`astream` too."""


def with_async_methods(saver_cls: type[Any]) -> type[Any]:
    """`saver_cls` (a sync-only saver class, e.g. `PostgresSaver`) with the async methods added."""
    return type(f"Threaded{saver_cls.__name__}", (ThreadedAsyncMixin, saver_cls), {})


def postgres_saver(settings: Settings) -> Any:
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
