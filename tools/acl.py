"""Principals and document ACLs: who may see what, checked on every retrieval path."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field

from tools.errors import ConfigError


@dataclass(frozen=True)
class Principal:
    """A caller: a user id plus the groups they belong to. `None` everywhere means anonymous."""

    user: str
    groups: frozenset[str] = field(default_factory=frozenset)

    @property
    def identities(self) -> frozenset[str]:
        return frozenset({self.user, *self.groups})


PrincipalLike = Principal | str | Iterable[str] | None


def identities_of(principal: PrincipalLike) -> frozenset[str]:
    """Normalise what callers pass (`"alice"`, `["alice", "hr"]`, a `Principal`) into identities."""
    if principal is None:
        return frozenset()
    if isinstance(principal, Principal):
        return principal.identities
    if isinstance(principal, str):
        return frozenset({principal}) if principal else frozenset()
    if isinstance(principal, bytes) or not isinstance(principal, Iterable):
        raise ConfigError(f"principal must be a str, a Principal or a list of str, not {type(principal).__name__}")
    ids = list(principal)
    if not all(isinstance(p, str) for p in ids):
        raise ConfigError("every identity of a principal must be a str")
    return frozenset(p for p in ids if p)


def normalize_acl(acl: Iterable[str] | str | None) -> tuple[str, ...]:
    """An ACL is a sorted tuple of principals/groups; `None` or an empty list means public.

    Fails closed: a blank or non-string entry (say `acl=[os.environ.get("GROUP", "")]`) raises instead
    of silently dropping to an empty, public ACL."""
    if acl is None:
        return ()
    items = acl.split(",") if isinstance(acl, str) else list(acl)
    if any(not isinstance(a, str) for a in items):
        raise ConfigError("ACL entries must be strings (principal or group names)")
    if any(not a.strip() for a in items):
        raise ConfigError(
            f"ACL {list(items)!r} has a blank entry; name the allowed principals, or pass None for public"
        )
    return tuple(sorted({a.strip() for a in items}))


def can_see(acl: Iterable[str], identities: frozenset[str]) -> bool:
    allowed = set(acl)
    return not allowed or bool(allowed & identities)


def acl_key(identity: str) -> str:
    """Chroma metadata key for one principal (hashed: metadata keys must be plain identifiers)."""
    return "acl_" + hashlib.sha1(identity.encode("utf-8")).hexdigest()[:16]


def acl_metadata(acl: Iterable[str]) -> dict[str, bool]:
    allowed = list(acl)
    meta: dict[str, bool] = {"acl_public": not allowed}
    for identity in allowed:
        meta[acl_key(identity)] = True
    return meta


def chroma_acl_filter(identities: frozenset[str]) -> dict[str, object]:
    """A Chroma `where` clause matching public nodes and nodes any identity may see."""
    clauses: list[dict[str, object]] = [{"acl_public": True}]
    clauses += [{acl_key(i): True} for i in sorted(identities)]
    return clauses[0] if len(clauses) == 1 else {"$or": clauses}
