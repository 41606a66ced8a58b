"""The PostgreSQL + pgvector index backend (`Settings.index.backend = "postgres"`)."""

from tools.store.postgres.store import PostgresStore, safe_location

__all__ = ["PostgresStore", "safe_location"]
