"""pre-commit entry points: ``python -m veilcv.cli.hooks HOOK [--allow ...] FILE...``.

Each hook is ``main(argv) -> int``: one line per problem, never a traceback. ``meta-check`` fails
(1) on findings; ``meta-strip`` is a fixer: it rewrites files in place and returns 1 when it
changed any. Both return 2 when a file cannot be verified.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from veilcv.cli.display import one_line
from veilcv.cli.meta import exit_code, report_lines
from veilcv.core.metadata import check_file, parse_allowed, strip_file
from veilcv.errors import VeilcvError


def _parser(prog: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog)
    parser.add_argument("filenames", nargs="*", type=Path)
    parser.add_argument("--allow", default="", help="comma-separated metadata families to allow")
    return parser


def meta_check_main(argv: Sequence[str] | None = None) -> int:
    args = _parser("veil-meta-check").parse_args(argv)
    try:
        allowed = parse_allowed(args.allow)
    except VeilcvError as exc:
        print(f"veil-meta-check: {exc}", file=sys.stderr)
        return 2
    reports = [check_file(path, allowed=allowed) for path in args.filenames]
    for report in reports:
        for line in report_lines(report):
            print(line)
    return exit_code(reports)


def meta_strip_main(argv: Sequence[str] | None = None) -> int:
    args = _parser("veil-meta-strip").parse_args(argv)
    try:
        allowed = parse_allowed(args.allow)
    except VeilcvError as exc:
        print(f"veil-meta-strip: {exc}", file=sys.stderr)
        return 2
    ret = 0
    for path in args.filenames:
        try:
            result = strip_file(path, path, allowed=allowed)
        except VeilcvError as exc:
            print(one_line(str(exc)))
            ret = 2
            continue
        if result.changed:
            removed = ", ".join(sorted({f.family.value for f in result.removed}))
            print(one_line(f"Stripped metadata from {path} ({removed})"))
            ret = max(ret, 1)
    return ret


HOOKS: dict[str, Callable[[Sequence[str] | None], int]] = {
    "meta-check": meta_check_main,
    "meta-strip": meta_strip_main,
}


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] not in HOOKS:
        print(
            f"usage: python -m veilcv.cli.hooks {{{','.join(HOOKS)}}} [--allow FAMILIES] FILE...",
            file=sys.stderr,
        )
        return 2
    return HOOKS[args[0]](args[1:])


if __name__ == "__main__":
    raise SystemExit(main())
