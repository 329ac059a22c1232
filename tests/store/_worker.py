"""Subprocess worker for the reliability tests (run as ``python -m store._worker MODE STORE ...``).

It opens the store with the key from ``VEIL_MASTER_KEY`` and works in a loop so that a SIGKILL
from the test lands in the middle of an operation. ``VEIL_TEST_CLOCK_OFFSET_DAYS`` shifts its
clock so that purge has work to do.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from store.helpers import POLICY
from veilcv.store import PutItem, Store, from_policy, load_master_key
from veilcv.store.purge import purge


def marker(i: int) -> bytes:
    return f"PLAINTEXT-MARKER-{i:06d}|".encode() * 64


def main() -> int:
    mode, root, start, count = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    offset = float(os.environ.get("VEIL_TEST_CLOCK_OFFSET_DAYS", "0")) * 86400.0
    store = Store.open(
        root, load_master_key(), from_policy(POLICY), create=True, clock=lambda: time.time() + offset
    )
    print("ready", flush=True)
    if mode == "put":
        for i in range(start, start + count):
            items = [PutItem(f"raw/{i:06d}.bin", marker(i)), PutItem(f"redacted/{i:06d}.bin", marker(i))]
            store.put_many(items, role="writer", actor=f"worker-{os.getpid()}", ingest_source=f"{i:064x}")
    elif mode == "purge":
        purge(store, role="admin", actor="purger")
    store.close()
    print("done", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
