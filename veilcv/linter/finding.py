"""The data every rule produces and every reporter consumes."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from enum import Enum


class Severity(str, Enum):
    """How serious a finding is: the rule's default, unless the policy overrides it."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


# What rules check, in the order `--only` and the hooks list them; `registry.targets()` derives the
# same tuple from the rules (a test keeps them equal). Kept here so the CLI can name the targets
# without importing every rule family.
TARGETS: tuple[str, ...] = ("manifest", "storage", "telemetry", "repo", "cross")

# The fixed category vocabulary; a rule's category must be one of these.
CATEGORIES: tuple[str, ...] = (
    "public_access",
    "encryption",
    "transport_tls",
    "versioning",
    "logging",
    "lifecycle",
    "retention",
    "replication",
    "object_lock",
    "network",
    "iam",
    "licence",
    "metadata",
    "telemetry",
    "redaction",
)


@dataclass(frozen=True)
class RuleMeta:
    """What a rule is: stable ID (never reused), anti-pattern name, category, default severity, docs."""

    id: str  # e.g. "VC201"
    name: str  # kebab-case anti-pattern, e.g. "public-bucket"
    category: str
    severity: Severity
    rationale: str  # one paragraph: why this is bad
    fix: str  # one or two sentences: how to fix it
    target: str  # "repo" | "manifest" | "storage" | "telemetry" | "cross" | "meta"
    summary: str = (
        ""  # optional one sentence "what it does" for the docs; rationale's first sentence if empty
    )
    options: tuple[str, ...] = ()  # dotted policy keys the rule reads, e.g. ("retention.prefixes",)

    def __post_init__(self) -> None:
        if self.category not in CATEGORIES:
            raise ValueError(f"rule {self.id}: expected a category from {CATEGORIES}, got {self.category!r}")


@dataclass(frozen=True)
class Finding:
    """One problem at one place. ``resource`` is the Terraform address where there is one."""

    rule_id: str
    message: str
    file: str  # path relative to the checked root, with forward slashes
    line: int = 1
    column: int = 1
    resource: str | None = None  # e.g. "aws_s3_bucket.frames"
    severity: Severity | None = None  # filled in by the engine from rule + policy overrides
    category: str | None = None  # filled in by the engine from the rule
    extra: dict[str, str] = field(default_factory=dict, compare=False, hash=False)

    def fingerprint(self) -> str:
        """Stable identity for baselines: no line numbers (they drift), no file content."""
        key = "\x1f".join([self.rule_id, self.file, self.resource or "", self.message])
        # surrogateescape: a file name that is not UTF-8 must not crash the JSON/SARIF/baseline output.
        return hashlib.sha256(key.encode("utf-8", "surrogateescape")).hexdigest()[:32]
