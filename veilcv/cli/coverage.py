"""`veil coverage`: how much of each ground-truth box a redaction run actually covered."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from veilcv.atomic import write_text
from veilcv.cli.outputs import check_folder, check_writable, write_error
from veilcv.errors import InputError

if TYPE_CHECKING:
    from veilcv.core.coverage import CoverageReport


def coverage(
    gt: Path = typer.Option(
        ...,
        "--gt",
        help="Annotations: COCO .json (or a folder holding exactly one), VOC .xml file/folder, "
        "YOLO .txt folder, WIDER .txt.",
    ),
    images: Path = typer.Option(..., "--images", help="Folder of the original images."),
    redacted: Path = typer.Option(..., "--redacted", help="Folder of the redacted images (same tree)."),
    fmt: str = typer.Option("auto", "--format", help="auto, coco, yolo, voc or wider."),
    label: list[str] = typer.Option([], "--label", help="Only boxes with this label (repeatable)."),
    hit: float = typer.Option(
        0.8, "--hit", help="A box counts as redacted when this fraction of it changed."
    ),
    tolerance: int = typer.Option(
        12, "--tolerance", help="Per-channel difference still counted as unchanged."
    ),
    overlays: Path | None = typer.Option(
        None,
        "--overlays",
        help="Write PNGs of images with misses here. They show the ORIGINAL faces that were missed "
        "(personal data): point this only at a private folder.",
    ),
    json_out: Path | None = typer.Option(None, "--json", help="Write the report as JSON here."),
    fail_under: float | None = typer.Option(
        None, "--fail-under", help="Exit 1 when the covered fraction is lower."
    ),
) -> None:
    """Report, per face size bucket, the fraction of ground-truth boxes whose pixels were redacted.

    Buckets are by the longest side of the box: <16, 16-31, 32-63, >=64 px. Also reports the mean
    redacted fraction per box and how much of the background changed. Exit 0 done, 1 below
    --fail-under, 2 missing or unreadable images (listed, and left out of the figures).

    Example: veil coverage --gt annotations/ --images photos/ --redacted redacted/ --json coverage.json
    """
    # numpy, cv2 and the annotation readers load here, not when `veil --help` imports the CLI.
    from veilcv.core.annotations import load_annotations
    from veilcv.core.coverage import measure_coverage

    if not 0 < hit <= 1:
        raise InputError(f"--hit: expected a fraction in (0, 1], got {hit}")
    if not 0 <= tolerance <= 255:
        raise InputError(f"--tolerance: expected a per-channel difference in 0..255, got {tolerance}")
    if fail_under is not None and not 0 <= fail_under <= 1:
        raise InputError(f"--fail-under: expected a fraction in [0, 1], got {fail_under}")
    if overlays is not None:
        check_folder(overlays, "--overlays")
    if json_out is not None:
        check_writable(json_out)  # found out before the measuring, not after it
    for name, folder in (("--images", images), ("--redacted", redacted)):
        if not folder.is_dir():
            raise InputError(f"{folder}: {name} expects a folder, got no such folder")
    items = load_annotations(gt, fmt, images_dir=images, labels=label)
    if not items:
        raise InputError(f"{gt}: expected ground-truth boxes, got none")
    rep = measure_coverage(items, images, redacted, hit=hit, tol=tolerance, overlays_dir=overlays)
    for err in rep.errors:
        sys.stderr.write(f"veil: error: {err}\n")
    _table(rep)
    if json_out is not None:
        try:
            write_text(json_out, json.dumps(rep.as_dict(), indent=2) + "\n")
        except OSError as exc:
            raise write_error(json_out, exc) from None
    if rep.errors:
        raise typer.Exit(2)
    total = rep.total
    if fail_under is not None and total.boxes and total.covered / total.boxes < fail_under:
        raise typer.Exit(1)


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f} %"


def _table(rep: CoverageReport) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(
        title=f"redaction coverage ({rep.images} images, box counts as redacted at ≥ {rep.hit:.0%})"
    )
    for col in ("size (px)", "boxes", "redacted", "covered", "mean redacted fraction"):
        table.add_column(col, justify="right")
    rows = [(k, v.as_dict()) for k, v in rep.buckets.items()] + [("all", rep.total.as_dict())]
    for name, d in rows:
        table.add_row(
            name,
            str(d["boxes"]),
            str(d["covered"]),
            _pct(d["covered_fraction"]),
            _pct(d["mean_redacted_fraction"]),
        )
    Console(highlight=False).print(table)
    bg = rep.as_dict()["background_changed_fraction"]
    typer.echo(f"background changed: {_pct(bg)}")


def register(app: typer.Typer) -> None:
    """Add this module's commands to `app`."""
    app.command("coverage")(coverage)
