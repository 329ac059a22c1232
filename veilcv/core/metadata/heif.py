"""HEIF/HEIC and AVIF: item-level check and a container rewrite that keeps the primary image's coded bytes.

A HEIF file is a ``meta`` box listing *items* (coded images, grids of tiles, Exif and XMP blobs)
with their properties and references, and an ``mdat`` holding their bytes. The primary image is
the ``pitm`` item, the tiles it is derived from (``dimg``) and its alpha plane (``auxl`` with an
alpha ``auxC``). Strip writes a new file from those items only: a fresh ``ftyp``/``meta`` (no
names, no free space) and an ``mdat`` with exactly their coded bytes, copied, never re-encoded
(less the SEI, metadata and padding units no decoder needs: :mod:`codedunits`).
Exif and XMP items, thumbnails (``thmb``), depth and gain maps (other ``auxl``), other images,
ICC profiles (unless allowed) and any box outside that model are left behind. ``check`` reports
them, and any byte that is neither a defined field nor an item's data (:mod:`heifbytes`).
"""

from __future__ import annotations

import struct

from veilcv.core.metadata import codedunits
from veilcv.core.metadata import isobmff as bmff
from veilcv.core.metadata.blobs import classify_xmp, icc_finding
from veilcv.core.metadata.exif import classify_exif
from veilcv.core.metadata.families import Family, Malformed, MetaFinding, Unsupported
from veilcv.core.metadata.heifbytes import unaccounted
from veilcv.core.metadata.heifmodel import HEIF_BRANDS, IMAGE_TYPES, Heif, Item, item_data
from veilcv.core.metadata.heifprops import ALPHA_URNS, aux_type, check_property
from veilcv.core.metadata.heifwrite import build, decode, serialise

__all__ = ["HEIF_BRANDS", "Heif", "Item", "build", "decode", "item_data", "parse", "serialise"]


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
        protected = r.uint(2)
        item.type = r.take(4)
        item.name = r.cstring()
        if item.type == b"mime":
            item.content_type = r.cstring()
            if r.left():
                r.cstring()  # content encoding
        item.loose = r.left() + 2 * bool(protected) + (flags & ~1)
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
            if r.left():
                raise Malformed("HEIF ipma box holds bytes after its entries")
        else:
            raise Malformed(f"unexpected {child.name()!r} box in HEIF iprp")


def _meta(data: bytes, b: bmff.Box, h: Heif) -> None:
    _v, _f, pos = bmff.full_header(data, b)
    listed = list(bmff.boxes(data, pos, b.end))
    children = {c.type: c for c in listed}
    if len(children) != len(listed):
        raise Malformed("HEIF meta box holds a box twice")
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
    if h.primary not in h.items or h.items[h.primary].type not in IMAGE_TYPES:
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
    missing = sorted(i for i in keep if i not in h.items or h.items[i].type not in IMAGE_TYPES)
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
        elif item.type in IMAGE_TYPES:
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
    reasons = unaccounted(data, h)
    if reasons:
        h.extra.append(
            MetaFinding(Family.OTHER, f"HEIF container holds {'; '.join(reasons)} (rewritten on strip)")
        )
    return h
