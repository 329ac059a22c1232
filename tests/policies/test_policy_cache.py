"""The record that a policy chain validated cleanly: kept by this user's runs, never planted.

Its key is computable from the policy's text, so a record planted in a cache folder others can
write (or one another user owns) must not let an invalid policy run unvalidated. Another owner is
simulated by changing what ``os.getuid`` answers.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from veilcv.cachedir import write_entry
from veilcv.policies import PolicySchemaError, load_policy_source, loader

INVALID = "version: 1\nextends: strict\nstorage:\n  lifecycle: 3\n"
VALID = "version: 1\nextends: strict\nstorage:\n  lifecycle: any\n"
POSIX = pytest.mark.skipif(not hasattr(os, "getuid"), reason="file owners and modes are POSIX")


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("VEILCV_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("VEILCV_NO_CACHE", raising=False)
    return tmp_path / "cache"


@pytest.fixture
def validations(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Every document the schema validator is asked about, in order."""
    seen: list[object] = []
    real = loader._validator()

    class Counting:
        def iter_errors(self, doc: object):
            seen.append(doc)
            return real.iter_errors(doc)

    monkeypatch.setattr(loader, "_validator", Counting)
    return seen


def plant(policy: Path, cache: Path) -> None:
    """A record for ``policy`` as anyone who can write to the cache folder could make it."""
    layers = loader._read_chain(policy, None, validate=False)
    key = loader._validation_record(layers)
    assert key is not None
    write_entry(cache / "policy", key, b"")


def test_a_clean_chain_is_validated_once_then_read_from_the_users_record(
    tmp_path: Path, cache: Path, validations: list[object]
) -> None:
    policy = tmp_path / "veil.yaml"
    policy.write_text(VALID, encoding="utf-8")
    first = load_policy_source(policy)
    assert validations  # validated
    done = len(validations)
    assert load_policy_source(policy).data == first.data
    assert len(validations) == done  # the user's own record: not validated again
    records = list((cache / "policy").iterdir())
    assert [len(p.name) for p in records] == [64] and records[0].is_file()  # one flat folder
    if hasattr(os, "getuid"):
        assert stat.S_IMODE((cache / "policy").stat().st_mode) == 0o700


def test_a_miss_reads_each_file_of_the_chain_once(
    tmp_path: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "team.yaml").write_text("version: 1\nextends: strict\n", encoding="utf-8")
    policy = tmp_path / "veil.yaml"
    policy.write_text("version: 1\nextends: ./team.yaml\n", encoding="utf-8")
    read: list[str] = []
    real = loader._read_text
    monkeypatch.setattr(loader, "_read_text", lambda path, shown: read.append(shown) or real(path, shown))
    load_policy_source(policy)
    files = sorted(r for r in read if not r.startswith("pack:"))  # packs: once per process anyway
    assert files == sorted([str(policy), str(tmp_path / "team.yaml")])


def test_an_invalid_policy_with_a_record_of_the_users_own_would_load(tmp_path: Path, cache: Path) -> None:
    # The premise of the tests below: a record under the computed key is what skips validation.
    policy = tmp_path / "veil.yaml"
    policy.write_text(INVALID, encoding="utf-8")
    plant(policy, cache)
    assert load_policy_source(policy).data["storage"]["lifecycle"] == 3


@POSIX
def test_a_record_planted_in_a_group_writable_cache_folder_is_ignored(tmp_path: Path, cache: Path) -> None:
    policy = tmp_path / "veil.yaml"
    policy.write_text(INVALID, encoding="utf-8")
    plant(policy, cache)
    os.chmod(cache / "policy", 0o770)
    with pytest.raises(PolicySchemaError, match=r"veil\.yaml:4.*\$\.storage\.lifecycle"):
        load_policy_source(policy)


@POSIX
def test_a_record_another_user_owns_is_ignored(
    tmp_path: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    policy = tmp_path / "veil.yaml"
    policy.write_text(INVALID, encoding="utf-8")
    plant(policy, cache)
    me = os.getuid()
    monkeypatch.setattr(os, "getuid", lambda: me + 1)
    with pytest.raises(PolicySchemaError, match=r"veil\.yaml:4.*\$\.storage\.lifecycle"):
        load_policy_source(policy)


def test_every_problem_is_still_reported_on_a_miss(tmp_path: Path, cache: Path) -> None:
    policy = tmp_path / "veil.yaml"
    policy.write_text("version: 1\nextends: ./team.yaml\nstorage:\n  tls: maybe\n", encoding="utf-8")
    (tmp_path / "team.yaml").write_text("version: 1\nextends: strict\nstorage:\n  lifecycle: 3\n", "utf-8")
    with pytest.raises(PolicySchemaError) as info:
        load_policy_source(policy)
    where = [(Path(i.file).name, i.path) for i in info.value.issues]
    assert where == [("team.yaml", "$.storage.lifecycle"), ("veil.yaml", "$.storage.tls")]
    assert not (cache / "policy").exists() or list((cache / "policy").iterdir()) == []
