"""Signed access: issue a token for an object, and redeem one (what ``veil store serve`` does)."""

from __future__ import annotations

from veilcv.errors import AccessDenied, InputError, StoreError
from veilcv.store import tokens
from veilcv.store.objects import Store, _printable
from veilcv.store.roles import Op, check_key


def sign(store: Store, key: str, *, role: str, ttl: int, actor: str, method: str = "GET") -> str:
    """Issue a token for ``role`` to ``method`` ``key`` for ``ttl`` seconds."""
    store.authorize(role, Op.READ, key, action="sign", actor=actor)
    version = store.object_version(key)
    if version is None:
        store.record("sign", key, "denied", role=role, actor=actor, detail={"reason": "no such object"})
        raise StoreError(f"object {key}: no such object")
    try:
        token = tokens.issue(
            store._token_key,
            key=key,
            version=version,
            role=role,
            method=method,
            ttl=ttl,
            max_ttl=store.policy.max_signed_seconds,
            now=store.clock(),
        )
    except (AccessDenied, InputError) as exc:
        store.record("sign", key, "denied", role=role, actor=actor, detail={"reason": str(exc), "ttl": ttl})
        raise
    claims = tokens.verify(
        store._token_key,
        token,
        key=key,
        version=version,
        method=method,
        max_ttl=store.policy.max_signed_seconds,
        now=store.clock(),
    )
    store.record(
        "sign",
        key,
        "ok",
        role=role,
        actor=actor,
        detail={"ttl": ttl, "method": method, "expires": claims.expires, "nonce": claims.nonce},
    )
    return token


def redeem(store: Store, token: str, key: str, *, method: str, actor: str = "http") -> bytes:
    """Serve ``key`` for a bearer ``token``; every refusal is audited with its reason."""
    try:
        check_key(key, store.policy)
        claims = tokens.verify(
            store._token_key,
            token,
            key=key,
            version=store.object_version(key),
            method=method,
            max_ttl=store.policy.max_signed_seconds,
            now=store.clock(),
        )
    except AccessDenied as exc:
        store.record(
            "serve",
            _printable(key),
            "denied",
            role="token",
            actor=actor,
            detail={"reason": str(exc), "method": _printable(method)},
        )
        raise
    return store.get(key, role=claims.role, actor=actor, action="serve", extra={"nonce": claims.nonce})
