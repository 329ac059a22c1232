"""Every option of every `veil` command says what it does, and usage lines name arguments plainly."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from typer.core import TyperArgument

from veilcv.cli.main import build_app, command, main


def commands() -> Iterator[tuple[list[str], Any]]:
    todo: list[tuple[list[str], Any]] = [([], command(build_app()))]
    while todo:
        path, node = todo.pop()
        subs = getattr(node, "commands", None)
        if subs:
            todo.extend(([*path, name], sub) for name, sub in subs.items())
        else:
            yield path, node


def test_every_option_and_argument_has_help() -> None:
    missing = [
        f"veil {' '.join(path)} {param.opts[0] if param.opts else param.name}"
        for path, cmd in commands()
        for param in cmd.params
        if not getattr(param, "hidden", False) and not (getattr(param, "help", None) or "").strip()
    ]
    assert missing == []


def test_arguments_are_shown_in_capitals_without_braces(capsys: pytest.CaptureFixture[str]) -> None:
    seen = 0
    for path, cmd in commands():
        if not any(isinstance(p, TyperArgument) for p in cmd.params):
            continue
        assert main([*path, "--help"]) == 0
        usage = capsys.readouterr().out.splitlines()[0]
        assert "{" not in usage and "}" not in usage, usage
        args = usage.split("[OPTIONS]", 1)[1].split()
        assert args and all(re.fullmatch(r"\[?[A-Z_]+(\.\.\.)?\]?(\.\.\.)?", a) for a in args), usage
        seen += 1
    assert seen >= 10


def test_redact_usage_names_its_inputs(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["redact", "--help"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "Usage: veil redact [OPTIONS] INPUT..."
    assert "  INPUT...  Image or video files and folders (recursive)." in out
