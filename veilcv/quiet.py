"""One way for veilcv to change how warnings are handled for a moment, safely across threads.

``warnings.catch_warnings`` saves and restores the process-wide filter list: two threads inside it
at once can restore each other's filters and leave one installed for good, which would change
warnings for the whole host process. veilcv's own uses go through :func:`warnings_as` under one
lock, so they never interleave; keep what runs inside short (a header parse, one decode).
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

_LOCK = threading.Lock()


@contextmanager
def warnings_as(action: str, category: type[Warning] = Warning) -> Iterator[None]:
    """Within the block, warnings of ``category`` get ``action`` ("error", "ignore", ...)."""
    with _LOCK, warnings.catch_warnings():
        warnings.simplefilter(action, category)  # type: ignore[arg-type]
        yield
