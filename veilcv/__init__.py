"""veilcv: privacy and compliance tooling for computer-vision data.

The public Python API is the names in ``__all__`` (``veilcv.Redactor``, ``veilcv.check``, ...) and
the modules ``veilcv.meta`` and ``veilcv.errors``; docs/api.md is its reference. Every other module
is internal. The names load on first use, so ``import veilcv`` loads no numpy, OpenCV or OpenVINO.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

#: Public name -> the module that defines it (imported on first access).
_EXPORTS: dict[str, str] = {
    "Redactor": "veilcv._api.redaction",
    "RedactionResult": "veilcv._api.results",
    "Detection": "veilcv._api.results",
    "Region": "veilcv._api.results",
    "FileResult": "veilcv.core.redact_types",
    "check": "veilcv._api.checking",
    "load_policy": "veilcv._api.checking",
    "LoadedPolicy": "veilcv.policies.loader",
    "Report": "veilcv.linter.engine",
    "Finding": "veilcv.linter.finding",
    "Severity": "veilcv.linter.finding",
    "VeilcvError": "veilcv.errors",
}
_MODULES = ("meta", "errors")

__all__ = ["__version__", *_EXPORTS, *_MODULES]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
    elif name in _MODULES:
        value = importlib.import_module(f"{__name__}.{name}")
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value  # once: later lookups are plain attribute reads
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


if TYPE_CHECKING:  # what type checkers and IDEs see; at run time the names load on first use
    from veilcv import errors, meta  # noqa: F401
    from veilcv._api.checking import check, load_policy  # noqa: F401
    from veilcv._api.redaction import Redactor  # noqa: F401
    from veilcv._api.results import Detection, RedactionResult, Region  # noqa: F401
    from veilcv.core.redact_types import FileResult  # noqa: F401
    from veilcv.errors import VeilcvError  # noqa: F401
    from veilcv.linter.engine import Report  # noqa: F401
    from veilcv.linter.finding import Finding, Severity  # noqa: F401
    from veilcv.policies.loader import LoadedPolicy  # noqa: F401
