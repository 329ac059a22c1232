"""Read a checked file as UTF-8 text, with one-line reasons a user can act on."""

from __future__ import annotations

from pathlib import Path


class TextReadError(Exception):
    """Why a file could not be read as text (no file name: callers add it)."""


def read_utf8(path: Path) -> str:
    """The file's text (a UTF-8 BOM is dropped); raises :class:`TextReadError` with the reason."""
    try:
        raw = path.read_bytes()
    except IsADirectoryError:
        raise TextReadError("expected a file, got a folder") from None
    except OSError as exc:
        raise TextReadError(f"cannot read: {exc.strerror or exc}") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        hint = "UTF-16" if raw[:2] in (b"\xff\xfe", b"\xfe\xff") else f"byte 0x{raw[exc.start]:02x}"
        raise TextReadError(
            f"expected UTF-8 text, got {hint} at offset {exc.start}; save the file as UTF-8"
        ) from None
