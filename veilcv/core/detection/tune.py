"""``veil tune``: measure precision × streams × requests × shapes × tiling on sample images.

Every configuration runs the same images through ``detect_many``. Its detections are compared with
a reference run (f32, small-object tiling on): ``agreement`` is the fraction of the reference's
regions it also finds (same rule as the recall tests). The profile keeps the fastest
configuration whose agreement reaches ``min_agreement``, so a faster precision or a coarser
input size is chosen only when it does not cost detections on the user's own images. When the
reference finds nothing (a sample without faces), only the default small-object plan qualifies.

Memory stays bounded whatever the grid: one configuration's model is compiled, measured and released
before the next is loaded (only the detections are kept), and the sample holds at most
``MAX_SAMPLE_BYTES`` of decoded pixels.
"""

from __future__ import annotations

import gc
import itertools
import os
import platform
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import yaml

from veilcv import __version__
from veilcv.atomic import write_text
from veilcv.core.defaults import IMAGE_SUFFIXES as ALL_IMAGE_SUFFIXES
from veilcv.core.detection.adapter import cpu_precisions
from veilcv.core.detection.profile import PROFILE_VERSION
from veilcv.core.detection.tiling import TilingConfig
from veilcv.core.geometry import found_mask
from veilcv.errors import InputError, ValidationError

#: The images veil redacts that OpenCV decodes (the sample is read with ``cv2.imread``; HEIF is not).
IMAGE_SUFFIXES = tuple(sorted(ALL_IMAGE_SUFFIXES - {".heic", ".heif"}))
#: Decoded sample pixels held at most (the first image is always kept): 256 MiB is eight 4K frames.
MAX_SAMPLE_BYTES = 256 << 20
TILINGS = {
    "off": {"enabled": False},
    "auto": {"enabled": True},
    "wide": {"enabled": True, "max_pixels": 8_000_000},
}


@dataclass(frozen=True)
class Config:
    """One measured configuration."""

    precision: str
    shape_mode: str
    streams: int
    nireq: int
    tiling: str


#: The reference every configuration is scored against (f32, the default small-object plan).
REFERENCE = Config("f32", "dynamic", 1, 1, "auto")


@dataclass(frozen=True)
class Row:
    """One line of the measured table. ``total_s`` is the whole measurement of the configuration:
    loading and compiling the model, the warm-up and the timed run."""

    config: Config
    images_per_s: float
    ms_per_image: float
    regions: int
    agreement: float
    total_s: float = 0.0


def sample_images(
    paths: Sequence[Path] = (), *, limit: int = 8, seed: int = 0, max_bytes: int = MAX_SAMPLE_BYTES
) -> list[np.ndarray]:
    """Up to ``limit`` BGR images from ``paths`` (files or folders), or a generated sample.

    The generated sample has the sizes users meet most (VGA, 720p, 1080p) with textured content,
    so timings include realistic tiling; it holds no faces, so agreement is trivially 1 there.
    Images are taken evenly from the sorted files until ``limit`` or until their decoded pixels
    would pass ``max_bytes`` (the first image is always taken, whatever its size).

    Raises
    ------
    InputError
        When a given file cannot be decoded, or the folders hold no image.
    """
    files: list[Path] = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            files += sorted(f for f in p.rglob("*") if f.suffix.lower() in IMAGE_SUFFIXES)
        elif p.is_file():
            files.append(p)
        else:
            raise InputError(f"{p}: no such file or folder")
    if paths and not files:
        raise InputError(
            f"{', '.join(map(str, paths))}: expected image files ({', '.join(IMAGE_SUFFIXES)}), found none"
        )
    if files:
        step = max(1, len(files) // limit)
        out: list[np.ndarray] = []
        held = 0
        for f in files[::step][:limit]:
            img = cv2.imread(str(f), cv2.IMREAD_COLOR)
            if img is None:
                raise InputError(f"{f}: cannot decode the image; expected one of {', '.join(IMAGE_SUFFIXES)}")
            if out and held + img.nbytes > max_bytes:
                break
            held += img.nbytes
            out.append(img)
        return out
    rng = np.random.default_rng(seed)
    sizes = [(480, 640), (720, 1280), (1080, 1920)]
    out = []
    for i in range(limit):
        h, w = sizes[i % len(sizes)]
        small = rng.integers(0, 256, (h // 16, w // 16, 3), dtype=np.uint8)
        out.append(cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC))
    return out


def grid(
    precisions: Sequence[str] | None = None,
    shape_modes: Sequence[str] = ("dynamic", "static"),
    streams: Sequence[int] = (1, 2),
    nireqs: Sequence[int] = (1, 2, 4),
    tilings: Sequence[str] = ("off", "auto"),
    *,
    int8: bool = False,
) -> list[Config]:
    """All combinations to measure (precisions default to what the CPU runs natively; ``int8``
    only for a model with INT8 ranges)."""
    precs = list(precisions or (p for p in cpu_precisions() if p != "int8" or int8))
    for t in tilings:
        if t not in TILINGS:
            raise ValidationError(f"tiling: expected one of {', '.join(TILINGS)}, got {t!r}")
    return [Config(*c) for c in itertools.product(precs, shape_modes, streams, nireqs, tilings)]


def _run(
    task: str, cfg: Config, images: list[np.ndarray], threshold: float | None
) -> tuple[float, list[Any]]:
    """Seconds of the timed run and its detections. The detector (its compiled model, requests and
    per-shape kernels: 0.3-0.5 GB) is released on return, before the caller loads the next one."""
    from veilcv.core.detection import load_detector

    det = load_detector(
        task,
        threshold=threshold,
        precision=cfg.precision,
        shape_mode=cfg.shape_mode,
        streams=cfg.streams,
        nireq=cfg.nireq,
        tiling=TilingConfig(**TILINGS[cfg.tiling]),
    )
    list(det.detect_many(images[:1]))  # compile and warm up outside the timed run
    start = time.perf_counter()
    out = list(det.detect_many(images))
    return time.perf_counter() - start, out


def measure(
    task: str,
    images: list[np.ndarray],
    configs: Sequence[Config],
    *,
    threshold: float | None = None,
    on_row: Callable[[Row], None] | None = None,
    on_reference: Callable[[int, float], None] | None = None,
) -> list[Row]:
    """Time every configuration on ``images`` and score its agreement with the f32 reference.

    Configurations run one after the other, each model released before the next is compiled.

    Parameters
    ----------
    on_row : callable, optional
        Called with each :class:`Row` as soon as it is measured (progress).
    on_reference : callable, optional
        Called as ``on_reference(regions, seconds)`` once the reference has run.

    Returns
    -------
    list of Row
        In the order of ``configs``.
    """
    if not images:
        raise ValidationError("images: expected at least one image, got none")
    t0 = time.perf_counter()
    ref_secs, ref = _run(task, REFERENCE, images, threshold)
    gc.collect()
    ref_total = time.perf_counter() - t0
    n_ref = sum(len(r) for r in ref)
    if on_reference is not None:
        on_reference(n_ref, ref_total)
    rows = []
    for cfg in configs:
        t0 = time.perf_counter()
        if cfg == REFERENCE:  # measured already: the same model on the same images
            secs, dets, total = ref_secs, ref, ref_total
        else:
            secs, dets = _run(task, cfg, images, threshold)
            # The detector's async queue and its callbacks form reference cycles: collect them now,
            # so this model is freed before the next one compiles, not at some later collection.
            gc.collect()
            total = time.perf_counter() - t0
        found = sum(int(found_mask(r.boxes, d.boxes).sum()) for r, d in zip(ref, dets, strict=True))
        row = Row(
            config=cfg,
            images_per_s=len(images) / secs,
            ms_per_image=1000.0 * secs / len(images),
            regions=sum(len(d) for d in dets),
            agreement=found / n_ref if n_ref else _no_reference(cfg),
            total_s=total,
        )
        rows.append(row)
        if on_row is not None:
            on_row(row)
    return rows


def _no_reference(cfg: Config) -> float:
    # With nothing found by the reference (e.g. the generated sample) agreement cannot judge a
    # coarser input plan, so only the reference's own plan qualifies.
    return 1.0 if cfg.tiling == "auto" else 0.0


def choose(rows: Sequence[Row], *, min_agreement: float = 0.98) -> Row:
    """The fastest row whose agreement with the reference reaches ``min_agreement``.

    Raises
    ------
    ValidationError
        When no row qualifies.
    """
    ok = [r for r in rows if r.agreement >= min_agreement]
    if not ok:
        best = max((r.agreement for r in rows), default=0.0)
        raise ValidationError(f"no configuration reached agreement {min_agreement}; best was {best:.3f}")
    return max(ok, key=lambda r: r.images_per_s)


def write_profile(
    path: Path, task: str, model: str, best: Row, rows: Sequence[Row], n_images: int
) -> dict[str, Any]:
    """Write the profile YAML atomically and return its content.

    The chosen settings go under ``detectors.<task>``; the whole table goes under ``measured`` so
    a reviewer sees what the choice was made from.
    """
    c = best.config
    section: dict[str, Any] = {
        "model": model,
        "precision": c.precision,
        "shape_mode": c.shape_mode,
        "streams": c.streams,
        "nireq": c.nireq,
        "tiling": TILINGS[c.tiling],
        "measured": [
            {
                **asdict(r.config),
                **{
                    k: round(v, 4) if isinstance(v, float) else v
                    for k, v in asdict(r).items()
                    if k != "config"
                },
            }
            for r in rows
        ],
    }
    data: dict[str, Any] = {}
    if path.is_file():
        try:
            old = yaml.safe_load(path.read_text("utf-8"))
        except yaml.YAMLError:
            old = None
        if isinstance(old, dict) and old.get("veilcv_profile") == PROFILE_VERSION:
            data = old
    data.update(
        {
            "veilcv_profile": PROFILE_VERSION,
            "veilcv_version": __version__,
            "machine": {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(),
                        "precisions": list(cpu_precisions())},
            "sample_images": n_images,
        }
    )  # fmt: skip
    data.setdefault("detectors", {})[task] = section
    write_text(path, yaml.safe_dump(data, sort_keys=False))
    return data
