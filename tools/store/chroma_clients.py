"""One Chroma `PersistentClient` per index directory and process, reopened when another process wrote.

Chroma's local client keeps each HNSW segment in memory and replays its write log only from the
position the process last saw; when another process has persisted the segment meanwhile, the stale
copy skips that process's records, reuses their labels and, once it crosses `sync_threshold`, saves
itself over the newer files (lost vectors, "Error finding id" on `get`, and a `link_lists.bin` that
grew to 60 GB in this project's benchmark; chroma-core/chroma #3792, #6975, #961: the local client is
single-process). Loading afresh is the only way back: a reopened client reads the persisted segment
and replays the log after it, which every process leaves in place until it is applied.

So every writer (under the index's directory lock) first reopens the client if the directory's
`vectors.stamp` changed since this process opened it, and renews the stamp before and after it writes
vectors (before: a writer killed mid-batch still tells the others; after: a reader that reopened
mid-batch reloads once more). Readers reopen on a changed stamp too, so a query process follows
another process's ingest instead of searching its first snapshot. Handles of one directory in one
process share the client (a second `PersistentClient` on a path reuses the first one's state, so
closing only one of them would reload nothing)."""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

STAMP = "vectors.stamp"

Stamp = tuple[int, int] | None


class _Gate:
    """Many users at a time, or the one thread that reopens the client alone. Not re-entrant: a
    caller takes it around single Chroma calls, never around code that takes it again."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._users = 0
        self._closing = False

    @contextmanager
    def use(self) -> Iterator[None]:
        with self._cond:
            while self._closing:
                self._cond.wait()
            self._users += 1
        try:
            yield
        finally:
            with self._cond:
                self._users -= 1
                if not self._users:
                    self._cond.notify_all()

    @contextmanager
    def alone(self) -> Iterator[None]:
        with self._cond:
            while self._closing:
                self._cond.wait()
            self._closing = True
            while self._users:
                self._cond.wait()
        try:
            yield
        finally:
            with self._cond:
                self._closing = False
                self._cond.notify_all()


class SharedPersistentClient:
    """The process's client for one directory, its collections, and the stamp it was opened at."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.gate = _Gate()
        self.handles = 0
        self._lock = threading.Lock()
        self._client: Any | None = None
        self._collections: dict[str, Any] = {}
        self._seen: Stamp = None

    @property
    def client(self) -> Any | None:
        return self._client

    def collection(self, name: str) -> Any:
        """Call inside `gate.use()`."""
        found = self._collections.get(name)
        if found is not None:
            return found
        with self._lock:  # parallel subgoals may open the client at the same moment
            if name not in self._collections:
                if self._client is None:
                    import chromadb
                    from chromadb.config import Settings as ChromaSettings

                    # Read before opening: a stamp newer than what was loaded only costs a reload.
                    self._seen = stamp_of(self.path)
                    self._client = chromadb.PersistentClient(
                        path=str(self.path / "chroma"), settings=ChromaSettings(anonymized_telemetry=False)
                    )
                self._collections[name] = self._client.get_or_create_collection(
                    name, embedding_function=None, configuration={"hnsw": {"space": "cosine"}}
                )
            return self._collections[name]

    def refresh_if_stale(self) -> bool:
        """Reopen when another process changed the vectors since this process opened them; True if it did."""
        if self._client is None or stamp_of(self.path) == self._seen:
            return False
        with self.gate.alone():
            if self._client is None or stamp_of(self.path) == self._seen:
                return False
            self._close_client()
            return True

    def renew_stamp(self) -> None:
        """Tell other processes the vectors change (call under the directory's writer lock)."""
        self.path.mkdir(parents=True, exist_ok=True)
        tmp = self.path / f"{STAMP}.{os.getpid()}.{threading.get_ident()}.tmp"
        tmp.write_text(uuid.uuid4().hex)
        tmp.replace(self.path / STAMP)  # a new inode each time: the stamp is (inode, mtime)
        self._seen = stamp_of(self.path)

    def close(self) -> None:
        with self.gate.alone():
            self._close_client()

    def _close_client(self) -> None:
        with self._lock:
            client, self._client, self._collections = self._client, None, {}
        if client is not None:
            client.close()


def stamp_of(path: Path) -> Stamp:
    try:
        st = (path / STAMP).stat()
    except OSError:
        return None
    return (st.st_ino, st.st_mtime_ns)


_SHARED: dict[str, SharedPersistentClient] = {}
_SHARED_LOCK = threading.Lock()


def acquire(path: Path) -> SharedPersistentClient:
    """The shared client of `path` for one more handle (opened lazily, on first use)."""
    key = str(path.resolve())
    with _SHARED_LOCK:
        shared = _SHARED.get(key)
        if shared is None:
            shared = _SHARED[key] = SharedPersistentClient(path)
        shared.handles += 1
        return shared


def release(shared: SharedPersistentClient) -> None:
    """One handle less; the last one closes the client."""
    with _SHARED_LOCK:
        shared.handles -= 1
        last = shared.handles <= 0
        if last:
            _SHARED.pop(str(shared.path.resolve()), None)
    if last:
        shared.close()
