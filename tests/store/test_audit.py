"""The hash-chained audit log: every edit, deletion or truncation is detected."""

from __future__ import annotations

import hashlib
import hmac
import json
import sqlite3
from pathlib import Path

import pytest

from veilcv.errors import InputError
from veilcv.store import Store
from veilcv.store import audit as audit_mod


def _fill(store: Store, n: int = 6, start: int = 0) -> None:
    for i in range(start, start + n):
        store.put(f"redacted/{i}.png", b"x" * 10, role="writer", actor="t")


def _tamper(root: Path, *sql: str) -> None:
    """What an attacker with write access to the catalog file does: drop the guards, rewrite rows."""
    conn = sqlite3.connect(root / "catalog.sqlite")
    conn.execute("DROP TRIGGER audit_no_update")
    conn.execute("DROP TRIGGER audit_no_delete")
    for stmt in sql:
        conn.execute(stmt)
    conn.commit()
    conn.close()


def test_untouched_log_verifies(store: Store) -> None:
    _fill(store)
    report = store.verify_audit()
    assert report.ok and report.entries == report.head_seq == report.anchored_seq == 7  # init + 6 puts
    assert report.unanchored == 0


@pytest.mark.parametrize(
    ("sql", "problem"),
    [
        (["UPDATE audit SET outcome = 'denied' WHERE seq = 3"], "audit entry 3: content does not match"),
        (["UPDATE audit SET detail = '{}' WHERE seq = 7"], "audit entry 7: content does not match"),
        (["DELETE FROM audit WHERE seq = 4"], "audit entries 4..4 are missing"),
        (["DELETE FROM audit WHERE seq >= 6"], "audit log truncated: the anchor records 7 entries"),
        (["DELETE FROM audit WHERE seq = 7"], "audit log truncated"),
        (["DELETE FROM audit"], "audit log truncated"),
    ],
)
def test_edits_deletions_and_truncations_are_detected(store: Store, sql: list[str], problem: str) -> None:
    _fill(store)
    _tamper(store.root, *sql)
    report = store.verify_audit()
    assert not report.ok
    assert any(problem in p for p in report.problems), report.problems


def test_rewritten_chain_without_the_key_is_detected(store: Store) -> None:
    _fill(store)
    # recompute every hash with a key of the attacker's own: links are consistent, MACs are not
    conn = sqlite3.connect(store.root / "catalog.sqlite")
    rows = conn.execute("SELECT * FROM audit ORDER BY seq").fetchall()
    _tamper(store.root, "DELETE FROM audit")
    conn = sqlite3.connect(store.root / "catalog.sqlite")
    prev = audit_mod.GENESIS
    for seq, ts, actor, role, action, key, outcome, detail, _prev, _hash in rows:
        outcome = "denied" if seq == 2 else outcome
        digest = audit_mod.entry_hash(b"k" * 32, seq, ts, actor, role, action, key, outcome, detail, prev)
        conn.execute(
            "INSERT INTO audit VALUES (?,?,?,?,?,?,?,?,?,?)",
            (seq, ts, actor, role, action, key, outcome, detail, prev, digest),
        )
        prev = digest
    conn.commit()
    conn.close()
    problems = store.verify_audit().problems
    assert any("content does not match" in p for p in problems)


@pytest.mark.parametrize("how", ["delete", "edit", "garbage"])
def test_anchor_removed_or_forged_is_detected(store: Store, how: str) -> None:
    _fill(store)
    anchor = store.root / "audit.anchor"
    if how == "delete":
        anchor.unlink()
    elif how == "edit":
        data = json.loads(anchor.read_text())
        data["seq"] = 5  # an attacker trying to legitimise a log cut back to 5 entries
        anchor.write_text(json.dumps(data))
    else:
        anchor.write_text("{not json")
    report = store.verify_audit()
    assert not report.ok and any("anchor" in p for p in report.problems)


def test_crash_between_commit_and_anchor_is_not_tampering(store: Store) -> None:
    _fill(store, 2)
    seq, digest = store.audit_head()
    store.put("redacted/late.png", b"y", role="writer", actor="t")
    audit_mod.write_anchor(store.root / "audit.anchor", store._audit_key, seq, digest)  # anchor lags by 1
    report = store.verify_audit()
    assert report.ok and report.unanchored == 1


def test_rollback_is_caught_with_an_externally_kept_head(store: Store) -> None:
    _fill(store, 2)
    old_anchor = (store.root / "audit.anchor").read_bytes()
    old_head = store.audit_head()
    _fill(store, 3, start=10)
    recorded = store.audit_head()  # what `veil store audit head` printed into a ticket
    _tamper(store.root, f"DELETE FROM audit WHERE seq > {old_head[0]}")
    (store.root / "audit.anchor").write_bytes(old_anchor)  # a genuine older anchor: locally consistent
    assert store.verify_audit().ok
    report = store.verify_audit(recorded)
    assert not report.ok and "shorter than the recorded head" in report.problems[0]
    assert store.verify_audit(old_head).ok


def test_parse_head() -> None:
    digest = hashlib.sha256(b"x").hexdigest()
    assert audit_mod.parse_head(f"12:{digest}") == (12, digest)
    for bad in ("12", "x:" + digest, "3:abc", f"3:{digest.upper()}"):
        with pytest.raises(InputError, match="expected SEQ:HASH"):
            audit_mod.parse_head(bad)


def test_entry_hash_is_keyed() -> None:
    args = (1, 1.0, "a", "r", "put", "k", "ok", "{}", audit_mod.GENESIS)
    assert audit_mod.entry_hash(b"1" * 32, *args) != audit_mod.entry_hash(b"2" * 32, *args)
    body = json.dumps(list(args), sort_keys=True, separators=(",", ":"))
    assert (
        audit_mod.entry_hash(b"1" * 32, *args)
        == hmac.new(b"1" * 32, body.encode(), hashlib.sha256).hexdigest()
    )
