"""Output paths of the CLI: one-line errors for outputs that cannot be written, checked up front."""

from __future__ import annotations

from pathlib import Path

from veilcv.atomic import atomic_path
from veilcv.errors import InputError


def write_error(out: Path, exc: OSError) -> InputError:
    """The one-line error for an output that cannot be written (a file where a folder must be...)."""
    blocker = next((p for p in out.parents if p.exists() and not p.is_dir()), None)
    if isinstance(exc, (FileExistsError, NotADirectoryError)) and blocker is not None:
        return InputError(f"{out}: cannot write: expected a folder at {blocker}, got a file")
    if isinstance(exc, IsADirectoryError) or out.is_dir():
        return InputError(f"{out}: cannot write: expected a file name, got a folder")
    return InputError(f"{out}: cannot write: {exc.strerror or exc}")


def check_writable(out: Path) -> None:
    """Fail before an irreversible step (a deletion) rather than after it, when ``out`` can't be written."""
    if out.is_dir():
        raise InputError(f"{out}: cannot write: expected a file name, got a folder")
    try:
        with atomic_path(out) as tmp:
            tmp.write_bytes(b"")
            raise _Probe
    except _Probe:
        pass
    except OSError as exc:
        raise write_error(out, exc) from None


class _Probe(Exception):
    """Aborts the probe write in :func:`check_writable` so that nothing is left behind."""


def check_folder(folder: Path, flag: str) -> None:
    """Refuse an output folder that is a file or sits under one, before any work is done."""
    blocker = next((p for p in (folder, *folder.parents) if p.exists() and not p.is_dir()), None)
    if blocker is not None:
        raise InputError(f"{folder}: {flag} expects a folder, got a file at {blocker}")
