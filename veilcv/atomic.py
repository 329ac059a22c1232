"""Atomic file output: write to a temp file in the destination folder, fsync, rename.

Readers never see a partial file; a crash or error leaves either the old file or nothing.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def atomic_path(dest: str | os.PathLike[str], *, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temp path beside ``dest``; on success it is renamed over ``dest``.

    Parameters
    ----------
    dest : path-like
        Final location. Its parent folder is created if needed.
    suffix : str, optional
        Suffix of the temp file (encoders such as OpenCV pick the format from it). Defaults to
        ``dest``'s suffix.

    Notes
    -----
    If the body raises, the temp file is removed and ``dest`` is left as it was.
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(
        prefix=f".{dest.name}.", suffix=".tmp" + (suffix if suffix is not None else dest.suffix),
        dir=dest.parent,
    )
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        _fsync(tmp)
        os.replace(tmp, dest)
        _fsync_dir(dest.parent)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


def write_bytes(dest: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``dest`` atomically (temp file + fsync + rename)."""
    with atomic_path(dest) as tmp:
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
