"""The redaction options ``veilcv.Redactor`` and `veil redact` both build (one check of every value)."""

from __future__ import annotations

import numbers
import os
from collections.abc import Iterable, Mapping
from typing import Any

from veilcv.core.defaults import DEFAULT_MASK_SCALE
from veilcv.core.redact_types import RedactOptions
from veilcv.errors import InputError


def redact_options(
    what: str | Iterable[str] = "faces,plates",
    *,
    mode: str = "box",
    mask_scale: float = DEFAULT_MASK_SCALE,
    thresholds: Mapping[str, float] | None = None,
    precision: str = "auto",
    profile: str | os.PathLike[str] | None = None,
    small_faces: bool | None = None,
    verify: bool = True,
    strict: bool = False,
    fix_residuals: int = 0,
    quality: int = 95,
    carry: int = 5,
    keep_audio: bool = False,
) -> RedactOptions:
    """The pipeline's options from :class:`Redactor`'s keywords: `veil redact` builds its own here too.

    Raises
    ------
    InputError
        A value out of range or unknown, naming the command-line flag (``Redactor`` renames it).
    """
    classes = what.split(",") if isinstance(what, str) else list(what)
    if not all(isinstance(c, str) for c in classes):
        raise InputError(f"--what: expected class names such as 'faces', got {what!r}")
    if not (isinstance(quality, int) and 1 <= quality <= 100):
        raise InputError(f"quality: expected an integer in [1, 100], got {quality!r}")
    if thresholds is not None and not isinstance(thresholds, Mapping):
        raise InputError(f"--threshold: expected a mapping such as {{'face': 0.3}}, got {thresholds!r}")
    return RedactOptions(
        what=tuple(classes),
        mode=mode,
        mask_scale=_number(mask_scale, "--mask-scale", float),
        thresholds={k: _number(v, f"--threshold {k}", float) for k, v in (thresholds or {}).items()},
        verify=bool(verify),
        strict=bool(strict),
        fix_rounds=_number(fix_residuals, "--fix-residuals", int),
        quality=quality,
        carry=_number(carry, "--carry", int),
        keep_audio=bool(keep_audio),
        precision=precision,
        profile=os.fspath(profile) if profile is not None else None,
        small_faces=small_faces,
    )


def _number(value: Any, flag: str, kind: type) -> Any:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or kind(value) != value:
        raise InputError(f"{flag}: expected {'an integer' if kind is int else 'a number'}, got {value!r}")
    return kind(value)
