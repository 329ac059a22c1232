"""The shortest cut of a coded stream that a decoder still reads as the whole: where slack starts.

JPEG scans and WebP bitstreams may carry bytes after their coded data that no decoder reads. Both are
found the same way: ``same(n)`` says whether the stream cut to ``n`` bytes decodes to the very same
pixels, and a search finds the least such ``n``.
"""

from __future__ import annotations

from collections.abc import Callable


def least_same_cut(size: int, keep: int, same: Callable[[int], bool], tolerance: int) -> int:
    """The least length ``n >= keep`` whose cut decodes the same, or ``size`` when the stream has no
    more than ``tolerance`` bytes of encoder padding a decoder may skip.

    Decoding is not strictly monotonic near the end (a lossy decoder loads bytes in bulk far from
    the end, one at a time near it), so the search repeats until the probe that ``check`` makes,
    ``same(cut - tolerance - 1)``, fails: a stream trimmed to the result checks clean.
    """
    cut = size
    while cut - tolerance - 1 >= keep and same(cut - tolerance - 1):
        lo, hi = keep, cut - tolerance - 1  # same(hi) holds
        while lo < hi:
            mid = (lo + hi) // 2
            if same(mid):
                hi = mid
            else:
                lo = mid + 1
        cut = hi
    return cut
