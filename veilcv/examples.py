"""Example inputs taken from installed packages (never photos committed to this repository).

``python -m veilcv.examples astronaut`` prints the path of scikit-image's bundled astronaut photo
(Eileen Collins, NASA, public domain), a portrait with one face: the README's first command
redacts it. ``python -m veilcv.examples gps-photo DEST.jpg`` writes that photo as a JPEG carrying
the metadata a phone camera leaves (GPS position, camera make, model and serial number, a
timestamp), so the metadata check, strip and pre-commit hook can be tried on a known file.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
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
        names = ", ".join([*EXAMPLES, "gps-photo DEST"])
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


_GPS_PHOTO = ("gps-photo DEST", "the astronaut as a JPEG with GPS and camera metadata, written to DEST")
_USAGE = "usage: python -m veilcv.examples [-h] [NAME ... | gps-photo DEST]"


def _listing() -> str:
    rows = [(name, desc) for name, (_, _, desc) in EXAMPLES.items()] + [_GPS_PHOTO]
    width = max(len(name) for name, _ in rows)
    return "\n".join(f"  {name:<{width}}  {desc}" for name, desc in rows)


def main(argv: Sequence[str] | None = None) -> int:
    """Print the path of each named example (``gps-photo DEST`` writes one); with no name, list them."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help"):
        print(
            f"{_USAGE}\n\nPrint the path of each named example image, or write one (gps-photo).\n\n"
            f"examples:\n{_listing()}"
        )
        return 0
    try:
        if args[0] == "gps-photo":
            if len(args) != 2:
                raise InputError("gps-photo: expected one destination path, e.g. photos/gps.jpg")
            print(write_gps_photo(args[1]))
            return 0
        for name in args:
            print(example_path(name))
    except (InputError, OSError) as exc:
        sys.stderr.write(f"veilcv.examples: error: {exc}\n")
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
