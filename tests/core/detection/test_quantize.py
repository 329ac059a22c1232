"""INT8 face model: the bundled ranges fit the pinned model, the CPU really runs 8-bit, results hold."""

from __future__ import annotations

import numpy as np
import pytest
import yaml

from veilcv.core.detection import load_detector, registry
from veilcv.core.detection.adapter import Adapter, core, cpu_precisions, resolve_precision
from veilcv.core.detection.quantize import activation_sources, calibrate, load_ranges, quantize
from veilcv.core.geometry import iou_matrix
from veilcv.errors import ModelError

pytestmark = pytest.mark.model

SPEC = registry.load_registry().get("face")
RANGES = registry.int8_ranges_path(SPEC)
needs_int8 = pytest.mark.skipif("int8" not in cpu_precisions(), reason="this CPU has no INT8 support")


def test_bundled_ranges_cover_the_models_activations_but_the_first_block(face_model):
    ranges = load_ranges(RANGES, SPEC.sha256)
    model = core().read_model(str(face_model))
    sources = activation_sources(model)
    first = [op for op in model.get_ordered_ops() if "Convolution" in op.get_type_name()][:3]
    kept_float = {
        (op.input_value(0).get_node().get_friendly_name(), op.input_value(0).get_index()) for op in first
    }
    assert set(ranges) == set(sources) - kept_float and len(ranges) > 50
    assert ("input.1", 0) in kept_float  # the pixels feed the first convolution
    assert all(lo <= hi for lo, hi in ranges.values())


@needs_int8
def test_every_convolution_runs_in_eight_bits(face_model):
    det = load_detector("face", threshold=0.5, precision="int8", small_objects=False)
    int8, conv = det.adapter.int8_layers((576, 1024))
    assert conv >= 60 and conv - 8 <= int8 < conv  # all but the first block and the output heads
    assert det.info["precision"] == "int8"
    f32 = Adapter(face_model, precision="f32")
    assert f32.int8_layers((576, 1024))[0] == 0


@needs_int8
def test_int8_finds_the_same_face_deterministically(face_model, astronaut):
    f32 = load_detector("face", threshold=0.5, precision="f32", small_objects=False).detect(astronaut)
    a = load_detector("face", threshold=0.5, precision="int8", small_objects=False).detect(astronaut)
    b = load_detector("face", threshold=0.5, precision="int8", small_objects=False).detect(astronaut)
    assert len(a) == len(f32) == 1
    np.testing.assert_array_equal(a.boxes, b.boxes)  # same model file + ranges: same answers
    assert iou_matrix(a.boxes, f32.boxes)[0, 0] > 0.9 and abs(a.scores[0] - f32.scores[0]) < 0.05


def test_int8_for_a_model_without_ranges_names_the_model(text_model):
    if "int8" not in cpu_precisions():
        pytest.skip("this CPU has no INT8 support")
    with pytest.raises(ModelError, match=r"^ppocrv4-det \(plate model\): precision int8 needs a model"):
        load_detector("plate", precision="int8")


def test_auto_picks_int8_only_for_models_with_ranges():
    if "int8" in cpu_precisions():
        assert resolve_precision("auto", ("int8", "bf16", "f32"), int8=True) == "int8"
        with pytest.raises(ModelError, match="needs a model with bundled INT8 ranges"):
            resolve_precision("int8", ("f32",), int8=False)
    assert resolve_precision("auto", ("int8", "f32"), int8=False) == "f32"


def test_calibration_measures_every_activation(face_model):
    rng = np.random.default_rng(0)
    blobs = [rng.uniform(0, 255, (1, 3, 64, 96)).astype(np.float32) for _ in range(2)]
    rows = calibrate(core().read_model(str(face_model)), blobs)
    assert {(r[0], r[1]) for r in rows} == set(activation_sources(core().read_model(str(face_model))))
    first = next(r for r in rows if r[0] == "input.1")
    assert 0 <= first[2] <= first[3] <= 255
    kept = calibrate(core().read_model(str(face_model)), blobs, float_first=3)
    assert {(r[0], r[1]) for r in kept} == set(load_ranges(RANGES, SPEC.sha256))


def test_calibration_keeps_each_tensors_extremes_over_all_photos(face_model):
    """A range spans every calibration photo, not an average of each photo's extremes.

    ``benchmarks/bench_precision.py`` measured the averaged ranges: faces under 16 px found fell
    from 0.767 to 0.733 on held-out street photos.
    """
    rng = np.random.default_rng(1)
    bright = rng.uniform(128, 255, (1, 3, 64, 96)).astype(np.float32)
    dark = rng.uniform(0, 96, (1, 3, 64, 96)).astype(np.float32)
    one, two, both = (
        calibrate(core().read_model(str(face_model)), blobs, float_first=3)
        for blobs in ([bright], [dark], [dark, bright])
    )
    assert sum(a[3] != b[3] for a, b in zip(one, two, strict=True)) > len(one) // 2  # the photos differ
    for a, b, ab in zip(one, two, both, strict=True):
        assert a[:2] == b[:2] == ab[:2]
        np.testing.assert_allclose(ab[2:], [min(a[2], b[2]), max(a[3], b[3])], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d.update(veilcv_int8_ranges=9), "expected veilcv_int8_ranges: 1"),
        (lambda d: d.update(model_sha256="0" * 64), "made for model"),
        (lambda d: d["tensors"].append(["x", 0, 2.0, 1.0]), r"expected \[name, output, low, high\]"),
        (lambda d: d["tensors"].append(["x", 0, float("nan"), 1.0]), r"expected \[name, output, low, high\]"),
        (lambda d: d.update(tensors=[]), "no tensors"),
    ],
)
def test_bad_ranges_files_are_refused_in_one_line(tmp_path, edit, message):
    doc = yaml.safe_load(RANGES.read_text())
    edit(doc)
    path = tmp_path / "r.yaml"
    path.write_text(yaml.safe_dump(doc))
    with pytest.raises(ModelError, match=message) as err:
        load_ranges(path, SPEC.sha256)
    assert "\n" not in str(err.value)
    with pytest.raises(ModelError, match="cannot read"):
        load_ranges(tmp_path / "missing.yaml", SPEC.sha256)


def test_ranges_for_another_graph_are_refused(face_model):
    ranges = load_ranges(RANGES, SPEC.sha256)
    ranges[("no-such-node", 0)] = (0.0, 1.0)
    with pytest.raises(ModelError, match="INT8 ranges name tensors this model does not have"):
        quantize(core().read_model(str(face_model)), ranges)
