"""Writing the canonical HEIF/AVIF file that holds only the primary image, and checking its pixels."""

from __future__ import annotations

import io

from veilcv.core.metadata import isobmff as bmff
from veilcv.core.metadata.families import Family, MetadataError, Unsupported
from veilcv.core.metadata.heifmodel import KNOWN_BRANDS, Heif, item_bytes


def serialise(h: Heif, *, keep_icc: bool) -> bytes:
    """The canonical file holding only the primary image: ``ftyp``, ``meta``, ``mdat``.

    Parameters
    ----------
    h : Heif
        The parsed input.
    keep_icc : bool
        Whether ICC ``colr`` properties are written.

    Returns
    -------
    bytes
        The file; the kept items' coded bytes are copied unchanged. The orientation is the
        ``irot``/``imir`` properties, kept with the image (HEIF readers ignore an Exif or XMP
        orientation, so none is written back).
    """
    if max(h.keep) > 0xFFFF:
        raise Unsupported("HEIF item ids above 65535 are not supported")
    props = sorted({i for k in h.keep for i, _ in h.items[k].props} - h.drop - (set() if keep_icc else h.icc))
    renumber = {old: new for new, old in enumerate(props, 1)}
    u16 = lambda v: v.to_bytes(2, "big")  # noqa: E731
    # (id, type, hidden, method, data, property associations)
    items = [
        (k, h.items[k].type, h.items[k].hidden, h.items[k].method, item_bytes(h, k), h.items[k].props)
        for k in h.keep
    ]
    kept = set(h.keep)
    refs = sorted(
        (src, rtype, tuple(dst))
        for rtype, src, dst in h.refs
        if src in kept and all(d in kept for d in dst) and rtype in (b"dimg", b"auxl", b"prem")
    )
    brands = list(dict.fromkeys(b for b in h.brands if b in KNOWN_BRANDS))
    ftyp = bmff.box(b"ftyp", (h.major if h.major in KNOWN_BRANDS else b"mif1") + bytes(4) + b"".join(brands))
    hdlr = bmff.full_box(b"hdlr", 0, 0, bytes(4) + b"pict" + bytes(12) + b"\x00")
    pitm = bmff.full_box(b"pitm", 0, 0, u16(h.primary))
    infe = b"".join(
        bmff.full_box(b"infe", 2, int(hid), u16(k) + bytes(2) + t + b"\x00") for k, t, hid, *_ in items
    )
    iinf = bmff.full_box(b"iinf", 0, 0, u16(len(items)) + infe)
    iref = b"".join(
        bmff.box(rtype, u16(src) + u16(len(dst)) + b"".join(u16(d) for d in dst)) for src, rtype, dst in refs
    )
    wide = len(props) > 127
    ipma = b""
    with_props = [(k, [(renumber[i], e) for i, e in assoc if i in renumber]) for k, *_, assoc in items]
    with_props = [(k, a) for k, a in with_props if a]
    for k, assoc in with_props:
        ipma += u16(k) + bytes([len(assoc)])
        ipma += b"".join(
            ((e << 15 | i).to_bytes(2, "big") if wide else bytes([e << 7 | i])) for i, e in assoc
        )
    iprp = bmff.box(
        b"iprp",
        bmff.box(b"ipco", b"".join(h.rewritten.get(i, h.props[i - 1]) for i in props))
        + bmff.full_box(b"ipma", 0, int(wide), len(with_props).to_bytes(4, "big") + ipma),
    )
    idat = b"".join(d for _, _, _, m, d, _ in items if m == 1)
    mdat = b"".join(d for _, _, _, m, d, _ in items if m == 0)
    size = 8 if len(mdat) + len(idat) + 65536 >= 1 << 32 else 4
    version = 1 if idat else 0

    def meta(mdat_at: int) -> bytes:
        loc = bytes([size << 4 | size, 0]) + u16(len(items))
        at = {0: mdat_at, 1: 0}
        for k, _t, _hid, method, data, _ in items:
            loc += u16(k) + (u16(method) if version else b"") + bytes(2) + u16(1)
            loc += at[method].to_bytes(size, "big") + len(data).to_bytes(size, "big")
            at[method] += len(data)
        body = hdlr + pitm + bmff.full_box(b"iloc", version, 0, loc) + iinf
        body += (bmff.full_box(b"iref", 0, 0, iref) if iref else b"") + iprp
        body += bmff.box(b"idat", idat) if idat else b""
        return bmff.full_box(b"meta", 0, 0, body)

    head = 8 if len(mdat) + 8 < 1 << 32 else 16
    return ftyp + meta(len(ftyp) + len(meta(0)) + head) + bmff.box(b"mdat", mdat)


def decode(data: bytes, fmt: str) -> tuple[str, tuple[int, int], bytes] | None:
    """The primary image's decoded pixels (None when no kept library decodes the file)."""
    try:
        if fmt == "AVIF":
            from PIL import Image

            with Image.open(io.BytesIO(data)) as im:
                return im.mode, im.size, im.tobytes()
        import pillow_heif

        heif = pillow_heif.open_heif(io.BytesIO(data), convert_hdr_to_8bit=False)
        return heif.mode, heif.size, bytes(heif.data)
    except Exception:  # noqa: BLE001 - undecodable: there is nothing to compare
        return None


def build(h: Heif, allowed: frozenset[Family]) -> bytes:
    """Write the primary image alone (see :func:`serialise`) and check it decodes to the same pixels.

    Parameters
    ----------
    h : Heif
        Output of :func:`parse`.
    allowed : frozenset of Family
        ``icc_profile`` keeps ICC colour profiles; Exif, XMP and extra images are never kept.

    Returns
    -------
    bytes

    Raises
    ------
    MetadataError
        The input decodes but the rewritten file does not decode to the same pixels.
    """
    out = serialise(h, keep_icc=Family.ICC_PROFILE in allowed)
    before = decode(h.source, h.format)
    if before is not None and decode(out, h.format) != before:
        raise MetadataError("the rewritten HEIF/AVIF does not decode to the same pixels; nothing written")
    return out
