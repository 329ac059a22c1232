"""One exception root for the package; each failure kind has its own subclass.

Messages are one line, name the file (and line or JSON path for structured files) and read
"expected X, got Y; use Z" where that form fits. The CLI maps every subclass to exit code 2.
"""

from __future__ import annotations


class VeilcvError(Exception):
    """Root of every error veilcv raises on purpose."""

    exit_code: int = 2


class InputError(VeilcvError):
    """A file or argument the user gave is unreadable, malformed or unsupported."""


class UnsupportedFormatError(InputError):
    """A file format veilcv cannot fully parse, so it cannot vouch for it ("cannot verify")."""


class ValidationError(VeilcvError, ValueError):
    """An array or value passed to a library function has the wrong dtype, shape or range."""


class ModelError(VeilcvError):
    """A model is missing, fails its hash check, or cannot be loaded or run."""


class DetectionError(VeilcvError):
    """A detector failed on an input; the pipeline must not write an output for it."""


class RedactionError(VeilcvError):
    """Redaction or its verification failed; nothing may be written for that input."""


class ResidualsError(RedactionError):
    """``--strict``: faces were still visible on the redacted output; ``residuals`` lists them.

    The failed file's record keeps them (``FileResult.residuals``), so a run's summary counts the
    residuals of the files they failed as well as of those that passed.
    """

    def __init__(self, message: str, residuals: list[dict[str, object]]) -> None:
        super().__init__(message)
        self.residuals = list(residuals)


class PolicyError(VeilcvError):
    """A policy file is missing, invalid against the schema, or inconsistent."""


class StoreError(VeilcvError):
    """The private store refused or failed an operation."""


class AccessDenied(StoreError):
    """A role, token or key was refused."""


class TelemetryRefused(VeilcvError):
    """An outbound event carried content the policy forbids."""
