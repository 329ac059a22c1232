"""TIFF checker (IFD walk, every tag classified) and stripper.

A TIFF's metadata lives in the same IFDs as its pixel layout, so stripping rebuilds the IFDs of
the full-resolution pages with structural tags only and copies the image data unchanged (see
:mod:`tiffwrite`). Where that is impossible (BigTIFF, old-style JPEG), Pillow decodes each page
and writes a fresh deflate-compressed TIFF; its decoded pixels are compared with the input's
before the output is accepted.
"""

from __future__ import annotations

import io
from typing import Any

from veilcv.core.metadata.blobs import classify_iptc, classify_irb, classify_xmp, icc_finding
from veilcv.core.metadata.exif import (
    EXIF_IFD,
    GPS_IFD,
    IDENTIFYING_TAGS,
    ORIENTATION,
    SUB_IFDS,
    Ifd,
    TiffStructure,
    gps_finding,
    int_value,
    tag_findings,
    walk,
)
from veilcv.core.metadata.families import Block, Family, Malformed, MetaFinding, Parsed, Unsupported
from veilcv.core.metadata.tiffwrite import rewrite

# Tags that describe the pixel layout and nothing else (TIFF 6.0 baseline and extensions).
STRUCTURAL = frozenset(
    {
        254,
        255,
        256,
        257,
        258,
        259,
        262,
        263,
        264,
        265,
        266,
        273,
        274,
        277,
        278,
        279,
        280,
        281,
        282,
        283,
        284,
        286,
        287,
        290,
        291,
        292,
        293,
        296,
        297,
        301,
        317,
        318,
        319,
        320,
        321,
        322,
        323,
        324,
        325,
        332,
        334,
        336,
        338,
        339,
        340,
        341,
        347,
        512,
        513,
        514,
        515,
        517,
        518,
        519,
        520,
        521,
        529,
        530,
        531,
        532,
        32997,
        32998,
    }
)
_GEOTIFF = frozenset({33550, 33922, 34264, 34735, 34736, 34737})
_XMP, _IPTC, _IRB, _ICC, _SOURCE_DATA = 700, 33723, 34377, 34675, 37724
_RAW_MARKERS = (50706, 50752)  # DNGVersion, RawImageSegmentation (Canon)


def _value(data: bytes, ifd: Ifd, tag: int) -> bytes:
    e = ifd.entries[tag]
    return data[e.offset : e.offset + e.size]


def _ifd_findings(data: bytes, st: TiffStructure, ifd: Ifd) -> list[MetaFinding]:
    where = f"TIFF {ifd.name}"
    out: list[MetaFinding] = []
    if ifd.name.startswith("IFD") and ifd.name != "IFD0":
        sub = int_value(data, st.little, ifd.entries[254]) if 254 in ifd.entries else 0
        if sub and sub & 1:
            out.append(MetaFinding(Family.THUMBNAIL, f"reduced-resolution image in {where}"))
    if EXIF_IFD in ifd.entries:
        exif = st.first("Exif")
        out.append(MetaFinding(Family.EXIF, f"EXIF IFD in {where} ({len(exif.entries) if exif else 0} tags)"))
    if GPS_IFD in ifd.entries:
        out.append(gps_finding(st.first("GPS"), where))
    if _GEOTIFF & set(ifd.entries):
        out.append(MetaFinding(Family.GPS, f"GeoTIFF georeferencing tags in {where}"))
    if SUB_IFDS in ifd.entries:
        out.append(MetaFinding(Family.THUMBNAIL, f"SubIFDs (previews) in {where}"))
    for tag, classify in ((_XMP, classify_xmp), (_IPTC, classify_iptc), (_IRB, classify_irb)):
        if tag in ifd.entries:
            out.extend(classify(_value(data, ifd, tag), where) or [MetaFinding(Family.PHOTOSHOP_IRB, where)])
    if _ICC in ifd.entries:
        out.append(icc_finding(_value(data, ifd, _ICC), where))
    if _SOURCE_DATA in ifd.entries:
        out.append(MetaFinding(Family.PHOTOSHOP_IRB, f"Photoshop layer data in {where}"))
    known = (
        STRUCTURAL | _GEOTIFF | set(IDENTIFYING_TAGS) | {EXIF_IFD, GPS_IFD, SUB_IFDS, _XMP, _IPTC, _IRB, _ICC}
    )
    rest = sorted(set(ifd.entries) - known - {_SOURCE_DATA})
    if rest:
        shown = ", ".join(str(t) for t in rest[:8]) + (", ..." if len(rest) > 8 else "")
        out.append(MetaFinding(Family.TIFF_TAGS, f"{len(rest)} descriptive tags in {where} ({shown})"))
    return out


def parse(data: bytes) -> Parsed:
    """Walk every IFD of a TIFF file and classify every tag.

    Parameters
    ----------
    data : bytes
        The whole file (classic TIFF or BigTIFF).

    Returns
    -------
    Parsed
        One block holding the whole file, with all findings; the orientation of IFD0.

    Raises
    ------
    Malformed
        Any out-of-bounds offset, IFD loop or bad count (the file cannot be verified).
    Unsupported
        Camera raw files (DNG, CR2, ...), whose main image is not a plain TIFF page.
    """
    st = walk(data)
    if st.problems:
        raise Malformed(f"TIFF structure: {st.problems[0]}")
    ifd0 = st.first("IFD0")
    if ifd0 is None:
        raise Malformed("TIFF without an IFD0")
    if data[8:10] == b"CR" or any(t in ifd0.entries for t in _RAW_MARKERS):
        raise Unsupported("camera raw file (DNG/CR2): convert it to TIFF or PNG first")
    findings: list[MetaFinding] = []
    for ifd in st.ifds:
        if ifd.name not in ("Exif", "GPS", "Interop"):
            findings.extend(_ifd_findings(data, st, ifd))
    findings.extend(tag_findings(st, "TIFF"))
    orientation = int_value(data, st.little, ifd0.entries[ORIENTATION]) if ORIENTATION in ifd0.entries else 1
    parsed = Parsed("TIFF", [Block(data, tuple(findings), "tiff")])
    parsed.orientation = orientation if orientation in range(1, 9) else 1
    return parsed


_TRANSPOSE = {
    2: "FLIP_LEFT_RIGHT",
    3: "ROTATE_180",
    4: "FLIP_TOP_BOTTOM",
    5: "TRANSPOSE",
    6: "ROTATE_270",
    7: "TRANSVERSE",
    8: "ROTATE_90",
}


def build(data: bytes, parsed: Parsed, allowed: frozenset[Family]) -> bytes:
    """Rewrite a TIFF with structural tags only, copying its image data; else re-encode it.

    The rewrite keeps the orientation tag (the image data is unchanged, so every viewer turns it
    as before). The re-encoding fallback applies the orientation to the pixels instead, because
    Pillow's decoders disagree on whether they apply the tag themselves.

    Parameters
    ----------
    data : bytes
        The original file.
    parsed : Parsed
        Output of :func:`parse`.
    allowed : frozenset of Family
        Only ``icc_profile`` can be kept through re-encoding; other families are always dropped.

    Returns
    -------
    bytes
        The rewritten TIFF; ``parsed.reencoded`` says whether the fallback was used.

    Raises
    ------
    Unsupported
        When Pillow cannot decode or re-encode the pages, or the pixels would change.
    """
    keep = STRUCTURAL | ({_ICC} if Family.ICC_PROFILE in allowed else set())
    rewritten = rewrite(data, walk(data), frozenset(keep))
    if rewritten is not None:
        return rewritten
    parsed.reencoded = True
    return _reencode(data, allowed)


def _reencode(data: bytes, allowed: frozenset[Family]) -> bytes:
    from PIL import Image, ImageSequence

    try:
        with Image.open(io.BytesIO(data)) as im:
            icc = im.info.get("icc_profile")
            pages = [
                _upright(f, Image)
                for f in ImageSequence.Iterator(im)
                if not int(f.tag_v2.get(254, 0) or 0) & 1
            ]
    except Exception as exc:  # Pillow raises many types for undecodable files
        raise Unsupported(
            f"cannot decode the TIFF pixels to re-encode them ({type(exc).__name__}: {exc})"
        ) from None
    if not pages:
        raise Unsupported("TIFF has no full-resolution page")
    extra: dict[str, object] = {}
    if icc and Family.ICC_PROFILE in allowed:
        extra["icc_profile"] = icc
    buf = io.BytesIO()
    try:
        pages[0].save(
            buf,
            format="TIFF",
            compression="tiff_adobe_deflate",
            save_all=True,
            append_images=pages[1:],
            **extra,
        )
    except Exception as exc:
        raise Unsupported(f"cannot re-encode this TIFF losslessly ({type(exc).__name__}: {exc})") from None
    out = buf.getvalue()
    with Image.open(io.BytesIO(out)) as check:
        if getattr(check, "n_frames", 1) != len(pages):
            raise Unsupported("re-encoding lost pages; refusing")
        for i, frame in enumerate(ImageSequence.Iterator(check)):  # one object, seeked per page
            page = pages[i]
            if frame.mode != page.mode or frame.size != page.size or frame.tobytes() != page.tobytes():
                raise Unsupported(f"re-encoding would change the pixels of page {i}; refusing")
    return out


def _upright(frame: Any, image_module: Any) -> Any:
    frame.load()
    orientation = frame.tag_v2.get(ORIENTATION, 1)  # Pillow drops the tag when its decoder applied it
    page = frame.copy()
    page.info = {}
    if orientation in _TRANSPOSE:
        page = page.transpose(getattr(image_module.Transpose, _TRANSPOSE[orientation]))
    return page
