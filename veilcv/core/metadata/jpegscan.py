"""Bytes after a JPEG scan's entropy-coded data: found by asking the decoder how much of each scan it needs.

libjpeg discards whatever follows the last coded block of a scan (up to the next marker), so a
scan may carry bytes no decoder shows. As for WebP, the decoder is asked: the scan cut to ``n``
bytes decodes to the very same pixels once ``n`` covers what it reads. A probe that cuts
:data:`TOLERANCE` + 1 bytes finds slack; a search finds the shortest cut, which strip writes.
"""

from __future__ import annotations

import io
from collections.abc import Callable

from veilcv.core.metadata.cuts import least_same_cut
from veilcv.core.metadata.families import Parsed
from veilcv.quiet import warnings_as

#: Bytes at a scan's end a decoder may not need in a clean file: encoders pad the last byte, and
#: camera files in the test corpus decode the same with up to 3 bytes cut. More is slack.
TOLERANCE = 3


def _decoder(data: bytes) -> Callable[[bytes], bytes | None]:
    import simplejpeg

    try:
        simplejpeg.decode_jpeg(data, strict=False, colorspace="RGB")
        return lambda d: _simple(simplejpeg, d)
    except (ValueError, RuntimeError):
        return _pillow  # CMYK, 12-bit, arithmetic coding: slower, but any libjpeg file


def _simple(simplejpeg: object, data: bytes) -> bytes | None:
    try:
        return simplejpeg.decode_jpeg(data, strict=False, colorspace="RGB").tobytes()  # type: ignore[attr-defined]
    except (ValueError, RuntimeError):
        return None


def _pillow(data: bytes) -> bytes | None:
    from PIL import Image

    try:
        with warnings_as("ignore"):  # a cut that decodes with warnings still counts as decoding
            with Image.open(io.BytesIO(data)) as im:
                im.load()
                return im.tobytes()
    except Exception:  # noqa: BLE001 - any failure means "this cut does not decode"
        return None


def scan_slack(parsed: Parsed) -> dict[int, int]:
    """How many bytes at the end of each scan the decoder never needs, beyond :data:`TOLERANCE`.

    Parameters
    ----------
    parsed : Parsed
        A parsed JPEG (blocks of kind ``"scan"`` hold the SOS segment and its coded data).

    Returns
    -------
    dict of int to int
        Block index -> bytes to cut; empty when no scan has slack or the file does not decode
        (then there are no pixels to compare with).
    """
    blocks = [b.data for b in parsed.blocks]
    whole = b"".join(blocks)
    decode = _decoder(whole)
    want = decode(whole)
    if want is None:
        return {}
    out: dict[int, int] = {}
    for index, block in enumerate(parsed.blocks):
        if block.kind != "scan":
            continue
        full = block.data
        keep = 2 + int.from_bytes(full[2:4], "big")  # the SOS segment itself

        def same(n: int, index: int = index, full: bytes = full) -> bool:
            blocks[index] = full[:n]
            try:
                return decode(b"".join(blocks)) == want
            finally:
                blocks[index] = full

        cut = least_same_cut(len(full), keep, same, TOLERANCE)
        if cut < len(full):
            out[index] = len(full) - cut
    return out
