"""ExifTool as an independent oracle: a file we stripped must hold no GPS, serial number or thumbnail.

ExifTool is a separate implementation (Perl, 25 years of camera quirks), so a leak that our own
walkers miss in both check and strip still shows here. Tests that use it skip, saying why, only
where the ``exiftool`` program is not installed (Debian: ``libimage-exiftool-perl``; CI installs it).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

import pytest

_GPS = re.compile(r"GPS|Location|Latitude|Longitude|ISO6709|GeoTag", re.IGNORECASE)
_SERIAL = re.compile(r"Serial", re.IGNORECASE)
_IMAGES = re.compile(r"Thumbnail|Preview|JpgFromRaw|OtherImage|MPImage|EmbeddedImage|CoverArt", re.IGNORECASE)
# ExifTool's own bookkeeping, never read from the file.
_OWN = ("SourceFile", "ExifTool:", "System:", "File:FileName", "File:Directory")


def exiftool() -> str:
    """Path of the exiftool program; skips the calling test, saying why, when it is not installed."""
    path = shutil.which("exiftool")
    if path is None:
        pytest.skip("exiftool is not installed (Debian package libimage-exiftool-perl); .ci/run installs it")
    return path


def read_tags(paths: Sequence[Path]) -> dict[Path, dict[str, object]]:
    """Every tag ExifTool reads in each file (``Group:Tag`` keys, embedded streams included)."""
    if not paths:
        return {}
    cmd = [exiftool(), "-j", "-G1", "-a", "-u", "-ee", "-n", "-q", "-q", *map(str, paths)]
    proc = subprocess.run(cmd, capture_output=True, timeout=600)
    assert proc.stdout, proc.stderr.decode(errors="replace")
    out: dict[Path, dict[str, object]] = {}
    for entry in json.loads(proc.stdout):
        out[Path(entry["SourceFile"])] = entry
    return out


def leaks(tags: dict[str, object]) -> list[str]:
    """GPS, serial-number and embedded-image tags in one file's ExifTool tags (empty: nothing leaks)."""
    found = []
    tiff_jpeg = tags.get("File:FileType") == "TIFF" and tags.get("IFD0:Compression") in (6, 7)
    for key, value in tags.items():
        if key.startswith(_OWN):
            continue
        name = key.split(":", 1)[-1]
        if tiff_jpeg and key.startswith("IFD0:PreviewImage"):
            continue  # ExifTool's name for the JPEG stream of a JPEG-compressed TIFF: the picture itself
        timing = name in ("PreviewTime", "PreviewDuration")  # a QuickTime movie header's poster timing
        if _GPS.search(key) or _SERIAL.search(key) or (_IMAGES.search(name) and not timing):
            found.append(key)
        elif name == "SubfileType" and isinstance(value, int) and value & 1:
            found.append(f"{key} (reduced-resolution copy)")
    return found
