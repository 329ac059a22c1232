"""What `veil redact` will do with its inputs: (src, dst) pairs, inputs refused up front, files skipped.

:func:`iter_plan` walks the inputs lazily, one folder listing at a time, in the order of a sorted
recursive listing, so that an engine can start on the first files of a folder of millions; and
:func:`plan_inputs` collects it for the local engine. One walk, one set of rules, for every engine.

Two inputs mapping to one output are refused. Within one input folder only files of the same folder
can collide (``x.bmp`` and ``x.png`` both become ``x.png``), so each folder's outputs are remembered
while it is listed; with several inputs every output is remembered to the end of the walk.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from veilcv.core.defaults import media_kind, output_suffix
from veilcv.engines import objstore
from veilcv.engines.objstore import Location, is_url
from veilcv.errors import InputError

PAIR, REFUSED, SKIPPED = "pair", "refused", "skipped"


@dataclass
class Plan:
    """What a run will do: (src, dst) pairs, inputs refused up front, files skipped in folders."""

    pairs: list[tuple[Location, Location]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def plan_inputs(inputs: list[Location], output: Location | None, in_place: bool) -> Plan:
    """Map inputs to outputs: a folder's tree is mirrored under OUT, a file goes to OUT/name."""
    plan = Plan()
    for kind, item in iter_plan(inputs, output, in_place):
        if kind == PAIR:
            plan.pairs.append(item)  # type: ignore[arg-type]
        elif kind == REFUSED:
            plan.errors.append(item)  # type: ignore[arg-type]
        else:
            plan.skipped.append(item)  # type: ignore[arg-type]
    return plan


def iter_plan(
    inputs: list[Location], output: Location | None, in_place: bool
) -> Iterator[tuple[str, tuple[Location, Location] | str]]:
    """Yield ``("pair", (src, dst))``, ``("refused", message)`` and ``("skipped", path)`` as the walk goes.

    A location is a local path or, through fsspec, a URL string (:mod:`veilcv.engines.objstore`).
    """
    if any(map(is_url, [*inputs, output])):
        try:
            out_key = objstore.key(output) if output is not None else None
        except InputError as exc:
            yield REFUSED, str(exc)
            return
        yield from _iter_urls(inputs, output, in_place, out_key)
        return
    out_resolved = output.resolve() if output is not None else None  # type: ignore[union-attr]
    everywhere: dict[Path, Path] | None = {} if len(inputs) > 1 else None

    def add(src: Path, dst: Path, seen: dict[Path, Path]) -> tuple[str, tuple[Path, Path] | str]:
        if media_kind(src) == "image" and output_suffix(src.suffix) != src.suffix:
            if in_place:
                return REFUSED, _in_place_refusal(src, src.suffix)
            dst = dst.with_suffix(output_suffix(src.suffix))
        key = dst.resolve()
        seen = everywhere if everywhere is not None else seen
        if not in_place and key == src.resolve():
            return REFUSED, f"{src}: output would overwrite the input; use another -o folder or --in-place"
        if key in seen:
            return REFUSED, f"{src}: maps to the same output as {seen[key]} ({dst}); redact them separately"
        seen[key] = src
        return PAIR, (src, dst)

    for src in inputs:
        src = Path(src)
        if src.is_dir() and not in_place and out_resolved == src.resolve():
            yield REFUSED, _output_is_input(src)
        elif src.is_dir():
            for path, seen in _walk(src):
                if out_resolved is not None and out_resolved in path.resolve().parents:
                    continue  # the output folder inside an input folder is not input
                if isinstance(seen, OSError):  # its files would go unredacted and unreported
                    why = seen.strerror or seen
                    yield REFUSED, f"{path}: cannot list this folder ({why}); none of its files was redacted"
                    continue
                if not path.is_file():
                    continue
                if media_kind(path) is None:
                    from veilcv.core.media import sniff_image_format  # cv2: only when needed

                    picture = sniff_image_format(path)  # a picture veilcv cannot redact is no skip
                    if picture is None:
                        yield SKIPPED, str(path)
                    else:
                        yield REFUSED, _odd_suffix_refusal(path, picture, path.suffix)
                    continue
                rel = path.relative_to(src)
                yield add(path, path if in_place else output / rel, seen)  # type: ignore[operator]
        elif src.is_file():
            if media_kind(src) is None:
                yield REFUSED, _not_media_refusal(src, src.suffix)
                continue
            yield add(src, src if in_place else output / src.name, {})  # type: ignore[operator]
        else:
            yield REFUSED, f"{src}: no such file or folder"


def _iter_urls(
    inputs: list[Location], output: Location | None, in_place: bool, out_key: str | None
) -> Iterator[tuple[str, tuple[Location, Location] | str]]:
    """:func:`iter_plan` where an input or the output is a URL: the same rules, on locations compared by
    :func:`veilcv.engines.objstore.key`; folders are listed one at a time by the file system's own walk."""
    everywhere: dict[str, Location] | None = {} if len(inputs) > 1 else None

    def add(
        src: Location, dst: Location, seen: dict[str, Location]
    ) -> tuple[str, tuple[Location, Location] | str]:
        suffix = PurePosixPath(str(src)).suffix
        kind = media_kind(str(src))
        if kind == "video" and (is_url(src) or is_url(dst)):
            return REFUSED, objstore.video_refusal(src)
        if kind == "image" and output_suffix(suffix) != suffix:
            if in_place:
                return REFUSED, _in_place_refusal(src, suffix)
            dst = objstore.with_suffix(dst, output_suffix(suffix))
        key = objstore.key(dst)
        seen = everywhere if everywhere is not None else seen
        if not in_place and key == objstore.key(src):
            return REFUSED, f"{src}: output would overwrite the input; use another -o folder or --in-place"
        if key in seen:
            return REFUSED, f"{src}: maps to the same output as {seen[key]} ({dst}); redact them separately"
        seen[key] = src
        return PAIR, (src, dst)

    for src in inputs:
        try:
            if is_url(src):
                what = objstore.kind_of(str(src))
                listing = objstore.walk(str(src)) if what == "directory" else None
            else:
                src = Path(src)
                what = "directory" if src.is_dir() else "file" if src.is_file() else None
                listing = (
                    (path, path.relative_to(src).as_posix(), seen if isinstance(seen, OSError) else
                     "directory" if path.is_dir() else "file" if path.is_file() else "other")
                    for path, seen in _walk(src)
                ) if what == "directory" else None  # fmt: skip
            if what == "directory" and not in_place and out_key == objstore.key(src):
                yield REFUSED, _output_is_input(src)
                continue
        except InputError as exc:
            yield REFUSED, str(exc)
            continue
        if what is None:
            yield REFUSED, f"{src}: no such file or folder"
        elif what == "file":
            if media_kind(str(src)) is None:
                yield REFUSED, _not_media_refusal(src, PurePosixPath(str(src)).suffix)
                continue
            yield add(src, src if in_place else objstore.join(output, objstore.name(src)), {})  # type: ignore[arg-type]
        else:
            seen_in: dict[str, dict[str, Location]] = {}  # outputs seen, per folder of the input
            for path, rel, kind in listing:  # type: ignore[union-attr]
                if isinstance(kind, OSError):  # its files would go unredacted and unreported
                    why = kind.strerror or kind
                    yield REFUSED, f"{path}: cannot list this folder ({why}); none of its files was redacted"
                    continue
                if kind != "file":
                    continue
                key = objstore.key(path)
                if out_key is not None and key.startswith(out_key.rstrip("/") + "/"):
                    continue  # the output folder inside an input folder is not input
                if media_kind(str(path)) is None:
                    picture = None
                    if not is_url(path):
                        from veilcv.core.media import sniff_image_format  # cv2: only when needed

                        picture = sniff_image_format(path)  # a picture veilcv cannot redact is no skip
                    if picture is None:
                        yield SKIPPED, str(path)
                    else:
                        yield REFUSED, _odd_suffix_refusal(path, picture, Path(path).suffix)
                    continue
                folder = rel.rpartition("/")[0]
                # only files of one folder can collide: keep the outputs of this folder and of the
                # folders above it (the walk comes back to them), forget the rest
                seen_in = {
                    f: v for f, v in seen_in.items() if f == folder or folder.startswith(f"{f}/") or not f
                }
                seen = seen_in.setdefault(folder, {})
                yield add(path, path if in_place else objstore.join(output, rel), seen)  # type: ignore[arg-type]


def _output_is_input(src: Location) -> str:
    return (
        f"{src}: -o is this input folder itself, so the outputs would replace the inputs; "
        "use another -o folder or --in-place"
    )


def _in_place_refusal(src: Location, suffix: str) -> str:
    return (
        f"{src}: {suffix} is written as {output_suffix(suffix)} (its metadata cannot be "
        "verified), so it cannot be redacted in place; use -o OUT"
    )


def _odd_suffix_refusal(path: Location, picture: str, suffix: str) -> str:
    return (
        f"{path}: expected an image veil redact handles (JPEG, PNG, WebP, TIFF, "
        f"BMP, HEIC) under its usual suffix, got a {picture} image with suffix "
        f"{suffix or '(none)'!r}; convert or rename it, or move it out of the folder"
    )


def _not_media_refusal(src: Location, suffix: str) -> str:
    return (
        f"{src}: expected an image (JPEG, PNG, WebP, TIFF, BMP, HEIC) "
        "or video (MP4, MOV, AVI, MKV), "
        f"got suffix {suffix or '(none)'!r}"
    )


def _walk(folder: Path) -> Iterator[tuple[Path, dict[Path, Path] | OSError]]:
    """Everything under ``folder``, depth first, each folder's entries sorted by name (the order of
    ``sorted(folder.rglob("*"))``), with the outputs seen in the entry's own folder. Hidden entries
    (and temp files of an interrupted run) are left out; symbolic links to folders are not entered.
    A folder that cannot be listed comes as ``(folder, the OSError)``."""
    seen: dict[Path, Path] = {}
    try:
        with os.scandir(folder) as it:
            entries = sorted((e.name, e.is_dir(follow_symlinks=False)) for e in it)
    except OSError as exc:
        yield folder, exc
        return
    for name, is_dir in entries:
        if name.startswith("."):
            continue
        path = folder / name
        yield path, seen
        if is_dir:
            yield from _walk(path)
