"""`veil meta check|strip`: report and remove privacy-relevant image metadata."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

import typer

from veilcv.cli.display import one_line
from veilcv.core.metadata import (
    FAMILY_HELP,
    METADATA_SUFFIXES,
    MetaReport,
    check_file,
    parse_allowed,
    strip_file,
)
from veilcv.errors import InputError, VeilcvError

meta_app = typer.Typer(
    help="Check and strip privacy-relevant image metadata.\n\nExample: veil meta check photos/",
    no_args_is_help=True,
)

_FAMILIES = "; ".join(f"{f.value}: {h}" for f, h in FAMILY_HELP.items())
ALLOW_HELP = (
    "Comma-separated metadata families to allow (default: none; a policy file will set this). "
    f"Families - {_FAMILIES}."
)


def iter_images(
    paths: Iterable[Path], skip: Path | None = None, skipped: list[Path] | None = None
) -> Iterator[tuple[Path, Path, Path]]:
    """Yield (file, root, relative path): files as given, folders walked for image suffixes.

    Hidden files and folders are not entered; ``skip`` (an output folder inside an input) is not
    walked. Every other file of a walked folder that is no image (an XMP sidecar, a video, a
    manifest) is appended to ``skipped``, so that the caller can say what it did not look at.
    A path that does not exist is yielded as is, so that the caller reports it.
    """
    skip_r = skip.resolve() if skip is not None else None
    for path in paths:
        if not path.is_dir():
            yield path, path.parent, Path(path.name)
            continue
        for dirpath, dirnames, filenames in os.walk(path, onerror=_unlistable):
            here = Path(dirpath)
            dirnames[:] = sorted(
                d
                for d in dirnames
                if not d.startswith(".") and (skip_r is None or (here / d).resolve() != skip_r)
            )
            for name in sorted(filenames):
                if name.startswith("."):
                    continue
                if Path(name).suffix.lower() in METADATA_SUFFIXES:
                    yield here / name, path, (here / name).relative_to(path)
                elif skipped is not None:
                    skipped.append(here / name)


def _unlistable(exc: OSError) -> None:
    # os.walk skips folders it cannot list; a check that silently saw fewer files would pass.
    raise InputError(f"{exc.filename}: cannot list the folder: {exc.strerror or exc}")


def report_lines(report: MetaReport) -> list[str]:
    """One line per finding (or error) of a report, prefixed with its path; empty when clean."""
    if report.error is not None:
        return [one_line(f"{report.path}: {report.error}")]
    return [one_line(f"{report.path}: {finding}") for finding in report.findings]


def report_json(report: MetaReport) -> dict[str, object]:
    return {
        "path": report.path,
        "format": report.format,
        "clean": report.clean,
        "error": report.error,
        "findings": [{"family": f.family.value, "detail": f.detail} for f in report.findings],
    }


def exit_code(reports: list[MetaReport], skipped: int = 0, fail_on_skip: bool = False) -> int:
    if any(r.error is not None for r in reports) or (fail_on_skip and skipped):
        return 2
    return 1 if any(r.findings for r in reports) else 0


_SHOWN_SKIPS = 10
_SHOWN_KINDS = 5


def skipped_line(skipped: list[Path], verb: str) -> str:
    """``skipped 3 files veil cannot check (.mp4 1, .xmp 2): a.xmp, b.mp4, c.xmp``; long lists end
    with a count of the rest. Empty when nothing was skipped."""
    if not skipped:
        return ""
    kinds: dict[str, int] = {}
    for path in skipped:
        kind = path.suffix.lower() or "no suffix"
        kinds[kind] = kinds.get(kind, 0) + 1
    ranked = sorted(kinds.items(), key=lambda kv: (-kv[1], kv[0]))
    by_kind = ", ".join(f"{k} {n}" for k, n in ranked[:_SHOWN_KINDS])
    if len(ranked) > _SHOWN_KINDS:
        by_kind += f", {sum(n for _, n in ranked[_SHOWN_KINDS:])} other"
    names = ", ".join(str(p) for p in skipped[:_SHOWN_SKIPS])
    rest = len(skipped) - _SHOWN_SKIPS
    more = f", ... and {rest} more (--format json lists them all)" if rest > 0 else ""
    return one_line(f"skipped {_files(len(skipped))} veil cannot {verb} ({by_kind}): {names}{more}")


@meta_app.command("check")
def check(
    paths: list[Path] = typer.Argument(
        ..., metavar="PATH", help="Image files or folders (walked recursively)."
    ),
    allow: str = typer.Option("", "--allow", help=ALLOW_HELP),
    output_format: str = typer.Option("text", "--format", help="Output format: text or json."),
    fail_on_skip: bool = typer.Option(
        False,
        "--fail-on-skip",
        help="Exit 2 when a folder holds files veil cannot check (sidecars, videos, documents).",
    ),
) -> None:
    """Report privacy-relevant metadata (EXIF, GPS, XMP, IPTC, thumbnails, text chunks, ...) per file.

    GPS is reported as present, never with its coordinates. Supported: JPEG/MPO, PNG, WebP, GIF,
    BMP, TIFF, HEIC/HEIF, AVIF, and MP4/MOV/M4V videos (location, device, dates, XMP, extra tracks).
    Any file that cannot be fully parsed (JPEG XL, camera raw, malformed) is reported as "cannot
    verify", as are bytes no decoder reads that could hide data. Other files in a folder (XMP
    sidecars, other videos, documents) are not checked: the summary counts and names them. Exit 0:
    every checked file clean; 1: metadata found; 2: a file could not be read or verified, or (with
    --fail-on-skip) a file was skipped.

    Example: veil meta check photos/ --allow icc_profile
    """
    if output_format not in ("text", "json"):
        raise InputError(f"--format: expected text or json, got {output_format!r}")
    allowed = parse_allowed(allow)
    skipped: list[Path] = []
    reports = [check_file(path, allowed=allowed) for path, _, _ in iter_images(paths, skipped=skipped)]
    bad = sum(r.error is not None for r in reports)
    dirty = sum(bool(r.findings) for r in reports)
    if output_format == "json":
        doc = {
            "files": [report_json(r) for r in reports],
            "skipped": [str(p) for p in skipped],
            "summary": {
                "checked": len(reports),
                "clean": len(reports) - bad - dirty,
                "with_metadata": dirty,
                "cannot_verify": bad,
                "skipped": len(skipped),
            },
        }
        typer.echo(json.dumps(doc, indent=2))
    else:
        for report in reports:
            for line in report_lines(report):
                typer.echo(line)
        typer.echo(
            f"{_files(len(reports))} checked: {len(reports) - bad - dirty} clean, {dirty} with metadata, "
            f"{bad} cannot be verified",
            err=True,
        )
    if skipped:
        typer.echo(skipped_line(skipped, "check"), err=True)
    raise typer.Exit(exit_code(reports, len(skipped), fail_on_skip))


def plan_outputs(
    paths: list[Path], output: Path | None, in_place: bool, skipped: list[Path] | None = None
) -> list[tuple[Path, Path]]:
    """Pair each input image with its output path; folders mirror their tree under ``output``.

    Files of a folder that are no image are appended to ``skipped`` (and not copied to ``output``).
    """
    if in_place == (output is not None):
        raise InputError("meta strip: expected exactly one of -o OUT or --in-place")
    if output is not None and output.exists() and not output.is_dir():
        raise InputError(
            f"-o {output}: expected a folder, got a file; use -o FOLDER (outputs keep their names)"
        )
    pairs: list[tuple[Path, Path]] = []
    seen: dict[Path, Path] = {}
    for src, _root, rel in iter_images(paths, skip=output, skipped=skipped):
        dst = src if in_place else output / rel  # type: ignore[operator]
        if not in_place and dst.exists() and src.exists() and os.path.samefile(src, dst):
            raise InputError(f"{src}: output would overwrite the input; use --in-place or another -o folder")
        key = _resolved(dst)
        if in_place and key in seen:
            continue  # the same file reached twice (a symlink, or named twice): strip it once
        if key in seen and seen[key] != src:
            raise InputError(f"{src} and {seen[key]} would both be written to {dst}; strip them separately")
        seen[key] = src
        pairs.append((src, dst))
    return pairs


def _files(n: int) -> str:
    return f"{n} file{'' if n == 1 else 's'}"


def _resolved(path: Path) -> Path:
    try:
        return path.resolve()
    except (OSError, RuntimeError):  # a symlink loop: reported per file by strip_file
        return Path(os.path.abspath(path))


@meta_app.command("strip")
def strip(
    paths: list[Path] = typer.Argument(
        ..., metavar="PATH", help="Image files or folders (walked recursively)."
    ),
    output: Path | None = typer.Option(
        None, "-o", "--output", help="Output folder; folders mirror their tree."
    ),
    in_place: bool = typer.Option(False, "--in-place", help="Rewrite the inputs (atomically)."),
    allow: str = typer.Option("", "--allow", help=ALLOW_HELP),
) -> None:
    """Remove privacy-relevant metadata; every output is re-checked and deleted if anything remains.

    JPEG/MPO, PNG, WebP, GIF and BMP are stripped segment by segment without re-encoding (decoded
    pixels are identical; only the first image of an MPO is kept); TIFF is re-encoded losslessly
    (pixels compared before writing); HEIC/HEIF and AVIF are rewritten around the primary image's
    unchanged coded bytes (Exif, XMP, thumbnails, depth and gain maps left behind; pixels compared);
    MP4/MOV/M4V have their video and audio streams copied (never re-encoded) into a new container
    with no metadata, dates zeroed and other tracks dropped. Orientation, so viewers show the same
    picture: JPEG, PNG and WebP keep a non-default orientation as the only EXIF tag; TIFF pixels are
    turned upright; HEIF keeps its irot/imir; a video keeps its display matrix.
    Inputs are untouched unless --in-place; writes are atomic. Files that cannot be verified are
    refused (exit 2) and not written. Other files of a folder (XMP sidecars, other videos, documents) are
    neither stripped nor copied to -o; the summary names them. Exit 0 when every image was written clean.

    Example: veil meta strip photos/ -o clean/
    """
    allowed = parse_allowed(allow)
    skipped: list[Path] = []
    pairs = plan_outputs(paths, output, in_place, skipped)
    failed = 0
    for src, dst in pairs:
        try:
            result = strip_file(src, dst, allowed=allowed)
        except VeilcvError as exc:
            failed += 1
            sys.stderr.write(f"veil: error: {one_line(str(exc))}\n")
            continue
        removed = sorted({f.family.value for f in result.removed})
        what = f"removed {', '.join(removed)}" if removed else "already clean"
        how = "; re-encoded losslessly" if result.reencoded else ""
        typer.echo(one_line(f"{src} -> {dst}: {what}{how}"))
    typer.echo(f"{len(pairs) - failed} of {_files(len(pairs))} written clean", err=True)
    if skipped:  # not copied to -o either: a sidecar or video may carry the very metadata stripped here
        typer.echo(skipped_line(skipped, "strip"), err=True)
    raise typer.Exit(2 if failed else 0)


def register(app: typer.Typer) -> None:
    app.add_typer(meta_app, name="meta")
