"""veilcv's brief changes to warning handling never outlive their block, whatever the threads do."""

from __future__ import annotations

import threading
import time
import warnings

from veilcv.quiet import warnings_as


def test_threads_leave_the_process_filters_as_they_were() -> None:
    before = list(warnings.filters)

    def work(action: str) -> None:
        for _ in range(200):
            with warnings_as(action, UserWarning):
                time.sleep(0)  # let the other threads in while inside

    threads = [threading.Thread(target=work, args=(a,)) for a in ("ignore", "error") * 4]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert warnings.filters == before


def test_inside_the_block_the_action_applies() -> None:
    with warnings_as("error", UserWarning):
        try:
            warnings.warn("x", UserWarning, stacklevel=1)
        except UserWarning:
            pass
        else:  # pragma: no cover - the point of the test
            raise AssertionError("the warning was not raised as an error")
