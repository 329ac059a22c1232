"""Fuzzing the metadata parsers directly (the API's catch-all would hide their crashes).

Each format's walker gets mutated real files (byte flips, cuts, spliced copies of its own
segments, random tails) and must either parse or raise the project's own ``Malformed`` /
``Unsupported`` errors: an ``IndexError`` or ``struct.error`` escaping a walker is a bug, even
though :func:`veilcv.core.metadata.check_bytes` turns it into "cannot verify". Whatever parses must
also rebuild into a file the checker calls clean, or fail with a :class:`VeilcvError`.

The budget is small and fixed (``max_examples`` per test, no deadline) so the suite stays a few
seconds in CI; run with ``--hypothesis-seed`` to replay a failure.
"""

from __future__ import annotations

from collections.abc import Callable

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.core.metadata import builders as b
from veilcv.core.metadata import api, bmp, gif, jpeg, png, tiff, webp
from veilcv.core.metadata.families import DEFAULT_ALLOWED, Malformed
from veilcv.errors import UnsupportedFormatError, VeilcvError

SEEDS: dict[str, tuple[Callable[[], bytes], Callable[[bytes], object]]] = {
    "JPEG": (b.full_jpeg, jpeg.parse),
    "PNG": (b.full_png, png.parse),
    "WEBP": (b.full_webp, webp.parse),
    "GIF": (b.full_gif, gif.parse),
    "TIFF": (b.full_tiff, tiff.parse),
    "BMP": (lambda: b.bmp_v5_with_profile(linked=True, trailer=b"tail"), bmp.parse),
}
_SEED_BYTES: dict[str, bytes] = {}
FUZZ = settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=False
)


def _seed(fmt: str) -> bytes:
    if fmt not in _SEED_BYTES:
        _SEED_BYTES[fmt] = SEEDS[fmt][0]()
    return _SEED_BYTES[fmt]


@st.composite
def mutated(draw: st.DrawFn) -> tuple[str, bytes]:
    fmt = draw(st.sampled_from(sorted(SEEDS)))
    raw = bytearray(_seed(fmt))
    for _ in range(draw(st.integers(0, 4))):
        kind = draw(st.sampled_from(["flip", "cut", "splice", "tail", "zero-run"]))
        pos = draw(st.integers(0, max(0, len(raw) - 1)))
        if kind == "flip" and raw:
            raw[pos] = draw(st.integers(0, 255))
        elif kind == "cut":
            del raw[pos : pos + draw(st.integers(1, 64))]
        elif kind == "splice":  # repeat a slice elsewhere: duplicate segments, chunks, IFD entries
            start = draw(st.integers(0, max(0, len(raw) - 1)))
            raw[pos:pos] = raw[start : start + draw(st.integers(1, 48))]
        elif kind == "tail":
            raw += draw(st.binary(min_size=1, max_size=64))
        else:  # lengths and offsets of zero or 0xFFFF... are the classic edge cases
            raw[pos : pos + 4] = draw(st.sampled_from([b"\x00\x00\x00\x00", b"\xff\xff\xff\xff"]))
    return fmt, bytes(raw)


@FUZZ
@given(case=mutated())
def test_format_parsers_raise_only_their_own_errors(case: tuple[str, bytes]) -> None:
    fmt, data = case
    parse = SEEDS[fmt][1]
    try:
        parsed = parse(data)
    except (Malformed, UnsupportedFormatError):
        return
    findings = parsed.findings(DEFAULT_ALLOWED)  # type: ignore[attr-defined]
    assert all(f.family is not None for f in findings)


@FUZZ
@given(case=mutated())
def test_strip_of_a_mutated_file_is_clean_or_a_veilcv_error(case: tuple[str, bytes]) -> None:
    _, data = case
    assert api.sniff(data) in (None, *SEEDS, "HEIF")
    try:
        out = api.strip_bytes(data)
    except VeilcvError:
        return
    assert api.check_bytes(out).clean


@settings(max_examples=80, deadline=None)
@given(fmt=st.sampled_from(sorted(SEEDS)), body=st.binary(max_size=256))
def test_magic_then_noise_is_refused_not_crashed(fmt: str, body: bytes) -> None:
    head = _seed(fmt)[:12]
    try:
        SEEDS[fmt][1](head + body)
    except (Malformed, UnsupportedFormatError):
        pass
