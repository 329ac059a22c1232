"""Public entry points: check and strip bytes or files, for every supported format.

Supported: JPEG (incl. MPO/JPS), PNG/APNG, WebP, GIF, BMP (stripped block by block, never
re-encoded), TIFF (IFDs rebuilt around the unchanged image data; re-encoded losslessly, pixels verified,
only where that is impossible) and HEIF/HEIC/AVIF (the container rewritten around the primary image's
unchanged coded bytes, pixels verified). Everything else, including JPEG XL and camera raw files, is
reported as "cannot verify" and never written: we do not vouch for what we cannot parse.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from veilcv.atomic import atomic_path
from veilcv.core.defaults import IMAGE_SUFFIXES
from veilcv.core.ffmpeg import ffmpeg_exe
from veilcv.core.metadata import bmp, gif, heif, jpeg, mp4, png, tiff, webp
from veilcv.core.metadata.families import (
    DEFAULT_ALLOWED,
    Family,
    Malformed,
    MetadataError,
    MetaReport,
    Parsed,
    StripResult,
    Unsupported,
)
from veilcv.errors import InputError
from veilcv.safeio import read_regular_file

#: Files larger than this are refused rather than read whole into memory.
MAX_FILE_BYTES = 1 << 30

#: Extensions of camera raw and container formats we refuse even when the bytes look like TIFF/JPEG.
_RAW_SUFFIXES = frozenset(
    ".3fr .arw .cr2 .cr3 .crw .dcr .dng .erf .iiq .kdc .mef .mos .mrw .nef .nrw .orf .pef .raf .raw "
    ".rw2 .rwl .sr2 .srf .srw .x3f .psd .psb".split()
)

#: Image containers veilcv does not redact but whose metadata the checker reads or refuses by name.
_OTHER_IMAGE_SUFFIXES = frozenset(".jpe .jfif .mpo .jps .apng .gif .avif .jxl .jp2 .j2k".split())
#: Suffixes a metadata folder walk picks up: every image veilcv redacts (the one list, in
#: :mod:`veilcv.core.defaults`), other image containers, camera raw (refused formats included,
#: so they are reported, not skipped) and MP4/MOV/M4V videos.
METADATA_SUFFIXES: frozenset[str] = IMAGE_SUFFIXES | _OTHER_IMAGE_SUFFIXES | _RAW_SUFFIXES | mp4.SUFFIXES


def sniff(data: bytes) -> str | None:
    """Name the container format from the first bytes, or None when unknown.

    Parameters
    ----------
    data : bytes
        At least the first 16 bytes of a file.

    Returns
    -------
    str or None
        ``"JPEG"``, ``"PNG"``, ``"WEBP"``, ``"TIFF"``, ``"GIF"``, ``"HEIF"`` (HEIC and AVIF too),
        ``"BMP"``, ``"JXL"``, ``"MP4"`` (MP4, MOV, M4V and other ISO media files) or None.
    """
    if data[:3] == b"\xff\xd8\xff":
        return "JPEG"
    if data[:8] == png.SIGNATURE:
        return "PNG"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    if data[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return "TIFF"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "GIF"
    if data[4:8] == b"ftyp":
        brands = {data[i : i + 4] for i in range(8, min(len(data), 8 + int.from_bytes(data[:4], "big")), 4)}
        return "HEIF" if brands & heif.HEIF_BRANDS else "MP4"
    if data[4:8] in (b"moov", b"mdat", b"wide", b"free", b"skip"):
        return "MP4"  # QuickTime without a file type box
    if data[:2] == b"\xff\x0a" or data[:12] == b"\x00\x00\x00\x0cJXL \r\n\x87\n":
        return "JXL"
    if data[:2] == b"BM":
        return "BMP"
    return None


_PARSERS: dict[str, Callable[[bytes], Parsed]] = {
    "JPEG": jpeg.parse,
    "PNG": png.parse,
    "WEBP": webp.parse,
    "TIFF": tiff.parse,
    "GIF": gif.parse,
    "BMP": bmp.parse,
    "HEIF": heif.parse,
    "MP4": mp4.parse,
}
_UNSUPPORTED = {
    "JXL": "JPEG XL is not supported (no library veilcv keeps reads it); convert to PNG or JPEG first",
}


def _parse(data: bytes, suffix: str = "") -> Parsed:
    fmt = sniff(data)
    if suffix.lower() in _RAW_SUFFIXES:
        raise Unsupported(
            f"{suffix.lower()} files (camera raw / layered) are not supported; convert them to TIFF, PNG or "
            "JPEG first (a raw developer's export), then check or strip that file"
        )
    if fmt in _UNSUPPORTED:
        raise Unsupported(_UNSUPPORTED[fmt])
    if fmt is None:
        raise Unsupported("unsupported format; expected JPEG, PNG, WebP, GIF, TIFF, BMP, HEIC/HEIF or AVIF")
    try:
        return _PARSERS[fmt](data)
    except (Malformed, Unsupported):
        raise
    except Exception as exc:  # a parser bug on hostile input must fail closed, not pass
        raise Malformed(f"{fmt} parser failed ({type(exc).__name__}: {exc})") from None


def check_bytes(
    data: bytes, *, allowed: frozenset[Family] = DEFAULT_ALLOWED, name: str = "<bytes>", suffix: str = ""
) -> MetaReport:
    """Report the metadata families in an encoded image.

    Parameters
    ----------
    data : bytes
        The encoded file.
    allowed : frozenset of Family
        Families that are not reported (default: none).
    name : str
        Used as the report's ``path``.
    suffix : str
        The file's extension, used only to refuse camera raw formats that look like TIFF.

    Returns
    -------
    MetaReport
        ``error`` is set ("cannot verify: ...") when the format is unsupported or malformed; then
        ``clean`` is False. Never raises on bad content.
    """
    fmt = sniff(data)
    try:
        parsed = _parse(data, suffix)
    except (Malformed, Unsupported) as exc:
        return MetaReport(name, fmt, (), f"cannot verify: {exc}")
    return MetaReport(name, parsed.format, parsed.findings(frozenset(allowed)), None)


def check_file(path: str | os.PathLike[str], *, allowed: frozenset[Family] = DEFAULT_ALLOWED) -> MetaReport:
    """Report the metadata families in an image file (see :func:`check_bytes`).

    Parameters
    ----------
    path : path-like
        The file.
    allowed : frozenset of Family
        Families that are not reported.

    Returns
    -------
    MetaReport
        With ``error`` set when the file cannot be read or verified; never raises.
    """
    p = Path(path)
    try:
        if p.suffix.lower() in mp4.SUFFIXES:  # mapped, not read: a video may be gigabytes
            with mp4.map_file(p) as buf:
                return check_bytes(buf, allowed=allowed, name=str(p), suffix=p.suffix)  # type: ignore[arg-type]
        data = _read(p)
    except InputError as exc:
        return MetaReport(str(p), None, (), f"cannot verify: {exc}")
    return check_bytes(data, allowed=allowed, name=str(p), suffix=p.suffix)


def _read(p: Path) -> bytes:
    return read_regular_file(p, what="an image file", check=_readable_size)


def _readable_size(st: os.stat_result) -> None:
    if st.st_size == 0:
        raise InputError("expected an image, got an empty file (0 bytes)")
    if st.st_size > MAX_FILE_BYTES:
        raise InputError(f"file is {st.st_size} bytes; files over {MAX_FILE_BYTES} bytes are not read")


def _strip(data: bytes, allowed: frozenset[Family], suffix: str) -> tuple[bytes, Parsed]:
    try:
        parsed = _parse(data, suffix)
    except Unsupported as exc:
        raise Unsupported(f"cannot verify: {exc}") from None
    except Malformed as exc:
        raise Malformed(f"cannot verify: {exc}") from None
    if not parsed.findings(allowed):
        return data, parsed
    if isinstance(parsed, mp4.Movie):
        raise Unsupported("cannot verify: videos are stripped file to file (strip_file)")
    if parsed.format == "TIFF":
        out = tiff.build(data, parsed, allowed)
    elif isinstance(parsed, heif.Heif):
        out = heif.build(parsed, allowed)
    else:
        out = {"JPEG": jpeg.build, "PNG": png.build, "WEBP": webp.build, "GIF": gif.build, "BMP": bmp.build}[
            parsed.format
        ](parsed, allowed)
    report = check_bytes(out, allowed=allowed, suffix=suffix)
    if not report.clean:
        left = report.error or ", ".join(str(f) for f in report.findings)
        raise MetadataError(f"stripped output still fails the check ({left}); nothing written")
    return out, parsed


def strip_bytes(data: bytes, *, allowed: frozenset[Family] = DEFAULT_ALLOWED) -> bytes:
    """Remove every disallowed metadata family from an encoded image and verify the result.

    Parameters
    ----------
    data : bytes
        The encoded file.
    allowed : frozenset of Family
        Families to keep (default: none).

    Returns
    -------
    bytes
        The stripped file, which :func:`check_bytes` reports clean; ``data`` itself when it was
        already clean. Image data is kept byte for byte (TIFF: strips/tiles copied into new IFDs;
        only BigTIFF and old-style JPEG TIFFs are re-encoded losslessly, turned upright). A
        non-default orientation is kept as the only EXIF/TIFF orientation tag.

    Raises
    ------
    UnsupportedFormatError
        Unsupported or malformed input ("cannot verify: ...").
    MetadataError
        The output still carried metadata (a bug; never returned).
    """
    return _strip(data, frozenset(allowed), "")[0]


def strip_file(
    src: str | os.PathLike[str], dst: str | os.PathLike[str], *, allowed: frozenset[Family] = DEFAULT_ALLOWED
) -> StripResult:
    """Strip ``src`` into ``dst`` atomically; ``dst`` may be ``src`` (in place).

    Parameters
    ----------
    src, dst : path-like
        Input and output files. The input is never modified unless ``dst`` is ``src``.
    allowed : frozenset of Family
        Families to keep.

    Returns
    -------
    StripResult
        What was removed and whether the bytes changed. An in-place strip of a clean file
        does not rewrite it.

    Raises
    ------
    InputError
        Unreadable, unsupported or malformed input (message names the file).
    MetadataError
        The written output failed the re-check; it was removed and ``dst`` left as it was.
    """
    src_p, dst_p = Path(src), Path(dst)
    allowed = frozenset(allowed)
    if src_p.suffix.lower() in mp4.SUFFIXES:
        return _strip_video(src_p, dst_p)
    try:
        data = _read(src_p)
        out, parsed = _strip(data, allowed, src_p.suffix)
    except (InputError, MetadataError) as exc:
        raise type(exc)(f"{src_p}: {exc}") from None
    removed = parsed.findings(allowed)
    changed = out != data
    if dst_p.is_dir():
        raise InputError(f"{dst_p}: expected an output file path, got a folder")
    in_place = dst_p.exists() and os.path.samefile(src_p, dst_p)
    # In place through a symlink: rewrite the file it points to, or the rename would replace the
    # link with a clean copy and leave the metadata in the real file.
    target = Path(os.path.realpath(dst_p)) if in_place else dst_p
    if not (in_place and not changed):
        try:
            _write_checked(src_p, target, out, allowed)
        except OSError as exc:
            raise InputError(f"{dst_p}: cannot write the output: {exc.strerror or exc}") from None
    return StripResult(
        str(src_p), str(dst_p), parsed.format, removed, changed, parsed.format == "TIFF" and changed
    )


def _write_checked(src_p: Path, dst_p: Path, out: bytes, allowed: frozenset[Family]) -> None:
    mode = src_p.stat().st_mode & 0o777
    with atomic_path(dst_p) as tmp:
        tmp.write_bytes(out)
        os.chmod(tmp, mode)
        again = check_file(tmp, allowed=allowed)
        if not again.clean:
            left = again.error or ", ".join(str(f) for f in again.findings)
            raise MetadataError(f"{src_p}: written output still fails the check ({left}); removed it")


def _strip_video(src_p: Path, dst_p: Path) -> StripResult:
    """Copy a video's streams into a new container without metadata (see :mod:`mp4`)."""
    report = check_file(src_p)
    if report.error is not None:
        raise InputError(f"{src_p}: {report.error}")
    if dst_p.is_dir():
        raise InputError(f"{dst_p}: expected an output file path, got a folder")
    in_place = dst_p.exists() and os.path.samefile(src_p, dst_p)
    if in_place and report.clean:
        return StripResult(str(src_p), str(dst_p), report.format or "MP4", (), False, False)
    target = Path(os.path.realpath(dst_p)) if in_place else dst_p
    mode = src_p.stat().st_mode & 0o777
    try:
        with atomic_path(target) as tmp:
            mp4.strip(src_p, tmp, ffmpeg_exe())
            os.chmod(tmp, mode)
    except (MetadataError, Unsupported) as exc:
        raise type(exc)(f"{src_p}: {exc}") from None
    except OSError as exc:
        raise InputError(f"{dst_p}: cannot write the output: {exc.strerror or exc}") from None
    return StripResult(str(src_p), str(dst_p), report.format or "MP4", report.findings, True, False)
