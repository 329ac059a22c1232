"""NMS against a naive reference, and the small-object pass plan's coverage and cost bound."""

from __future__ import annotations

import numpy as np
import pytest

from veilcv.core.detection import nms as nms_module
from veilcv.core.detection.evaluate import BucketRecall, covered_fraction, redacted_area
from veilcv.core.detection.nms import SMALL, _nms_numpy, nms
from veilcv.core.detection.tiling import Pass, TilingConfig, plan_passes
from veilcv.core.geometry import found_mask, iou_matrix
from veilcv.core.kernels.nms import greedy_nms
from veilcv.errors import ValidationError


def _iou(a, b):
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = w * h
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def _nms_reference(boxes, scores, thr):
    order = sorted(range(len(boxes)), key=lambda i: (-scores[i], i))
    keep = []
    for i in order:
        if all(_iou(boxes[i], boxes[k]) < thr for k in keep):
            keep.append(i)
    return keep


@pytest.mark.parametrize("seed", range(5))
def test_nms_matches_reference(seed):
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 100, (60, 2))
    wh = rng.uniform(0, 40, (60, 2))
    boxes = np.concatenate([xy, xy + wh], axis=1)
    boxes[:3, 2:] = boxes[:3, :2]  # zero-area boxes never suppress anything
    scores = rng.choice([0.1, 0.5, 0.9], 60)  # ties: lower index first
    assert nms(boxes, scores, 0.3).tolist() == _nms_reference(boxes.tolist(), scores.tolist(), 0.3)


@pytest.mark.parametrize("n", [5, SMALL - 1, SMALL, 400])
def test_nms_both_loops_match_reference_on_crowds(n):
    """Small inputs take the NumPy loop, larger ones the compiled one: both equal the reference."""
    rng = np.random.default_rng(n)
    xy = rng.uniform(0, 300, (n, 2))  # dense: most boxes overlap several others
    wh = rng.uniform(5, 60, (n, 2))
    boxes = np.concatenate([xy, xy + wh], axis=1)
    scores = np.round(rng.uniform(0.05, 0.95, n), 2)  # rounded: ties between distant indices
    want = _nms_reference(boxes.tolist(), scores.tolist(), 0.3)
    assert nms(boxes, scores, 0.3).tolist() == want
    order = np.argsort(-scores, kind="stable")
    assert _nms_numpy(boxes, order, 0.3).tolist() == want
    assert greedy_nms(boxes, order, 0.3).tolist() == want


def _crowd(n: int = 200, seed: int = 7) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 300, (n, 2))
    boxes = np.concatenate([xy, xy + rng.uniform(5, 60, (n, 2))], axis=1)
    return boxes, np.round(rng.uniform(0.05, 0.95, n), 2)


def test_nms_does_not_wait_for_the_compiled_loop_while_it_loads(monkeypatch):
    """While another thread loads the compiled loop, NMS takes the NumPy loop: same boxes, no wait."""
    boxes, scores = _crowd()
    want = _nms_reference(boxes.tolist(), scores.tolist(), 0.3)
    monkeypatch.setattr(nms_module, "_compiled", None)
    monkeypatch.setattr(nms_module, "_loading", True)

    def must_not_run(*args, **kwargs):
        raise AssertionError("nms waited for the compiled loop")

    monkeypatch.setattr(nms_module, "load_compiled", must_not_run)
    assert nms(boxes, scores, 0.3).tolist() == want


def test_nms_loads_the_compiled_loop_once_when_nobody_else_does(monkeypatch):
    boxes, scores = _crowd()
    want = _nms_reference(boxes.tolist(), scores.tolist(), 0.3)
    monkeypatch.setattr(nms_module, "_compiled", None)
    monkeypatch.setattr(nms_module, "_loading", False)
    calls = []

    def counting(b, order, thr):
        calls.append(len(b))
        return greedy_nms(b, order, thr)

    monkeypatch.setattr("veilcv.core.kernels.nms.greedy_nms", counting)
    assert nms(boxes, scores, 0.3).tolist() == want  # loads, then runs the compiled loop
    assert nms_module._compiled is counting and not nms_module._loading
    nms_module.load_compiled()  # loaded already: nothing to do
    assert nms(boxes, scores, 0.3).tolist() == want
    assert calls == [2, len(boxes), len(boxes)]  # the loading call, then one per nms()


def test_nms_failed_load_is_retried(monkeypatch):
    monkeypatch.setattr(nms_module, "_compiled", None)
    monkeypatch.setattr(nms_module, "_loading", False)

    def broken(*args, **kwargs):
        raise RuntimeError("cache unreadable")

    monkeypatch.setattr("veilcv.core.kernels.nms.greedy_nms", broken)
    with pytest.raises(RuntimeError, match="cache unreadable"):
        nms_module.load_compiled()
    assert nms_module._compiled is None and not nms_module._loading  # the next call tries again
    monkeypatch.setattr("veilcv.core.kernels.nms.greedy_nms", greedy_nms)
    nms_module.load_compiled()
    assert nms_module._compiled is greedy_nms


def test_nms_empty_and_bad_input():
    assert nms(np.zeros((0, 4)), np.zeros(0), 0.5).tolist() == []
    with pytest.raises(ValidationError, match=r"\(N, 4\)"):
        nms(np.zeros((3, 5)), np.zeros(3), 0.5)
    np.testing.assert_allclose(
        iou_matrix([[0, 0, 10, 10]], [[5, 0, 15, 10], [20, 20, 20, 30]]), [[1 / 3, 0.0]]
    )


def _covered(h, w, passes):
    cov = np.zeros((h, w), bool)
    for p in passes:
        cov[p.y0 : p.y1, p.x0 : p.x1] = True
    return cov


@pytest.mark.parametrize("hw", [(1, 1), (300, 400), (480, 640), (1080, 1920), (2160, 3840), (5000, 300)])
def test_plan_covers_the_image_within_budget(hw):
    cfg = TilingConfig()
    passes = plan_passes(*hw, cfg)
    base = passes[0]
    assert (base.x0, base.y0, base.x1, base.y1) == (0, 0, hw[1], hw[0])
    assert max(hw) * base.scale <= cfg.max_side + 1e-9 and base.scale <= 1.0
    fine = passes[1:]
    if fine:
        assert _covered(*hw, fine).all()
        assert sum(p.cost for p in passes) <= cfg.max_pixels
        assert all(p.scale > base.scale * 1.25 for p in fine)
        assert all(p.input_hw[0] % 32 == 0 and p.input_hw[1] % 32 == 0 for p in passes)


def test_plan_small_images_get_one_upscaled_window_and_tiles_overlap():
    passes = plan_passes(300, 400, TilingConfig())
    assert [(p.scale, p.x1, p.y1) for p in passes] == [(1.0, 400, 300), (2.0, 400, 300)]
    cfg = TilingConfig(window_pixels=0, tile=320, overlap=64, max_pixels=10**8)
    tiles = plan_passes(480, 640, cfg)[1:]
    assert len(tiles) > 4
    for a in tiles:  # neighbours share at least `overlap` model pixels (32 source px at scale 2)
        right = [b for b in tiles if b.y0 == a.y0 and b.x0 > a.x0]
        if right:
            nearest = min(right, key=lambda b: b.x0)
            assert (a.x1 - nearest.x0) * a.scale >= cfg.overlap - 2


def test_plan_cost_bound_and_disabled():
    tight = TilingConfig(max_pixels=400_000)
    assert len(plan_passes(1080, 1920, tight)) == 1  # no room for a finer pass
    assert len(plan_passes(300, 400, TilingConfig(enabled=False))) == 1
    with pytest.raises(ValidationError, match="tile"):
        TilingConfig(tile=100)
    with pytest.raises(ValidationError):
        plan_passes(0, 10, TilingConfig())
    assert Pass(0, 0, 33, 10, 1.0).input_hw == (32, 64)


def test_recall_rule_and_buckets():
    gt = np.array([[0, 0, 10, 10], [100, 100, 140, 140], [200, 200, 300, 300], [0, 50, 20, 70]], float)
    pred = np.array([[1, 1, 11, 11], [90, 90, 150, 150], [240, 240, 300, 300]], float)
    # IoU 0.68; inside a bigger box; IoU 0.36; nothing.
    assert found_mask(gt, pred).tolist() == [True, True, True, False]
    br = BucketRecall()
    br.add(gt, pred)
    r = br.recall()
    assert (
        r["<16"] == 1.0 and r["16-31"] == 0.0 and r["32-63"] == 1.0 and r[">=64"] == 1.0 and r["all"] == 0.75
    )
    np.testing.assert_allclose(covered_fraction(gt[:1], [[0, 0, 5, 10]], (400, 400)), [0.5])
    assert redacted_area([[0, 0, 200, 100]], (100, 400)) == 0.5


def test_gated_passes_run_only_around_small_detections() -> None:
    from veilcv.core.detection.tiling import gated_passes

    cfg = TilingConfig()
    base = Pass(0, 0, 1920, 1080, 1024 / 1920)  # a 1080p frame seen at 1024 px
    # nothing found, or only faces big enough for the whole-frame pass: no fine pass
    assert gated_passes(1080, 1920, base, np.zeros((0, 4)), cfg) == []
    assert gated_passes(1080, 1920, base, np.array([[100.0, 100, 200, 220]]), cfg) == []
    # a 30 px face (16 model px) in the top-left: fine passes over a window around it only
    fine = gated_passes(1080, 1920, base, np.array([[100.0, 100, 130, 130], [900, 500, 1100, 760]]), cfg)
    assert fine and all(p.scale > base.scale * 1.25 for p in fine)
    x0, y0 = min(p.x0 for p in fine), min(p.y0 for p in fine)
    x1, y1 = max(p.x1 for p in fine), max(p.y1 for p in fine)
    assert (x0, y0) == (40, 40) and (x1, y1) == (190, 190)  # grown by twice the face's size, clipped
    assert sum(p.cost for p in fine) <= cfg.max_pixels - base.cost
