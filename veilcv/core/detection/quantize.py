"""INT8 post-training quantisation of a pinned model from pinned activation ranges.

The CPU plugin runs a convolution in INT8 when its inputs pass through ``FakeQuantize`` nodes:
activations quantised per tensor (256 levels), weights per output channel (255 levels,
symmetric). This module inserts those nodes into the hash-verified float model at load time:

- **activations**: one ``FakeQuantize`` on every tensor that feeds a convolution (plain, grouped or
  transposed) or a residual ``Add`` (an ``Add`` of two activations, not a bias), shared by all of
  that tensor's consumers so the data stays 8-bit between layers. Its range is a pinned figure
  from a ranges file (``centerface_int8.yaml``), measured once by :func:`calibrate` on sample
  photos: ``[0, max]`` where the tensor never went negative (after a ReLU), ``[-m, m]`` otherwise;
- **weights**: the range is the largest absolute weight of each output channel, computed here from
  the pinned weights, so no derived weights are stored anywhere;
- **kept in float**: the output heads (the last convolution of each output) and, for CenterFace,
  the first three convolutions (the stem and the first block: their inputs get no range). On 12
  photos against f32, quantising those too was no faster at 1024x576 but raised the mean heatmap
  error by a fifth and the background cells scoring above 0.09 (where f32 stays under 0.05) from 3
  to 8: noise that the verification pass reports as residuals.

The result is deterministic for a given model file and ranges file, so OpenVINO's compiled-model
cache serves it after the first compile. ``benchmarks/calibrate_face_int8.py`` regenerates the
ranges file; the recall tests hold the INT8 model to the float one. ``benchmarks/bench_precision.py``
compares it with f32, bf16 and NNCF's post-training quantisation of the same model on held-out
photos: recall within a point of f32, the same verifier verdicts, the least CPU time; NNCF was no
better on recall, slower, and would need calibration photos at every load.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import openvino as ov
import yaml

from veilcv.errors import ModelError

_ACTIVATION_CONSUMERS = ("Convolution", "GroupConvolution", "ConvolutionBackpropData")
_WEIGHT_AXIS = {"Convolution": 0, "GroupConvolution": 0, "ConvolutionBackpropData": 1}
RANGES_VERSION = 1

Key = tuple[str, int]


def _constant(out: ov.Output) -> np.ndarray | None:
    """The value of ``out`` when it is a constant (possibly behind Reshape/Convert), else None."""
    node = out.get_node()
    if node.get_type_name() == "Constant":
        return node.get_data()
    if node.get_type_name() in ("Reshape", "Convert") and node.input_value(0).get_node().get_type_name() == (
        "Constant"
    ):
        data = node.input_value(0).get_node().get_data()
        return data.reshape(tuple(out.get_shape())) if node.get_type_name() == "Reshape" else data
    return None


def _is_head(op: ov.Node) -> bool:
    """A convolution whose output reaches a model output through bias adds and activations only."""
    todo = [t.get_node() for out in op.outputs() for t in out.get_target_inputs()]
    while todo:
        node = todo.pop()
        kind = node.get_type_name()
        if kind in ("Result", "ShapeOf"):  # an output, or only the tensor's shape is read
            continue
        if kind not in ("Add", "Sigmoid", "Exp", "Relu"):
            return False
        todo.extend(t.get_node() for out in node.outputs() for t in out.get_target_inputs())
    return True


def activation_sources(model: ov.Model) -> dict[Key, ov.Output]:
    """The activation tensors to quantise, in graph order, keyed by (producer name, output index).

    The output heads (the last convolution of each output) stay in float: they are a handful of
    channels, a small part of the work, and their outputs are the scores and box sizes themselves.
    """
    found: dict[Key, ov.Output] = {}
    for op in model.get_ordered_ops():
        kind = op.get_type_name()
        if kind in _ACTIVATION_CONSUMERS and _is_head(op):
            continue
        if kind in _ACTIVATION_CONSUMERS:
            inputs = [op.input_value(0)]
        elif kind == "Add":
            inputs = [op.input_value(0), op.input_value(1)]
            if any(_constant(x) is not None for x in inputs):
                continue  # a bias, not a residual sum
        else:
            continue
        for x in inputs:
            found.setdefault((x.get_node().get_friendly_name(), x.get_index()), x)
    return found


def _first_convolutions(model: ov.Model, n: int) -> list[ov.Node]:
    return [op for op in model.get_ordered_ops() if op.get_type_name() in _ACTIVATION_CONSUMERS][:n]


def calibrate(
    model: ov.Model, blobs: Iterable[np.ndarray], *, float_first: int = 0
) -> list[tuple[str, int, float, float]]:
    """Measure each activation tensor's range over ``blobs`` (model inputs, NCHW float32), in f32.

    ``float_first`` convolutions (in graph order) keep float inputs: their input tensors get no
    range, so :func:`quantize` leaves them, and their weights, in float.

    Returns
    -------
    list of (producer name, output index, low, high)
        In graph order, ready for :func:`write_ranges`.
    """
    sources = activation_sources(model)
    for op in _first_convolutions(model, float_first):
        x = op.input_value(0)
        sources.pop((x.get_node().get_friendly_name(), x.get_index()), None)
    keys = list(sources)
    model.add_outputs(list(sources.values()))
    model.reshape({model.inputs[0]: ov.PartialShape([1, 3, -1, -1])})
    compiled = ov.Core().compile_model(model, "CPU", {"INFERENCE_PRECISION_HINT": "f32"})
    index: dict[str, int] = {}
    for i, out in enumerate(compiled.outputs):
        for name in out.get_names():
            index.setdefault(name, i)
    where = [index[next(iter(sources[k].get_names()))] for k in keys]
    lows: list[list[float]] = []
    highs: list[list[float]] = []
    request = compiled.create_infer_request()
    for blob in blobs:
        request.infer({0: blob})
        outs = [request.get_output_tensor(i).data for i in where]
        lows.append([float(d.min()) for d in outs])
        highs.append([float(d.max()) for d in outs])
    if not lows:
        raise ModelError("calibration: expected at least one image, got none")
    # The extremes over all photos. The mean of each photo's extremes clips less common large
    # values: it lost 2 of 63 large faces at threshold 0.5 (test_recall.py), these kept them, and
    # at the default threshold it found fewer faces under 16 px (bench_precision.py).
    low, high = np.min(lows, axis=0), np.max(highs, axis=0)
    return [(name, idx, float(lo), float(hi)) for (name, idx), lo, hi in zip(keys, low, high, strict=True)]


def write_ranges(path: Path, rows: list[tuple[str, int, float, float]], header: dict[str, Any]) -> None:
    """Write a ranges file: ``header`` (model sha256, calibration notes) and one row per tensor."""
    from veilcv.atomic import write_bytes

    doc = {"veilcv_int8_ranges": RANGES_VERSION, **header, "tensors": [list(r) for r in rows]}
    write_bytes(
        Path(path), yaml.safe_dump(doc, sort_keys=False, width=100, default_flow_style=None).encode("utf-8")
    )


def load_ranges(path: Path, sha256: str) -> dict[Key, tuple[float, float]]:
    """Read a ranges file made for the model with ``sha256``.

    Raises
    ------
    ModelError
        Unreadable, another version, made for another model, or a malformed row.
    """
    try:
        doc = yaml.safe_load(Path(path).read_text("utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ModelError(f"{path}: cannot read the INT8 ranges ({type(exc).__name__})") from None
    if not isinstance(doc, dict) or doc.get("veilcv_int8_ranges") != RANGES_VERSION:
        raise ModelError(f"{path}: expected veilcv_int8_ranges: {RANGES_VERSION}")
    if doc.get("model_sha256") != sha256:
        raise ModelError(f"{path}: made for model {doc.get('model_sha256')!r}, not {sha256}")
    out: dict[Key, tuple[float, float]] = {}
    for row in doc.get("tensors") or []:
        ok = isinstance(row, list) and len(row) == 4 and isinstance(row[0], str) and isinstance(row[1], int)
        if (
            not ok
            or not all(isinstance(v, (int, float)) and np.isfinite(v) for v in row[2:])
            or row[2] > row[3]
        ):
            raise ModelError(f"{path}: expected [name, output, low, high] rows, got {row!r}")
        out[(row[0], row[1])] = (float(row[2]), float(row[3]))
    if not out:
        raise ModelError(f"{path}: no tensors")
    return out


def quantize(model: ov.Model, ranges: dict[Key, tuple[float, float]], *, where: str = "model") -> ov.Model:
    """Insert the activation and weight ``FakeQuantize`` nodes into ``model`` (changed in place).

    Raises
    ------
    ModelError
        When the ranges do not name exactly the model's activation tensors (another model, or a
        ranges file from another version of this code).
    """
    from openvino import opset13 as ops

    sources = activation_sources(model)
    unknown = sorted(set(ranges) - set(sources))
    if unknown:
        raise ModelError(f"{where}: INT8 ranges name tensors this model does not have: {unknown[:3]}")
    f32 = np.float32
    for key, out in sources.items():
        if key not in ranges:
            continue  # kept in float (see ``calibrate(float_first=...)``)
        lo, hi = ranges[key]
        if lo >= 0:
            lo, hi = 0.0, max(hi, 1e-6)
        else:
            hi = max(-lo, hi)
            lo = -hi
        consumers = [t for t in out.get_target_inputs() if not _is_head(t.get_node())]
        fq = ops.fake_quantize(out, f32(lo), f32(hi), f32(lo), f32(hi), 256)
        for target in consumers:
            target.replace_source_output(fq.output(0))
    for op in model.get_ordered_ops():
        kind = op.get_type_name()
        if kind not in _WEIGHT_AXIS or op.input_value(0).get_node().get_type_name() != "FakeQuantize":
            continue  # a float layer (an output head, or one of the first): float weights too
        weights = _constant(op.input_value(1))
        if weights is None:
            continue
        keep = {_WEIGHT_AXIS[kind]} | ({1} if kind == "GroupConvolution" else set())
        axes = tuple(i for i in range(weights.ndim) if i not in keep)
        m = np.abs(weights).max(axis=axes, keepdims=True).astype(np.float32)
        m[m == 0] = np.float32(1e-8)
        fq = ops.fake_quantize(op.input_value(1), -m, m, -m, m, 255)
        op.input(1).replace_source_output(fq.output(0))
    model.validate_nodes_and_infer_types()
    return model
