"""OpenVINO adapter: read, reshape and compile a model with pinned precision and the model cache."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import openvino as ov

from veilcv.errors import ModelError

# OpenVINO's bindings set up their numpy bridge lazily, in a std::call_once, on the first tensor
# access. Two redaction workers making that first access at once, while a third thread held the
# GIL, deadlocked `veil redact` (all threads parked on futexes). Do it here, once, on the thread
# that imports the adapter, before any worker exists.
ov.Tensor(np.zeros((1,), np.float32)).data  # noqa: B018

PRECISIONS = ("f32", "bf16", "f16", "int8")
_CAPS = {"f32": "FP32", "bf16": "BF16", "f16": "FP16", "int8": "INT8"}
SHAPE_MODES = ("dynamic", "static")
MAX_STATIC_SHAPES = 8

_core_lock = threading.Lock()
_core: ov.Core | None = None


def core() -> ov.Core:
    """The process-wide OpenVINO core (creating one is slow)."""
    global _core
    with _core_lock:
        if _core is None:
            _core = ov.Core()
        return _core


def cpu_precisions() -> tuple[str, ...]:
    """Inference precisions this CPU runs natively, from OpenVINO's ``OPTIMIZATION_CAPABILITIES``.

    ``int8`` (INT8 convolutions) additionally needs a model with bundled ranges.
    """
    caps = set(core().get_property("CPU", "OPTIMIZATION_CAPABILITIES"))
    return tuple(p for p in PRECISIONS if p == "f32" or _CAPS[p] in caps)


def float_precision() -> str:
    """The float precision of the layers an INT8 model keeps in float: bf16 where native, else f32."""
    return "bf16" if "bf16" in cpu_precisions() else "f32"


def resolve_precision(requested: str, auto_order: tuple[str, ...], *, int8: bool = False) -> str:
    """The precision to pin: ``requested``, or for ``"auto"`` the first of ``auto_order`` the CPU has.

    ``int8`` says whether the model has INT8 ranges; without them ``int8`` is skipped by ``auto``
    and refused when requested.

    Raises
    ------
    ModelError
        When the CPU cannot run the requested precision natively, or the model has no INT8 ranges.
    """
    native = cpu_precisions()
    supported = tuple(p for p in native if p != "int8" or int8)
    if requested == "int8" and not int8 and "int8" in native:
        raise ModelError("precision int8 needs a model with bundled INT8 ranges; use auto, bf16 or f32")
    if requested == "auto":
        return next((p for p in auto_order if p in supported), "f32")
    if requested not in PRECISIONS:
        raise ModelError(f"precision: expected one of auto, {', '.join(PRECISIONS)}, got {requested!r}")
    if requested not in supported:
        raise ModelError(
            f"precision {requested} is not supported natively by this CPU (it has {', '.join(supported)}); "
            "use --precision auto or f32"
        )
    return requested


class Adapter:
    """A compiled OpenVINO model for one input layout (NCHW, batch 1).

    Parameters
    ----------
    path : Path
        Model file (ONNX, TFLite or OpenVINO IR ``.xml``), already hash-verified.
    precision : {"f32", "bf16", "f16", "int8"}
        Pinned ``INFERENCE_PRECISION_HINT`` (never left to the device default). ``int8`` quantises
        the convolutions with ``int8_ranges`` and pins the other layers to :func:`float_precision`.
    shape_mode : {"dynamic", "static"}
        ``dynamic``: one compiled model with ``[1, 3, ?, ?]`` input. ``static``: one compiled model
        per input shape, compiled on first use. Fixed-size models are always static.
    streams, nireq : int
        CPU streams and the number of infer requests in the async queue.
    cache_dir : Path, optional
        OpenVINO's compiled-model cache (``CACHE_DIR``).
    fixed_hw : (int, int), optional
        The input size of a fixed-size model.
    """

    def __init__(
        self,
        path: Path,
        *,
        precision: str,
        shape_mode: str = "dynamic",
        streams: int = 1,
        nireq: int = 2,
        cache_dir: Path | None = None,
        fixed_hw: tuple[int, int] | None = None,
        int8_ranges: dict | None = None,
    ) -> None:
        if shape_mode not in SHAPE_MODES:
            raise ModelError(f"shape mode: expected one of {', '.join(SHAPE_MODES)}, got {shape_mode!r}")
        try:
            self._model = core().read_model(str(path))
        except Exception as exc:  # OpenVINO raises plain RuntimeError for any unreadable file
            raise ModelError(
                f"{path}: cannot read the model ({type(exc).__name__}: {str(exc)[:200]})"
            ) from None
        if len(self._model.inputs) != 1:
            raise ModelError(f"{path}: expected a model with one image input, got {len(self._model.inputs)}")
        if precision == "int8":
            if not int8_ranges:
                raise ModelError(f"{path}: precision int8 needs INT8 ranges for this model")
            from veilcv.core.detection.quantize import quantize

            try:
                quantize(self._model, int8_ranges, where=str(path))
            except ModelError:
                raise
            except Exception as exc:  # OpenVINO raises plain RuntimeError for a graph it refuses
                raise ModelError(f"{path}: cannot quantise to INT8 ({str(exc)[:200]})") from None
        self.path = path
        self.precision = precision
        self.fixed_hw = fixed_hw
        self.shape_mode = "static" if fixed_hw else shape_mode
        self.streams, self.nireq = int(streams), int(nireq)
        self._config: dict[str, Any] = {
            "INFERENCE_PRECISION_HINT": float_precision() if precision == "int8" else precision,
            "NUM_STREAMS": str(self.streams),
            "PERFORMANCE_HINT": "LATENCY" if self.streams == 1 else "THROUGHPUT",
        }
        if cache_dir is not None:
            cache_dir.mkdir(parents=True, exist_ok=True)
            self._config["CACHE_DIR"] = str(cache_dir)
        self._compiled: dict[tuple[int, int] | None, ov.CompiledModel] = {}
        # One infer request per thread and input shape: the compiled model is shared (one
        # compile, one set of CPU streams), requests are not thread-safe.
        self._local = threading.local()
        self._lock = threading.Lock()
        self.output_names = [o.get_any_name() for o in self._model.outputs]

    def _key(self, hw: tuple[int, int]) -> tuple[int, int] | None:
        return hw if self.shape_mode == "static" else None

    def compiled(self, hw: tuple[int, int]) -> ov.CompiledModel:
        """The compiled model that accepts an input of height/width ``hw``."""
        key = self._key(hw)
        with self._lock:
            if key not in self._compiled:
                if len(self._compiled) >= MAX_STATIC_SHAPES:  # bound memory: drop the oldest shape
                    self._compiled.pop(next(iter(self._compiled)))
                shape = [1, 3, -1, -1] if key is None else [1, 3, hw[0], hw[1]]
                try:
                    self._model.reshape({self._model.inputs[0]: ov.PartialShape(shape)})
                    self._compiled[key] = core().compile_model(self._model, "CPU", self._config)
                except Exception as exc:
                    raise ModelError(
                        f"{self.path}: cannot compile for input {shape}: {str(exc)[:200]}"
                    ) from None
            return self._compiled[key]

    def int8_layers(self, hw: tuple[int, int] = (64, 64)) -> tuple[int, int]:
        """(convolutions running in 8-bit, all convolutions) in the compiled model for input ``hw``."""
        runtime = self.compiled(self.fixed_hw or hw).get_runtime_model()
        conv = int8 = 0
        for op in runtime.get_ordered_ops():
            info = op.get_rt_info()
            if info["layerType"].astype(str) in ("Convolution", "Deconvolution"):
                conv += 1
                int8 += info["runtimePrecision"].astype(str) in ("u8", "i8")
        return int8, conv

    def actual_precision(self) -> str:
        """The precision the compiled model reports (to prove the pin took effect)."""
        cm = next(iter(self._compiled.values()), None) or self.compiled(self.fixed_hw or (32, 32))
        return cm.get_property("INFERENCE_PRECISION_HINT").get_type_name()

    def infer(self, blob: np.ndarray) -> list[np.ndarray]:
        """Run one NCHW float32 blob synchronously; returns the outputs in model order (copies)."""
        hw = (int(blob.shape[2]), int(blob.shape[3]))
        cm = self.compiled(hw)
        key = self._key(hw)
        mine: dict[Any, tuple[ov.CompiledModel, ov.InferRequest]] = self._local.__dict__.setdefault("req", {})
        held = mine.get(key)
        if held is None or held[0] is not cm:  # first call here, or the shape was evicted and recompiled
            held = mine[key] = (cm, cm.create_infer_request())
        req = held[1]
        # The blob is ours and not touched again until this returns: no copy of the input.
        req.infer({0: blob}, share_inputs=True)
        return [np.array(req.get_output_tensor(i).data) for i in range(len(self.output_names))]

    def queue(self, hw: tuple[int, int], callback: Callable[[list[np.ndarray], Any], None]) -> AsyncQueue:
        """An async queue of ``nireq`` requests for inputs of size ``hw``."""
        return AsyncQueue(self.compiled(hw), self.nireq, callback, len(self.output_names))


class AsyncQueue:
    """``AsyncInferQueue`` whose callback receives copied outputs and the job's user data.

    An exception in the callback is kept and raised again from :meth:`wait_all`, so that a failed
    post-processing step can never be mistaken for "no detections".
    """

    def __init__(self, compiled: ov.CompiledModel, nireq: int, callback: Callable, n_out: int) -> None:
        self._queue = ov.AsyncInferQueue(compiled, max(1, nireq))
        # The callback must not reach this object: OpenVINO's queue holds it where Python's cycle
        # collector cannot see, so a cycle through it would keep the queue, its requests and the
        # compiled model alive for the life of the process (`veil tune` grew by ~0.4 GB a setting).
        errors: list[BaseException] = []
        self._errors = errors

        def _done(request: ov.InferRequest, userdata: Any) -> None:
            try:
                outs = [np.array(request.get_output_tensor(i).data) for i in range(n_out)]
                callback(outs, userdata)
            except BaseException as exc:  # surfaced in wait_all
                errors.append(exc)

        self._queue.set_callback(_done)

    def submit(self, blob: np.ndarray, userdata: Any) -> None:
        """Start one inference (blocks only while every request is busy)."""
        self._queue.start_async({0: blob}, userdata)

    def wait_all(self) -> None:
        """Wait for every submitted job; re-raise a callback failure."""
        self._queue.wait_all()
        if self._errors:
            raise self._errors[0]
