"""Cache entries count only when this user's veilcv wrote them: a planted entry is a miss.

The keys of the policy and parse caches are computable by anyone, so what decides a hit is who
could have written the entry: a folder and an entry owned by the user and writable by no one else,
and an entry that repeats its own key. Another owner is simulated by changing what ``os.getuid``
answers (the test user owns every file it writes).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from veilcv import cachedir
from veilcv.cachedir import read_entry, write_entry

KEY = "ab" * 32
OTHER = "cd" * 32
POSIX = pytest.mark.skipif(not hasattr(os, "getuid"), reason="file owners and modes are POSIX")


def mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def test_an_entry_this_user_wrote_is_read_back(tmp_path: Path) -> None:
    folder = tmp_path / "cache" / "things"
    write_entry(folder, KEY, b"payload\nwith lines")
    assert read_entry(folder, KEY) == b"payload\nwith lines"
    assert read_entry(folder, OTHER) is None
    write_entry(folder, KEY, b"")
    assert read_entry(folder, KEY) == b""  # an empty payload is a hit, not a miss
    assert sorted(p.name for p in folder.iterdir()) == [KEY]  # flat, no temporary file left


@POSIX
def test_folders_are_made_private_and_entries_readable_by_the_user_only(tmp_path: Path) -> None:
    old = os.umask(0o002)  # a umask that would leave folders group-writable
    try:
        write_entry(tmp_path / "new" / "things", KEY, b"x")
    finally:
        os.umask(old)
    assert mode(tmp_path / "new") == 0o700
    assert mode(tmp_path / "new" / "things") == 0o700
    assert mode(tmp_path / "new" / "things" / KEY) == 0o600


@POSIX
@pytest.mark.parametrize("bits", [stat.S_IWGRP, stat.S_IWOTH])
def test_an_entry_in_a_folder_others_can_write_is_a_miss(tmp_path: Path, bits: int) -> None:
    folder = tmp_path / "things"
    write_entry(folder, KEY, b"x")
    os.chmod(folder, 0o700 | bits)
    assert read_entry(folder, KEY) is None


@POSIX
def test_an_entry_others_can_write_is_a_miss(tmp_path: Path) -> None:
    folder = tmp_path / "things"
    write_entry(folder, KEY, b"x")
    os.chmod(folder / KEY, 0o620)
    assert read_entry(folder, KEY) is None


@POSIX
def test_a_folder_and_entry_of_another_user_are_a_miss_and_not_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "things"
    write_entry(folder, KEY, b"planted")
    me = os.getuid()
    monkeypatch.setattr(os, "getuid", lambda: me + 1)
    assert read_entry(folder, KEY) is None
    write_entry(folder, OTHER, b"mine")  # never into a folder someone else owns
    assert not (folder / OTHER).exists()


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="chown needs root")
def test_an_entry_another_user_owns_in_the_users_folder_is_a_miss(tmp_path: Path) -> None:
    folder = tmp_path / "things"
    write_entry(folder, KEY, b"planted")
    os.chown(folder / KEY, 4242, 4242)
    assert read_entry(folder, KEY) is None


@POSIX
def test_an_entry_under_another_name_is_a_miss(tmp_path: Path) -> None:
    folder = tmp_path / "things"
    write_entry(folder, KEY, b"x")
    (folder / OTHER).write_bytes((folder / KEY).read_bytes())  # a copy or hard link of a real entry
    assert read_entry(folder, OTHER) is None


@POSIX
def test_an_entry_that_is_a_link_is_a_miss_even_to_a_valid_entry(tmp_path: Path) -> None:
    """A link planted under the right key, to a private file that repeats the key, is still a miss:
    the entry is opened without following links."""
    elsewhere = tmp_path / "elsewhere"
    write_entry(elsewhere, KEY, b"planted")
    assert read_entry(elsewhere, KEY) == b"planted"  # the control: the file linked to is a valid entry
    folder = tmp_path / "things"
    write_entry(folder, KEY, b"x")
    (folder / KEY).unlink()
    (folder / KEY).symlink_to(elsewhere / KEY)
    assert read_entry(folder, KEY) is None


@POSIX
def test_a_folder_link_is_a_miss(tmp_path: Path) -> None:
    write_entry(tmp_path / "real", KEY, b"x")
    (tmp_path / "link").symlink_to(tmp_path / "real")
    assert read_entry(tmp_path / "link", KEY) is None


@POSIX
def test_a_group_writable_folder_of_the_users_is_narrowed_at_the_first_write(tmp_path: Path) -> None:
    folder = tmp_path / "things"
    folder.mkdir()
    os.chmod(folder, 0o775)  # as an earlier release made it under umask 002
    assert read_entry(folder, KEY) is None
    write_entry(folder, KEY, b"x")
    assert mode(folder) == 0o700
    assert read_entry(folder, KEY) == b"x"


def test_a_cache_that_cannot_be_written_is_no_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder", encoding="utf-8")
    write_entry(blocker / "things", KEY, b"x")
    assert read_entry(blocker / "things", KEY) is None


def test_without_file_owners_only_the_per_user_cache_directory_is_trusted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delattr(os, "getuid", raising=False)  # as on Windows
    monkeypatch.setattr(cachedir, "_user_cache_dir", lambda: tmp_path / "user-cache")
    write_entry(tmp_path / "user-cache" / "things", KEY, b"x")
    assert read_entry(tmp_path / "user-cache" / "things", KEY) == b"x"
    write_entry(tmp_path / "elsewhere" / "things", KEY, b"x")
    assert read_entry(tmp_path / "elsewhere" / "things", KEY) is None
    assert not (tmp_path / "elsewhere" / "things" / KEY).exists()


def test_cache_folder_is_off_with_veilcv_no_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VEILCV_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("VEILCV_NO_CACHE", raising=False)
    assert cachedir.cache_folder("policy") == tmp_path / "policy"
    monkeypatch.setenv("VEILCV_NO_CACHE", "1")
    assert cachedir.cache_folder("policy") is None
