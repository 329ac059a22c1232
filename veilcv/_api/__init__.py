"""The implementation of veilcv's public Python API (private: import the names from ``veilcv``).

``veilcv``, ``veilcv.meta`` and ``veilcv.errors`` are the public surface; the modules here build it
on the pipeline, the metadata checker, the policy loader and the linter. Every other module of the
package is internal and may change without notice.
"""

from __future__ import annotations

import re

from veilcv.errors import InputError, ValidationError

# The lower layers name the command-line flag in their messages; the API names the keyword.
_FLAGS = {
    "--what": "what",
    "--mode": "mode",
    "--mask-scale": "mask_scale",
    "--threshold": "thresholds",
    "--fix-residuals": "fix_residuals",
    "--strict": "strict",
    "--verify": "verify=True",
    "--carry": "carry",
    "--allow": "allow",
    "--only": "only",
    "--precision": "precision",
}
_FLAG = re.compile("|".join(re.escape(f) for f in sorted(_FLAGS, key=len, reverse=True)) + r"\b")


def keyword_error(exc: InputError) -> ValidationError:
    """``exc`` as a :class:`ValidationError` that names the keyword argument instead of the flag."""
    return ValidationError(_FLAG.sub(lambda m: _FLAGS[m.group(0)], str(exc)))
