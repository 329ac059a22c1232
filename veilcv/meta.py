"""Check and strip privacy-relevant image metadata: the functions `veil meta check|strip` run.

EXIF (with GPS, maker notes, serial numbers, thumbnails), XMP, IPTC, Photoshop resources, comments,
text chunks, trailing data and ICC profiles, in JPEG/MPO, PNG, WebP, GIF, BMP and TIFF. A file that
cannot be fully parsed (HEIF/AVIF, camera raw, malformed) is "cannot verify": never reported clean,
never written. :class:`Family` lists the families by the names ``allow`` takes.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from veilcv._api import keyword_error
from veilcv.core.metadata import (
    Family,
    MetadataError,
    MetaFinding,
    MetaReport,
    StripResult,
    check_bytes,
    check_file,
    parse_allowed,
    strip_file,
)
from veilcv.core.metadata import strip_bytes as _strip_bytes
from veilcv.errors import InputError, ValidationError

__all__ = [
    "Family",
    "MetaFinding",
    "MetaReport",
    "MetadataError",
    "StripResult",
    "check",
    "strip",
    "strip_bytes",
]


def check(
    source: str | os.PathLike[str] | bytes, *, allow: str | Iterable[str | Family] | None = None
) -> MetaReport:
    """Report the metadata families in an image file or in encoded image bytes.

    Parameters
    ----------
    source : path-like or bytes
        A file, or its bytes.
    allow : str or iterable of str or Family, optional
        Families not to report, e.g. ``"icc_profile"`` (default: none).

    Returns
    -------
    MetaReport
        ``clean`` is True only for a fully parsed file without disallowed metadata. ``findings``
        name each family and the tags or sizes found, never their values (no GPS coordinates).
        ``error`` ("cannot verify: ...") is set for an unreadable, unsupported or malformed
        input: such a report is never clean. Bad content never raises.

    Raises
    ------
    ValidationError
        ``source`` is neither a path nor bytes, or ``allow`` names an unknown family.
    """
    allowed = _allowed(allow)
    if isinstance(source, (bytes, bytearray, memoryview)):
        return check_bytes(bytes(source), allowed=allowed)
    return check_file(_path(source, "source"), allowed=allowed)


def strip(
    src: str | os.PathLike[str],
    dst: str | os.PathLike[str],
    *,
    allow: str | Iterable[str | Family] | None = None,
) -> StripResult:
    """Remove every disallowed metadata family from ``src`` into ``dst``, atomically.

    ``dst`` may be ``src`` (in place; a clean file is then not rewritten). The output is checked
    again before it takes its name; pixels are kept byte for byte (TIFF: re-encoded losslessly only
    where its image data cannot be copied). A non-default orientation is kept as the only tag.

    Returns
    -------
    StripResult
        What was removed (``removed``), whether the bytes changed and whether it was re-encoded.

    Raises
    ------
    InputError
        Unreadable, unsupported or malformed input ("cannot verify"), or ``dst`` cannot be
        written; ``dst`` is left as it was.
    MetadataError
        The output still carried metadata (a bug, caught before the output took its name).
    """
    return strip_file(_path(src, "src"), _path(dst, "dst"), allowed=_allowed(allow))


def strip_bytes(data: bytes, *, allow: str | Iterable[str | Family] | None = None) -> bytes:
    """Remove every disallowed metadata family from encoded image bytes.

    Returns
    -------
    bytes
        The stripped image, which :func:`check` reports clean (``data`` itself when it was clean).

    Raises
    ------
    UnsupportedFormatError
        Unsupported or malformed input ("cannot verify: ...").
    MetadataError
        The output still carried metadata (a bug; never returned).
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise ValidationError(f"data: expected bytes, got {type(data).__name__}; use strip() for files")
    return _strip_bytes(bytes(data), allowed=_allowed(allow))


def _allowed(allow: str | Iterable[str | Family] | None) -> frozenset[Family]:
    try:
        return parse_allowed(allow)
    except InputError as exc:
        raise keyword_error(exc) from None


def _path(value: object, name: str) -> str:
    if isinstance(value, (str, os.PathLike)):
        return os.fspath(value)  # type: ignore[return-value]
    raise ValidationError(f"{name}: expected a path or bytes, got {type(value).__name__}")
