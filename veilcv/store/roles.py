"""Object keys and roles: which role may do what, under which prefixes.

Keys are names in the catalog, never file paths (blobs are stored under random ids), and they are
also checked here so that a hostile key cannot even be spelled: ASCII segments of
``[A-Za-z0-9._-]``, no empty, ``.`` or ``..`` segment, no leading slash, no backslash, at most
512 characters, and under a prefix the policy names.
"""

from __future__ import annotations

import re
from enum import Enum

from veilcv.errors import AccessDenied
from veilcv.store.policy import StorePolicy

MAX_KEY_CHARS = 512
_SEGMENT = re.compile(r"[A-Za-z0-9._-]+")


class Op(str, Enum):
    """What an operation does; each role is granted a set of these."""

    READ = "read"  # get, list, export, sign a GET token
    WRITE = "write"  # put, ingest
    DELETE = "delete"  # purge, subject deletion
    ADMIN = "admin"  # key rotation, audit verification, repair


ROLE_OPS: dict[str, frozenset[Op]] = {
    "reader": frozenset({Op.READ}),
    "writer": frozenset({Op.READ, Op.WRITE}),
    "admin": frozenset({Op.READ, Op.WRITE, Op.DELETE, Op.ADMIN}),
}


def check_key(key: object, policy: StorePolicy) -> str:
    """Return ``key`` if it is a well-formed object key under a policy prefix, else refuse it."""
    if not isinstance(key, str) or not key:
        raise AccessDenied(f"object key: expected a non-empty string, got {key!r}")
    shown = key if len(key) <= 80 and key.isprintable() else repr(key[:80])
    if len(key) > MAX_KEY_CHARS:
        raise AccessDenied(f"object key {shown}: expected at most {MAX_KEY_CHARS} characters, got {len(key)}")
    for segment in key.split("/"):
        if segment in ("", ".", "..") or not _SEGMENT.fullmatch(segment):
            raise AccessDenied(
                f"object key {shown}: expected '/'-separated segments of letters, digits, '.', '_' "
                f"or '-' (no empty, '.' or '..' segments), got segment {segment!r}"
            )
    if policy.prefix_of(key) is None:
        raise AccessDenied(f"object key {shown}: expected it under one of {sorted(policy.prefixes)}")
    return key


def authorize(role: str, op: Op, key: str | None, policy: StorePolicy) -> None:
    """Refuse unless ``role`` exists, is granted ``op`` and is scoped to ``key``'s prefix."""
    if role not in ROLE_OPS:
        raise AccessDenied(f"role {role!r}: expected one of {sorted(ROLE_OPS)}")
    if op not in ROLE_OPS[role]:
        raise AccessDenied(f"role {role!r} may not {op.value}")
    scopes = policy.roles.get(role)
    if scopes is None:
        raise AccessDenied(f"role {role!r} is not granted by the policy (storage.roles)")
    if key is not None and not in_scope(key, scopes):
        raise AccessDenied(
            f"role {role!r} may not {op.value} {key} (scoped to {', '.join(scopes) or 'nothing'})"
        )


def in_scope(key: str, scopes: tuple[str, ...]) -> bool:
    return any(scope == "*" or key.startswith(scope) for scope in scopes)
