"""`veil tune`: measure detector settings on this machine and write a profile that `redact` uses."""

from __future__ import annotations

from pathlib import Path

import typer

from veilcv.errors import InputError


def _ints(value: str, flag: str) -> list[int]:
    try:
        out = [int(v) for v in value.split(",") if v.strip()]
    except ValueError:
        raise InputError(f"{flag}: expected comma-separated integers such as 1,2, got {value!r}") from None
    if not out or min(out) < 1:
        raise InputError(f"{flag}: expected integers >= 1, got {value!r}")
    return out


def _words(value: str | None) -> list[str] | None:
    return [v.strip() for v in value.split(",") if v.strip()] if value else None


def tune(
    images: list[Path] = typer.Argument(
        None, metavar="IMAGE", help="Sample images or folders (default: a generated sample)."
    ),
    task: str = typer.Option("face", "--task", help="Detector to tune: face, plate or text."),
    output: Path = typer.Option(Path("veil-profile.yaml"), "--output", "-o", help="Profile file to write."),
    max_images: int = typer.Option(8, "--max-images", min=1, help="Use at most this many sample images."),
    precisions: str = typer.Option(
        None, "--precisions", help="Comma list (default: all this CPU runs natively)."
    ),
    shape_modes: str = typer.Option("dynamic,static", "--shapes", help="Comma list of dynamic, static."),
    streams: str = typer.Option("1,2", "--streams", help="Comma list of CPU stream counts."),
    nireqs: str = typer.Option("1,2,4", "--requests", help="Comma list of async infer-request counts."),
    tilings: str = typer.Option(
        "off,auto", "--tiling", help="Comma list of off, auto, wide (small-face passes)."
    ),
    min_agreement: float = typer.Option(
        0.98,
        "--min-agreement",
        help="Keep only settings that find this share of the f32 reference's regions.",
    ),
    quiet: bool = typer.Option(
        False, "--quiet", "-q", help="No progress lines and no table; only the profile written."
    ),
) -> None:
    """Measure precision x streams x requests x shapes x tiling on sample images; write a profile.

    Settings are measured one at a time (each model is compiled, timed and released before the
    next), with a line per setting on stderr. The table of every measured setting is printed; the
    fastest one that finds at least --min-agreement of what the f32 reference finds is written to
    the profile, which `veil redact --profile` and `load_detector(profile=...)` then use.

    Example: veil tune photos/ --task face --output veil-profile.yaml
    """
    # OpenVINO and rich load here, not when `veil --help` imports the CLI.
    from rich.console import Console
    from rich.table import Table

    from veilcv.core.detection import tune as tuning
    from veilcv.core.detection.registry import load_registry

    if task not in ("face", "plate", "text"):
        raise InputError(f"--task: expected face, plate or text, got {task!r}")
    spec = load_registry().get(task)
    sample = tuning.sample_images(images or [], limit=max_images)
    configs = tuning.grid(
        precisions=_words(precisions),
        shape_modes=_words(shape_modes) or ["dynamic"],
        streams=_ints(streams, "--streams"),
        nireqs=_ints(nireqs, "--requests"),
        tilings=_words(tilings) or ["auto"],
        int8=spec.int8_ranges is not None,
    )

    def say(line: str) -> None:
        if not quiet:
            typer.echo(line, err=True)

    say(f"veil tune: {task} ({spec.name}) on {len(sample)} images, {len(configs)} settings, one at a time")
    width = len(str(len(configs)))
    done = 0

    def on_reference(regions: int, secs: float) -> None:
        ref = tuning.REFERENCE
        plan = f"{ref.precision}, {ref.shape_mode}, tiling {ref.tiling}"
        say(f"reference ({plan}): {regions} regions, {secs:.1f} s")

    def on_row(r: tuning.Row) -> None:
        nonlocal done
        done += 1
        c = r.config
        say(
            f"[{done:>{width}}/{len(configs)}] {c.precision} {c.shape_mode} streams {c.streams} "
            f"requests {c.nireq} tiling {c.tiling}: {r.images_per_s:.1f} images/s, {r.regions} regions, "
            f"agreement {r.agreement:.3f} ({r.total_s:.1f} s)"
        )

    rows = tuning.measure(task, sample, configs, on_row=on_row, on_reference=on_reference)
    best = tuning.choose(rows, min_agreement=min_agreement)
    tuning.write_profile(output, task, spec.name, best, rows, len(sample))
    if quiet:
        typer.echo(f"wrote {output}")
        return
    table = Table(title=f"veil tune: {task} ({spec.name}), {len(sample)} images")
    for col in (
        "precision",
        "shapes",
        "streams",
        "requests",
        "tiling",
        "images/s",
        "ms/image",
        "regions",
        "agreement",
        "",
    ):
        table.add_column(col, justify="right")
    for r in sorted(rows, key=lambda r: -r.images_per_s):
        c = r.config
        mark = "chosen" if r is best else ("" if r.agreement >= min_agreement else "too few")
        table.add_row(
            c.precision, c.shape_mode, str(c.streams), str(c.nireq), c.tiling,
            f"{r.images_per_s:.1f}", f"{r.ms_per_image:.1f}", str(r.regions), f"{r.agreement:.3f}", mark,
        )  # fmt: skip
    Console(width=140).print(table)
    typer.echo(f"wrote {output}")


def register(app: typer.Typer) -> None:
    """Add this module's commands to `app`."""
    app.command("tune")(tune)
