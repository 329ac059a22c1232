"""Example inputs taken from installed packages (never photos committed to this repository).

``python -m veilcv.examples astronaut`` prints the path of scikit-image's bundled astronaut photo
(Eileen Collins, NASA, public domain), a portrait with one face: the README's first command
redacts it. ``python -m veilcv.examples gps-photo DEST.jpg`` writes that photo as a JPEG carrying
the metadata a phone camera leaves (GPS position, camera make, model and serial number, a
timestamp), so the metadata check, strip and pre-commit hook can be tried on a known file.

The README's other examples make their inputs here too: ``photos DEST/`` (three photos, one face,
and the dataset manifest that ``veil ingest`` reads), ``annotations DEST/`` (ground-truth face boxes
for those photos, COCO JSON, for ``veil coverage``), ``clip DEST.mp4`` (a two-second pan across the
astronaut) and ``eval-rows DEST.csv`` (illustrative per-image detector outcomes with a lighting
column, for ``veil fairness``).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from importlib import resources
from pathlib import Path

from veilcv.errors import InputError

#: name -> (package, resource, description)
EXAMPLES: dict[str, tuple[str, str, str]] = {
    "astronaut": (
        "skimage.data",
        "astronaut.png",
        "NASA portrait of Eileen Collins (public domain), one face",
    ),
    "coffee": ("skimage.data", "coffee.png", "a cup of coffee (CC0, Rachel Michetti), no face"),
    "chelsea": ("skimage.data", "chelsea.png", "Chelsea the cat (CC0, Stefan van der Walt), no face"),
}


def example_path(name: str) -> Path:
    """Path of a bundled example image.

    Parameters
    ----------
    name : str
        One of ``EXAMPLES`` (``"astronaut"``).

    Returns
    -------
    Path
        The installed file (read-only: redact it into another folder).

    Raises
    ------
    InputError
        Unknown name, or the package that ships it is not installed.
    """
    if name not in EXAMPLES:
        names = ", ".join([*EXAMPLES, *(f"{w} {p}" for w, (_, p, _) in WRITERS.items())])
        raise InputError(f"expected an example name ({names}), got {name!r}; use --help to list them")
    package, resource, _ = EXAMPLES[name]
    try:
        path = Path(str(resources.files(package).joinpath(resource)))
    except ModuleNotFoundError as exc:
        raise InputError(
            f"example {name!r} ships with scikit-image, which is not installed; use pip install -e '.[dev]'"
        ) from exc
    if not path.is_file():
        raise InputError(f"example {name!r}: expected {resource} in {package}, got no such file")
    return path


#: A demo position (the Greenwich meridian at the Royal Observatory), not anyone's home.
_DEMO_GPS = {1: "N", 2: (51.0, 28.0, 40.0), 3: "W", 4: (0.0, 0.0, 5.0)}


def write_gps_photo(dest: str | Path) -> Path:
    """Write the astronaut photo as a JPEG with phone-camera metadata (GPS, make, model, serial).

    Parameters
    ----------
    dest : path-like
        The JPEG to write (atomically); its folder is created.

    Returns
    -------
    Path
        ``dest``.
    """
    from PIL import ExifTags, Image

    from veilcv.atomic import atomic_path

    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "VeilcvDemo"
    exif[ExifTags.Base.Model] = "Phone 1"
    exif[ExifTags.Base.DateTime] = "2026:01:01 12:00:00"
    exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.BodySerialNumber] = "SN-0123456789"
    exif.get_ifd(ExifTags.IFD.GPSInfo).update(_DEMO_GPS)
    dest = Path(dest)
    with Image.open(example_path("astronaut")) as img, atomic_path(dest, suffix=".jpg") as tmp:
        img.convert("RGB").save(tmp, "JPEG", quality=90, exif=exif.tobytes())
    return dest


#: The photos ``photos DEST`` writes: example -> (SPDX licence, source, attribution).
_PHOTOS: dict[str, tuple[str, str, str]] = {
    "astronaut": ("CC-PDDC", "NASA Great Images, via scikit-image (skimage.data.astronaut)", "NASA"),
    "coffee": ("CC0-1.0", "scikit-image (skimage.data.coffee)", "Rachel Michetti, Pikolo Espresso Bar"),
    "chelsea": ("CC0-1.0", "scikit-image (skimage.data.chelsea)", "Stefan van der Walt"),
}

#: The astronaut's face in the 512x512 photo, (x, y, width, height), labelled by hand from
#: hairline to chin and cheek to cheek.
ASTRONAUT_FACE = (180, 64, 92, 110)


def _atomic_text(dest: Path, text: str) -> None:
    from veilcv.atomic import atomic_path

    with atomic_path(dest) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_photos(dest: str | Path) -> Path:
    """Write three photos (one face) and their dataset manifest into the folder ``dest``.

    Parameters
    ----------
    dest : path-like
        Folder to write ``astronaut.jpg``, ``coffee.jpg``, ``chelsea.jpg`` and ``manifest.csv``
        into (created if needed). The manifest has one record per photo: ``filename``, ``source``,
        ``license`` (SPDX), ``attribution`` and ``sha256``, the columns ``veil ingest`` and the
        manifest rules of ``veil check`` read.

    Returns
    -------
    Path
        ``dest``.
    """
    import csv
    import hashlib
    import io

    from PIL import Image

    from veilcv.atomic import atomic_path

    dest = Path(dest)
    table = io.StringIO()
    writer = csv.writer(table, lineterminator="\n")
    writer.writerow(["filename", "source", "license", "attribution", "sha256"])
    for name, (licence, source, credit) in _PHOTOS.items():
        out = dest / f"{name}.jpg"
        with Image.open(example_path(name)) as img, atomic_path(out) as tmp:
            img.convert("RGB").save(tmp, "JPEG", quality=90)
        writer.writerow([out.name, source, licence, credit, hashlib.sha256(out.read_bytes()).hexdigest()])
    _atomic_text(dest / "manifest.csv", table.getvalue())
    return dest


def write_annotations(dest: str | Path) -> Path:
    """Write the ground-truth face boxes of :func:`write_photos`' photos as ``dest/faces.json`` (COCO).

    Parameters
    ----------
    dest : path-like
        Folder to write ``faces.json`` into (created if needed).

    Returns
    -------
    Path
        ``dest``.
    """
    import json

    from PIL import Image

    dest = Path(dest)
    images = []
    for i, name in enumerate(_PHOTOS, start=1):
        with Image.open(example_path(name)) as img:
            images.append({"id": i, "file_name": f"{name}.jpg", "width": img.width, "height": img.height})
    x, y, w, h = ASTRONAUT_FACE
    coco = {
        "images": images,
        "annotations": [
            {"id": 1, "image_id": 1, "category_id": 1, "bbox": [x, y, w, h], "area": w * h, "iscrowd": 0}
        ],
        "categories": [{"id": 1, "name": "face"}],
    }
    _atomic_text(dest / "faces.json", json.dumps(coco, indent=1) + "\n")
    return dest


def write_clip(dest: str | Path, frames: int = 24, fps: float = 12.0) -> Path:
    """Write a short MP4 (MPEG-4 Part 2) that pans a 320x256 window across the astronaut photo.

    Parameters
    ----------
    dest : path-like
        The video to write (atomically); its folder is created.
    frames, fps : int, float
        Length of the clip (two seconds by default).

    Returns
    -------
    Path
        ``dest``.
    """
    import cv2
    import numpy as np

    from veilcv.atomic import atomic_path

    dest = Path(dest)
    with open(example_path("astronaut"), "rb") as fh:
        photo = cv2.imdecode(np.frombuffer(fh.read(), np.uint8), cv2.IMREAD_COLOR)
    h, w = 256, 320
    with atomic_path(dest, suffix=".mp4") as tmp:
        writer = cv2.VideoWriter(str(tmp), cv2.VideoWriter_fourcc(*"mp4v"), fps, (w, h))
        if not writer.isOpened():
            raise InputError(f"{dest}: this OpenCV build cannot write MP4 video")
        try:
            for t in range(frames):
                x0 = round((photo.shape[1] - w) * t / max(frames - 1, 1))
                writer.write(np.ascontiguousarray(photo[:h, x0 : x0 + w]))
        finally:
            writer.release()
    return dest


#: ``eval-rows``: lighting -> (images with a face, of them missed, images without a face, false alarms)
_EVAL_GROUPS = {"daylight": (100, 3, 40, 1), "indoor": (80, 5, 30, 2), "low_light": (50, 6, 20, 2)}


def write_eval_rows(dest: str | Path) -> Path:
    """Write illustrative per-image detector outcomes (made up, not a measurement) as CSV.

    Columns: ``image``, ``y_true`` (1: the image shows a face), ``y_pred`` (1: the detector found
    one) and ``lighting`` (``daylight``, ``indoor``, ``low_light``), the input ``veil fairness``
    reads. The rows are fixed, so every run writes the same file.

    Parameters
    ----------
    dest : path-like
        The CSV to write (atomically); its folder is created.

    Returns
    -------
    Path
        ``dest``.
    """
    lines = ["image,y_true,y_pred,lighting"]
    for lighting, (faces, missed, empty, alarms) in _EVAL_GROUPS.items():
        for i in range(faces):
            lines.append(f"{lighting}_{i:03d}.jpg,1,{0 if i < missed else 1},{lighting}")
        for i in range(empty):
            lines.append(f"{lighting}_{faces + i:03d}.jpg,0,{1 if i < alarms else 0},{lighting}")
    dest = Path(dest)
    _atomic_text(dest, "\n".join(lines) + "\n")
    return dest


#: name -> (writer, destination placeholder, description); ``NAME DEST`` writes the example to DEST.
WRITERS: dict[str, tuple[Callable[[Path], Path], str, str]] = {
    "gps-photo": (write_gps_photo, "DEST", "the astronaut as a JPEG with GPS and camera metadata"),
    "photos": (write_photos, "DIR", "astronaut, coffee and chelsea as JPEGs, with manifest.csv"),
    "annotations": (write_annotations, "DIR", "the photos' face boxes (faces.json, COCO)"),
    "clip": (write_clip, "DEST", "a two-second MP4 panning across the astronaut"),
    "eval-rows": (write_eval_rows, "DEST", "illustrative detector outcomes per image, with lighting (CSV)"),
}
_USAGE = "usage: python -m veilcv.examples [-h] [NAME | WRITER DEST] ..."


def _listing() -> str:
    rows = [(name, desc) for name, (_, _, desc) in EXAMPLES.items()]
    rows += [(f"{name} {placeholder}", desc) for name, (_, placeholder, desc) in WRITERS.items()]
    width = max(len(name) for name, _ in rows)
    return "\n".join(f"  {name:<{width}}  {desc}" for name, desc in rows)


def main(argv: Sequence[str] | None = None) -> int:
    """Print the path of each named example, write each ``WRITER DEST`` pair; with no name, list them."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help"):
        print(
            f"{_USAGE}\n\nPrint the path of each named example image, or write an example to DEST "
            f"(e.g. photos photos/ clip clip.mp4).\n\nexamples:\n{_listing()}"
        )
        return 0
    try:
        while args:
            name = args.pop(0)
            if name in WRITERS:
                writer, placeholder, _ = WRITERS[name]
                if not args:
                    raise InputError(f"{name}: expected one destination path after it ({name} {placeholder})")
                print(writer(Path(args.pop(0))))
            else:
                print(example_path(name))
    except (InputError, OSError) as exc:
        sys.stderr.write(f"veilcv.examples: error: {exc}\n")
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
