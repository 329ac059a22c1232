"""``veilcv.Redactor`` with the real face model: arrays, bytes and files, many threads, as `veil redact`."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import numpy as np
import pytest

import veilcv
from veilcv.cli.main import main
from veilcv.core.media import decode_image
from veilcv.errors import InputError, ModelError, ValidationError

skimage_data = pytest.importorskip("skimage.data")

# The core of the astronaut's face in skimage's 512x512 photo: black after any redaction.
FACE_CORE = (200, 90, 250, 150)


@pytest.fixture(scope="module")
def redactor() -> veilcv.Redactor:
    r = veilcv.Redactor(what="faces")
    try:
        r.load(threads=2)
    except ModelError as exc:
        pytest.skip(f"face model unavailable: {exc}")
    return r


@pytest.fixture(scope="module")
def astronaut_png() -> Path:
    return Path(str(skimage_data.__file__)).parent / "astronaut.png"


def covered(pixels: np.ndarray) -> bool:
    x0, y0, x1, y1 = FACE_CORE
    return int(pixels[y0:y1, x0:x1, :3].max()) <= 16


def test_redact_an_rgb_array(redactor: veilcv.Redactor) -> None:
    rgb = skimage_data.astronaut()
    res = redactor.redact(rgb, channels="rgb")
    assert covered(res.pixels) and res.residuals == ()
    assert [r.label for r in res.regions] == ["face"] and [d.label for d in res.detections] == ["face"]
    x0, y0, x1, y1 = res.regions[0].box
    assert x0 <= FACE_CORE[0] and y0 <= FACE_CORE[1] and x1 >= FACE_CORE[2] and y1 >= FACE_CORE[3]
    # only the face changed, and the channel order came back as given
    outside = np.ones(rgb.shape[:2], bool)
    outside[y0:y1, x0:x1] = False
    assert np.array_equal(res.pixels[outside], rgb[outside])


def test_bgr_and_rgb_inputs_give_the_same_redaction(redactor: veilcv.Redactor) -> None:
    rgb = skimage_data.astronaut()
    from_rgb = redactor.redact(rgb, channels="rgb")
    from_bgr = redactor.redact(rgb[:, :, ::-1])  # a negative-stride view: accepted, copied
    assert from_rgb.regions == from_bgr.regions
    assert np.array_equal(from_rgb.pixels, from_bgr.pixels[:, :, ::-1])


def test_one_redactor_serves_many_threads_with_the_same_result(redactor: veilcv.Redactor) -> None:
    rgb = skimage_data.astronaut()
    alone = redactor.redact(rgb, channels="rgb")
    results: list[veilcv.RedactionResult] = []
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def work() -> None:
        start.wait()
        try:
            for _ in range(2):
                results.append(redactor.redact(rgb, channels="rgb"))
        except BaseException as exc:  # reported below: a thread's exception is otherwise lost
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and len(results) == 8
    for res in results:
        assert res.regions == alone.regions and covered(res.pixels)
        assert np.array_equal(res.pixels, alone.pixels)


def test_redact_bytes_returns_a_verified_metadata_free_image(
    redactor: veilcv.Redactor, astronaut_png: Path
) -> None:
    out, record = redactor.redact_bytes(astronaut_png.read_bytes(), ".png")
    assert record.ok and record.regions == {"face": 1} and record.residuals == []
    assert covered(decode_image(out)) and veilcv.meta.check(out).clean


def test_redact_file_is_what_veil_redact_writes(
    redactor: veilcv.Redactor, astronaut_png: Path, tmp_path: Path
) -> None:
    # The command line and the API share one options check and one per-file pipeline: same bytes.
    record = redactor.redact_file(astronaut_png, tmp_path / "api" / "astronaut.png")
    report = tmp_path / "report.json"
    argv = ["redact", str(astronaut_png), "-o", str(tmp_path / "cli"), "--what", "faces", "-q"]
    assert main([*argv, "--report", str(report)]) == 0
    cli = json.loads(report.read_text())
    written = (tmp_path / "cli" / "astronaut.png").read_bytes()
    assert written == (tmp_path / "api" / "astronaut.png").read_bytes()
    (entry,) = cli["files"]
    assert entry["output_sha256"] == record.output_sha256 and entry["regions"] == record.regions
    assert entry["detections"] == record.detections
    header = redactor.describe()
    assert header["models"] == cli["models"] and header["thresholds"] == cli["thresholds"]


def test_redact_file_refuses_what_it_cannot_verify(redactor: veilcv.Redactor, tmp_path: Path) -> None:
    src = tmp_path / "notes.txt"
    src.write_text("not an image")
    with pytest.raises(InputError, match="expected an image or video file"):
        redactor.redact_file(src, tmp_path / "out.txt")
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe0 truncated")
    with pytest.raises(veilcv.VeilcvError, match="broken.jpg"):
        redactor.redact_file(bad, tmp_path / "out.jpg")
    assert not (tmp_path / "out.jpg").exists() and not (tmp_path / "out.txt").exists()


def test_redact_files_goes_on_past_a_failed_file(
    redactor: veilcv.Redactor, astronaut_png: Path, tmp_path: Path
) -> None:
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    coffee = astronaut_png.parent / "coffee.png"
    pairs = [
        (astronaut_png, tmp_path / "out" / "a.png"),
        (bad, tmp_path / "out" / "b.png"),
        (coffee, tmp_path / "out" / "c.png"),
    ]
    records = {Path(r.input).name: r for r in redactor.redact_files(iter(pairs), threads=2)}
    assert set(records) == {"astronaut.png", "broken.png", "coffee.png"}
    assert records["astronaut.png"].ok and records["astronaut.png"].regions == {"face": 1}
    assert records["coffee.png"].ok and records["coffee.png"].regions == {"face": 0}
    assert not records["broken.png"].ok and str(bad) in str(records["broken.png"].error)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "a.png",
        "c.png",
    ]  # nothing for the failed one
    assert covered(decode_image((tmp_path / "out" / "a.png").read_bytes()))
    with pytest.raises(ValidationError, match="pairs: expected \\(src, dst\\) pairs of paths, got 'a.png'"):
        list(redactor.redact_files(["a.png"]))
