"""veilcv's cache folder: ``$VEILCV_CACHE_DIR`` when set, else the per-user cache directory.

Each user of it keeps its own subfolder (``terraform``, ``grammar``, ``kernels``). Models have their
own setting (``VEILCV_MODEL_DIR``, ``veilcv.core.detection.registry.model_dir``).
"""

from __future__ import annotations

import os
from pathlib import Path


def cache_root() -> Path:
    env = os.environ.get("VEILCV_CACHE_DIR")
    if env:
        return Path(env)
    import platformdirs  # here: `veil redact` asks only when it has no kernel build to load

    return Path(platformdirs.user_cache_dir("veilcv"))
