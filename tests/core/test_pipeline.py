"""End-to-end redaction with the real face model: faces covered, outputs verified and metadata-free."""

from __future__ import annotations

import io
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from veilcv.core import metadata
from veilcv.core.media import decode_image, encode_image
from veilcv.core.pipeline import RedactOptions, Redactor, sha256_file
from veilcv.errors import InputError, ModelError

skimage_data = pytest.importorskip("skimage.data")

# Where the astronaut's face is in skimage's 512x512 photo (checked by eye; the detector's box is
# about (175, 55, 275, 179)). The core of it must end up black.
FACE = (185, 70, 265, 170)


@pytest.fixture(scope="module")
def redactor() -> Redactor:
    # Exact residual counts below: the precision is pinned (test_verify_precisions.py covers the rest).
    r = Redactor(RedactOptions(what=("face",), precision="f32"))
    try:
        r.load()
    except ModelError as exc:
        pytest.skip(f"face model unavailable: {exc}")
    return r


def astronaut_bgr() -> np.ndarray:
    return np.ascontiguousarray(skimage_data.astronaut()[:, :, ::-1])


def face_crop() -> np.ndarray:
    return astronaut_bgr()[40:200, 160:290]


def black(img: np.ndarray, box: tuple[int, int, int, int], shrink: float = 0.2) -> bool:
    x0, y0, x1, y1 = box
    dx, dy = int((x1 - x0) * shrink), int((y1 - y0) * shrink)
    return int(img[y0 + dy : y1 - dy, x0 + dx : x1 - dx, :3].max()) <= 16


def generated_scene() -> tuple[np.ndarray, list[tuple[int, int, int, int]]]:
    """A 960x640 synthetic street-ish background with the face pasted at three sizes."""
    h, w = 640, 960
    yy, xx = np.mgrid[0:h, 0:w]
    bg = np.stack([(xx * 255 // w), (yy * 255 // h), np.full_like(xx, 120)], axis=2).astype(np.uint8)
    rng = np.random.default_rng(0)
    bg = np.clip(bg.astype(int) + rng.integers(-8, 8, bg.shape), 0, 255).astype(np.uint8)
    crop = face_crop()
    faces = []
    for (x, y), scale in (((60, 80), 1.0), ((420, 300), 0.7), ((760, 120), 0.5)):
        c = cv2.resize(crop, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        bg[y : y + c.shape[0], x : x + c.shape[1]] = c
        # the face inside the crop: crop offset (160, 40) vs FACE
        fx0, fy0 = x + int((FACE[0] - 160) * scale), y + int((FACE[1] - 40) * scale)
        fx1, fy1 = x + int((FACE[2] - 160) * scale), y + int((FACE[3] - 40) * scale)
        faces.append((fx0, fy0, fx1, fy1))
    return bg, faces


def test_astronaut_face_is_covered(redactor: Redactor) -> None:
    path = Path(str(skimage_data.__file__)).parent / "astronaut.png"
    out, res = redactor.redact_bytes(path.read_bytes(), ".png", name="astronaut.png")
    img = decode_image(out)
    assert black(img, FACE, shrink=0.0)
    assert res.regions == {"face": 1} and res.ok and res.residuals == []
    assert set(res.timings_ms) >= {"decode", "detect", "redact", "encode", "verify", "metadata_check"}
    # most of the photo is untouched
    assert np.mean(np.all(img == astronaut_bgr(), axis=2)) > 0.85


@pytest.mark.parametrize("mode", ["box", "ellipse", "pixelate"])
def test_generated_scene_every_face_covered(redactor: Redactor, mode: str) -> None:
    scene, faces = generated_scene()
    r = Redactor(RedactOptions(what=("face",), mode=mode), detectors={"face": redactor.detector("face")})
    out, res = r.redact_bytes(encode_image(scene, ".png"), ".png", name="scene.png")
    img = decode_image(out)
    assert res.regions["face"] >= 3
    for box in faces:
        x0, y0, x1, y1 = box
        if mode == "pixelate":
            # a mosaic: the face region no longer matches the original anywhere near exactly
            diff = np.abs(img[y0:y1, x0:x1].astype(int) - scene[y0:y1, x0:x1].astype(int)).mean()
            assert diff > 8, f"face at {box} not pixelated (mean change {diff:.1f})"
        else:
            # the ellipse leaves the box corners: check its central part
            assert black(img, box, shrink=0.25 if mode == "ellipse" else 0.1), f"face at {box} not covered"


def test_exif_rotated_jpeg_is_redacted_where_the_viewer_sees_the_face(redactor: Redactor) -> None:
    scene, faces = generated_scene()
    # Store the pixels rotated 90° counter-clockwise with orientation 6 (viewer rotates clockwise):
    # what a phone held sideways writes. The viewer sees `scene`.
    stored = np.ascontiguousarray(np.rot90(scene[:, :, ::-1], k=1))
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x8825] = {1: "N", 2: (48.0, 51.0, 0.0)}  # GPS IFD: must not reach the output
    buf = io.BytesIO()
    Image.fromarray(stored).save(buf, format="JPEG", quality=95, exif=exif.tobytes())
    assert not metadata.check_bytes(buf.getvalue()).clean
    out, res = redactor.redact_bytes(buf.getvalue(), ".jpg", name="sideways.jpg")
    img = decode_image(out)
    assert img.shape[:2] == scene.shape[:2]
    for box in faces:
        assert black(img, box, shrink=0.15), f"face at {box} not covered in display orientation"
    rep = metadata.check_bytes(out)
    assert rep.clean and rep.error is None


def test_alpha_png_redacted_region_is_opaque(redactor: Redactor) -> None:
    bgra = cv2.cvtColor(astronaut_bgr(), cv2.COLOR_BGR2BGRA)
    bgra[..., 3] = 0  # fully transparent: a viewer on a white page would see nothing
    bgra[..., 3][:, :] = 40
    out, _ = redactor.redact_bytes(encode_image(bgra, ".png"), ".png")
    img = decode_image(out)
    assert img.shape[2] == 4
    x0, y0, x1, y1 = FACE
    assert (img[y0:y1, x0:x1, 3] == 255).all() and (img[y0:y1, x0:x1, :3] == 0).all()


def test_redact_file_is_atomic_and_leaves_the_input_alone(redactor: Redactor, tmp_path: Path) -> None:
    src = tmp_path / "in" / "a.jpg"
    src.parent.mkdir()
    src.write_bytes(encode_image(astronaut_bgr(), ".jpg"))
    src.chmod(0o640)
    before = sha256_file(src)
    res = redactor.redact_file(src, tmp_path / "out" / "sub" / "a.jpg")
    assert sha256_file(src) == before
    dst = tmp_path / "out" / "sub" / "a.jpg"
    assert res.output == str(dst) and res.output_sha256 == sha256_file(dst) and res.input_sha256 == before
    assert (dst.stat().st_mode & 0o777) == 0o640
    assert [p.name for p in dst.parent.iterdir()] == ["a.jpg"]


def test_in_place_replaces_only_with_a_verified_output(redactor: Redactor, tmp_path: Path) -> None:
    src = tmp_path / "a.png"
    src.write_bytes(encode_image(astronaut_bgr(), ".png"))
    redactor.redact_file(src, src)
    assert black(decode_image(src.read_bytes()), FACE)


def test_bmp_is_written_as_png_and_refused_as_bmp(redactor: Redactor, tmp_path: Path) -> None:
    src = tmp_path / "a.bmp"
    src.write_bytes(encode_image(astronaut_bgr(), ".bmp"))
    with pytest.raises(InputError, match=r"cannot verify \.bmp files; write a\.png instead"):
        redactor.redact_file(src, tmp_path / "out" / "a.bmp")
    assert not (tmp_path / "out" / "a.bmp").exists()
    out, _ = redactor.redact_bytes(src.read_bytes(), ".bmp")
    assert out[:8] == b"\x89PNG\r\n\x1a\n"


def test_report_header_names_models_and_settings(redactor: Redactor) -> None:
    h = redactor.report_header()
    assert h["small_faces"] is True and h["mask_scale"] == 1.5
    assert h["tool"]["name"] == "veilcv" and h["mode"] == "box" and h["thresholds"] == {"face": 0.12}
    (m,) = h["models"]
    assert m["task"] == "face" and len(m["sha256"]) == 64 and m["name"]


def test_faces_mask_street_subset(redactor: Redactor, shared_data: Path, tmp_path: Path) -> None:
    """Real crowd photos: redact a subset and measure coverage of the labelled faces ≥ 32 px."""
    from veilcv.core.annotations import load_annotations
    from veilcv.core.coverage import measure_coverage

    root = shared_data / "faces_mask_street"
    items = load_annotations(root / "annotations", "voc")[:12]
    for it in items:
        redactor.redact_file(root / "images" / it.file, tmp_path / it.file)
    rep = measure_coverage(items, root / "images", tmp_path)
    d = rep.as_dict()
    assert rep.errors == []
    big = [d["buckets"][b] for b in ("32-63", ">=64")]
    boxes = sum(b["boxes"] for b in big)
    covered = sum(b["covered"] for b in big)
    assert boxes > 0 and covered / boxes >= 0.6, d
    assert d["background_changed_fraction"] < 0.35
