"""Malformed and hostile input: "cannot verify", bounded work, nothing written; atomic file output."""

from __future__ import annotations

import os
import struct
import tracemalloc
import zlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.core.metadata import builders as b
from veilcv.core.metadata import MetadataError, check_bytes, check_file, strip_bytes, strip_file
from veilcv.core.metadata import jpeg as jpeg_mod
from veilcv.core.metadata.families import MAX_TEXT_CHUNK
from veilcv.errors import InputError, UnsupportedFormatError, VeilcvError


def bomb_png(size: int = 64 * 1024 * 1024) -> bytes:
    payload = zlib.compress(b"\x00" * size, 9)  # ~64 KiB that inflates to 64 MiB
    return b.png_with(b.png_chunk(b"zTXt", b"bomb\x00\x00" + payload))


def test_ztxt_bomb_fails_bounded() -> None:
    data = bomb_png()
    tracemalloc.start()
    report = check_bytes(data)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert report.error is not None and "decompression bomb" in report.error
    assert peak < 4 * MAX_TEXT_CHUNK + 4 * len(data)  # never inflated past the cap
    with pytest.raises(UnsupportedFormatError, match="cannot verify"):
        strip_bytes(data)


def test_many_small_text_chunks_share_one_budget() -> None:
    chunk = b.png_chunk(b"zTXt", b"k\x00\x00" + zlib.compress(b"\x00" * (MAX_TEXT_CHUNK - 10)))
    report = check_bytes(b.png_with(*[chunk] * 9))
    assert report.error is not None and "per file" in report.error


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b.encode("JPEG")[:-40], "truncated JPEG"),
        (b.encode("JPEG")[:2] + b"\xff\xe1\xff\xff" + b"x" * 10, "runs past the end"),
        (b"\xff\xd8\xff\xd9", "no frame header"),
        (b.encode("PNG")[:-8] + b"\x00" * 8, "bad CRC"),
        (b.encode("PNG")[:40], "truncated PNG"),
        (b.png_with(b.png_chunk(b"ABCD", b"x")), "unknown critical PNG chunk"),
        (b.encode("WEBP")[:30], "does not match the file size"),
        (b"RIFF\x04\x00\x00\x00WEBPxxxx", "expected a RIFF/WEBP header"),
        (b"MM\x00\x2a\x00\x00\x00\x08\x00\x01" + b"\x00" * 6, "TIFF structure"),
        (b"MM\x00\x2a\x00\x00\x00\x08\x00\x00\x00\x00\x00\x08", "IFD loop"),
        (b.encode("GIF")[:-20], "truncated GIF"),
        (b"\x00\x00\x00\x18ftypheic" + b"\x00" * 16, "HEIF/AVIF"),
        (b"BM" + b"\x00" * 60, "BMP header size 0"),
        (b.encode("BMP")[:-10], "BMP pixel data"),
        (b"hello, world", "unsupported format"),
        (b"", "unsupported format"),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_malformed_or_unsupported_is_cannot_verify(data: bytes, message: str) -> None:
    report = check_bytes(data)
    assert not report.clean and report.error is not None
    assert report.error.startswith("cannot verify: ") and message in report.error
    assert "\n" not in report.error
    with pytest.raises(VeilcvError, match=message):
        strip_bytes(data)


def test_tiff_ifd_loop_via_next_pointer_terminates() -> None:
    ifd = struct.pack(">H", 1) + struct.pack(">HHII", 256, 4, 1, 1) + struct.pack(">I", 8)
    report = check_bytes(b"MM\x00\x2a\x00\x00\x00\x08" + ifd)
    assert report.error is not None and "loop" in report.error


def test_camera_raw_suffix_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "shot.dng"
    path.write_bytes(b.full_tiff())
    report = check_file(path)
    assert report.error is not None and "camera raw" in report.error


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_mutated_files_never_crash_and_never_pass_dirty(data: st.DataObject) -> None:
    make = data.draw(st.sampled_from([b.full_jpeg, b.full_png, b.full_webp, b.full_gif, b.full_tiff]))
    raw = bytearray(make())
    for _ in range(data.draw(st.integers(1, 6))):
        pos = data.draw(st.integers(0, len(raw) - 1))
        raw[pos] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(len(raw) // 2, len(raw)))
    mutated = bytes(raw[:cut])
    report = check_bytes(mutated)  # must not raise
    assert report.error is not None or report.findings is not None
    try:
        out = strip_bytes(mutated)
    except VeilcvError:
        return
    assert check_bytes(out).clean


def test_strip_file_to_other_path_leaves_input(tmp_path: Path) -> None:
    src = tmp_path / "in.jpg"
    src.write_bytes(b.full_jpeg())
    before = src.read_bytes()
    result = strip_file(src, tmp_path / "out" / "in.jpg")
    assert src.read_bytes() == before
    assert result.changed and not result.reencoded and result.format == "JPEG"
    assert check_file(tmp_path / "out" / "in.jpg").clean
    assert {f.family.value for f in result.removed} >= {"gps", "exif", "thumbnail"}


def test_in_place_clean_file_is_not_rewritten(tmp_path: Path) -> None:
    src = tmp_path / "clean.png"
    src.write_bytes(b.encode("PNG"))
    inode, mtime = src.stat().st_ino, src.stat().st_mtime_ns
    result = strip_file(src, src)
    assert not result.changed
    assert (src.stat().st_ino, src.stat().st_mtime_ns) == (inode, mtime)


def test_in_place_strip_keeps_permissions(tmp_path: Path) -> None:
    src = tmp_path / "photo.webp"
    src.write_bytes(b.full_webp())
    os.chmod(src, 0o640)
    assert strip_file(src, src).changed
    assert src.stat().st_mode & 0o777 == 0o640 and check_file(src).clean


def test_unverifiable_input_writes_nothing(tmp_path: Path) -> None:
    src = tmp_path / "bomb.png"
    src.write_bytes(bomb_png())
    dst = tmp_path / "out" / "bomb.png"
    with pytest.raises(InputError, match=r"bomb\.png: cannot verify"):
        strip_file(src, dst)
    assert not dst.exists() and not list(tmp_path.glob("out/.*"))
    with pytest.raises(InputError):
        strip_file(src, src)
    assert src.read_bytes() == bomb_png()


def test_output_that_fails_the_recheck_is_removed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Simulate a stripper bug: the builder returns its input. The re-check must catch it.
    monkeypatch.setattr(jpeg_mod, "build", lambda parsed, allowed: b"".join(bl.data for bl in parsed.blocks))
    src = tmp_path / "gps.jpg"
    src.write_bytes(b.full_jpeg())
    dst = tmp_path / "out.jpg"
    dst.write_bytes(b"previous")
    with pytest.raises(MetadataError, match="still fails the check"):
        strip_file(src, dst)
    assert dst.read_bytes() == b"previous"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gps.jpg", "out.jpg"]


def test_missing_file_is_cannot_verify(tmp_path: Path) -> None:
    report = check_file(tmp_path / "nope.jpg")
    assert report.error is not None and report.error.startswith("cannot verify: cannot read")


def test_fifo_named_like_an_image_is_refused_not_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.jpg"
    os.mkfifo(fifo)  # opening it for reading without a writer would block forever
    report = check_file(fifo)
    assert (
        report.error == "cannot verify: expected an image file, got a special file (FIFO, socket or device)"
    )
    with pytest.raises(InputError, match="pipe.jpg: expected an image file, got a special file"):
        strip_file(fifo, tmp_path / "out.jpg")
    assert not (tmp_path / "out.jpg").exists()


def test_empty_file_and_folder_are_named_as_such(tmp_path: Path) -> None:
    (tmp_path / "empty.jpg").write_bytes(b"")
    (tmp_path / "dir.png").mkdir()
    assert check_file(tmp_path / "empty.jpg").error == (
        "cannot verify: expected an image, got an empty file (0 bytes)"
    )
    assert check_file(tmp_path / "dir.png").error == "cannot verify: expected an image file, got a folder"


def test_unreadable_file_is_cannot_verify(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # chmod 000 does not stop root, so make the open itself fail.
    path = tmp_path / "secret.jpg"
    path.write_bytes(b.full_jpeg())

    def denied(*args: object, **kwargs: object) -> int:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(os, "open", denied)
    assert check_file(path).error == "cannot verify: cannot read: Permission denied"


def test_unwritable_destination_is_one_line_input_error(tmp_path: Path) -> None:
    src = tmp_path / "gps.jpg"
    src.write_bytes(b.full_jpeg())
    blocker = tmp_path / "file"
    blocker.write_text("a file where a folder should be")
    with pytest.raises(InputError, match=r"file/out/gps.jpg: cannot write the output: "):
        strip_file(src, blocker / "out" / "gps.jpg")
    with pytest.raises(InputError, match="expected an output file path, got a folder"):
        strip_file(src, tmp_path)
    assert src.read_bytes() == b.full_jpeg()


def test_in_place_through_a_symlink_strips_the_real_file(tmp_path: Path) -> None:
    real = tmp_path / "real.jpg"
    real.write_bytes(b.full_jpeg())
    link = tmp_path / "link.jpg"
    link.symlink_to("real.jpg")
    strip_file(link, link)
    assert link.is_symlink() and os.readlink(link) == "real.jpg"
    assert check_file(real).clean


_MARKER_RE = __import__("re").compile(rb"\xff+(?=[^\x00\xd0-\xd7\xff])")


@settings(max_examples=400, deadline=None)
@given(
    st.lists(st.sampled_from([0xFF, 0x00, 0xD0, 0xD7, 0xD8, 0xD9, 0xC4, 0x12]), max_size=24).map(bytes),
    st.integers(0, 24),
)
def test_scan_end_agrees_with_the_marker_rule(data: bytes, pos: int) -> None:
    """The scan-end search equals the rule as a regular expression: a run of 0xFF bytes whose next
    byte is not a stuffed 0x00, a restart marker or another 0xFF; offset of the run's first byte."""
    pos = min(pos, len(data))
    hit = _MARKER_RE.search(data, pos)
    assert jpeg_mod.scan_end(data, pos) == (hit.start() if hit else -1)
