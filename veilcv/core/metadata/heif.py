"""HEIF/HEIC and AVIF: item-level check and a container rewrite that keeps the primary image's coded bytes.

A HEIF file is a ``meta`` box listing *items* (coded images, grids of tiles, Exif and XMP blobs)
with their properties and references, and an ``mdat`` holding their bytes. The primary image is
the ``pitm`` item, the tiles it is derived from (``dimg``) and its alpha plane (``auxl`` with an
alpha ``auxC``). Strip writes a new file from those items only: a fresh ``ftyp``/``meta`` (no
names, no free space) and an ``mdat`` with exactly their coded bytes, copied, never re-encoded
(less the SEI, metadata and padding units no decoder needs: :mod:`codedunits`).
Exif and XMP items, thumbnails (``thmb``), depth and gain maps (other ``auxl``), other images,
ICC profiles (unless allowed) and any box outside that model are left behind. ``check`` reports
them, and reports any file that is not byte for byte what strip would write from it.
"""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass, field

from veilcv.core.metadata import codedunits
from veilcv.core.metadata import isobmff as bmff
from veilcv.core.metadata.blobs import classify_xmp, icc_finding
from veilcv.core.metadata.exif import classify_exif
from veilcv.core.metadata.families import Family, Malformed, MetadataError, MetaFinding, Parsed, Unsupported
from veilcv.core.metadata.heifprops import ALPHA_URNS, aux_type, check_property

#: Brands written into the new ``ftyp`` when the input lists them (anything else is dropped).
KNOWN_BRANDS = frozenset(
    b"mif1 mif2 msf1 miaf heic heix heim heis hevc hevx avif avis avio MA1A MA1B MiHE MiHA MiHB MiPr".split()
    + [b"tmap"]
)
HEIF_BRANDS = KNOWN_BRANDS - {b"miaf", b"MiPr", b"tmap"}
_IMAGE_TYPES = frozenset({b"hvc1", b"av01", b"grid", b"iden", b"iovl", b"jpeg", b"unci", b"tmap", b"hvt1"})


@dataclass
class Item:
    """One ``infe`` entry with its location and property associations."""

    id: int
    type: bytes
    hidden: bool
    name: bytes = b""
    content_type: bytes = b""
    method: int = 0
    extents: list[tuple[int, int]] = field(default_factory=list)
    props: list[tuple[int, bool]] = field(default_factory=list)  # (1-based ipco index, essential)


@dataclass
class Heif(Parsed):
    """A parsed HEIF file: what strip needs to write the primary image alone."""

    major: bytes = b"mif1"
    brands: list[bytes] = field(default_factory=list)
    primary: int = 0
    items: dict[int, Item] = field(default_factory=dict)
    refs: list[tuple[bytes, int, list[int]]] = field(default_factory=list)
    props: list[bytes] = field(default_factory=list)  # raw property boxes, ipco order
    idat: bytes = b""
    source: bytes = b""
    keep: list[int] = field(default_factory=list)
    icc: set[int] = field(default_factory=set)  # property indices holding an ICC profile
    drop: set[int] = field(default_factory=set)  # property indices never written (unknown, non-essential)
    cleaned: dict[int, bytes] = field(default_factory=dict)  # item -> coded data without SEI/metadata units
    rewritten: dict[int, bytes] = field(default_factory=dict)  # property index -> hvcC/av1C without them


def item_data(h: Heif, item: Item) -> bytes:
    """The bytes of an item (its extents joined), from the file or from ``idat``."""
    src = h.source if item.method == 0 else h.idat
    out = []
    for off, length in item.extents:
        stop = len(src) if length == 0 else off + length
        if off > len(src) or stop > len(src):
            raise Malformed(f"HEIF item {item.id} data lies outside the file")
        out.append(src[off:stop])
    return b"".join(out)


def _ftyp(data: bytes, b: bmff.Box, h: Heif) -> None:
    if b.end - b.body < 8 or (b.end - b.body) % 4:
        raise Malformed("HEIF ftyp box of a size that is not 8 + 4n bytes")
    h.major = data[b.body : b.body + 4]
    h.brands = [data[i : i + 4] for i in range(b.body + 8, b.end, 4)]
    if not ({h.major, *h.brands} & HEIF_BRANDS):
        raise Unsupported("ISO media file that is not a HEIF/AVIF image")


def _iloc(data: bytes, b: bmff.Box, h: Heif, locs: dict[int, tuple[int, list[tuple[int, int]]]]) -> None:
    version, _flags, pos = bmff.full_header(data, b)
    r = bmff.Reader(data, pos, b.end, "HEIF iloc box")
    sizes = r.uint(1)
    off_size, len_size = sizes >> 4, sizes & 15
    sizes = r.uint(1)
    base_size, index_size = sizes >> 4, (sizes & 15) if version in (1, 2) else 0
    if version > 2 or not {off_size, len_size, base_size, index_size} <= {0, 4, 8}:
        raise Malformed(f"HEIF iloc version {version} or field sizes not supported")
    for _ in range(r.uint(2 if version < 2 else 4)):
        item_id = r.uint(2 if version < 2 else 4)
        method = r.uint(2) & 15 if version in (1, 2) else 0
        if r.uint(2) != 0:
            raise Unsupported(f"HEIF item {item_id} stored in another file")
        if method not in (0, 1):
            raise Unsupported(f"HEIF item {item_id} built from other items' data (construction method 2)")
        base = r.uint(base_size)
        extents = []
        for _ in range(r.uint(2)):
            r.uint(index_size)
            extents.append((base + r.uint(off_size), r.uint(len_size)))
        locs[item_id] = (method, extents)
    if r.left():
        raise Malformed("HEIF iloc box holds bytes after its entries")


def _iinf(data: bytes, b: bmff.Box, h: Heif) -> None:
    version, _flags, pos = bmff.full_header(data, b)
    count = struct.unpack_from(">H" if version == 0 else ">I", data, pos)[0]
    entries = list(bmff.boxes(data, pos + (2 if version == 0 else 4), b.end))
    if len(entries) != count or any(e.type != b"infe" for e in entries):
        raise Malformed("HEIF iinf box does not hold exactly its infe entries")
    for e in entries:
        v, flags, p = bmff.full_header(data, e)
        if v not in (2, 3):
            raise Unsupported(f"HEIF infe version {v} not supported")
        r = bmff.Reader(data, p, e.end, "HEIF infe box")
        item = Item(r.uint(2 if v == 2 else 4), b"", bool(flags & 1))
        r.uint(2)  # protection index
        item.type = r.take(4)
        item.name = r.cstring()
        if item.type == b"mime":
            item.content_type = r.cstring()
        if item.id in h.items:
            raise Malformed(f"HEIF item {item.id} listed twice")
        h.items[item.id] = item


def _iref(data: bytes, b: bmff.Box, h: Heif) -> None:
    version, _flags, pos = bmff.full_header(data, b)
    n = 2 if version == 0 else 4
    for ref in bmff.boxes(data, pos, b.end):
        r = bmff.Reader(data, ref.body, ref.end, f"HEIF iref {ref.name()!r} box")
        src = r.uint(n)
        h.refs.append((ref.type, src, [r.uint(n) for _ in range(r.uint(2))]))
        if r.left():
            raise Malformed(f"HEIF iref {ref.name()!r} box holds bytes after its references")


def _iprp(data: bytes, b: bmff.Box, h: Heif) -> None:
    for child in bmff.boxes(data, b.body, b.end):
        if child.type == b"ipco":
            h.props = [data[p.start : p.end] for p in bmff.boxes(data, child.body, child.end)]
        elif child.type == b"ipma":
            version, flags, pos = bmff.full_header(data, child)
            r = bmff.Reader(data, pos, child.end, "HEIF ipma box")
            for _ in range(r.uint(4)):
                item_id = r.uint(2 if version == 0 else 4)
                wide = flags & 1
                assoc = [r.uint(2 if wide else 1) for _ in range(r.uint(1))]
                top = 0x8000 if wide else 0x80
                if item_id in h.items:
                    h.items[item_id].props += [(a & (top - 1), bool(a & top)) for a in assoc]
        else:
            raise Malformed(f"unexpected {child.name()!r} box in HEIF iprp")


def _meta(data: bytes, b: bmff.Box, h: Heif) -> None:
    _v, _f, pos = bmff.full_header(data, b)
    children = {c.type: c for c in bmff.boxes(data, pos, b.end)}
    for need in (b"hdlr", b"pitm", b"iloc", b"iinf", b"iprp"):
        if need not in children:
            raise Malformed(f"HEIF meta box without {need.decode()}")
    hd = children[b"hdlr"]
    if data[hd.body + 8 : hd.body + 12] != b"pict":
        raise Unsupported("HEIF meta box that does not describe pictures")
    version, _f, p = bmff.full_header(data, children[b"pitm"])
    h.primary = int.from_bytes(data[p : p + (2 if version == 0 else 4)], "big")
    _iinf(data, children[b"iinf"], h)
    locs: dict[int, tuple[int, list[tuple[int, int]]]] = {}
    _iloc(data, children[b"iloc"], h, locs)
    for item_id, (method, extents) in locs.items():
        if item_id in h.items:
            h.items[item_id].method, h.items[item_id].extents = method, extents
    if b"iref" in children:
        _iref(data, children[b"iref"], h)
    _iprp(data, children[b"iprp"], h)
    if b"idat" in children:
        h.idat = data[children[b"idat"].body : children[b"idat"].end]


def _kept(h: Heif) -> list[int]:
    if h.primary not in h.items or h.items[h.primary].type not in _IMAGE_TYPES:
        raise Malformed(f"HEIF primary item {h.primary} is missing or not an image")
    keep, todo = set(), [h.primary]
    while todo:
        item_id = todo.pop()
        if item_id in keep:
            continue
        keep.add(item_id)
        for rtype, src, dst in h.refs:
            if rtype == b"dimg" and src == item_id:
                todo += dst  # tiles of a grid, the source of an iden/iovl
            elif rtype == b"auxl" and item_id in dst and aux_type(h, src) in ALPHA_URNS:
                todo.append(src)  # the alpha plane is part of the picture
    missing = sorted(i for i in keep if i not in h.items or h.items[i].type not in _IMAGE_TYPES)
    if missing:
        raise Malformed(f"HEIF primary image refers to missing or non-image items {missing}")
    empty = sorted(i for i in keep if not item_data(h, h.items[i]))
    if empty:  # (a zero extent length means "to the end of the file": it cannot be written back)
        raise Malformed(f"HEIF image items {empty} hold no data")
    return sorted(keep)


def _findings(h: Heif) -> list[MetaFinding]:
    out: list[MetaFinding] = []
    kept = set(h.keep)
    role = {src: rtype for rtype, src, _dst in h.refs if rtype in (b"thmb", b"auxl")}
    # Tiles of a dropped grid (a gain map, a thumbnail) are reported once, with their grid.
    parent = {d: src for rtype, src, dst in h.refs if rtype == b"dimg" and src not in kept for d in dst}
    tiles: dict[int, int] = {}
    counted: set[int] = set()
    for item in h.items.values():
        if item.id not in kept and item.id in parent:
            top, seen = item.id, {item.id}
            while top in parent and parent[top] in h.items and parent[top] not in seen:
                top = parent[top]
                seen.add(top)
            if top != item.id:
                tiles[top] = tiles.get(top, 0) + 1
                counted.add(item.id)
    for item in h.items.values():
        if item.id in kept or item.id in counted:
            continue
        where = f"HEIF item {item.id}" + (f" (with {tiles[item.id]} tiles)" if item.id in tiles else "")
        if item.type == b"Exif":
            body = item_data(h, item)
            tiff = body[4 + int.from_bytes(body[:4], "big") :] if len(body) >= 4 else b""
            tiff = tiff[6:] if tiff.startswith(b"Exif\x00\x00") else tiff
            found, _ = classify_exif(tiff, where)
            out += [MetaFinding(Family.EXIF, f"Exif item {item.id} ({len(body)} bytes)"), *found]
        elif item.type == b"mime" and b"xml" in item.content_type:
            out += classify_xmp(item_data(h, item), where)
        elif role.get(item.id) == b"thmb":
            out.append(MetaFinding(Family.THUMBNAIL, f"thumbnail image {where}"))
        elif role.get(item.id) == b"auxl":
            urn = aux_type(h, item.id).decode("ascii", "replace")
            out.append(MetaFinding(Family.OTHER, f"auxiliary image {where} ({urn or 'no type'})"))
        elif item.type in _IMAGE_TYPES:
            out.append(MetaFinding(Family.THUMBNAIL, f"image {where} that is not part of the primary image"))
        else:
            out.append(MetaFinding(Family.OTHER, f"{item.type.decode('ascii', 'replace')!r} {where}"))
    used = {i for k in h.keep for i, _ in h.items[k].props}
    for index in sorted(h.icc & used):
        out.append(icc_finding(h.props[index - 1][16:], f"HEIF colr property {index}"))
    return out


def _coded(h: Heif) -> list[MetaFinding]:
    """Find SEI, metadata and padding units in the kept coded images and their configurations."""
    out = []
    for k in h.keep:
        item = h.items[k]
        if item.type == b"hvc1":
            config = next((h.props[i - 1] for i, _ in item.props if h.props[i - 1][4:8] == b"hvcC"), None)
            if config is None or len(config) < 30:
                raise Malformed(f"HEVC image item {k} without its hvcC configuration")
            data, dropped = codedunits.hevc(item_data(h, item), (config[29] & 3) + 1)
        elif item.type == b"av01":
            data, dropped = codedunits.av1(item_data(h, item))
        else:
            continue
        if dropped and not data:
            raise Malformed(f"coded image item {k} holds no picture data")
        if dropped:
            h.cleaned[k] = data
            out.append(
                MetaFinding(Family.OTHER, f"{dropped} SEI/metadata/padding units in coded image item {k}")
            )
    for index in sorted({i for k in h.keep for i, _ in h.items[k].props} - h.drop):
        raw = h.props[index - 1]
        if raw[4:8] == b"hvcC":
            new, dropped = codedunits.hvcc(raw)
        elif raw[4:8] == b"av1C":
            obus, dropped = codedunits.av1(raw[12:])
            new = (12 + len(obus)).to_bytes(4, "big") + raw[4:12] + obus
        else:
            continue
        if dropped:
            h.rewritten[index] = new
            out.append(
                MetaFinding(Family.OTHER, f"{dropped} SEI/metadata units in the {raw[4:8].decode()} property")
            )
    return out


def parse(data: bytes) -> Heif:
    """Read a HEIF/AVIF file's items, references and properties and list what strip leaves behind.

    Parameters
    ----------
    data : bytes
        The whole file.

    Returns
    -------
    Heif
        Findings in ``extra``; :func:`build` writes the stripped file.

    Raises
    ------
    Malformed, Unsupported
        A box that does not fit, an unsupported item layout, a property with bytes after its fields.
    """
    try:
        return _parse(data)
    except (Malformed, Unsupported) as exc:
        raise type(exc)(f"HEIF/AVIF: {exc}") from None


def _parse(data: bytes) -> Heif:
    h = Heif("AVIF" if b"avif" in data[8:64] and b"heic" not in data[8:64] else "HEIF", source=data)
    top = list(bmff.boxes(data))
    if not top or top[0].type != b"ftyp":
        raise Malformed("expected an ftyp box first")
    _ftyp(data, top[0], h)
    metas = [b for b in top if b.type == b"meta"]
    if len(metas) != 1:
        raise Malformed(f"expected one meta box, got {len(metas)}")
    _meta(data, metas[0], h)
    h.keep = _kept(h)
    for index in sorted({i for k in h.keep for i, _ in h.items[k].props}):
        essential = any(e for k in h.keep for i, e in h.items[k].props if i == index)
        if not 0 < index <= len(h.props):
            raise Malformed(f"HEIF property index {index} outside ipco")
        kind = check_property(h.props[index - 1], essential)
        if kind == "icc":
            h.icc.add(index)
        elif kind == "drop":
            h.drop.add(index)
    h.extra = _findings(h) + _coded(h)
    if serialise(h, keep_icc=True) != data:
        h.extra.append(
            MetaFinding(
                Family.OTHER, "HEIF boxes, names or data beyond the primary image's (rewritten on strip)"
            )
        )
    return h


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
        (k, h.items[k].type, h.items[k].hidden, h.items[k].method, _data(h, k), h.items[k].props)
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


def _data(h: Heif, k: int) -> bytes:
    return h.cleaned[k] if k in h.cleaned else item_data(h, h.items[k])


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
