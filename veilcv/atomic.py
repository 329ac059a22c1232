"""Atomic file output: write to a temp file in the destination folder, fsync, rename.

Readers never see a partial file; a crash or error leaves either the old file or nothing. Only a
regular file (or nothing) is replaced: a destination that is a symbolic link, a device, a FIFO,
a socket or a folder is refused before anything is written, because renaming over it would put
the output somewhere the user did not mean (and, for a world-writable device, with its 0666 mode).
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

from veilcv.errors import InputError

# Read once: os.umask can only be read by setting it, which is not safe once threads run.
_UMASK = os.umask(0o022)
os.umask(_UMASK)


@contextlib.contextmanager
def atomic_path(
    dest: str | os.PathLike[str], *, suffix: str | None = None, mode: int | None = None
) -> Iterator[Path]:
    """Yield a temp path beside ``dest``; on success it is renamed over ``dest``.

    Parameters
    ----------
    dest : path-like
        Final location. Its parent folder is created if needed.
    suffix : str, optional
        Suffix of the temp file (encoders such as OpenCV pick the format from it). Defaults to
        ``dest``'s suffix.
    mode : int, optional
        Permission bits of the result. By default a replaced file keeps its permission bits
        (never set-id bits) and a new file gets the usual ``0o666`` less the umask (not the
        ``0o600`` of a temp file). Private files (keys, store objects, decrypted data) pass
        ``0o600``; the body may also chmod the temp path.

    Raises
    ------
    InputError
        ``dest`` is a symbolic link, device, FIFO or socket.
    IsADirectoryError
        ``dest`` is a folder.

    Notes
    -----
    If the body raises, the temp file is removed and ``dest`` is left as it was.
    """
    dest = Path(dest)
    existing = check_destination(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(
        prefix=f".{dest.name}.",
        suffix=".tmp" + (suffix if suffix is not None else dest.suffix),
        dir=dest.parent,
    )
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        if mode is None:
            mode = 0o666 & ~_UMASK if existing is None else stat.S_IMODE(existing.st_mode) & 0o777
        os.chmod(tmp, mode)
        yield tmp
        _fsync(tmp)
        check_destination(dest)  # the body may have run long: look again just before the rename
        os.replace(tmp, dest)
        _fsync_dir(dest.parent)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


def check_destination(dest: Path) -> os.stat_result | None:
    """The ``lstat`` of an existing regular file at ``dest`` (``None``: nothing there); else refuse it."""
    try:
        st = os.lstat(dest)
    except (FileNotFoundError, NotADirectoryError):
        return None  # creating it reports a file in the way of its folder, in the caller's words
    if stat.S_ISREG(st.st_mode):
        return st
    if stat.S_ISDIR(st.st_mode):  # an OSError, as renaming over it would raise: callers word it
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(dest))
    if stat.S_ISLNK(st.st_mode):
        got = "a symbolic link; give the path it points to, or remove the link"
    else:
        got = "a special file (device, FIFO or socket); write to a regular file"
    raise InputError(f"{dest}: expected a regular file or a new path for the output, got {got}")


def write_bytes(dest: str | os.PathLike[str], data: bytes, *, mode: int | None = None) -> None:
    """Write ``data`` to ``dest`` atomically (temp file + fsync + rename); ``mode`` as in atomic_path."""
    with atomic_path(dest, mode=mode) as tmp:
        tmp.write_bytes(data)


def write_text(dest: str | os.PathLike[str], text: str) -> None:
    """Write UTF-8 ``text`` to ``dest`` atomically."""
    write_bytes(dest, text.encode("utf-8"))


def _fsync(path: Path) -> None:
    with open(path, "rb+") as fh:
        os.fsync(fh.fileno())


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
