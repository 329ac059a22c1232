"""The parts of the policy the store, ingest and the telemetry gate read, with safe defaults.

The policy itself is loaded and validated by :mod:`veilcv.policies`; this module only picks the
store's settings out of the resulting dict, so a policy without a ``storage`` or ``retention``
section still gets a private, short-lived, least-privilege store.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from veilcv.errors import PolicyError

DEFAULT_PREFIXES: dict[str, int] = {"raw/": 7, "redacted/": 90, "quarantine/": 30}
DEFAULT_ROLES: dict[str, tuple[str, ...]] = {
    "reader": ("redacted/",),
    "writer": ("raw/", "redacted/", "quarantine/"),
    "admin": ("*",),
}
DEFAULT_MAX_SIGNED_SECONDS = 900
DEFAULT_TELEMETRY_FIELDS: dict[str, str] = {"event": "string", "count": "integer", "hour": "string"}
DEFAULT_FORBIDDEN: tuple[str, ...] = ("image_bytes", "base64", "paths", "gps", "free_text")
DEFAULT_MIN_AGGREGATION = 5


@dataclass(frozen=True)
class StorePolicy:
    """Retention, roles, signing and telemetry settings, already checked."""

    prefixes: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_PREFIXES))
    keep_raw: bool = False
    max_signed_seconds: int = DEFAULT_MAX_SIGNED_SECONDS
    roles: dict[str, tuple[str, ...]] = field(default_factory=lambda: dict(DEFAULT_ROLES))
    telemetry_fields: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_TELEMETRY_FIELDS))
    telemetry_forbidden: tuple[str, ...] = DEFAULT_FORBIDDEN
    raw_prefix_name: str = "raw/"
    min_aggregation_count: int = DEFAULT_MIN_AGGREGATION
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def redacted_prefix(self) -> str:
        return _named(self.prefixes, "redacted/")

    @property
    def raw_prefix(self) -> str:
        return _named(self.prefixes, self.raw_prefix_name)

    def prefix_of(self, key: str) -> str | None:
        """The longest policy prefix that ``key`` starts with."""
        best = None
        for prefix in self.prefixes:
            if key.startswith(prefix) and (best is None or len(prefix) > len(best)):
                best = prefix
        return best


def _named(prefixes: dict[str, int], wanted: str) -> str:
    if wanted not in prefixes:
        raise PolicyError(f"policy retention.prefixes: expected a {wanted!r} prefix, got {sorted(prefixes)}")
    return wanted


def from_policy(policy: dict[str, Any] | None) -> StorePolicy:
    """Pick the store settings out of a loaded policy dict (``None`` gives the defaults)."""
    policy = policy or {}
    retention = policy.get("retention") or {}
    storage = policy.get("storage") or {}
    telemetry = policy.get("telemetry") or {}
    prefixes = dict(DEFAULT_PREFIXES)
    raw_prefixes = retention.get("prefixes")
    if raw_prefixes is not None:
        prefixes = {}
        for prefix, spec in raw_prefixes.items():
            days = spec.get("max_days") if isinstance(spec, dict) else spec
            if not isinstance(prefix, str) or not prefix.endswith("/") or prefix.startswith("/"):
                raise PolicyError(f"policy retention.prefixes: expected 'name/' keys, got {prefix!r}")
            if not isinstance(days, int) or isinstance(days, bool) or days < 0:
                raise PolicyError(
                    f"policy retention.prefixes.{prefix}.max_days: expected whole days, got {days!r}"
                )
            prefixes[prefix] = days
    roles = dict(DEFAULT_ROLES)
    if storage.get("roles") is not None:
        roles = {}
        for role, spec in storage["roles"].items():
            scoped = spec.get("prefixes") if isinstance(spec, dict) else spec
            if not isinstance(scoped, list) or not all(isinstance(p, str) for p in scoped):
                raise PolicyError(
                    f"policy storage.roles.{role}.prefixes: expected a list of prefixes, got {scoped!r}"
                )
            roles[str(role)] = tuple(scoped)
    max_signed = storage.get("max_signed_url_seconds", DEFAULT_MAX_SIGNED_SECONDS)
    if not isinstance(max_signed, int) or isinstance(max_signed, bool) or max_signed <= 0:
        raise PolicyError(
            f"policy storage.max_signed_url_seconds: expected a positive integer, got {max_signed!r}"
        )
    min_count = telemetry.get("min_aggregation_count", DEFAULT_MIN_AGGREGATION)
    if not isinstance(min_count, int) or isinstance(min_count, bool) or min_count < 1:
        raise PolicyError(
            f"policy telemetry.min_aggregation_count: expected an integer >= 1, got {min_count!r}"
        )
    return StorePolicy(
        prefixes=prefixes,
        keep_raw=bool(retention.get("keep_raw", False)),
        max_signed_seconds=max_signed,
        roles=roles,
        telemetry_fields=dict(telemetry.get("allowed_fields", DEFAULT_TELEMETRY_FIELDS)),
        telemetry_forbidden=tuple(telemetry.get("forbidden", DEFAULT_FORBIDDEN)),
        raw_prefix_name=str(storage.get("raw_prefix", "raw/")),
        min_aggregation_count=min_count,
        raw=policy,
    )


def load(path: str | os.PathLike[str] | None = None, *, pack: str | None = None) -> StorePolicy:
    """Load a policy file (or pack; neither: the default pack) and return its store settings."""
    from veilcv.policies import load_policy

    return from_policy(load_policy(path, pack=pack))
