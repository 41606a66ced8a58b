"""One writer per index directory: a thread lock plus an advisory file lock, so two ingests (threads or
processes, e.g. a cron job and a user) never interleave their writes to the same stores."""

from __future__ import annotations

import os
import threading
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - non-POSIX platforms get the thread lock only
    fcntl = None  # type: ignore[assignment]


class WriterLock:
    """Re-entrant within a thread; exclusive across threads and processes. A killed holder releases
    the file lock with its process, so a crash never leaves the index locked."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._thread_lock = threading.RLock()
        self._depth = 0
        self._fd: int | None = None

    def __enter__(self) -> WriterLock:
        self._thread_lock.acquire()
        try:
            if self._depth == 0:
                self._acquire_file()
        except BaseException:
            self._thread_lock.release()
            raise
        self._depth += 1
        return self

    def __exit__(self, *exc: object) -> None:
        self._depth -= 1
        try:
            if self._depth == 0:
                self._release_file()
        finally:
            self._thread_lock.release()

    def _acquire_file(self) -> None:
        if fcntl is None:
            return
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd

    def _release_file(self) -> None:
        if self._fd is None:
            return
        try:
            if fcntl is not None:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            os.close(self._fd)
            self._fd = None
