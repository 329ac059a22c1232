"""Check and strip privacy-relevant image metadata (EXIF, GPS, XMP, IPTC, thumbnails, text chunks...).

Real format walkers (JPEG segments, PNG chunks with CRCs, RIFF/WebP chunks, GIF blocks, TIFF IFDs
with bounds checks) find every metadata family; stripping drops segments/chunks without touching the
image data (TIFF is re-encoded losslessly) and re-checks its own output. See :class:`Family`.
"""

from veilcv.core.metadata.api import (
    METADATA_SUFFIXES,
    check_bytes,
    check_file,
    sniff,
    strip_bytes,
    strip_file,
)
from veilcv.core.metadata.families import (
    DEFAULT_ALLOWED,
    FAMILY_HELP,
    Family,
    MetadataError,
    MetaFinding,
    MetaReport,
    StripResult,
    parse_allowed,
)

__all__ = [
    "DEFAULT_ALLOWED",
    "FAMILY_HELP",
    "METADATA_SUFFIXES",
    "Family",
    "MetaFinding",
    "MetaReport",
    "MetadataError",
    "StripResult",
    "check_bytes",
    "check_file",
    "parse_allowed",
    "sniff",
    "strip_bytes",
    "strip_file",
]
