"""MP4/MOV: location, device, dates, XMP, cover art, extra tracks and mdat slack; strip copies the streams."""

from __future__ import annotations

import struct
import subprocess
from pathlib import Path

import pytest

from tests.core.metadata.oracle import exiftool, leaks, read_tags
from veilcv.cli.main import main
from veilcv.core.ffmpeg import ffmpeg_exe
from veilcv.core.metadata import Family, check_file, strip_file
from veilcv.core.metadata.mp4 import XMP_UUID
from veilcv.errors import InputError

F = Family
FFMPEG = ffmpeg_exe()
pytestmark = pytest.mark.skipif(FFMPEG is None, reason="the imageio-ffmpeg binary is not installed")
XMP = (
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF><rdf:Description exif:GPSLatitude="47,7.39N"/>'
    b"</rdf:RDF></x:xmpmeta>"
)


def ffmpeg(*args: str) -> None:
    proc = subprocess.run([FFMPEG, "-nostdin", "-v", "error", "-y", *args], capture_output=True, timeout=120)
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")


def phone_clip(path: Path, *extra: str) -> Path:
    """A one-second H.264 + AAC clip tagged like a phone's: location, make, model, dates, handler name."""
    ffmpeg(
        "-f", "lavfi", "-i", "testsrc=size=64x48:rate=10",
        "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=22050",
        *extra,
        "-t", "1", "-c:v", "libx264", "-c:a", "aac",
        "-metadata", "location=+47.1234+008.5310/",
        "-metadata", "creation_time=2024-05-01T10:00:00Z",
        "-metadata", "com.apple.quicktime.location.ISO6709=+47.1234+008.5310+400.000/",
        "-metadata", "com.apple.quicktime.make=Apple",
        "-metadata", "com.apple.quicktime.model=iPhone 15",
        "-metadata", "com.apple.quicktime.camera.identifier=SN-998877",
        "-metadata:s:v", "handler_name=Jane's video",
        "-movflags", "use_metadata_tags", str(path),
    )  # fmt: skip
    return path


def stream_md5(path: Path, kind: str, *, decoded: bool = False) -> str:
    """MD5 of a stream's coded packets (or, ``decoded``, of its first decoded frames)."""
    copy = ["-frames", "40"] if decoded else ["-c", "copy"]  # (40 decoded frames say enough)
    cmd = [FFMPEG, "-nostdin", "-v", "error", "-i", str(path), "-map", f"0:{kind}", *copy, "-f", "md5", "-"]
    proc = subprocess.run(cmd, capture_output=True, timeout=120)
    assert proc.returncode == 0
    return proc.stdout.decode().strip()


def packet_count(path: Path, kind: str) -> int:
    cmd = [
        FFMPEG,
        "-nostdin",
        "-v",
        "error",
        "-i",
        str(path),
        "-map",
        f"0:{kind}",
        "-c",
        "copy",
        "-f",
        "framecrc",
        "-",
    ]
    proc = subprocess.run(cmd, capture_output=True, timeout=120)
    return sum(line.startswith("0,") for line in proc.stdout.decode().splitlines())


@pytest.mark.parametrize("suffix", [".mov", ".mp4"])
def test_phone_clip_reports_location_device_and_dates(tmp_path: Path, suffix: str) -> None:
    report = check_file(phone_clip(tmp_path / f"clip{suffix}"))
    assert report.error is None
    assert {F.GPS, F.IDENTIFYING, F.VIDEO_TAGS} <= report.families
    text = "\n".join(str(f) for f in report.findings)
    assert "com.apple.quicktime.location.ISO6709" in text and "47.1234" not in text
    assert "creation/modification time" in text and "handler name" in text


@pytest.mark.parametrize("suffix", [".mov", ".mp4"])
def test_strip_copies_the_streams_and_leaves_nothing(tmp_path: Path, suffix: str) -> None:
    src = phone_clip(tmp_path / f"clip{suffix}")
    dst = tmp_path / "out" / f"clip{suffix}"
    result = strip_file(src, dst)
    assert result.changed and not result.reencoded and F.GPS in {f.family for f in result.removed}
    assert check_file(dst).clean
    assert stream_md5(dst, "a") == stream_md5(src, "a")  # the audio packets, byte for byte
    # the video packets: the same pictures (x264's SEI note is filtered out), not re-encoded
    assert packet_count(dst, "v") == packet_count(src, "v")
    assert stream_md5(dst, "v", decoded=True) == stream_md5(src, "v", decoded=True)
    assert b"x264" in src.read_bytes() and b"x264" not in dst.read_bytes()
    data = dst.read_bytes()
    for gone in (b"47.1234", b"iPhone", b"SN-998877", b"Jane", b"\xa9xyz"):
        assert gone not in data


def test_xmp_uuid_box_cover_art_and_subtitle_track_are_reported_and_dropped(tmp_path: Path) -> None:
    cover = tmp_path / "cover.png"
    ffmpeg("-f", "lavfi", "-i", "color=red:size=16x16", "-frames:v", "1", str(cover))
    subs = tmp_path / "subs.srt"
    subs.write_text("1\n00:00:00,000 --> 00:00:00,900\nat home, 12 Main Street\n")
    src = tmp_path / "clip.mp4"
    ffmpeg(
        "-f", "lavfi", "-i", "testsrc=size=64x48:rate=10", "-i", str(cover), "-i", str(subs),
        "-map", "0:v", "-map", "1:v", "-map", "2:s", "-t", "1",
        "-c:v:0", "libx264", "-c:v:1", "png", "-c:s", "mov_text",
        "-disposition:v:1", "attached_pic", str(src),
    )  # fmt: skip
    xmp = struct.pack(">I", 24 + len(XMP)) + b"uuid" + XMP_UUID + XMP
    src.write_bytes(src.read_bytes() + xmp)
    report = check_file(src)
    assert {F.XMP, F.XMP_GPS, F.VIDEO_TAGS} <= report.families
    dst = tmp_path / "clean.mp4"
    strip_file(src, dst)
    assert check_file(dst).clean
    data = dst.read_bytes()
    assert XMP_UUID not in data and b"Main Street" not in data and b"covr" not in data
    assert stream_md5(dst, "v:0", decoded=True) == stream_md5(src, "v:0", decoded=True)


def test_bytes_in_mdat_that_no_track_reads_are_reported(tmp_path: Path) -> None:
    src = tmp_path / "clip.mp4"
    ffmpeg(
        "-f",
        "lavfi",
        "-i",
        "testsrc=size=64x48:rate=10",
        "-t",
        "1",
        "-c:v",
        "libx264",
        "-movflags",
        "+faststart",
        str(src),
    )
    data = src.read_bytes()
    at = data.rindex(b"mdat") - 4  # faststart: mdat is the last box, so it can grow at the end
    secret = b"GPS 47.1234N 8.5310E SN-998877"
    (size,) = struct.unpack_from(">I", data, at)
    src.write_bytes(data[:at] + struct.pack(">I", size + len(secret)) + data[at + 4 :] + secret)
    report = check_file(src)
    assert any(f.family is F.OTHER and "no track reads" in f.detail for f in report.findings)
    strip_file(src, tmp_path / "clean.mp4")
    assert secret not in (tmp_path / "clean.mp4").read_bytes()


def test_broken_video_is_cannot_verify_and_not_written(tmp_path: Path) -> None:
    src = tmp_path / "broken.mov"
    src.write_bytes(b"\x00\x00\x00\x18ftypqt  " + bytes(12) + b"\x00\x00\x10\x00moov")
    assert check_file(src).error is not None
    with pytest.raises(InputError, match="cannot verify"):
        strip_file(src, tmp_path / "out.mov")
    assert not (tmp_path / "out.mov").exists()


def test_cli_checks_and_strips_videos_in_a_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shoot = tmp_path / "shoot"
    shoot.mkdir()
    phone_clip(shoot / "IMG_0001.MOV")
    assert main(["meta", "check", str(shoot)]) == 1
    assert "IMG_0001.MOV: gps: location" in capsys.readouterr().out
    assert main(["meta", "strip", str(shoot), "-o", str(tmp_path / "clean")]) == 0
    assert main(["meta", "check", str(tmp_path / "clean")]) == 0


def test_stripped_videos_hold_nothing_for_exiftool(tmp_path: Path) -> None:
    exiftool()
    src = phone_clip(tmp_path / "clip.mov")
    assert any("GPS" in k for k in leaks(read_tags([src])[src]))  # the oracle sees the location
    strip_file(src, tmp_path / "clean.mov")
    tags = read_tags([tmp_path / "clean.mov"])[tmp_path / "clean.mov"]
    assert leaks(tags) == []
    dates = {k: v for k, v in tags.items() if k.endswith(("CreateDate", "ModifyDate")) and "System:" not in k}
    assert dates and set(dates.values()) <= {0, "0000:00:00 00:00:00"}  # the movie's dates are zeroed


def tkhd_matrix(path: Path) -> bytes:
    data = path.read_bytes()
    at = data.index(b"tkhd") + 4  # version 0: the matrix follows 40 bytes of times, ids and volume
    assert data[at] == 0
    return data[at + 40 : at + 76]


def test_rotation_survives_the_strip(tmp_path: Path) -> None:
    plain = tmp_path / "plain.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc=size=64x48:rate=10", "-t", "1", "-c:v", "libx264", str(plain))
    src = tmp_path / "rotated.mp4"
    ffmpeg("-display_rotation", "90", "-i", str(plain), "-c", "copy", str(src))
    assert tkhd_matrix(src) != tkhd_matrix(plain)
    strip_file(src, tmp_path / "clean.mp4")
    assert tkhd_matrix(tmp_path / "clean.mp4") == tkhd_matrix(src)  # viewers turn it as before


def _strip_clips(shared_data: Path, tmp_path: Path) -> list[tuple[Path, Path]]:
    clips = sorted((shared_data / "video_smoke_egoblur").glob("gen*/*.mp4"))
    if not clips:
        pytest.skip("video_smoke_egoblur not present")
    pairs = []
    for src in clips:
        dst = tmp_path / src.parent.name / src.name
        strip_file(src, dst)
        pairs.append((src, dst))
    return pairs


@pytest.mark.shared_data
def test_real_clips_strip_clean_with_their_streams_copied(shared_data: Path, tmp_path: Path) -> None:
    for src, dst in _strip_clips(shared_data, tmp_path):
        assert check_file(dst).clean, src.name
        assert packet_count(dst, "v") == packet_count(src, "v"), src.name  # copied, not re-encoded
        assert stream_md5(dst, "v", decoded=True) == stream_md5(src, "v", decoded=True), src.name


@pytest.mark.shared_data
def test_real_clips_strip_clean_for_exiftool(shared_data: Path, tmp_path: Path) -> None:
    exiftool()
    written = [dst for _src, dst in _strip_clips(shared_data, tmp_path)]
    assert {p.name: leaks(t) for p, t in read_tags(written).items() if leaks(t)} == {}


def test_sei_user_data_in_the_video_is_reported_and_filtered(tmp_path: Path) -> None:
    # x264 writes its version and settings as user-data SEI; any bytes could sit there instead.
    src = tmp_path / "clip.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc=size=64x48:rate=10", "-t", "1", "-c:v", "libx264", str(src))
    assert b"x264" in src.read_bytes()
    report = check_file(src)
    assert any(f.family is F.OTHER and "SEI" in f.detail for f in report.findings)
    strip_file(src, tmp_path / "clean.mp4")
    assert check_file(tmp_path / "clean.mp4").clean and b"x264" not in (tmp_path / "clean.mp4").read_bytes()


def test_timecode_track_is_reported_and_dropped(tmp_path: Path) -> None:
    src = tmp_path / "tc.mov"
    ffmpeg(
        "-f",
        "lavfi",
        "-i",
        "testsrc=size=64x48:rate=10",
        "-t",
        "1",
        "-c:v",
        "libx264",
        "-timecode",
        "01:02:03:04",
        str(src),
    )
    assert any("timecode track" in f.detail for f in check_file(src).findings)
    strip_file(src, tmp_path / "clean.mov")
    assert check_file(tmp_path / "clean.mov").clean
