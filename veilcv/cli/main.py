"""The `veil` application and the one place where exceptions become exit codes.

Exit codes: 0 clean, 1 findings (or a fixer changed files), 2 usage, config, policy, input or
internal error, 130 on Ctrl-C.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import signal
import sys
from collections.abc import Sequence
from typing import Any

import typer
from typer.core import TyperArgument

from veilcv import __version__
from veilcv.errors import VeilcvError

# Every command group, in the order of `veil --help` (the main job first). Each name is a module of
# this package whose ``register(app)`` adds the group under that name: the one explicit registry.
COMMANDS = (
    "redact", "stream", "coverage", "meta", "models", "tune", "policy", "check", "rules", "store", "ingest",
    "fairness", "report",
)  # fmt: skip


def _version(value: bool) -> None:
    if value:
        typer.echo(f"veil {__version__}")
        raise typer.Exit(0)


def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Privacy and compliance tooling for computer-vision data."""


def build_app(only: str | None = None) -> typer.Typer:
    """The `veil` application with every command group, with just ``only`` (one of COMMANDS), or
    with none (``only=""``: ``veil --version``).

    A run names its command first, so ``main`` imports that group alone: importing all of them
    costs about 75 ms, which every `veil` call and pre-commit hook would pay.
    """
    new = typer.Typer(
        name="veil",
        help="Privacy and compliance tooling for computer-vision data.\n\n"
        "Example: veil redact photos/ -o redacted/ --report report.json",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
        rich_markup_mode=None,
        context_settings={"help_option_names": ["-h", "--help"]},
    )
    new.callback()(_root)
    for name in COMMANDS if only is None else (only,) if only else ():
        importlib.import_module(f"veilcv.cli.{name}").register(new)
    return new


def __getattr__(name: str) -> typer.Typer:
    # `veilcv.cli.main.app`: the whole application, built on first use (tests, docs, typer tools).
    if name == "app":
        full = build_app()
        globals()["app"] = full
        return full
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class _Argument(TyperArgument):
    """An argument shown as click shows it: ``INPUT...``, ``[PATH]...``, not typer's ``{inputs}...``."""

    def make_metavar(self, ctx: Any = None, *, usage: bool = False) -> str:  # ctx: since click 8.2
        var = (self.metavar or self.name or "").upper() + ("..." if self.nargs != 1 else "")
        return f"[{var}]" if usage and not self.required else var


def command(app: typer.Typer) -> Any:
    """The click command of ``app``, its arguments shown by :class:`_Argument` in usage and help."""
    cmd = typer.main.get_command(app)
    todo = [cmd]
    while todo:
        node = todo.pop()
        for param in node.params:
            if type(param) is TyperArgument:
                param.__class__ = _Argument  # same fields; only how the name is shown differs
        todo.extend(getattr(node, "commands", {}).values())
    return cmd


def error_line(message: str) -> None:
    """Print one error line to stderr, the only form of error output the CLI uses."""
    sys.stderr.write(f"veil: error: {message}\n")


class Interrupted(BaseException):
    """Raised by our SIGINT handler; a BaseException so that no `except Exception` swallows it."""


def _on_sigint(signum: int, frame: object) -> None:
    raise Interrupted()


def main(argv: Sequence[str] | None = None) -> int:
    """Run `veil` with ``argv`` and return its exit code (never raises, never prints a traceback).

    Typer/click handle usage errors (exit 2), ``--help`` and ``typer.Exit`` themselves and end
    with SystemExit, which we turn back into a return value.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    previous = None
    with contextlib.suppress(ValueError):  # not in the main thread: keep the default handler
        previous = signal.signal(signal.SIGINT, _on_sigint)
    try:
        only = args[0] if args and args[0] in COMMANDS else "" if args == ["--version"] else None
        command(build_app(only))(args=args, prog_name="veil")
    except SystemExit as exc:
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else 2)
    except Interrupted:
        error_line("interrupted")
        return 130
    except VeilcvError as exc:
        error_line(str(exc))
        return exc.exit_code
    except BrokenPipeError:
        return 1
    except Exception as exc:  # the last line of defence: one line, never a traceback
        error_line(f"internal error: {type(exc).__name__}: {exc}")
        return 2
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
    return 0


def without_model_converter() -> None:
    """Keep OpenVINO from importing its model converter (and its telemetry client) in this process.

    ``import openvino`` imports ``openvino.tools.ovc`` for ``openvino.convert_model``, and that
    imports ``openvino_telemetry`` with an HTTP client: 50-70 ms of interpreter-bound work at every
    `veil redact` start, for code that `veil` never calls (it reads ONNX models directly). OpenVINO
    skips the converter when its import fails, which a ``None`` entry in ``sys.modules`` makes it do.
    Only the `veil` process does this, and only before OpenVINO is imported; library users keep
    the full ``openvino`` package.
    """
    if "openvino" not in sys.modules:
        sys.modules.setdefault("openvino.tools.ovc", None)  # type: ignore[assignment]


def run() -> None:  # pragma: no cover - console entry for `veil` and `python -m veilcv`
    """Run `veil` and leave without the interpreter's teardown.

    Every command has finished its work when ``main`` returns: outputs and reports are written
    atomically and synced, worker threads are joined. What is left is tearing down OpenVINO's
    plugins and Numba's compiler state, module by module: 0.25-0.3 s after `veil redact`, paid by
    every run and every pre-commit hook. So the streams are flushed and the process ends here.
    """
    without_model_converter()
    code = main()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BrokenPipeError:  # the reader went away (`veil ... | head`): nothing more to say
        code = code or 1
    except OSError:
        code = code or 2
    os._exit(code)
