"""Encoder passes spread over several single-threaded ONNX Runtime sessions.

On a small CPU one session with two intra-op threads splits every MatMul of a pass between them and
waits at a barrier after each of a layer's ~15 operators; with 1,024-token passes those operators take
tens of microseconds, so the waiting (and, on a shared machine, a descheduled helper thread) costs a
large part of the second core. Two sessions of one thread each, each taking whole passes from a shared
queue, use both cores without synchronising inside a pass: 1.3-1.5x the throughput on manual leaves
on the loaded 2-core machine, 1.15x on the idle one, with bit-identical vectors (RESULTS.md, #20,
tenth session). ONNX Runtime
releases the GIL while a session runs, so plain threads suffice.
"""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from typing import Any

from tools.errors import ConfigError, EncoderError, HragentError

WORKERS_ENV = "HRAGENT_ENCODER_WORKERS"
MAX_AUTO_WORKERS = 2  # each session holds its own copy of the weights (+114 MiB peak RSS, fp32)


def usable_cores() -> int:
    """CPU cores this process may run on (its affinity mask where the OS has one)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - macOS, Windows
        return max(1, os.cpu_count() or 1)


def read_workers(explicit: int | None = None) -> int:
    """Encoder sessions to run in parallel: `explicit`, else `HRAGENT_ENCODER_WORKERS`, else
    min(2, usable cores)."""
    if explicit is not None:
        value = explicit
    else:
        raw = os.environ.get(WORKERS_ENV, "").strip()
        if not raw:
            return min(MAX_AUTO_WORKERS, usable_cores())
        if not raw.isdigit():
            raise ConfigError(f"{WORKERS_ENV} must be a whole number of encoder sessions, not {raw!r}")
        value = int(raw)
    if value < 1:
        raise ConfigError(f"encoder workers must be at least 1, got {value}")
    return value


def threads_per_worker(workers: int, explicit: int | None = None) -> int:
    """Intra-op threads of each session: `explicit`, else the usable cores shared out (at least 1)."""
    return explicit if explicit else max(1, usable_cores() // workers)


Pass = list[int]  # text positions one forward pass encodes


class SessionPool:
    """Runs passes on whichever of `sessions` is free and hands each result to the caller's `store`
    in the calling thread as it finishes. The first failure cancels the passes not yet started and
    is raised as `EncoderError` once the running ones have finished (no thread writes afterwards)."""

    def __init__(self, sessions: Sequence[Any]) -> None:
        if not sessions:
            raise ConfigError("a session pool needs at least one session")
        self.size = len(sessions)
        self._free: queue.SimpleQueue[Any] = queue.SimpleQueue()
        for s in sessions:
            self._free.put(s)
        self._executor: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    def _pool(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(self.size, thread_name_prefix="hragent-encoder")
            return self._executor

    def _on_free_session(self, run: Callable[[Any, Pass], Any], rows: Pass) -> Any:
        session = self._free.get()
        try:
            return run(session, rows)
        finally:
            self._free.put(session)

    def map(
        self,
        run: Callable[[Any, Pass], Any],
        passes: Sequence[Pass],
        store: Callable[[Pass, Any], None],
    ) -> None:
        """`store(rows, run(session, rows))` for every pass, in the calling thread as passes finish."""
        if self.size == 1 or len(passes) <= 1:
            for rows in passes:
                try:
                    result = self._on_free_session(run, rows)
                except Exception as exc:
                    raise _failure(rows, exc) from exc
                store(rows, result)
            return
        pool = self._pool()
        pending: dict[Future[Any], Pass] = {pool.submit(self._on_free_session, run, rows): rows for rows in passes}
        while pending:
            done, _ = wait(pending, return_when=FIRST_EXCEPTION)
            for future in done:
                rows = pending.pop(future)
                error = future.exception()
                if error is not None:
                    for other in pending:
                        other.cancel()
                    wait(pending)
                    raise _failure(rows, error) from error
                store(rows, future.result())

    def close(self) -> None:
        with self._lock:
            if self._executor is not None:
                self._executor.shutdown(wait=True, cancel_futures=True)
                self._executor = None


def _failure(rows: Pass, error: BaseException) -> HragentError:
    """A pass's exception as the typed error callers catch (hragent's own errors pass unchanged)."""
    if isinstance(error, HragentError):
        return error
    return EncoderError(f"the encoder failed on a pass of {len(rows)} texts: {type(error).__name__}: {error}")
