"""Text that is safe to print whatever the terminal's encoding and whatever the file names."""

from __future__ import annotations

import sys
from collections.abc import Callable


def printable(text: str) -> str:
    r"""``text`` with undecodable file-name bytes shown as ``\xNN`` (as ``ls -b`` does).

    Python keeps a non-UTF-8 file name as lone surrogates; writing those to a strict UTF-8
    stream (a UTF-8 locale, a CI log) raises, so every line the CLI prints goes through here.
    """
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def one_line(text: str) -> str:
    r"""``text`` as one printable line: control characters (a newline or terminal escape in a file
    name) escaped as ``\n``/``\x1b``, undecodable bytes as ``\xNN``."""
    return printable(
        "".join(ch if ch.isprintable() or "\ud800" <= ch <= "\udfff" else repr(ch)[1:-1] for ch in text)
    )


def announce_setup_steps(quiet: bool) -> Callable[[], None]:
    """Say on stderr, one line each, what a one-time set-up step (a model fetch, the kernels' build)
    is doing while the user waits; nothing when ``quiet``. Returns the function that stops it."""
    if quiet:
        return lambda: None
    from veilcv import setup_steps

    def tell(name: str, message: str) -> None:
        sys.stderr.write(f"veil: {one_line(message)}…\n")
        sys.stderr.flush()

    return setup_steps.add_listener(tell)
