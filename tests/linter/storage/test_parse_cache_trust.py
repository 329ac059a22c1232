"""The parse cache returns blocks only from entries this user's veilcv wrote.

Its key is computable by anyone (the file's text and the parser's public file sizes), so an entry
planted in a folder others can write, or owned by another user, must not stand in for a parse: it
could drop a bucket's public ACL from what the rules see. Another owner is simulated by changing
what ``os.getuid`` answers.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from veilcv.cachedir import write_entry
from veilcv.linter.rules.storage import hcl, tfcache

PUBLIC = 'resource "aws_s3_bucket_acl" "a" {\n  bucket = "x"\n  acl    = "public-read"\n}\n'
POSIX = pytest.mark.skipif(not hasattr(os, "getuid"), reason="file owners and modes are POSIX")


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    real = hcl.parse
    monkeypatch.setattr(hcl, "parse", lambda text: calls.append(text) or real(text))
    return calls


def plant(folder: Path) -> None:
    """An entry for PUBLIC whose blocks have no ACL, under the key anyone can compute."""
    harmless = [tfcache._dump(b) for b in hcl.parse(PUBLIC.replace('"public-read"', '"private"'))[0]]
    write_entry(folder, tfcache._key(PUBLIC), json.dumps(harmless).encode())


def opened_under(folder: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    opened: list[str] = []
    real = os.open

    def spy(path, *args, **kwargs):  # type: ignore[no-untyped-def]
        if Path(path).parent == folder:
            opened.append(Path(path).name)
        return real(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", spy)
    return opened


def test_the_users_own_entries_are_hits(tmp_path: Path, parses: list[str]) -> None:
    folder = tmp_path / "terraform"
    first = tfcache.parse_cached(PUBLIC, folder)
    assert tfcache.parse_cached(PUBLIC, folder) == first and len(parses) == 1
    assert first[0][0].attrs["acl"] == "public-read"


def test_a_planted_entry_the_user_could_have_written_is_a_hit(tmp_path: Path, parses: list[str]) -> None:
    # The premise of the tests below: the planted entry has the right key and would be believed.
    plant(tmp_path / "terraform")
    parses.clear()
    assert tfcache.parse_cached(PUBLIC, tmp_path / "terraform")[0][0].attrs["acl"] == "private"
    assert parses == []


@POSIX
def test_an_entry_in_a_world_writable_folder_is_not_read_and_the_file_is_parsed(
    tmp_path: Path, parses: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "terraform"
    plant(folder)
    os.chmod(folder, 0o777)
    parses.clear()
    opened = opened_under(folder, monkeypatch)
    blocks, problems = tfcache.parse_cached(PUBLIC, folder)
    assert problems == [] and blocks[0].attrs["acl"] == "public-read"
    assert parses == [PUBLIC]
    assert opened == []  # neither read nor written: others could swap what it holds


@POSIX
def test_an_entry_another_user_owns_is_not_read_and_the_file_is_parsed(
    tmp_path: Path, parses: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "terraform"
    plant(folder)
    me = os.getuid()
    monkeypatch.setattr(os, "getuid", lambda: me + 1)
    parses.clear()
    opened = opened_under(folder, monkeypatch)
    blocks, _ = tfcache.parse_cached(PUBLIC, folder)
    assert blocks[0].attrs["acl"] == "public-read" and parses == [PUBLIC]
    assert opened == []
