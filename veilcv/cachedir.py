"""veilcv's cache folder: ``$VEILCV_CACHE_DIR`` when set, else the per-user cache directory.

Each user of it keeps its own subfolder (``terraform``, ``policy``, ``kernels``). Models have their
own setting (``VEILCV_MODEL_DIR``, ``veilcv.core.detection.registry.model_dir``).

Entries that decide what a check does (a policy known to be valid, the parsed blocks of a file) are
read and written through :func:`read_entry` and :func:`write_entry`, which trust only what this user
wrote. Their keys are computable from public data (a policy's text, the parser's file sizes), so
anyone who could write to the folder could otherwise plant an entry that skips a policy's validation
or hides a bucket's public ACL. An entry counts only when its folder is a real folder (not a link)
owned by the current user and writable by no one else, the entry itself is a regular file owned by
the user and writable by no one else, and its first line repeats its key (a link to another of the
user's entries under a planted name does not count either). Anything else is a miss, never read
further. Folders are created ``0o700`` and entries ``0o600``; a folder of the user's that an earlier
release created group-writable is narrowed to ``0o700`` at the first write, since every entry is
checked on its own anyway. Where the file system keeps no owner (Windows), only the per-user cache
directory, which the system keeps private to its user, is trusted; a ``$VEILCV_CACHE_DIR`` elsewhere
leaves these caches off.

The ahead-of-time kernel build, native code that ``veil redact`` loads, is loaded only when it, its
folder and the ``kernels`` folder pass the same checks, each opened without following a link and
relative to the one above (:func:`open_trusted`), and is built only into a trusted folder.

(An HMAC of each entry under a per-user secret would prove the same, but the secret's file would
have to pass these very ownership checks before its key could be believed, and every entry would
pay a hash: the checks alone are simpler and close the same hole.)
"""

from __future__ import annotations

import functools
import os
import stat
from collections.abc import Callable
from pathlib import Path

_READ = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
_WRITE = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
_DIR = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_NOFOLLOW", 0)
_OTHERS_WRITE = stat.S_IWGRP | stat.S_IWOTH


def cache_root() -> Path:
    env = os.environ.get("VEILCV_CACHE_DIR")
    if env:
        return Path(env)
    return _user_cache_dir()


def _user_cache_dir() -> Path:
    import platformdirs  # here: `veil redact` asks only when it has no kernel build to load

    return Path(platformdirs.user_cache_dir("veilcv"))


def cache_folder(name: str) -> Path | None:
    """``name`` in the cache folder; None when ``VEILCV_NO_CACHE`` turns caching off."""
    if os.environ.get("VEILCV_NO_CACHE", "") not in ("", "0"):
        return None
    return cache_root() / name


def _uid() -> int | None:
    getuid = getattr(os, "getuid", None)  # absent where files have no owner (Windows)
    return getuid() if getuid is not None else None


def _private(st: os.stat_result) -> bool:
    """Owned by this user and writable by no one else (callers handle ownerless systems)."""
    return st.st_uid == _uid() and not st.st_mode & _OTHERS_WRITE


def trusted_folder(folder: Path) -> bool:
    """A real folder (not a link) of this user's that no one else can write to."""
    try:
        st = os.lstat(folder)
    except OSError:
        return False
    if not stat.S_ISDIR(st.st_mode):
        return False
    if _uid() is None:
        return Path(os.path.abspath(folder)).is_relative_to(os.path.abspath(_user_cache_dir()))
    return _private(st)


def trusted_file(path: Path) -> bool:
    """A regular file (not a link) of this user's that no one else can write to, in a trusted folder."""
    if not trusted_folder(path.parent):
        return False
    try:
        st = os.lstat(path)
    except OSError:
        return False
    return stat.S_ISREG(st.st_mode) and (_uid() is None or _private(st))


def files_have_owners() -> bool:
    """Whether the file system keeps owners and modes (POSIX); not on Windows."""
    return _uid() is not None


def open_trusted(folder: Path, *names: str) -> int | None:
    """A read-only descriptor of the regular file ``folder/names[0]/.../names[-1]``, when ``folder``,
    each folder on the way and the file are real (no link is followed at any step), owned by this
    user and writable by no one else; None otherwise. The caller closes it.

    Each step is opened relative to the descriptor of the one before and checked through that
    descriptor, so what is checked is what is opened: whoever can write the folders above ``folder``
    may swap a folder for a link between the checks and a later use of the path, but not under the
    descriptor, which stays on a file that only this user could have written. POSIX only: None
    where files have no owner (see :func:`trusted_file` there).
    """
    if _uid() is None or not names or any(n in ("", ".", "..") or os.sep in n for n in names):
        return None
    opened: list[int] = []
    try:
        opened.append(os.open(folder, _DIR))
        for name in names[:-1]:
            if not _private_as(opened[-1], stat.S_ISDIR):
                return None
            opened.append(os.open(name, _DIR, dir_fd=opened[-1]))
        if not _private_as(opened[-1], stat.S_ISDIR):
            return None
        fd = os.open(names[-1], _READ, dir_fd=opened[-1])
        if not _private_as(fd, stat.S_ISREG):
            os.close(fd)
            return None
        return fd
    except OSError:
        return None
    finally:
        for fd in opened:
            os.close(fd)


def _private_as(fd: int, kind: Callable[[int], bool]) -> bool:
    st = os.fstat(fd)
    return kind(st.st_mode) and _private(st)


def private_ancestors(folder: Path) -> bool:
    """Whether no one but this user and the superuser can rename or replace anything on the way to
    ``folder``: ``folder`` and each folder above it (links resolved), up to the user's home folder or
    the file system's root, is owned by one of them and writable by no one else, or has the sticky
    bit (like ``/tmp``: others may add entries there but not move this user's). Checked once: it
    holds while those folders keep their owners and modes. True where files have no owner.
    """
    uid = _uid()
    if uid is None:
        return True
    path = Path(os.path.realpath(folder))
    home = Path(os.path.realpath(os.path.expanduser("~")))
    for here in (path, *path.parents):
        try:
            st = os.lstat(here)
        except OSError:
            return False
        if not stat.S_ISDIR(st.st_mode) or st.st_uid not in (uid, 0):
            return False
        if st.st_mode & _OTHERS_WRITE and not st.st_mode & stat.S_ISVTX:
            return False
        if here == home:
            break
    return True


def read_entry(folder: Path, key: str) -> bytes | None:
    """What :func:`write_entry` stored under ``key`` in ``folder``, when this user's veilcv wrote it.

    None for a missing, unreadable or untrusted entry or folder (see the module docstring).
    """
    if not trusted_folder(folder):
        return None
    try:
        fd = os.open(folder / key, _READ)
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or (_uid() is not None and not _private(st)):
            return None
        chunks = []
        while chunk := os.read(fd, st.st_size + 1):
            chunks.append(chunk)
    except OSError:
        return None
    finally:
        os.close(fd)
    head, newline, payload = b"".join(chunks).partition(b"\n")
    return payload if newline and head == key.encode() else None


def write_entry(folder: Path, key: str, payload: bytes) -> None:
    """Store ``payload`` under ``key`` (a hex digest) in ``folder``; a cache that cannot be written
    (read-only, full, untrusted) is left as it is, never an error.

    A complete temporary file is renamed over the entry: a reader sees the old entry, the new one or
    none, never part of one (the pid keeps concurrent runs off each other's temporary files). Not
    synced to disk: an entry lost in a crash is computed again.
    """
    try:
        prepare_folder(folder)
    except OSError:
        return
    if not trusted_folder(folder):
        return
    tmp = folder / f".{key}.{os.getpid()}.tmp"
    try:
        fd = os.open(tmp, _WRITE, 0o600)
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(key.encode() + b"\n" + payload)
            os.replace(tmp, folder / key)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
    except OSError:
        pass


@functools.cache
def prepare_folder(folder: Path) -> None:
    """Create ``folder`` (and missing parents) ``0o700``; narrow a group- or world-writable folder of
    this user's to ``0o700``. Once per process: a first run over a new cache makes each folder once."""
    missing = []
    here = folder
    while not os.path.lexists(here) and here.parent != here:
        missing.append(here)
        here = here.parent
    for path in reversed(missing):
        path.mkdir(mode=0o700, exist_ok=True)
    st = os.lstat(folder)
    if _uid() is not None and stat.S_ISDIR(st.st_mode) and st.st_uid == _uid() and st.st_mode & _OTHERS_WRITE:
        os.chmod(folder, 0o700)
