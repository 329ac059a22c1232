"""What an outbound telemetry value carries, decided from the value and its key. Pure functions.

Used by the telemetry lint rules (samples and schemas) and by the runtime telemetry gate, so
both refuse the same things. Kinds:

- ``image_bytes``: raw image/video bytes, ``data:image/...`` URIs, base64 that decodes to an image
  header, long arrays of byte values;
- ``base64``: other encoded binary blobs (base64, long hex), raw ``bytes``;
- ``path``: file paths, frame file names, ``file://``/``s3://``/``gs://`` object URLs;
- ``gps``: latitude/longitude keys with numbers, ``{lat, lon}`` objects, coordinate pairs/strings;
- ``free_text``: prose (several words), which may hold names, addresses or captions;
- ``identifier``: e-mail and IP/MAC addresses, phone numbers, values of ``*_id``/``email``/``ip`` keys;
- ``face``: face crops or embeddings (long float vectors under face/embedding keys).

Policy names map to kinds with :data:`POLICY_KINDS` (``paths`` -> ``path``, ``faces`` -> ``face``...).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterator
from typing import Any

KINDS: tuple[str, ...] = ("image_bytes", "base64", "path", "gps", "free_text", "identifier", "face")
POLICY_KINDS: dict[str, str] = {
    "image_bytes": "image_bytes",
    "base64": "base64",
    "paths": "path",
    "path": "path",
    "gps": "gps",
    "free_text": "free_text",
    "identifiers": "identifier",
    "identifier": "identifier",
    "faces": "face",
    "face": "face",
}

_IMAGE_MAGIC = (b"\xff\xd8\xff", b"\x89PNG", b"GIF8", b"RIFF", b"II*\x00", b"MM\x00*", b"BM", b"\x00\x00\x00")
_MEDIA_EXT = r"jpe?g|png|gif|bmp|tiff?|webp|heic|heif|avif|dng|raw|cr2|nef|mp4|mov|avi|mkv|webm|npy|npz"
_BASE64 = re.compile(r"^[A-Za-z0-9+/]+={0,2}$|^[A-Za-z0-9_-]+={0,2}$")
_HEX = re.compile(r"^[0-9a-fA-F]+$")
_DATA_URI = re.compile(r"^data:([\w.+-]+/[\w.+-]+)?(;[\w-]+=[^;,]*)*(;base64)?,", re.I)
_PATH = re.compile(
    r"^(~?/|\.{1,2}/|[A-Za-z]:[\\/]|\\\\|file:|s3://|gs://|az://|abfss?://|hdfs://)"
    r"|(^|[/\\])[^/\\\s]+\.(" + _MEDIA_EXT + r")$",
    re.I,
)
_UNIX_PATH = re.compile(r"^/[^/\s]+(/[^/\s]*)+$")
_COORDS = re.compile(r"^\s*[-+]?\d{1,2}\.\d{3,}\s*[,; ]\s*[-+]?\d{1,3}\.\d{3,}\s*$")
_DMS = re.compile(r"\d{1,3}\s*°\s*\d{1,2}\s*['′]")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
_IPV4 = re.compile(r"^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$")
_IPV6 = re.compile(r"^[0-9a-fA-F]{0,4}(:[0-9a-fA-F]{0,4}){2,7}$")
_MAC = re.compile(r"^[0-9a-fA-F]{2}([:-][0-9a-fA-F]{2}){5}$")
_PHONE = re.compile(r"^\+\d[\d\s().-]{7,}\d$")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")

_KEY_HINTS: dict[str, frozenset[str]] = {
    "gps": frozenset(
        {
            "lat",
            "latitude",
            "lon",
            "lng",
            "long",
            "longitude",
            "gps",
            "geo",
            "coords",
            "coordinates",
            "geolocation",
            "location",
            "altitude",
        }
    ),
    "path": frozenset({"path", "paths", "file", "filename", "filepath", "dir", "directory", "folder"}),
    "image_bytes": frozenset(
        {"image", "img", "frame", "thumbnail", "thumb", "jpeg", "jpg", "png", "pixels", "crop", "snapshot"}
    ),
    "base64": frozenset({"b64", "base64", "blob", "bytes", "payload", "binary"}),
    "free_text": frozenset(
        {
            "text",
            "comment",
            "comments",
            "description",
            "message",
            "note",
            "notes",
            "caption",
            "transcript",
            "title",
            "label_text",
        }
    ),
    "identifier": frozenset(
        {
            "email",
            "ip",
            "ipaddress",
            "mac",
            "macaddress",
            "phone",
            "userid",
            "username",
            "uid",
            "deviceid",
            "serial",
            "serialnumber",
            "subjectid",
            "personid",
            "customerid",
            "imei",
        }
    ),
    "face": frozenset({"face", "faces", "embedding", "embeddings", "landmarks", "faceprint"}),
}
# A key hint only counts when the value could carry that kind: "image_count": 3 is not an image.
_HINT_TYPES: dict[str, tuple[type, ...]] = {
    "gps": (int, float, str, list, dict),
    "path": (str,),
    "image_bytes": (str, list, bytes),
    "base64": (str, bytes),
    "free_text": (str,),
    "identifier": (str, int),
    "face": (list, str, bytes),
}


def key_tokens(key: str) -> set[str]:
    """``frameImagePath`` / ``frame_image-path`` -> ``{"frame", "image", "path", "frameimagepath"}``."""
    spaced = _CAMEL.sub("_", key).lower()
    tokens = {t for t in re.split(r"[^a-z0-9]+", spaced) if t}
    tokens.add(re.sub(r"[^a-z0-9]", "", key.lower()))
    return tokens


def is_aggregate(key: str) -> bool:
    """Whether a field holds a count that the minimum aggregation count applies to."""
    k = key.lower()
    return k in ("count", "n", "total") or k.endswith(("_count", "_total"))


def classify_key(key: str) -> list[str]:
    """Kinds a field name suggests, regardless of its value (used for schemas)."""
    tokens = key_tokens(key)
    kinds = [kind for kind in KINDS if tokens & _KEY_HINTS[kind]]
    if "path" in kinds:  # "frame_path", "image_file": the name of a frame, not its pixels
        kinds = [k for k in kinds if k not in ("image_bytes", "base64", "face")]
    return kinds


def _decoded_prefix(text: str) -> bytes | None:
    head = text[:64]
    head = head[: len(head) - len(head) % 4]
    try:
        return base64.b64decode(head, altchars=b"-_" if ("-" in head or "_" in head) else None, validate=True)
    except (binascii.Error, ValueError):
        return None


def _string_kinds(text: str) -> list[str]:
    s = text.strip()
    kinds: list[str] = []
    m = _DATA_URI.match(s)
    if m:
        return ["image_bytes"] if (m.group(1) or "").lower().startswith(("image/", "video/")) else ["base64"]
    if s.encode("latin-1", "ignore").startswith(_IMAGE_MAGIC[:6]) and any(
        ord(c) < 9 or ord(c) > 127 for c in s[:8]
    ):
        return ["image_bytes"]
    if len(s) >= 40 and " " not in s and _BASE64.match(s) and not _HEX.match(s):
        mixed = any(c.isdigit() for c in s) + any(c.isupper() for c in s) + any(c.islower() for c in s)
        if mixed == 3 or s.endswith("="):
            raw = _decoded_prefix(s)
            kinds.append("image_bytes" if raw and raw.startswith(_IMAGE_MAGIC[:7]) else "base64")
            return kinds
    if len(s) > 128 and _HEX.match(s):
        return ["base64"]
    if " " not in s and (_PATH.search(s) or _UNIX_PATH.match(s)):
        kinds.append("path")
    if _COORDS.match(s) or _DMS.search(s) or s.lower().startswith("geo:"):
        kinds.append("gps")
    if (
        _EMAIL.search(s)
        or _IPV4.match(s)
        or (":" in s and _IPV6.match(s) and s.count(":") >= 2 and len(s) > 6)
    ):
        kinds.append("identifier")
    elif _MAC.match(s) or _PHONE.match(s):
        kinds.append("identifier")
    words = s.split()
    if len(words) >= 5 and len(s) >= 24 and sum(w.isalpha() for w in words) >= 3:
        kinds.append("free_text")
    return kinds


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _list_kinds(values: list[Any]) -> list[str]:
    if len(values) >= 64 and all(
        isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 255 for v in values
    ):
        return ["image_bytes"]
    if len(values) == 2 and all(isinstance(v, float) for v in values):
        lat, lon = values
        decimals = all(len(repr(abs(v)).split(".")[-1]) >= 4 for v in values)
        in_range = abs(lat) <= 90 and abs(lon) <= 180
        unit = all(0.0 <= v <= 1.0 for v in values)  # scores and normalised coordinates, not places
        if decimals and in_range and not unit:
            return ["gps"]
    return []


def _dict_kinds(value: dict[str, Any]) -> list[str]:
    tokens = set().union(*(key_tokens(str(k)) for k in value)) if value else set()
    if tokens & {"lat", "latitude"} and tokens & {"lon", "lng", "long", "longitude"}:
        return ["gps"]
    return []


def classify_value(key: str | None, value: Any) -> list[str]:
    """Kinds of forbidden content that ``value`` (under field ``key``) carries; ``[]`` when none.

    Looks at this value only; use :func:`scan` to walk nested objects and lists.
    """
    if value is None or isinstance(value, bool):
        return []
    kinds: list[str] = []
    if isinstance(value, (bytes, bytearray, memoryview)):
        kinds.append("image_bytes" if bytes(value[:8]).startswith(_IMAGE_MAGIC[:7]) else "base64")
    elif isinstance(value, str):
        kinds.extend(_string_kinds(value))
    elif isinstance(value, list):
        kinds.extend(_list_kinds(value))
        if key and len(value) >= 64 and all(_is_number(v) for v in value) and "face" in classify_key(key):
            kinds.append("face")
    elif isinstance(value, dict):
        kinds.extend(_dict_kinds(value))
    if key:
        found = bool(kinds)
        for kind in classify_key(key):
            if found and kind in ("image_bytes", "base64", "face"):
                continue  # "frame": "/x/f.jpg" is a path, not pixels
            if kind not in kinds and isinstance(value, _HINT_TYPES[kind]) and _hint_applies(kind, value):
                kinds.append(kind)
    return [k for k in KINDS if k in kinds]


def _hint_applies(kind: str, value: Any) -> bool:
    if isinstance(value, str) and not value.strip():
        return False
    if kind in ("image_bytes", "base64", "face") and isinstance(value, (str, list)):
        return len(value) >= 16  # a short label such as "frame": "left" carries no pixels
    if kind == "gps" and isinstance(value, str):
        return bool(re.search(r"\d", value))
    return True


def scan(value: Any, path: str = "$", key: str | None = None) -> Iterator[tuple[str, str]]:
    """Every ``(json_path, kind)`` found in a payload, walking dicts and lists."""
    if isinstance(value, dict):
        inner = [hit for k, v in value.items() for hit in scan(v, f"{path}.{k}", str(k))]
        found = {kind for _, kind in inner}
        # {"lat": .., "lon": ..} is reported at its fields; the object itself only for what they miss
        for kind in classify_value(key, value):
            if kind not in found:
                yield path, kind
        yield from inner
        return
    for kind in classify_value(key, value):
        yield path, kind
    if isinstance(value, list) and not _list_kinds(value):
        for i, v in enumerate(value):
            yield from scan(v, f"{path}[{i}]", key)
