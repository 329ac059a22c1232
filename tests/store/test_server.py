"""Signed tokens and the loopback HTTP server, tested for real on 127.0.0.1 with an ephemeral port."""

from __future__ import annotations

import http.client
import urllib.parse

import pytest

from store.helpers import POLICY, make_store
from veilcv.errors import AccessDenied, InputError, StoreError
from veilcv.store import Store, from_policy, tokens
from veilcv.store.access import sign
from veilcv.store.maintenance import rotate_key
from veilcv.store.server import StoreServer

DATA = b"redacted image bytes " * 50
KEY = "redacted/p/1.jpg"


def _request(server: StoreServer, method: str, path: str, headers: dict | None = None) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        conn.request(method, path, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def _path(key: str, token: str) -> str:
    return f"/o/{urllib.parse.quote(key)}?token={urllib.parse.quote(token)}"


def _serve_log(store: Store) -> list[tuple[str, str]]:
    rows = store._conn().execute("SELECT outcome, detail FROM audit WHERE action = 'serve' ORDER BY seq")
    return [(r[0], r[1]) for r in rows]


@pytest.fixture
def served(store: Store):
    store.put(KEY, DATA, role="writer", actor="t")
    store.put("raw/p/1.jpg", b"RAW ORIGINAL", role="writer", actor="t")
    store.put("redacted/p/2.jpg", b"other", role="writer", actor="t")
    with StoreServer(store, "127.0.0.1", 0) as server:
        yield store, server


def test_valid_token_serves_the_object_and_is_logged(served) -> None:
    store, server = served
    token = sign(store, KEY, role="reader", ttl=300, actor="t")
    assert server.port > 0 and server.url.startswith("http://127.0.0.1:")
    assert _request(server, "GET", _path(KEY, token)) == (200, DATA)
    assert _request(server, "GET", f"/o/{KEY}", {"Authorization": f"Bearer {token}"}) == (200, DATA)
    assert [o for o, _ in _serve_log(store)] == ["ok", "ok"]


def _flip(token: str, part: int) -> str:
    pieces = token.split(".")
    s = pieces[part]
    pieces[part] = s[:5] + ("A" if s[5] != "A" else "B") + s[6:]
    return ".".join(pieces)


def test_every_kind_of_bad_token_is_refused_and_logged(served, clock) -> None:
    store, server = served
    good = sign(store, KEY, role="reader", ttl=60, actor="t")
    other_key = sign(store, "redacted/p/2.jpg", role="reader", ttl=60, actor="t")
    cases = {
        "tampered claims": _path(KEY, _flip(good, 1)),
        "tampered signature": _path(KEY, _flip(good, 2)),
        "foreign secret": _path(
            KEY,
            tokens.issue(
                b"s" * 32,
                key=KEY,
                version=store.object_version(KEY),
                role="admin",
                method="GET",
                ttl=60,
                max_ttl=600,
                now=clock(),
            ),
        ),
        "other key": _path(KEY, other_key),
        "no token": f"/o/{KEY}",
        "garbage": _path(KEY, "v2.%%%.***"),
        "traversal": _path("redacted/../catalog.sqlite", good),
        "encoded traversal": f"/o/redacted%2F..%2F..%2Fcatalog.sqlite?token={good}",
        "absolute": f"/o//etc/passwd?token={good}",
        "outside route": f"/catalog.sqlite?token={good}",
        "bad utf-8": f"/o/redacted/%ff%fe?token={good}",
    }
    for name, path in cases.items():
        status, body = _request(server, "GET", path)
        assert status in (400, 403), name
        assert DATA not in body and b"RAW" not in body, name
    clock.advance(61)
    assert _request(server, "GET", _path(KEY, good))[0] == 403  # expired
    log = _serve_log(store)
    assert len(log) == len(cases) + 1 and all(o == "denied" for o, _ in log)
    reasons = " ".join(d for _, d in log)
    for reason in ("bad signature", "issued for another key", "expired", "malformed", "object key"):
        assert reason in reasons


def test_wrong_method_is_refused_and_logged(served) -> None:
    store, server = served
    token = sign(store, KEY, role="reader", ttl=60, actor="t")
    for method in ("POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"):
        status, body = _request(server, method, _path(KEY, token))
        assert status == 405 and DATA not in body
    assert [o for o, _ in _serve_log(store)] == ["denied"] * 6
    with pytest.raises(AccessDenied, match="issued for GET, used for PUT"):
        tokens.verify(
            store._token_key,
            token,
            key=KEY,
            version=store.object_version(KEY),
            method="PUT",
            max_ttl=600,
            now=store.clock(),
        )
    with pytest.raises(InputError, match="--method"):
        sign(store, KEY, role="reader", ttl=60, actor="t", method="PUT")


def test_wrong_role_is_refused_at_signing_and_at_serving(served, tmp_path, key, clock) -> None:
    store, server = served
    with pytest.raises(AccessDenied, match="scoped to redacted/"):
        sign(store, "raw/p/1.jpg", role="reader", ttl=60, actor="t")
    token = sign(store, "raw/p/1.jpg", role="writer", ttl=60, actor="t")
    assert _request(server, "GET", _path("raw/p/1.jpg", token)) == (200, b"RAW ORIGINAL")
    # the policy tightens: writers lose raw/. Tokens already out stop working.
    tighter = {
        **POLICY,
        "storage": {
            **POLICY["storage"],
            "roles": {**POLICY["storage"]["roles"], "writer": {"prefixes": ["redacted/"]}},
        },
    }
    store.policy = from_policy(tighter)
    assert _request(server, "GET", _path("raw/p/1.jpg", token))[0] == 403
    assert "may not read raw/p/1.jpg" in _serve_log(store)[-1][1]


def test_lifetime_above_the_policy_maximum_is_refused(served, clock) -> None:
    store, server = served
    with pytest.raises(AccessDenied, match="expected at most 600 s"):
        sign(store, KEY, role="reader", ttl=601, actor="t")
    for ttl in (0, -5):
        with pytest.raises(InputError, match="positive number"):
            sign(store, KEY, role="reader", ttl=ttl, actor="t")
    long_lived = tokens.issue(
        store._token_key,
        key=KEY,
        version=store.object_version(KEY),
        role="reader",
        method="GET",
        ttl=10_000,
        max_ttl=10_000,
        now=clock(),
    )  # minted under a laxer policy
    assert _request(server, "GET", _path(KEY, long_lived))[0] == 403
    assert "exceeds policy maximum" in _serve_log(store)[-1][1]
    with pytest.raises(StoreError, match="no such object"):
        sign(store, "redacted/none.jpg", role="reader", ttl=60, actor="t")


def test_revoking_tokens_on_rotation(served, key) -> None:
    store, server = served
    token = sign(store, KEY, role="reader", ttl=60, actor="t")
    rotate_key(store, key, role="admin", actor="t")  # same key, tokens kept
    assert _request(server, "GET", _path(KEY, token))[0] == 200
    from store.helpers import new_key

    rotate_key(store, new_key(), role="admin", actor="t", revoke_tokens=True)
    assert _request(server, "GET", _path(KEY, token))[0] == 403


def test_only_loopback_can_be_bound(store: Store) -> None:
    for host in ("0.0.0.0", "192.168.1.10", "example", "::"):
        with pytest.raises(InputError, match="loopback"):
            StoreServer(store, host, 0)
    with pytest.raises(InputError, match="0-65535"):
        StoreServer(store, "127.0.0.1", 70000)


def test_concurrent_requests_are_all_served_and_logged(served) -> None:
    from concurrent.futures import ThreadPoolExecutor

    store, server = served
    token = sign(store, KEY, role="reader", ttl=300, actor="t")
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: _request(server, "GET", _path(KEY, token)), range(40)))
    assert results == [(200, DATA)] * 40
    assert len(_serve_log(store)) == 40 and store.verify_audit().ok


def test_server_survives_a_clock_that_moves_backwards(tmp_path, key, clock) -> None:
    st = make_store(tmp_path / "v2", key, clock)
    st.put(KEY, DATA, role="writer", actor="t")
    token = sign(st, KEY, role="reader", ttl=60, actor="t")
    clock.advance(-3600)  # a token "from the future" is refused rather than trusted
    with StoreServer(st) as server:
        assert _request(server, "GET", _path(KEY, token))[0] == 403
    st.close()


def test_a_restart_can_take_the_port_at_once_but_never_a_listening_one(served) -> None:
    store, server = served
    token = sign(store, KEY, role="reader", ttl=300, actor="t")
    assert _request(server, "GET", _path(KEY, token)) == (200, DATA)
    port = server.port
    with pytest.raises(StoreError, match=f"cannot listen on 127.0.0.1:{port}"):
        StoreServer(store, "127.0.0.1", port)  # a second server on a listening port is refused
    server.stop()
    # the connection just served sits in TIME_WAIT: a restarted server binds anyway
    with StoreServer(store, "127.0.0.1", port) as again:
        assert _request(again, "GET", _path(KEY, token)) == (200, DATA)
