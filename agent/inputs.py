"""Checks and normal forms of what callers pass to `Agent` (tasks, queries, principals)."""

from __future__ import annotations

from tools.acl import PrincipalLike, identities_of
from tools.errors import InvalidTaskError


def principal_payload(principal: PrincipalLike) -> list[str] | None:
    """A principal as stored in run state: its sorted identities, or None for the anonymous one."""
    ids = identities_of(principal)
    return sorted(ids) if ids else None


class Unset:
    """Marks an argument the caller did not pass (distinct from `None`, the anonymous principal)."""


UNSET = Unset()


def check_text(text: object, what: str) -> str:
    """Tasks and queries must be encodable text: a lone surrogate would otherwise crash deep in SQLite
    or the tokenizer instead of failing here with a clear error."""
    if not isinstance(text, str):
        raise InvalidTaskError(f"{what} must be a string, got {type(text).__name__}")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidTaskError(f"{what} is not valid Unicode text ({exc.reason} at position {exc.start})") from exc
    return text
