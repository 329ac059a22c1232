"""The model registry: the bundled ``models.yaml`` plus the user's own imported models.

Every model veilcv loads is named here with its task, file, sha256, source, decoder, input
policy, licence and attribution. The user registry (``registry.user.yaml`` in the model cache)
is written by ``veil models import`` and may take a task over (a real plate model replaces
the text-based plate detector).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any

import platformdirs
import yaml

from veilcv.atomic import write_text
from veilcv.errors import ModelError

TASKS = ("face", "plate", "text")
FORMATS = ("onnx", "ir", "tflite")
DECODERS = ("centerface", "ssd", "yolo", "dbnet")
COLORS = ("rgb", "bgr")
POLICIES = ("pad32", "fixed")
USER_REGISTRY = "registry.user.yaml"
ENV_MODEL_DIR = "VEILCV_MODEL_DIR"


@dataclass(frozen=True)
class InputPolicy:
    """How an image becomes the model's input tensor.

    Attributes
    ----------
    color : {"rgb", "bgr"}
        Channel order the model expects.
    mean, std : tuple of float
        Per-channel ``(x - mean) / std`` applied to 0..255 pixel values.
    policy : {"pad32", "fixed"}
        ``pad32``: any size, padded (never stretched) to multiples of 32. ``fixed``: the model's
        declared ``size`` (letterboxed: scaled to fit, padded).
    size : tuple of int or None
        ``(H, W)`` for ``fixed`` models.
    max_side : int
        Longest side of the whole-frame pass for ``pad32`` models.
    small_objects : bool
        Whether extra fine-scale passes (tiles) are planned for small objects.
    pad_value : float
        Pixel value of the padding (before normalisation).
    """

    color: str = "rgb"
    mean: tuple[float, float, float] = (0.0, 0.0, 0.0)
    std: tuple[float, float, float] = (1.0, 1.0, 1.0)
    policy: str = "pad32"
    size: tuple[int, int] | None = None
    max_side: int = 1280
    small_objects: bool = False
    pad_value: float = 0.0

    def describe(self) -> str:
        """A short stable description for audit reports."""
        if self.policy == "fixed" and self.size:
            return f"fixed {self.size[1]}x{self.size[0]} letterbox, {self.color}"
        extra = ", small-object tiles" if self.small_objects else ""
        return f"pad to multiple of 32, max side {self.max_side}, {self.color}{extra}"


@dataclass(frozen=True)
class ModelSpec:
    """One registry entry (see ``models.yaml`` for the fields)."""

    name: str
    task: str
    format: str
    file: str
    sha256: str
    source: dict[str, Any]
    decoder: str
    licence: str
    attribution: str
    input: InputPolicy
    params: dict[str, Any] = field(default_factory=dict)
    auto_precision: tuple[str, ...] = ("f32",)
    #: Bundled INT8 activation ranges (a file next to ``models.yaml``); None: no ``int8`` precision.
    int8_ranges: str | None = None
    weights_file: str | None = None
    weights_sha256: str | None = None
    user: bool = False


@dataclass(frozen=True)
class Registry:
    """All known models and the model each task uses."""

    models: dict[str, ModelSpec]
    tasks: dict[str, str]

    def get(self, name: str) -> ModelSpec:
        """The model named ``name``, or the model of task ``name``.

        Raises
        ------
        ModelError
            When neither a model nor a task has that name.
        """
        if name in self.models:
            return self.models[name]
        if name in self.tasks:
            return self.models[self.tasks[name]]
        known = ", ".join(sorted(self.models))
        raise ModelError(f"unknown model {name!r}: expected one of {known} or a task ({', '.join(TASKS)})")

    def for_task(self, task: str) -> ModelSpec:
        """The model that serves ``task``."""
        if task not in self.tasks:
            raise ModelError(f"unknown task {task!r}: expected one of {', '.join(TASKS)}")
        return self.models[self.tasks[task]]


def int8_ranges_path(spec: ModelSpec) -> Path | None:
    """The bundled INT8 activation-ranges file of ``spec`` (next to ``models.yaml``), or None."""
    return None if spec.int8_ranges is None else Path(__file__).with_name(spec.int8_ranges)


def model_dir() -> Path:
    """Folder holding provisioned models and the user registry.

    ``$VEILCV_MODEL_DIR`` when set (tests and CI point it elsewhere), otherwise ``models`` in the
    per-user cache folder.
    """
    env = os.environ.get(ENV_MODEL_DIR)
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_cache_dir("veilcv")) / "models"


def user_registry_path() -> Path:
    """Path of the user registry file written by ``veil models import``."""
    return model_dir() / USER_REGISTRY


def _need(entry: dict[str, Any], key: str, where: str, kind: type | tuple[type, ...] = str) -> Any:
    if key not in entry:
        raise ModelError(f"{where}: missing key {key!r}")
    value = entry[key]
    if not isinstance(value, kind):
        raise ModelError(f"{where}.{key}: expected {getattr(kind, '__name__', kind)}, got {value!r}")
    return value


def _choice(value: str, allowed: tuple[str, ...], where: str) -> str:
    if value not in allowed:
        raise ModelError(f"{where}: expected one of {', '.join(allowed)}, got {value!r}")
    return value


def _parse_input(raw: Any, where: str) -> InputPolicy:
    raw = raw or {}
    if not isinstance(raw, dict):
        raise ModelError(f"{where}: expected a mapping, got {raw!r}")
    size = raw.get("size")
    policy = _choice(str(raw.get("policy", "pad32")), POLICIES, f"{where}.policy")
    if policy == "fixed" and (not isinstance(size, list) or len(size) != 2):
        raise ModelError(f"{where}.size: expected [H, W] for a fixed-size model, got {size!r}")
    return InputPolicy(
        color=_choice(str(raw.get("color", "rgb")), COLORS, f"{where}.color"),
        mean=tuple(float(v) for v in raw.get("mean", (0.0, 0.0, 0.0))),  # type: ignore[arg-type]
        std=tuple(float(v) for v in raw.get("std", (1.0, 1.0, 1.0))),  # type: ignore[arg-type]
        policy=policy,
        size=(int(size[0]), int(size[1])) if size else None,
        max_side=int(raw.get("max_side", 1280)),
        small_objects=bool(raw.get("small_objects", False)),
        pad_value=float(raw.get("pad_value", 0.0)),
    )


def parse_model(name: str, entry: Any, where: str, *, user: bool = False) -> ModelSpec:
    """Validate one registry entry and return its :class:`ModelSpec`.

    Raises
    ------
    ModelError
        Naming the file and key path of the first problem.
    """
    where = f"{where}: models.{name}"
    if not isinstance(entry, dict):
        raise ModelError(f"{where}: expected a mapping, got {entry!r}")
    sha = _need(entry, "sha256", where).lower()
    if len(sha) != 64 or any(c not in "0123456789abcdef" for c in sha):
        raise ModelError(f"{where}.sha256: expected 64 hex digits, got {sha!r}")
    return ModelSpec(
        name=name,
        task=_choice(_need(entry, "task", where), TASKS, f"{where}.task"),
        format=_choice(_need(entry, "format", where), FORMATS, f"{where}.format"),
        file=_need(entry, "file", where),
        sha256=sha,
        source=_need(entry, "source", where, dict),
        decoder=_choice(_need(entry, "decoder", where), DECODERS, f"{where}.decoder"),
        licence=str(entry.get("licence", "unknown")),
        attribution=str(entry.get("attribution", "")),
        input=_parse_input(entry.get("input"), f"{where}.input"),
        params=dict(entry.get("params") or {}),
        auto_precision=tuple(entry.get("auto_precision") or ("f32",)),
        int8_ranges=None if user else entry.get("int8_ranges"),
        weights_file=entry.get("weights_file"),
        weights_sha256=entry.get("weights_sha256"),
        user=user,
    )


def _read_yaml(text: str, where: str) -> dict[str, Any]:
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise ModelError(f"{where}: not valid YAML ({exc.__class__.__name__})") from None
    if not isinstance(data, dict):
        raise ModelError(f"{where}: expected a mapping at the top, got {type(data).__name__}")
    return data


def load_registry() -> Registry:
    """Read the bundled registry and merge the user registry over it.

    Returns
    -------
    Registry
        Models by name and the model of each task. User entries win on name clashes.
    """
    bundled = resources.files("veilcv.core.detection").joinpath("models.yaml").read_text("utf-8")
    data = _read_yaml(bundled, "models.yaml")
    models = {n: parse_model(n, e, "models.yaml") for n, e in data["models"].items()}
    tasks = dict(data["tasks"])
    upath = user_registry_path()
    if upath.is_file():
        udata = _read_yaml(upath.read_text("utf-8"), str(upath))
        for n, e in (udata.get("models") or {}).items():
            models[n] = parse_model(n, e, str(upath), user=True)
        for task, n in (udata.get("tasks") or {}).items():
            if n not in models:
                raise ModelError(f"{upath}: tasks.{task}: expected a model name, got {n!r}")
            tasks[_choice(task, TASKS, f"{upath}: tasks")] = n
    return Registry(models, tasks)


def add_user_model(spec: ModelSpec, entry: dict[str, Any], *, take_task: bool) -> None:
    """Record an imported model in the user registry (atomically).

    Parameters
    ----------
    spec : ModelSpec
        The validated model (its name is the key).
    entry : dict
        The YAML form of ``spec`` to store.
    take_task : bool
        Whether the model becomes the default of its task.
    """
    upath = user_registry_path()
    data = _read_yaml(upath.read_text("utf-8"), str(upath)) if upath.is_file() else {}
    data.setdefault("models", {})[spec.name] = entry
    if take_task:
        data.setdefault("tasks", {})[spec.task] = spec.name
    write_text(upath, yaml.safe_dump(data, sort_keys=True))


def with_params(spec: ModelSpec, **params: Any) -> ModelSpec:
    """A copy of ``spec`` with decoder parameters overridden."""
    return replace(spec, params={**spec.params, **params})
