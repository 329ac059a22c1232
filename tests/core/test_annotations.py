"""Ground-truth readers: the four formats give the same boxes; malformed files name file and place."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from veilcv.core.annotations import detect_format, load_annotations
from veilcv.errors import InputError

# One image, 100x80, two boxes (x0, y0, x1, y1).
BOXES = np.array([[10, 20, 40, 50], [60, 5, 90, 25]], np.float64)


def write_coco(path: Path) -> None:
    doc = {
        "images": [{"id": 7, "file_name": "a.jpg", "width": 100, "height": 80}],
        "categories": [{"id": 1, "name": "face"}],
        "annotations": [
            {"id": i, "image_id": 7, "category_id": 1, "bbox": [x0, y0, x1 - x0, y1 - y0]}
            for i, (x0, y0, x1, y1) in enumerate(BOXES.tolist())
        ],
    }
    path.write_text(json.dumps(doc))


def write_voc(folder: Path) -> None:
    folder.mkdir()
    objs = "".join(
        f"<object><name>face</name><bndbox><xmin>{x0:g}</xmin><ymin>{y0:g}</ymin><xmax>{x1:g}</xmax>"
        f"<ymax>{y1:g}</ymax></bndbox></object>"
        for x0, y0, x1, y1 in BOXES
    )
    (folder / "a.xml").write_text(
        f"<annotation><filename>a.jpg</filename><size><width>100</width><height>80</height></size>{objs}</annotation>"
    )


def write_yolo(folder: Path, images: Path) -> None:
    folder.mkdir()
    images.mkdir(exist_ok=True)
    Image.new("RGB", (100, 80)).save(images / "a.jpg")
    lines = [
        f"0 {(x0 + x1) / 200:.6f} {(y0 + y1) / 160:.6f} {(x1 - x0) / 100:.6f} {(y1 - y0) / 80:.6f}"
        for x0, y0, x1, y1 in BOXES
    ]
    (folder / "a.txt").write_text("\n".join(lines) + "\n")
    (folder / "classes.txt").write_text("face\n")


def write_wider(path: Path) -> None:
    rows = [f"{x0:g} {y0:g} {x1 - x0:g} {y1 - y0:g} 0 0 0 0 0 0" for x0, y0, x1, y1 in BOXES]
    path.write_text("a.jpg\n2\n" + "\n".join(rows) + "\nempty.jpg\n0\n0 0 0 0 0 0 0 0 0 0\n")


@pytest.mark.parametrize("fmt", ["coco", "voc", "yolo", "wider"])
def test_every_format_reads_the_same_boxes(tmp_path: Path, fmt: str) -> None:
    images = tmp_path / "images"
    if fmt == "coco":
        path = tmp_path / "gt.json"
        write_coco(path)
    elif fmt == "voc":
        path = tmp_path / "voc"
        write_voc(path)
    elif fmt == "yolo":
        path = tmp_path / "labels"
        write_yolo(path, images)
    else:
        path = tmp_path / "wider_gt.txt"
        write_wider(path)
    assert detect_format(path) == fmt
    items = load_annotations(path, images_dir=images)
    first = next(it for it in items if it.file == "a.jpg")
    np.testing.assert_allclose(first.boxes, BOXES, atol=1e-3)
    assert first.labels == ("face", "face")
    if fmt == "wider":
        assert [it.file for it in items] == ["a.jpg", "empty.jpg"] and len(items[1].boxes) == 0


def test_boxes_past_the_border_are_clipped_and_empty_ones_dropped(tmp_path: Path) -> None:
    doc = {
        "images": [{"id": 1, "file_name": "a.jpg", "width": 50, "height": 50}],
        "annotations": [
            {"image_id": 1, "bbox": [40, 40, 20, 20], "category_id": 3},
            {"image_id": 1, "bbox": [5, 5, 0, 10], "category_id": 3},
        ],
    }
    (tmp_path / "gt.json").write_text(json.dumps(doc))
    (item,) = load_annotations(tmp_path / "gt.json")
    np.testing.assert_array_equal(item.boxes, [[40, 40, 50, 50]])
    assert item.labels == ("3",)


def test_label_filter(tmp_path: Path) -> None:
    doc = {
        "images": [{"id": 1, "file_name": "a.jpg"}],
        "categories": [{"id": 1, "name": "face"}, {"id": 2, "name": "plate"}],
        "annotations": [
            {"image_id": 1, "bbox": [0, 0, 5, 5], "category_id": 1},
            {"image_id": 1, "bbox": [10, 10, 5, 5], "category_id": 2},
        ],
    }
    (tmp_path / "gt.json").write_text(json.dumps(doc))
    (item,) = load_annotations(tmp_path / "gt.json", labels=["plate"])
    assert item.labels == ("plate",)
    np.testing.assert_array_equal(item.boxes, [[10, 10, 15, 15]])


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("gt.json", "{not json", "gt.json:1: expected COCO JSON, got invalid JSON"),
        ("gt.json", "", "gt.json: expected COCO JSON, got an empty file"),
        ("gt.json", "[1, 2]", r"gt.json: \$: expected a COCO object with an images list, got list"),
        ("gt.json", b'{"images": "caf\xe9"}', "expected COCO JSON as UTF-8 text, got byte 0xe9 at offset 15"),
        (
            "wider.txt",
            "a.jpg\n1\na b c d\n",
            r"wider.txt:3: expected 'x y w h ...' \(numbers\), got 'a b c d'",
        ),
        ("wider.txt", b"a.jpg\n1\n1 2 3 4 \xff\n", "expected WIDER FACE txt as UTF-8 text, got byte 0xff"),
        (
            "gt.json",
            '{"images": [{"id": 1, "file_name": "a.jpg"}], "annotations": [{"image_id": 1, "bbox": [1, 2]}]}',
            r"\$.annotations\[0\].bbox: expected \[x, y, width, height\]",
        ),
        (
            "gt.json",
            '{"images": [], "annotations": [{"image_id": 9, "bbox": [1, 2, 3, 4]}]}',
            r"\$.annotations\[0\]: expected an image_id",
        ),
        ("wider.txt", "a.jpg\ntwo\n", r"wider.txt:2: expected the number of faces"),
        ("wider.txt", "a.jpg\n1\n1 2\n", r"wider.txt:3: expected 'x y w h"),
        ("a.xml", "<annotation><object><bndbox><xmin>x</xmin></bndbox></object></annotation>", "object 0"),
    ],
)
def test_malformed_annotations_name_file_and_place(
    tmp_path: Path, name: str, content: str | bytes, message: str
) -> None:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    with pytest.raises(InputError, match=message):
        load_annotations(path)


def test_yolo_needs_images_and_matching_files(tmp_path: Path) -> None:
    labels = tmp_path / "labels"
    labels.mkdir()
    (labels / "b.txt").write_text("0 0.5 0.5 0.1 0.1\n")
    with pytest.raises(InputError, match="pass --images"):
        load_annotations(labels, "yolo")
    (tmp_path / "images").mkdir()
    with pytest.raises(InputError, match=r"expected an image named b\.\*"):
        load_annotations(labels, "yolo", images_dir=tmp_path / "images")


def test_real_voc_set(shared_data: Path) -> None:
    ann = shared_data / "faces_mask_street" / "annotations"
    items = load_annotations(ann, "voc")
    assert len(items) == 853
    assert sum(len(it.boxes) for it in items) == 4072


def test_yolo_non_utf8_labels_and_unreadable_images_are_input_errors(tmp_path: Path) -> None:
    labels, images = tmp_path / "labels", tmp_path / "images"
    labels.mkdir()
    images.mkdir()
    Image.new("RGB", (40, 20)).save(images / "a.png")
    (labels / "a.txt").write_bytes(b"0 0.5 0.5 0.1 0.1 \xff\n")
    with pytest.raises(InputError, match=r"a\.txt: expected YOLO txt as UTF-8 text, got byte 0xff"):
        load_annotations(labels, "yolo", images_dir=images)
    (labels / "a.txt").write_text("0 0.5 0.5 0.1 0.1\n")
    (images / "a.png").write_bytes(b"not an image")
    with pytest.raises(InputError, match=r"a\.png: expected an image whose size YOLO boxes refer to"):
        load_annotations(labels, "yolo", images_dir=images)


@pytest.mark.skipif(not hasattr(__import__("os"), "mkfifo"), reason="needs FIFOs")
def test_a_fifo_named_like_annotations_fails_instead_of_blocking(tmp_path: Path) -> None:
    import os

    os.mkfifo(tmp_path / "gt.json")
    with pytest.raises(InputError, match=r"gt\.json: expected .*, got a special file"):
        load_annotations(tmp_path / "gt.json", images_dir=tmp_path)
    os.mkfifo(tmp_path / "gt.txt")  # the format is guessed from the first line: that read must not block
    with pytest.raises(InputError, match=r"gt\.txt: expected .*, got a special file"):
        load_annotations(tmp_path / "gt.txt", images_dir=tmp_path)


def test_wider_attributes_and_invalid_faces_reach_coverage_and_fairness_alike(tmp_path: Path) -> None:
    from veilcv.evaluation.inputs import read_ground_truth

    path = tmp_path / "wider_face_val_bbx_gt.txt"
    path.write_text(
        "0--Parade/a.jpg\n3\n10 20 30 40 2 0 1 0 1 0 \n50 60 5 5 0 0 0 1 0 0 \n70 70 0 9 0 0 0 0 0 0 \n"
        "1--Handshaking/b.jpg\n1\n1 2 3 4\n"
    )
    coverage = load_annotations(path)
    fairness = read_ground_truth(path)
    assert [(c.file, c.boxes.tolist()) for c in coverage] == [(f.key, f.boxes.tolist()) for f in fairness]
    a, b = coverage
    assert a.boxes.tolist() == [[10, 20, 40, 60], [50, 60, 55, 65]]  # the zero-width face is dropped
    assert a.attributes[0]["blur"] == "2" and a.attributes[1]["invalid"] == "1"
    assert a.ignore == (False, True) == fairness[0].ignore
    assert (b.attributes, b.ignore) == ((), ())  # a line without the six codes carries no attributes
    only = a.select([False, True])
    assert (only.boxes.tolist(), only.attributes, only.ignore) == (
        [[50, 60, 55, 65]],
        (a.attributes[1],),
        (True,),
    )
