"""Reporters: pure functions from one immutable Report to text, JSON or SARIF 2.1.0."""

from __future__ import annotations

from collections.abc import Callable

from veilcv.linter.engine import Report
from veilcv.linter.reporters import json as json_reporter
from veilcv.linter.reporters import sarif, text

FORMATS: dict[str, Callable[[Report], str]] = {
    "text": text.render,
    "json": json_reporter.render,
    "sarif": sarif.render,
}
