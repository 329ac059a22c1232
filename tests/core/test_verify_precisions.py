"""Verification with the real face model: the same verdict on every precision this CPU runs.

``--strict`` must pass every correctly redacted photo of the shared face sets and the README's
astronaut, whatever precision the CPU picks, and must still fail a photo with a face left open.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from skimage import data as skimage_data

from veilcv.core.detection.types import Detections
from veilcv.core.media import decode_image
from veilcv.core.pipeline import RedactOptions, Redactor
from veilcv.errors import ModelError, RedactionError

ASTRONAUT = Path(str(skimage_data.__file__)).parent / "astronaut.png"


def _precisions() -> list[str]:
    try:
        from veilcv.core.detection.adapter import cpu_precisions

        native = cpu_precisions()
    except Exception:  # OpenVINO missing: the model tests skip anyway
        native = ("f32",)
    return [p for p in ("f32", "bf16", "int8") if p in native]


@pytest.fixture(scope="module", params=_precisions())
def strict_redactor(request: pytest.FixtureRequest) -> Redactor:
    r = Redactor(RedactOptions(what=("face",), strict=True, precision=request.param))
    try:
        r.load()
    except ModelError as exc:
        pytest.skip(f"face model unavailable: {exc}")
    return r


def _photos(shared: Path | None) -> list[Path]:
    files = [ASTRONAUT]
    if shared is not None:
        files += sorted((shared / "faces_dlib_voc" / "images").glob("*.jpg"))
        # every 20th street photo: crowds, masks, small faces (43 photos)
        files += sorted((shared / "faces_mask_street" / "images").glob("*.jpg"))[::20]
    return files


def test_strict_passes_correctly_redacted_photos_on_every_precision(strict_redactor: Redactor) -> None:
    from tests.conftest import SHARED_DATA

    shared = SHARED_DATA if SHARED_DATA.is_dir() else None
    for path in _photos(shared):
        # raises RedactionError on any residual: the file would fail under --strict
        out, res = strict_redactor.redact_bytes(path.read_bytes(), path.suffix, name=path.name)
        assert res.ok and res.residuals == [], (path.name, res.residuals)
        assert decode_image(out).shape[:2] == (res.height, res.width)


class _MissFirstPass:
    """The real detector, except that its first pass finds nothing: a face left open (one image each)."""

    whole_frame_pass = True

    def __init__(self, real: object) -> None:
        self.real, self.calls = real, 0
        self.info = getattr(real, "info", {})

    def detect(self, image: np.ndarray, *, whole_frame: bool = False) -> Detections:
        self.calls += 1
        if self.calls == 1:
            return Detections.empty()
        return self.real.detect(image, whole_frame=whole_frame)  # type: ignore[attr-defined]


def test_strict_fails_a_face_left_open_on_every_precision(strict_redactor: Redactor) -> None:
    o = strict_redactor.options
    leaky = Redactor(o, detectors={"face": _MissFirstPass(strict_redactor.detector("face"))})
    with pytest.raises(RedactionError, match=r"astronaut\.png: 1 face\(s\) still visible"):
        leaky.redact_bytes(ASTRONAUT.read_bytes(), ".png", name="astronaut.png")
    # --fix-residuals 1 redacts the face the verifier found, and the file then passes.
    fixing = Redactor(
        RedactOptions(what=("face",), strict=True, fix_rounds=1, precision=o.precision),
        detectors={"face": _MissFirstPass(strict_redactor.detector("face"))},
    )
    out, res = fixing.redact_bytes(ASTRONAUT.read_bytes(), ".png", name="astronaut.png")
    assert res.fixed == {"face": 1} and res.residuals == []
    img = decode_image(out)
    assert (img[100:180, 180:260] == 0).mean() > 0.9  # the astronaut's face, boxed
