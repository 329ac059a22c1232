"""``veil models import``: add the user's own model file (OpenVINO IR, ONNX, TFLite) to the registry."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

from veilcv.atomic import atomic_path
from veilcv.core.detection.adapter import core
from veilcv.core.detection.provision import sha256_file
from veilcv.core.detection.registry import (
    DECODERS,
    TASKS,
    ModelSpec,
    add_user_model,
    load_registry,
    model_dir,
    parse_model,
)
from veilcv.errors import ModelError

_SUFFIX_FORMAT = {".onnx": "onnx", ".xml": "ir", ".tflite": "tflite"}
_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
# How each decoder family's models are usually fed (ultralytics: RGB 0..1 letterboxed; Open Model
# Zoo SSD: BGR 0..255; CenterFace: RGB 0..255; PP-OCR DBNet: BGR scaled to -1..1).
_INPUT_DEFAULTS: dict[str, dict[str, Any]] = {
    "yolo": {"color": "rgb", "mean": [0.0] * 3, "std": [255.0] * 3, "policy": "fixed", "pad_value": 114.0},
    "ssd": {"color": "bgr", "mean": [0.0, 0.0, 0.0], "std": [1.0, 1.0, 1.0], "policy": "fixed"},
    "centerface": {"color": "rgb", "mean": [0.0, 0.0, 0.0], "std": [1.0, 1.0, 1.0], "policy": "pad32",
                   "small_objects": True},
    "dbnet": {"color": "bgr", "mean": [127.5] * 3, "std": [127.5] * 3, "policy": "pad32"},
}  # fmt: skip


def import_model(
    src: Path,
    *,
    name: str,
    task: str,
    decoder: str,
    input_size: tuple[int, int] | None = None,
    licence: str = "unknown",
    attribution: str = "",
    make_default: bool = True,
) -> ModelSpec:
    """Copy a model file into the cache, hash it and record it in the user registry.

    Parameters
    ----------
    src : Path
        ``.onnx``, ``.tflite`` or OpenVINO IR ``.xml`` (its ``.bin`` beside it).
    name : str
        Registry name (lower case letters, digits, ``.``, ``_``, ``-``); bundled names are taken.
    task : {"face", "plate", "text"}
    decoder : {"centerface", "ssd", "yolo", "dbnet"}
    input_size : (int, int), optional
        ``(H, W)`` for a YOLO/SSD model whose file declares a dynamic input size.
    licence, attribution : str
        Recorded with the model and shown by ``veil models list``.
    make_default : bool
        The model takes its task over (a user plate model replaces the text-based plates).

    Returns
    -------
    ModelSpec

    Raises
    ------
    ModelError
        When the file is missing, of an unknown format, unreadable by OpenVINO, or its outputs do
        not fit the decoder. Nothing is recorded then.
    """
    src = Path(src)
    if not src.is_file():
        raise ModelError(f"{src}: no such model file")
    fmt = _SUFFIX_FORMAT.get(src.suffix.lower())
    if fmt is None:
        raise ModelError(
            f"{src}: expected a model file ending in .onnx, .xml (OpenVINO IR) or .tflite, got {src.suffix!r}"
        )
    if not _NAME.match(name):
        raise ModelError(f"--name: expected lower-case letters, digits, '.', '_' or '-', got {name!r}")
    reg = load_registry()
    if name in reg.models and not reg.models[name].user:
        raise ModelError(f"--name: {name!r} is a bundled model; choose another name")
    if task not in TASKS or decoder not in DECODERS:
        raise ModelError(
            f"expected --task in {', '.join(TASKS)} and --decoder in {', '.join(DECODERS)}, "
            f"got {task!r}, {decoder!r}"
        )
    weights = src.with_suffix(".bin") if fmt == "ir" else None
    if weights is not None and not weights.is_file():
        raise ModelError(f"{src}: OpenVINO IR needs its weights file {weights.name} beside it")
    size = _check_model(src, decoder, input_size)
    entry: dict[str, Any] = {
        "task": task,
        "format": fmt,
        "file": f"user/{name}{src.suffix.lower()}",
        "sha256": sha256_file(src),
        "source": {"kind": "file", "original_name": src.name},
        "decoder": decoder,
        "licence": licence,
        "attribution": attribution,
        "input": {**_INPUT_DEFAULTS[decoder], **({"size": list(size)} if size else {})},
        "params": {},
        "auto_precision": ["f32"],
    }
    if weights is not None:
        entry["weights_file"] = f"user/{name}.bin"
        entry["weights_sha256"] = sha256_file(weights)
    spec = parse_model(name, entry, "import", user=True)
    _copy(src, model_dir() / entry["file"])
    if weights is not None:
        _copy(weights, model_dir() / entry["weights_file"])
    add_user_model(spec, entry, take_task=make_default)
    return spec


def _check_model(src: Path, decoder: str, input_size: tuple[int, int] | None) -> tuple[int, int] | None:
    try:
        model = core().read_model(str(src))
    except Exception as exc:  # OpenVINO raises plain RuntimeError for any unreadable file
        raise ModelError(f"{src}: OpenVINO cannot read it ({type(exc).__name__}: {str(exc)[:160]})") from None
    if len(model.inputs) != 1:
        raise ModelError(f"{src}: expected one image input, got {len(model.inputs)}")
    shape = model.inputs[0].get_partial_shape()
    if shape.rank.is_dynamic or shape.rank.get_length() != 4:
        raise ModelError(f"{src}: expected a 4-D NCHW image input, got {shape}")
    want = {"centerface": 4, "dbnet": 1, "ssd": 1, "yolo": 1}[decoder]
    if len(model.outputs) < want:
        raise ModelError(
            f"{src}: decoder {decoder} needs {want} output(s), the model has {len(model.outputs)}"
        )
    if decoder not in ("yolo", "ssd"):
        return None
    if input_size is not None:
        return input_size
    if shape[2].is_static and shape[3].is_static:
        return (shape[2].get_length(), shape[3].get_length())
    raise ModelError(f"{src}: the model's input size is dynamic ({shape}); give it with --input-size HxW")


def _copy(src: Path, dest: Path) -> None:
    with atomic_path(dest) as tmp, open(src, "rb") as fin, open(tmp, "wb") as fout:
        shutil.copyfileobj(fin, fout)
