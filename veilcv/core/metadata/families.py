"""Metadata families, findings and reports shared by every format parser.

A *family* names one kind of privacy-relevant metadata (EXIF, GPS, XMP, ...). Parsers turn each
segment/chunk of a file into a :class:`Block`: the bytes it occupies and the findings it carries.
``check`` flattens the findings; ``strip`` keeps the blocks whose findings are all allowed.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field

from veilcv.errors import InputError, UnsupportedFormatError, VeilcvError


class Family(str, enum.Enum):
    """Privacy-relevant metadata families (the values are stable identifiers used on the CLI)."""

    EXIF = "exif"
    GPS = "gps"
    MAKERNOTES = "makernotes"
    IDENTIFYING = "identifying"
    THUMBNAIL = "thumbnail"
    XMP = "xmp"
    XMP_GPS = "xmp_gps"
    IPTC = "iptc"
    PHOTOSHOP_IRB = "photoshop_irb"
    COMMENT = "comment"
    MPF = "mpf"
    TRAILING_DATA = "trailing_data"
    PNG_TEXT = "png_text"
    PNG_TIME = "png_time"
    PNG_EXIF = "png_exif"
    WEBP_EXIF = "webp_exif"
    WEBP_XMP = "webp_xmp"
    TIFF_TAGS = "tiff_tags"
    ICC_PROFILE = "icc_profile"
    GIF_EXTENSION = "gif_extension"
    VIDEO_TAGS = "video_tags"
    OTHER = "other"

    def __str__(self) -> str:
        return self.value


FAMILY_HELP: dict[Family, str] = {
    Family.EXIF: "EXIF block with tags beyond orientation/resolution",
    Family.GPS: "GPS IFD in EXIF (reported, coordinates never printed)",
    Family.MAKERNOTES: "camera maker notes (opaque, often serial numbers)",
    Family.IDENTIFYING: "serial numbers, owner, artist, software, document IDs",
    Family.THUMBNAIL: "embedded thumbnails and previews",
    Family.XMP: "XMP packet",
    Family.XMP_GPS: "GPS or location written in XMP",
    Family.IPTC: "IPTC-IIM records",
    Family.PHOTOSHOP_IRB: "Photoshop image resource blocks",
    Family.COMMENT: "JPEG COM / GIF comment",
    Family.MPF: "MPF (multi-picture) index and images",
    Family.TRAILING_DATA: "data after the image's end marker",
    Family.PNG_TEXT: "PNG tEXt/iTXt/zTXt chunks",
    Family.PNG_TIME: "PNG tIME chunk",
    Family.PNG_EXIF: "PNG eXIf chunk",
    Family.WEBP_EXIF: "WebP EXIF chunk",
    Family.WEBP_XMP: "WebP XMP chunk",
    Family.TIFF_TAGS: "descriptive TIFF tags beyond the image structure",
    Family.ICC_PROFILE: "embedded ICC colour profile",
    Family.GIF_EXTENSION: "GIF application/plain-text extensions",
    Family.VIDEO_TAGS: "video container tags: make, model, software, dates, handler names, metadata tracks",
    Family.OTHER: "unknown segments, chunks or junk bytes that could carry anything",
}

#: Families kept by default: none. ICC profiles can fingerprint a device (calibrated profiles carry
#: its description and creation date), so they are dropped unless the caller allows them; allowing
#: ``icc_profile`` keeps wide-gamut images looking the same in colour-managed viewers.
DEFAULT_ALLOWED: frozenset[Family] = frozenset()

#: Caps on decompressed text (zTXt/iTXt), per chunk (as Pillow's decoder) and per file: a
#: decompression bomb fails with "cannot verify" after bounded work and memory.
MAX_TEXT_CHUNK = 1024 * 1024
MAX_DECOMPRESSED = 8 * 1024 * 1024


@dataclass(frozen=True)
class MetaFinding:
    """One metadata family found in a file. ``detail`` names tags or sizes, never their values."""

    family: Family
    detail: str = ""

    def __str__(self) -> str:
        return f"{self.family.value}: {self.detail}" if self.detail else self.family.value


@dataclass(frozen=True)
class MetaReport:
    """Result of checking one file; ``error`` is set ("cannot verify: ...") when it could not be parsed."""

    path: str
    format: str | None
    findings: tuple[MetaFinding, ...] = ()
    error: str | None = None

    @property
    def clean(self) -> bool:
        """True when the file was fully parsed and carries no disallowed metadata."""
        return self.error is None and not self.findings

    @property
    def families(self) -> frozenset[Family]:
        """The families found, without details."""
        return frozenset(f.family for f in self.findings)


@dataclass(frozen=True)
class StripResult:
    """Result of stripping one file."""

    src: str
    dst: str
    format: str
    removed: tuple[MetaFinding, ...]
    changed: bool
    reencoded: bool


class MetadataError(VeilcvError):
    """Stripping failed: the output still carried metadata, or could not be written; nothing was kept."""


class Malformed(UnsupportedFormatError):
    """Raised by parsers: the file is not well formed, so its metadata cannot be verified."""


class Unsupported(UnsupportedFormatError):
    """Raised when no parser handles the file's format."""


@dataclass
class Block:
    """A contiguous piece of a file as a parser saw it.

    ``data`` is the exact bytes to copy when the block is kept; ``findings`` are empty for
    structural blocks (pixels, headers) that every output must keep.
    """

    data: bytes
    findings: tuple[MetaFinding, ...] = ()
    kind: str = ""
    fallback: bytes = b""  # written instead of ``data`` when the block is dropped (e.g. JFIF sans thumbnail)
    orientation: int = 1

    def allowed(self, allowed: frozenset[Family]) -> bool:
        """True when every finding of this block is in ``allowed`` (structural blocks: always)."""
        return all(f.family in allowed for f in self.findings)


@dataclass
class Parsed:
    """A parsed file: its blocks in order, the orientation the viewer applies, and format facts."""

    format: str
    blocks: list[Block] = field(default_factory=list)
    orientation: int = 1
    extra: list[MetaFinding] = field(default_factory=list)
    seen_exif: bool = False
    reencoded: bool = False  # set by a builder that had to decode and re-encode the pixels
    #: Orientation from XMP (tiff:Orientation) or an ImageMagick raw EXIF profile, which viewers
    #: such as Pillow apply when there is no EXIF block.
    alt_orientation: int = 1

    def set_alt_orientation(self, value: int | None) -> None:
        """Remember the first non-default XMP/raw-profile orientation."""
        if value in range(2, 9) and self.alt_orientation == 1:
            self.alt_orientation = value  # type: ignore[assignment]

    def finish(self) -> Parsed:
        """Settle the orientation once the whole file was read: EXIF wins over XMP/raw profiles."""
        if not self.seen_exif and self.orientation == 1:
            self.orientation = self.alt_orientation
        return self

    def findings(self, allowed: frozenset[Family]) -> tuple[MetaFinding, ...]:
        """The file's findings outside ``allowed``, in file order, without duplicates."""
        found = [f for b in self.blocks for f in b.findings] + self.extra
        seen: dict[tuple[Family, str], MetaFinding] = {}
        for f in found:
            if f.family not in allowed:
                seen.setdefault((f.family, f.detail), f)
        return tuple(seen.values())


def parse_allowed(value: str | Iterable[str | Family] | None) -> frozenset[Family]:
    """Turn ``"icc_profile,xmp"`` (or a set) into a frozenset of :class:`Family`.

    Parameters
    ----------
    value : str, iterable of str or Family, or None
        Comma-separated family names, family names or members, or None for :data:`DEFAULT_ALLOWED`.

    Returns
    -------
    frozenset of Family

    Raises
    ------
    InputError
        On an unknown family name (the message lists the valid ones).
    """
    if value is None:
        return DEFAULT_ALLOWED
    names = value.split(",") if isinstance(value, str) else list(value)
    out: set[Family] = set()
    for name in names:
        if isinstance(name, Family):
            out.add(name)
            continue
        name = str(name).strip()
        if not name:
            continue
        try:
            out.add(Family(name))
        except ValueError:
            valid = ", ".join(f.value for f in Family)
            raise InputError(f"--allow: expected one of {valid}; got {name!r}") from None
    return frozenset(out)
