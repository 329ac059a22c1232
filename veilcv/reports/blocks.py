"""Sources of the compliance documents and the Markdown building blocks they share."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from veilcv.reports import fairness_md

DOCUMENTS = (
    "index.md",
    "data-map.md",
    "retention.md",
    "redaction-sop.md",
    "incident-checklist.md",
    "fairness.md",
)
PRODUCERS = {
    "check": "veil check --format json > check.json",
    "redact": "veil redact INPUT -o OUT --report report.json",
    "coverage": "veil coverage --gt ANNOTATIONS --images DIR --redacted DIR (JSON output)",
    "fairness": "veil fairness ... --json fairness.json",
}


@dataclass(frozen=True)
class Sources:
    """Parsed inputs (``None`` when not given) and their provenance (file, sha256)."""

    policy: dict[str, Any]
    policy_file: str
    check: dict[str, Any] | None = None
    redact: dict[str, Any] | None = None
    coverage: dict[str, Any] | None = None
    fairness: dict[str, Any] | None = None
    provenance: dict[str, tuple[str, str]] = field(default_factory=dict)


def esc(v: Any) -> str:
    return fairness_md.escape_md(v)


def val(v: Any) -> str:
    if v is None:
        return "not set"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, list | tuple):
        return ", ".join(esc(x) for x in v) if v else "none"
    if isinstance(v, dict):
        return "; ".join(f"{esc(k)}: {val(x)}" for k, x in v.items()) if v else "none"
    return esc(v)


def figure(v: Any) -> str:
    """A measured figure: "n/a" when the producer had none (e.g. an empty bucket)."""
    return "n/a" if v is None else val(v)


def not_provided(kind: str) -> list[str]:
    return [
        f"> **Not provided.** No `{kind}` output was given to `veil report`; produce it with "
        f"`{PRODUCERS[kind]}` and pass it with `--{kind}`.",
        "",
    ]


def kv_table(rows: list[tuple[str, Any]], head: tuple[str, str] = ("Setting", "Value")) -> list[str]:
    return [f"| {head[0]} | {head[1]} |", "|---|---|", *[f"| {k} | {val(v)} |" for k, v in rows], ""]


def section(policy: dict[str, Any], name: str) -> dict[str, Any]:
    s = policy.get(name)
    return s if isinstance(s, dict) else {}


def prefixes(policy: dict[str, Any]) -> list[tuple[str, Any]]:
    return list(section(section(policy, "retention"), "prefixes").items())


def roles_for(policy: dict[str, Any], prefix: str) -> list[str]:
    roles = section(section(policy, "storage"), "roles")
    out = []
    for role, spec in roles.items():
        pre = spec.get("prefixes", []) if isinstance(spec, dict) else []
        if "*" in pre or prefix in pre:
            out.append(role)
    return out


def findings(src: Sources, categories: tuple[str, ...] | None = None) -> list[dict[str, Any]]:
    items = src.check["findings"] if src.check else []
    return [f for f in items if categories is None or f.get("category") in categories]


def findings_table(items: list[dict[str, Any]]) -> list[str]:
    if not items:
        return ["No open findings in these categories.", ""]
    lines = ["| Rule | Severity | Category | Location | Message |", "|---|---|---|---|---|"]
    for f in items:
        loc = f"{f.get('file')}:{f.get('line')}" + (f" ({f['resource']})" if f.get("resource") else "")
        rule = f["rule_id"] + (f" {f['rule']}" if f.get("rule") else "")
        lines.append(
            f"| {esc(rule)} | {val(f.get('severity'))} | {val(f.get('category'))} | "
            f"{esc(loc)} | {esc(f.get('message'))} |"
        )
    return [*lines, ""]
