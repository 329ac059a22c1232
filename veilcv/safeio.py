"""Reading user-named files without hanging: a FIFO or device given as a file must fail, not block.

One mechanism for every reader of a user-named file (policies, baselines, images): open with
``O_NONBLOCK``, ``fstat`` the open descriptor (no race with a swapped path), refuse anything that is
not a regular file, then read. Callers choose the wording and the exception class, so each keeps
its own one-line messages.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path

from veilcv.errors import InputError, VeilcvError


def read_regular_file(
    path: str | os.PathLike[str],
    *,
    what: str,
    cannot_read: str = "cannot read",
    label: str = "",
    missing_hint: str | None = None,
    error: type[VeilcvError] = InputError,
    check: Callable[[os.stat_result], None] | None = None,
) -> bytes:
    """Read a regular file; anything else is a one-line ``error``.

    Parameters
    ----------
    path : path-like
        The file the user named.
    what : str
        What was expected, as in "expected {what}, got a folder" (e.g. ``"a policy file"``).
    cannot_read : str
        Wording of an OS error, as in "{cannot_read}: Permission denied".
    label : str
        Prefix of every message (e.g. ``"veil.yaml: "``); empty when the caller adds the name.
    missing_hint : str, optional
        When given, a missing file reads "expected {what}, got nothing there; {missing_hint}";
        otherwise it is reported like any OS error.
    error : VeilcvError subclass
        The exception raised.
    check : callable, optional
        Called with the descriptor's ``stat`` before reading (e.g. to refuse empty or huge files).

    Returns
    -------
    bytes
        The file's contents.
    """
    try:
        fd = os.open(Path(path), os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except FileNotFoundError as exc:
        if missing_hint is None:
            raise error(f"{label}{cannot_read}: {exc.strerror or exc}") from None
        raise error(f"{label}expected {what}, got nothing there; {missing_hint}") from None
    except IsADirectoryError:
        raise error(f"{label}expected {what}, got a folder") from None
    except OSError as exc:
        raise error(f"{label}{cannot_read}: {exc.strerror or exc}") from None
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise error(f"{label}expected {what}, got a folder")
        if not stat.S_ISREG(st.st_mode):
            raise error(f"{label}expected {what}, got a special file (FIFO, socket or device)")
        if check is not None:
            check(st)
        with os.fdopen(fd, "rb", closefd=False) as fh:
            return fh.read()
    except OSError as exc:
        raise error(f"{label}{cannot_read}: {exc.strerror or exc}") from None
    finally:
        os.close(fd)


def read_text(path: str | os.PathLike[str], what: str) -> str:
    """The UTF-8 text of a user-named regular file (a leading BOM dropped); failures as one line.

    ``what`` names what was expected, as in "expected {what} as UTF-8 text" (e.g. ``"COCO JSON"``);
    every failure is an :class:`InputError` that starts with ``path``.
    """
    data = read_regular_file(path, what=what, cannot_read=f"cannot read {what}", label=f"{path}: ")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{path}: expected {what} as UTF-8 text, got byte 0x{data[exc.start]:02x} at offset "
            f"{exc.start}; save the file as UTF-8"
        ) from None
