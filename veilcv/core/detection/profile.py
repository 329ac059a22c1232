"""Tuning profiles: the YAML that ``veil tune`` writes and ``load_detector(profile=...)`` reads."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import yaml

from veilcv.errors import ModelError

PROFILE_VERSION = 1
_KEYS = {"model", "precision", "shape_mode", "streams", "nireq", "tiling", "threshold", "measured"}
_TILING_KEYS = {"enabled", "max_side", "fine_scale", "tile", "overlap", "window_pixels", "max_pixels"}


def load_profile(profile: str | os.PathLike[str] | dict[str, Any], task: str, model: str) -> dict[str, Any]:
    """The settings a profile holds for ``task`` (and ``model``), validated.

    Parameters
    ----------
    profile : path or dict
        A profile file or its parsed content.
    task, model : str
        The detector being loaded; a section for another model of the task is ignored.

    Returns
    -------
    dict
        Possibly empty when the profile has no section for the task.

    Raises
    ------
    ModelError
        For an unreadable file, unknown keys or a wrong version, naming the file and key.
    """
    where = "profile"
    if not isinstance(profile, dict):
        path = Path(profile)
        where = str(path)
        try:
            data = yaml.safe_load(path.read_text("utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise ModelError(
                f"{where}: cannot read the profile ({exc.__class__.__name__}); run `veil tune`"
            ) from None
    else:
        data = profile
    if not isinstance(data, dict) or data.get("veilcv_profile") != PROFILE_VERSION:
        got = data.get("veilcv_profile") if isinstance(data, dict) else type(data).__name__
        raise ModelError(
            f"{where}: expected veilcv_profile: {PROFILE_VERSION}, got {got!r}; run `veil tune` again"
        )
    section = (data.get("detectors") or {}).get(task)
    if section is None:
        return {}
    if not isinstance(section, dict):
        raise ModelError(f"{where}: detectors.{task}: expected a mapping, got {section!r}")
    unknown = set(section) - _KEYS
    if unknown:
        raise ModelError(
            f"{where}: detectors.{task}: unknown keys {sorted(unknown)}; expected {sorted(_KEYS)}"
        )
    if section.get("model", model) != model:
        return {}
    tiling = section.get("tiling") or {}
    if not isinstance(tiling, dict) or set(tiling) - _TILING_KEYS:
        raise ModelError(
            f"{where}: detectors.{task}.tiling: expected keys from {sorted(_TILING_KEYS)}, got {tiling!r}"
        )
    return section


def tiling_choice(profile: str | os.PathLike[str] | dict[str, Any], task: str) -> bool | None:
    """Whether the profile's plan for ``task``'s default model runs the small-object passes; None
    when it holds no tiling for it (the caller's default then applies).

    Raises
    ------
    ModelError
        As :func:`load_profile`.
    """
    from veilcv.core.detection.registry import load_registry

    tiling = load_profile(profile, task, load_registry().get(task).name).get("tiling")
    if not tiling:
        return None
    return bool(tiling.get("enabled", True))


def describe(profile: str | os.PathLike[str]) -> dict[str, str]:
    """What a report records of the profile file used: its path and the sha256 of its bytes.

    Raises
    ------
    ModelError
        When the file cannot be read.
    """
    path = Path(profile)
    try:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError as exc:
        raise ModelError(
            f"{path}: cannot read the profile ({exc.__class__.__name__}); run `veil tune`"
        ) from None
    return {"path": str(path), "sha256": digest}
