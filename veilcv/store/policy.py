"""The parts of the policy the store, ingest and the telemetry gate read.

The policy itself is loaded and validated by :mod:`veilcv.policies`; this module only picks the
store's settings out of the resulting dict. A key the dict lacks takes the bundled default pack's
value (:func:`veilcv.policies.with_defaults`): the packs are the only place a default is written.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from veilcv.errors import PolicyError
from veilcv.policies.loader import with_defaults


@dataclass(frozen=True)
class StorePolicy:
    """Retention, roles, signing and telemetry settings, already checked."""

    prefixes: dict[str, int]
    keep_raw: bool
    max_signed_seconds: int
    roles: dict[str, tuple[str, ...]]
    telemetry_fields: dict[str, str]
    telemetry_forbidden: tuple[str, ...]
    raw_prefix_name: str
    min_aggregation_count: int
    raw: dict[str, Any] = field(default_factory=dict, repr=False)  # the effective policy

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


def from_policy(policy: Mapping[str, Any] | None) -> StorePolicy:
    """Pick the store settings out of a policy dict (missing keys, or ``None``: the default pack's)."""
    policy = with_defaults(policy)
    retention, storage, telemetry = policy["retention"], policy["storage"], policy["telemetry"]
    prefixes = {}
    for prefix, spec in retention["prefixes"].items():
        days = spec.get("max_days") if isinstance(spec, dict) else spec
        if not isinstance(prefix, str) or not prefix.endswith("/") or prefix.startswith("/"):
            raise PolicyError(f"policy retention.prefixes: expected 'name/' keys, got {prefix!r}")
        if not isinstance(days, int) or isinstance(days, bool) or days < 0:
            raise PolicyError(
                f"policy retention.prefixes.{prefix}.max_days: expected whole days, got {days!r}"
            )
        prefixes[prefix] = days
    roles = {}
    for role, spec in storage["roles"].items():
        scoped = spec.get("prefixes") if isinstance(spec, dict) else spec
        if not isinstance(scoped, list) or not all(isinstance(p, str) for p in scoped):
            raise PolicyError(
                f"policy storage.roles.{role}.prefixes: expected a list of prefixes, got {scoped!r}"
            )
        roles[str(role)] = tuple(scoped)
    max_signed = storage["max_signed_url_seconds"]
    if not isinstance(max_signed, int) or isinstance(max_signed, bool) or max_signed <= 0:
        raise PolicyError(
            f"policy storage.max_signed_url_seconds: expected a positive integer, got {max_signed!r}"
        )
    min_count = telemetry["min_aggregation_count"]
    if not isinstance(min_count, int) or isinstance(min_count, bool) or min_count < 1:
        raise PolicyError(
            f"policy telemetry.min_aggregation_count: expected an integer >= 1, got {min_count!r}"
        )
    keep_raw = retention["keep_raw"]
    if not isinstance(keep_raw, bool):
        raise PolicyError(f"policy retention.keep_raw: expected true or false, got {keep_raw!r}")
    return StorePolicy(
        prefixes=prefixes,
        keep_raw=keep_raw,
        max_signed_seconds=max_signed,
        roles=roles,
        telemetry_fields=dict(telemetry["allowed_fields"]),
        telemetry_forbidden=tuple(telemetry["forbidden"]),
        raw_prefix_name=str(storage["raw_prefix"]),
        min_aggregation_count=min_count,
        raw=policy,
    )


def load(path: str | os.PathLike[str] | None = None, *, pack: str | None = None) -> StorePolicy:
    """Load a policy file (or pack; neither: the default pack) and return its store settings."""
    from veilcv.policies import load_policy

    return from_policy(load_policy(path, pack=pack))
