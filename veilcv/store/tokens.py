"""Short-lived access tokens: HMAC-SHA256 over (key, object version, role, method, expiry).

Format: ``v2.<base64url(claims JSON)>.<base64url(HMAC)>``, unpadded and canonical: a token whose
base64 carries padding, foreign characters or non-zero spare bits is refused, so one token has
exactly one spelling. The signing secret is random, kept in
the catalog wrapped by the master key; ``veil store rotate-key --revoke-tokens`` replaces it,
which invalidates every token issued so far. A token is refused when it is malformed, its MAC
does not verify (tampered or signed elsewhere), it has expired, it names another key or method,
its lifetime exceeds the policy's maximum (so an old token minted under a laxer policy stops
working when the policy tightens), or the object was deleted and stored again since it was issued
(the claims name the object's version).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import secrets
from dataclasses import dataclass

from veilcv.errors import AccessDenied, InputError

VERSION = "v2"  # v2: the claims carry the object version
MAX_TOKEN_CHARS = 4096
METHODS = ("GET",)
_B64URL = re.compile(r"[A-Za-z0-9_-]*")


@dataclass(frozen=True)
class Claims:
    key: str
    role: str
    method: str
    issued: int
    expires: int
    nonce: str
    version: str


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    """Decode unpadded base64url, refusing every spelling but the canonical one."""
    if not _B64URL.fullmatch(text):
        raise ValueError("not unpadded base64url")
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if _b64(data) != text:  # spare bits set in the last character: another spelling of the same bytes
        raise ValueError("non-canonical base64")
    return data


def _mac(secret: bytes, body: str) -> bytes:
    return hmac.new(secret, f"{VERSION}.{body}".encode("ascii"), hashlib.sha256).digest()


def issue(
    secret: bytes, *, key: str, version: str, role: str, method: str, ttl: int, max_ttl: int, now: float
) -> str:
    """Mint a token for ``version`` of ``key``, valid for ``ttl`` seconds (at most ``max_ttl``)."""
    if method not in METHODS:
        raise InputError(f"--method: expected one of {', '.join(METHODS)}, got {method!r}")
    if isinstance(ttl, bool) or not isinstance(ttl, int) or ttl <= 0:
        raise InputError(f"--ttl: expected a positive number of seconds, got {ttl!r}")
    if ttl > max_ttl:
        raise AccessDenied(
            f"--ttl: expected at most {max_ttl} s (policy storage.max_signed_url_seconds), got {ttl} s"
        )
    claims = {
        "k": key,
        "v": version,
        "r": role,
        "m": method,
        "i": int(now),
        "e": int(now) + ttl,
        "n": secrets.token_hex(8),
    }
    body = _b64(json.dumps(claims, sort_keys=True, separators=(",", ":")).encode())
    return f"{VERSION}.{body}.{_b64(_mac(secret, body))}"


def verify(
    secret: bytes, token: str, *, key: str, version: str | None, method: str, max_ttl: int, now: float
) -> Claims:
    """Check a token for ``method`` on ``version`` of ``key`` at ``now``; any failure raises AccessDenied.

    ``version`` is the object's current version (``None``: no such object any more).
    """
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
            str(raw["k"]),
            str(raw["r"]),
            str(raw["m"]),
            int(raw["i"]),
            int(raw["e"]),
            str(raw["n"]),
            str(raw["v"]),
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
    if version is None or not hmac.compare_digest(claims.version.encode(), version.encode()):
        raise AccessDenied("token refused: the object was deleted or replaced since the token was issued")
    return claims
