"""Ground-truth box readers: COCO JSON, YOLO txt, Pascal VOC XML and WIDER FACE txt.

Every reader returns the same thing, a list of :class:`ImageBoxes` with float boxes
``(x0, y0, x1, y1)`` in pixels. Malformed input raises :class:`~veilcv.errors.InputError` naming the
file and the line (text formats) or JSON path (COCO).
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from veilcv.core.defaults import IMAGE_SUFFIXES
from veilcv.errors import InputError
from veilcv.safeio import read_regular_file, read_text

FORMATS = ("coco", "yolo", "voc", "wider")


@dataclass(frozen=True)
class ImageBoxes:
    """Ground truth of one image.

    Attributes
    ----------
    file : str
        Image path relative to the images folder, as the annotation names it.
    boxes : ndarray of float64, shape (N, 4)
        ``(x0, y0, x1, y1)`` in pixels, half-open; empty and inverted boxes are dropped.
    labels : tuple of str
        Class name of each box.
    size : tuple of int or None
        ``(width, height)`` where the annotation gives it.
    attributes : tuple of mapping, optional
        Attributes of each box where the format has them (WIDER FACE's ``blur``, ``occlusion``...);
        empty when it has none.
    ignore : tuple of bool, optional
        Boxes the format marks as not to be scored (WIDER FACE's ``invalid``); empty: none.
    """

    file: str
    boxes: np.ndarray
    labels: tuple[str, ...]
    size: tuple[int, int] | None = None
    attributes: tuple[Mapping[str, str], ...] = ()
    ignore: tuple[bool, ...] = ()

    def select(self, keep: Sequence[bool]) -> ImageBoxes:
        """The same image with only the boxes where ``keep`` is true (their attributes follow)."""
        idx = [i for i, k in enumerate(keep) if k]
        return ImageBoxes(
            self.file,
            self.boxes[idx].reshape(-1, 4),
            tuple(self.labels[i] for i in idx),
            self.size,
            tuple(self.attributes[i] for i in idx) if self.attributes else (),
            tuple(self.ignore[i] for i in idx) if self.ignore else (),
        )


#: A box as a reader finds it: ``(x0, y0, x1, y1, label)``, or with ``(attributes, ignore)`` after.
_Row = tuple[Any, ...]


def _make(file: str, rows: list[_Row], size: tuple[int, int] | None) -> ImageBoxes:
    kept = [r for r in rows if r[2] > r[0] and r[3] > r[1]]
    boxes = np.array([r[:4] for r in kept], dtype=np.float64).reshape(-1, 4)
    if size is not None and len(boxes):  # several public sets run a pixel past the border
        boxes[:, [0, 2]] = boxes[:, [0, 2]].clip(0, size[0])
        boxes[:, [1, 3]] = boxes[:, [1, 3]].clip(0, size[1])
        ok = (boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1])
        boxes, kept = boxes[ok], [r for r, k in zip(kept, ok, strict=True) if k]
    extra = any(len(r) > 5 for r in kept)
    return ImageBoxes(
        file,
        boxes,
        tuple(r[4] for r in kept),
        size,
        tuple(r[5] if len(r) > 5 else {} for r in kept) if extra else (),
        tuple(bool(r[6]) if len(r) > 6 else False for r in kept) if extra else (),
    )


def detect_format(path: Path) -> str:
    """Guess the annotation format of ``path`` (a file or folder).

    Returns
    -------
    {"coco", "yolo", "voc", "wider"}

    Raises
    ------
    InputError
        Nothing recognisable.
    """
    if path.is_dir():
        if next(path.rglob("*.xml"), None) is not None:
            return "voc"
        if next(path.rglob("*.txt"), None) is not None:
            return "yolo"
        if _json_files(path):
            return "coco"  # :func:`coco_file` says when there are several
        raise InputError(
            f"{path}: expected a folder of VOC .xml or YOLO .txt files or one COCO .json, "
            "got none of them; use --format"
        )
    suffix = path.suffix.lower()
    if suffix == ".json":
        return "coco"
    if suffix == ".xml":
        return "voc"
    if suffix == ".txt":
        data = read_regular_file(path, what="a WIDER FACE or YOLO txt", label=f"{path}: ")
        first = data.split(b"\n", 1)[0].decode("utf-8", "replace").strip()  # the reader checks encoding
        if Path(first).suffix.lower() in IMAGE_SUFFIXES:
            return "wider"
        return "yolo"
    raise InputError(
        f"{path}: expected COCO .json, VOC .xml, YOLO or WIDER .txt, got {suffix or 'no suffix'!r}"
    )


def _json_files(folder: Path) -> list[Path]:
    return sorted(
        p
        for p in folder.iterdir()
        if p.suffix.lower() == ".json" and not p.name.startswith(".") and p.is_file()
    )


def coco_file(path: Path) -> Path:
    """The COCO JSON that ``path`` names: the file itself, or the one ``.json`` file in a folder.

    Raises
    ------
    InputError
        A folder with no ``.json`` file at its top level, or with several.
    """
    if not path.is_dir():
        return path
    found = _json_files(path)
    if len(found) == 1:
        return found[0]
    if not found:
        raise InputError(
            f"{path}: expected a COCO .json file or a folder holding one, got a folder with none"
        )
    names = ", ".join(p.name for p in found[:5]) + (", ..." if len(found) > 5 else "")
    raise InputError(
        f"{path}: expected one COCO .json in the folder, got {len(found)} ({names}); "
        "pass the one to use as --gt FILE"
    )


def load_annotations(
    path: str | Path, fmt: str = "auto", *, images_dir: str | Path | None = None, labels: Iterable[str] = ()
) -> list[ImageBoxes]:
    """Read ground-truth boxes in any supported format.

    Parameters
    ----------
    path : str or Path
        COCO JSON file (or a folder holding exactly one), WIDER FACE txt file, VOC XML file or
        folder, or YOLO txt folder.
    fmt : {"auto", "coco", "yolo", "voc", "wider"}
    images_dir : str or Path, optional
        Needed by YOLO (boxes are relative to the image size, read from the image).
    labels : iterable of str
        Keep only boxes with these labels (all when empty).

    Returns
    -------
    list of ImageBoxes
        Sorted by file.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no such annotation file or folder")
    fmt = detect_format(path) if fmt == "auto" else fmt
    if fmt not in FORMATS:
        raise InputError(f"--format: expected one of auto, {', '.join(FORMATS)}, got {fmt!r}")
    if fmt == "coco":
        items = read_coco(coco_file(path))
    elif fmt == "voc":
        items = (
            [read_voc(p, base=path) for p in sorted(path.rglob("*.xml"))]
            if path.is_dir()
            else [read_voc(path)]
        )
    elif fmt == "wider":
        items = read_wider(path)
    else:
        if images_dir is None:
            raise InputError(f"{path}: YOLO boxes are relative to the image size; pass --images")
        items = read_yolo(path, Path(images_dir))
    wanted = set(labels)
    if wanted:
        items = [it.select([lab in wanted for lab in it.labels]) for it in items]
    return sorted(items, key=lambda it: it.file)


def read_coco(path: Path) -> list[ImageBoxes]:
    """Read a COCO detection JSON (``images``, ``annotations``, ``categories``; ``bbox`` is x, y, w, h)."""
    text = read_text(path, "COCO JSON")
    if not text.strip():
        raise InputError(f"{path}: expected COCO JSON, got an empty file")
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}:{exc.lineno}: expected COCO JSON, got invalid JSON ({exc.msg})") from None
    if not isinstance(doc, dict):
        raise InputError(f"{path}: $: expected a COCO object with an images list, got {type(doc).__name__}")
    if not isinstance(doc.get("images"), list):
        raise InputError(
            f"{path}: $.images: expected a list of images, got {type(doc.get('images')).__name__}"
        )
    cats = {
        c.get("id"): str(c.get("name", c.get("id"))) for c in doc.get("categories", []) if isinstance(c, dict)
    }
    images: dict[object, tuple[str, tuple[int, int] | None]] = {}
    for i, im in enumerate(doc["images"]):
        if not isinstance(im, dict) or "id" not in im or not isinstance(im.get("file_name"), str):
            raise InputError(f"{path}: $.images[{i}]: expected an object with id and file_name")
        size = (int(im["width"]), int(im["height"])) if "width" in im and "height" in im else None
        images[im["id"]] = (im["file_name"], size)
    rows: dict[object, list[tuple[float, float, float, float, str]]] = {k: [] for k in images}
    for i, ann in enumerate(doc.get("annotations", [])):
        where = f"{path}: $.annotations[{i}]"
        if not isinstance(ann, dict) or ann.get("image_id") not in images:
            raise InputError(f"{where}: expected an image_id listed in $.images")
        bbox = ann.get("bbox")
        if not (isinstance(bbox, list) and len(bbox) == 4 and all(isinstance(v, (int, float)) for v in bbox)):
            raise InputError(f"{where}.bbox: expected [x, y, width, height], got {bbox!r}")
        x, y, w, h = (float(v) for v in bbox)
        rows[ann["image_id"]].append(
            (x, y, x + w, y + h, cats.get(ann.get("category_id"), str(ann.get("category_id"))))
        )
    return [_make(images[k][0], rows[k], images[k][1]) for k in images]


def read_voc(path: Path, base: Path | None = None) -> ImageBoxes:
    """Read one Pascal VOC XML file (``<object><name>`` and ``<bndbox>`` xmin/ymin/xmax/ymax)."""
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError) as exc:
        raise InputError(f"{path}: expected Pascal VOC XML, got: {exc}") from exc
    filename = root.findtext("filename")
    if not filename:
        rel = path.relative_to(base) if base else Path(path.name)
        filename = str(rel.with_suffix(".jpg"))
    elif base is not None:
        filename = str(path.parent.relative_to(base) / filename) if path.parent != base else filename
    size = None
    if root.find("size") is not None:
        try:
            size = (
                int(float(root.findtext("size/width") or 0)),
                int(float(root.findtext("size/height") or 0)),
            )
        except ValueError as exc:
            raise InputError(f"{path}: <size>: expected integer width and height") from exc
        size = size if size[0] > 0 and size[1] > 0 else None
    rows = []
    for n, obj in enumerate(root.findall("object")):
        bb = obj.find("bndbox")
        try:
            vals = [float(bb.findtext(k)) for k in ("xmin", "ymin", "xmax", "ymax")]  # type: ignore[union-attr, arg-type]
        except (AttributeError, TypeError, ValueError) as exc:
            raise InputError(
                f"{path}: object {n}: expected <bndbox> with numeric xmin, ymin, xmax, ymax"
            ) from exc
        rows.append((*vals, obj.findtext("name") or "object"))
    return _make(filename, rows, size)  # type: ignore[arg-type]


def iter_wider(path: Path, what: str = "WIDER FACE txt") -> Iterator[tuple[str, list[tuple[int, list[str]]]]]:
    """The structure of a WIDER FACE ground-truth txt, shared by every reader of it.

    Yields ``(image name, [(line number, fields), ...])`` per image, one entry per face; an image
    with no faces yields an empty list (WIDER still writes one line of zeros for it, skipped here).
    The fields are the line split on white space, not yet checked: readers differ in what they need.
    """
    lines = read_text(path, what).splitlines()
    i = 0
    while i < len(lines):
        name = lines[i].strip()
        if not name:
            i += 1
            continue
        try:
            count = int(lines[i + 1])
        except (IndexError, ValueError):
            got = lines[i + 1].strip() if i + 1 < len(lines) else "end of file"
            raise InputError(f"{path}:{i + 2}: expected the number of faces of {name}, got {got!r}") from None
        rows = [
            (i + 3 + j, lines[i + 2 + j].split() if i + 2 + j < len(lines) else [])
            for j in range(max(count, 1))
        ]
        if count == 0:  # WIDER writes one line of zeros for an image without faces
            lineno, parts = rows[0]
            if len(parts) < 4 or not all(_is_number(f) for f in parts):
                raise InputError(f"{path}:{lineno}: expected 'x y w h ...' (zeros), got {' '.join(parts)!r}")
            rows = []
        yield name, rows
        i += 2 + max(count, 1)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


#: WIDER FACE's six attribute codes after ``x y w h``, in file order.
WIDER_ATTRIBUTES = ("blur", "expression", "illumination", "invalid", "occlusion", "pose")


def read_wider(path: Path, what: str = "WIDER FACE txt") -> list[ImageBoxes]:
    """Read a WIDER FACE ground-truth txt (file line, count line, ``x y w h ...`` lines).

    Where a face line carries WIDER's six integer attribute codes, they become the box's
    ``attributes`` (named as in :data:`WIDER_ATTRIBUTES`) and ``invalid`` faces are marked
    ``ignore``. Zero-size faces are dropped, as in every reader.
    """
    out = []
    for name, faces in iter_wider(path, what):
        rows: list[_Row] = []
        for lineno, parts in faces:
            if len(parts) < 4 or not all(_is_number(v) for v in parts[:4]):
                raise InputError(
                    f"{path}:{lineno}: expected 'x y w h ...' (numbers), got {' '.join(parts)!r}"
                )
            x, y, w, h = (float(v) for v in parts[:4])
            codes = parts[4:10]
            if len(codes) == len(WIDER_ATTRIBUTES) and all(c.lstrip("-").isdigit() for c in codes):
                attrs = dict(zip(WIDER_ATTRIBUTES, (str(int(c)) for c in codes), strict=True))
                rows.append((x, y, x + w, y + h, "face", attrs, attrs["invalid"] == "1"))
            else:
                rows.append((x, y, x + w, y + h, "face"))
        out.append(_make(name, rows, None))
    return out


def read_yolo(folder: Path, images_dir: Path) -> list[ImageBoxes]:
    """Read YOLO txt files (``class cx cy w h``, normalised) beside a folder of images.

    Class names come from ``classes.txt`` in ``folder`` when present, else the class index.
    """
    from PIL import Image

    names_file = folder / "classes.txt"
    names = read_text(names_file, "YOLO class names").split("\n") if names_file.is_file() else []
    by_stem: dict[str, Path] = {}
    for p in images_dir.rglob("*"):
        if p.suffix.lower() in IMAGE_SUFFIXES:
            by_stem[str(p.relative_to(images_dir).with_suffix(""))] = p
    out = []
    files = [folder] if folder.is_file() else sorted(folder.rglob("*.txt"))
    for txt in files:
        if txt.name == "classes.txt":
            continue
        stem = str(txt.relative_to(folder).with_suffix("")) if folder.is_dir() else txt.stem
        image = by_stem.get(stem)
        if image is None:
            raise InputError(f"{txt}: expected an image named {stem}.* in {images_dir}, found none")
        try:
            with Image.open(image) as im:
                w, h = im.size
        except OSError as exc:  # YOLO boxes are relative: without the image size there are none
            raise InputError(
                f"{image}: expected an image whose size YOLO boxes refer to, got: {exc}"
            ) from None
        rows = []
        for ln, line in enumerate(read_text(txt, "YOLO txt").splitlines(), 1):
            parts = line.split()
            if not parts:
                continue
            try:
                cls, cx, cy, bw, bh = int(parts[0]), *(float(v) for v in parts[1:5])
            except (ValueError, TypeError):
                raise InputError(
                    f"{txt}:{ln}: expected 'class cx cy w h' (normalised), got {line.strip()!r}"
                ) from None
            label = names[cls].strip() if 0 <= cls < len(names) and names[cls].strip() else str(cls)
            rows.append(((cx - bw / 2) * w, (cy - bh / 2) * h, (cx + bw / 2) * w, (cy + bh / 2) * h, label))
        out.append(_make(str(image.relative_to(images_dir)), rows, (w, h)))
    return out
