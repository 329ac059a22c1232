"""`veil meta check|strip` (filled in by the metadata work)."""

from __future__ import annotations

import typer

meta_app = typer.Typer(help="Check and strip privacy-relevant image metadata.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(meta_app, name="meta")
