"""Detection on OpenVINO: pinned, hash-verified models, decoders, small-object tiling, tuning.

>>> from veilcv.core.detection import load_detector
>>> det = load_detector("face", threshold=0.5, precision="f32")  # doctest: +SKIP
>>> dets = det.detect(image_bgr)  # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

from veilcv.core.detection import registry
from veilcv.core.detection.adapter import Adapter, resolve_precision
from veilcv.core.detection.detector import Detector
from veilcv.core.detection.profile import load_profile
from veilcv.core.detection.provision import ensure
from veilcv.core.detection.tiling import TilingConfig
from veilcv.core.detection.types import Detections
from veilcv.errors import ModelError

__all__ = ["Detections", "Detector", "TilingConfig", "load_detector", "registry"]

# Measured (benchmarks/bench_detection.py, 2-core Zen 4): static shapes were 0-10 % faster than
# dynamic ones at a given size, within the noise of a shared machine, but every new image size
# costs a static compile (0.3-1.8 s even with the model cache). Folders of mixed sizes are the
# common case, so dynamic is the default; `veil tune` measures both and may pick static.
DEFAULT_SHAPE_MODE = "dynamic"


def load_detector(
    name: str = "face",
    *,
    threshold: float | None = None,
    precision: str = "auto",
    profile: str | os.PathLike[str] | dict[str, Any] | None = None,
    tiling: TilingConfig | None = None,
    shape_mode: str | None = None,
    streams: int | None = None,
    nireq: int | None = None,
    auto_pull: bool = True,
    small_objects: bool = True,
    fallback_streams: int = 1,
) -> Detector:
    """Load the detector of a task (``"face"``, ``"plate"``, ``"text"``) or a registry model.

    Parameters
    ----------
    name : str
        A task or a model name from the registry (``veil models list``).
    threshold : float, optional
        Minimum score; the model's default (0.5) when omitted.
    precision : {"auto", "f32", "bf16", "f16", "int8"}
        Inference precision, pinned explicitly. ``auto`` takes the profile's choice, else the
        fastest precision of the model's ``auto_precision`` list (each checked for recall
        against f32) that the CPU runs natively.
    profile : path or dict, optional
        A profile written by ``veil tune``; its settings for this task apply unless overridden
        by the explicit arguments.
    tiling, shape_mode, streams, nireq : optional
        Small-object plan, ``dynamic``/``static`` input shapes, CPU streams, async requests.
    auto_pull : bool
        Fetch a missing default model from its pinned source (nothing is printed on stdout).
    fallback_streams : int
        CPU streams when neither ``streams`` nor the profile sets them (the redaction pipeline
        passes its number of parallel files, capped at the core count).
    small_objects : bool
        ``False`` turns the small-object passes off whatever the tiling or profile says (whole
        frame only: faster, fewer small faces found).

    Returns
    -------
    Detector

    Raises
    ------
    ModelError
        When the model is missing and cannot be pulled (the message says how to get it), fails
        its hash check, or cannot be compiled.
    """
    reg = registry.load_registry()
    spec = reg.get(name)
    task = name if name in registry.TASKS else spec.task
    prof = load_profile(profile, task, spec.name) if profile is not None else {}
    if precision == "auto" and prof.get("precision"):
        precision = str(prof["precision"])
    try:
        prec = resolve_precision(precision, spec.auto_precision, int8=spec.int8_ranges is not None)
    except ModelError as exc:
        raise ModelError(f"{spec.name} ({task} model): {exc}") from None
    int8_ranges = None
    if prec == "int8":
        from veilcv.core.detection.quantize import load_ranges

        int8_ranges = load_ranges(registry.int8_ranges_path(spec), spec.sha256)
    if tiling is None:
        tiling = TilingConfig(**{"max_side": spec.input.max_side, **prof.get("tiling", {})})
    if not small_objects:
        tiling = dataclasses.replace(tiling, enabled=False)
    path = ensure(spec, auto_pull=auto_pull)
    adapter = Adapter(
        Path(path),
        precision=prec,
        shape_mode=shape_mode or prof.get("shape_mode", DEFAULT_SHAPE_MODE),
        streams=streams or int(prof.get("streams", fallback_streams)),
        nireq=nireq or int(prof.get("nireq", 2)),
        cache_dir=registry.model_dir() / "ov_cache",
        fixed_hw=spec.input.size if spec.input.policy == "fixed" else None,
        int8_ranges=int8_ranges,
    )
    if threshold is None:
        threshold = float(prof.get("threshold", spec.params.get("threshold", 0.5)))
    return Detector(spec, adapter, task=task, threshold=threshold, tiling=tiling)
