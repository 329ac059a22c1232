"""Short-lived access tokens: HMAC-SHA256 over (key, role, method, expiry).

Format: ``v1.<base64url(claims JSON)>.<base64url(HMAC)>``. The signing secret is random, kept in
the catalog wrapped by the master key; ``veil store rotate-key --revoke-tokens`` replaces it,
which invalidates every token issued so far. A token is refused when it is malformed, its MAC
does not verify (tampered or signed elsewhere), it has expired, it names another key or method,
or its lifetime exceeds the policy's maximum (so an old token minted under a laxer policy stops
working when the policy tightens).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass

from veilcv.errors import AccessDenied, InputError

VERSION = "v1"
MAX_TOKEN_CHARS = 4096
METHODS = ("GET",)


@dataclass(frozen=True)
class Claims:
    key: str
    role: str
    method: str
    issued: int
    expires: int
    nonce: str


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: bytes, body: str) -> bytes:
    return hmac.new(secret, f"{VERSION}.{body}".encode("ascii"), hashlib.sha256).digest()


def issue(secret: bytes, *, key: str, role: str, method: str, ttl: int, max_ttl: int, now: float) -> str:
    """Mint a token valid for ``ttl`` seconds from ``now``; ``ttl`` above ``max_ttl`` is refused."""
    if method not in METHODS:
        raise InputError(f"--method: expected one of {', '.join(METHODS)}, got {method!r}")
    if isinstance(ttl, bool) or not isinstance(ttl, int) or ttl <= 0:
        raise InputError(f"--ttl: expected a positive number of seconds, got {ttl!r}")
    if ttl > max_ttl:
        raise AccessDenied(
            f"--ttl: expected at most {max_ttl} s (policy storage.max_signed_url_seconds), got {ttl} s"
        )
    claims = {"k": key, "r": role, "m": method, "i": int(now), "e": int(now) + ttl, "n": secrets.token_hex(8)}
    body = _b64(json.dumps(claims, sort_keys=True, separators=(",", ":")).encode())
    return f"{VERSION}.{body}.{_b64(_mac(secret, body))}"


def verify(secret: bytes, token: str, *, key: str, method: str, max_ttl: int, now: float) -> Claims:
    """Check a token for ``method`` on ``key`` at time ``now``; any failure raises AccessDenied."""
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_CHARS or not token.isascii():
        raise AccessDenied("token refused: malformed")
    parts = token.split(".")
    if len(parts) != 3 or parts[0] != VERSION:
        raise AccessDenied("token refused: malformed")
    body, sig = parts[1], parts[2]
    try:
        given = _unb64(sig)
    except (binascii.Error, ValueError):
        raise AccessDenied("token refused: malformed signature") from None
    if not hmac.compare_digest(given, _mac(secret, body)):
        raise AccessDenied("token refused: bad signature (tampered, or signed with another secret)")
    try:
        raw = json.loads(_unb64(body))
        claims = Claims(
            str(raw["k"]), str(raw["r"]), str(raw["m"]), int(raw["i"]), int(raw["e"]), str(raw["n"])
        )
    except (binascii.Error, ValueError, KeyError, TypeError):
        raise AccessDenied("token refused: malformed claims") from None
    if claims.expires - claims.issued > max_ttl:
        raise AccessDenied(
            f"token refused: lifetime {claims.expires - claims.issued} s exceeds policy maximum {max_ttl} s"
        )
    if now >= claims.expires:
        raise AccessDenied("token refused: expired")
    if claims.issued > now + 60:  # a token from the future means a skewed or forged clock
        raise AccessDenied("token refused: issued in the future")
    if claims.method != method:
        raise AccessDenied(f"token refused: issued for {claims.method}, used for {method}")
    if not hmac.compare_digest(claims.key.encode(), key.encode()):
        raise AccessDenied("token refused: issued for another key")
    return claims
