"""An atomic counter that compiled kernels use to hand out the frames of a batch to whichever thread asks.

Splitting a batch into chunks claimed from Python costs a trip through the interpreter lock for every
chunk, and on a machine whose idle core sleeps, every such trip can cost a wake-up (measured: about
40 us on the 2-core development machine, as long as a frame with five 120 px mosaics takes). With
``fetch_add`` each thread enters one ``nogil`` kernel and claims frame after frame inside it, so a
batch costs each thread one lock round trip, and a thread that arrives late simply finds fewer
frames left.

With ``NUMBA_DISABLE_JIT=1`` the kernels run as Python, where this is not atomic; the batch wrappers
then stay on one thread (:data:`ATOMIC`).
"""

from __future__ import annotations

import numba
import numpy as np

config, types, cgutils, intrinsic = numba.config, numba.types, numba.core.cgutils, numba.extending.intrinsic

#: Whether ``fetch_add`` is a real atomic (compiled), so several threads may share one counter.
ATOMIC = not config.DISABLE_JIT


@intrinsic
def _atomic_add(typingctx, counter, value):
    """``counter[0] += value`` as one sequentially consistent atomic add; returns the old value."""
    if not (isinstance(counter, types.Array) and counter.dtype == types.int64 and value == types.int64):
        return None

    def codegen(context, builder, signature, args):
        array_type = signature.args[0]
        array = context.make_array(array_type)(context, builder, args[0])
        zero = context.get_constant(types.intp, 0)
        pointer = cgutils.get_item_pointer(context, builder, array_type, array, [zero])
        return builder.atomic_rmw("add", pointer, args[1], "seq_cst")

    return types.int64(counter, value), codegen


if ATOMIC:
    fetch_add = _atomic_add
else:

    def fetch_add(counter: np.ndarray, value: int) -> int:
        """Plain Python stand-in for runs without the JIT (single-threaded there)."""
        old = int(counter[0])
        counter[0] = old + value
        return old


def new_counter() -> np.ndarray:
    return np.zeros(1, np.int64)
