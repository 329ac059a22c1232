"""The HEIF/AVIF model that the reader (:mod:`heif`) fills and the writer (:mod:`heifwrite`) writes."""

from __future__ import annotations

from dataclasses import dataclass, field

from veilcv.core.metadata.families import Malformed, Parsed

#: Brands written into the new ``ftyp`` when the input lists them (anything else is dropped).
KNOWN_BRANDS = frozenset(
    b"mif1 mif2 msf1 miaf heic heix heim heis hevc hevx avif avis avio MA1A MA1B MiHE MiHA MiHB MiPr".split()
    + [b"tmap"]
)
HEIF_BRANDS = KNOWN_BRANDS - {b"miaf", b"MiPr", b"tmap"}
IMAGE_TYPES = frozenset({b"hvc1", b"av01", b"grid", b"iden", b"iovl", b"jpeg", b"unci", b"tmap", b"hvt1"})


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
    loose: int = 0  # infe bytes that are no field (a protection index, bytes after the fields)


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


def item_bytes(h: Heif, k: int) -> bytes:
    """The bytes strip writes for item ``k``: its data, less any units :mod:`codedunits` dropped."""
    return h.cleaned[k] if k in h.cleaned else item_data(h, h.items[k])
