"""Generate ``docs/rules.md`` from the registry; a test fails when the committed file drifts.

Regenerate with ``python -m veilcv.linter.docs docs/rules.md``.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from veilcv.atomic import write_text
from veilcv.linter import registry
from veilcv.linter.causes import BY_RULE as CAUSES
from veilcv.linter.equivalents import EQUIVALENTS
from veilcv.linter.finding import RuleMeta

TARGET_TITLES = {
    "meta": "Suppressions and unparseable inputs",
    "manifest": "Manifests and licences",
    "storage": "Storage configurations",
    "telemetry": "Telemetry",
    "repo": "Repository",
    "cross": "Cross-file",
}


def anchor(rule: RuleMeta) -> str:
    return f"{rule.id.lower()}-{rule.name}"


def describe(rule: RuleMeta) -> str:
    if rule.summary:
        return rule.summary
    first = rule.rationale.split(". ")[0].rstrip(".")
    return f"Reports {rule.name.replace('-', ' ')}: {first[0].lower()}{first[1:]}." if first else rule.name


def render() -> str:
    rules = registry.all_rules()
    out = [
        "# Rule reference",
        "",
        "<!-- Generated from veilcv/linter/registry.py by `python -m veilcv.linter.docs docs/rules.md`;"
        " do not edit. -->",
        "",
        "Every rule has a stable ID that is never reused, a name that names the anti-pattern, a category,",
        "and a default severity that a policy can change (`rules: {VC201: {severity: low}}`) or turn off",
        "(`rules: {VC201: {enabled: false}}`). Suppress one finding with an inline comment",
        '`# veil:ignore VC201 reason="..." until=YYYY-MM-DD` on the line of the finding or the line above',
        "it (above a Terraform block or a YAML mapping or list item, it covers the whole block), or with a",
        "`suppressions:` entry in the policy. A suppression that hides nothing is reported (VC005).",
        "Checkov's `#checkov:skip=CKV_AWS_20:reason` comments suppress the veil rules that list that check",
        "under *Equivalents* (a reason is required; inside a Terraform block they cover the block). Where",
        "Checkov has one check per cause of a veil rule, a finding is hidden only when every check that",
        "fails for its cause is skipped (*Causes*): a skip written for one cause never hides another.",
        "A skip inside a bucket's block also covers that bucket's findings located at its companion",
        "resources (veil judges the bucket as a whole; Checkov reports split-resource checks at the",
        "companion, where a skip inside the companion's block works for both).",
        "",
        "| ID | Name | Category | Severity | Target |",
        "| --- | --- | --- | --- | --- |",
    ]
    out += [
        f"| [{r.id}](#{anchor(r)}) | {r.name} | {r.category} | {r.severity.value} | {r.target} |"
        for r in rules
    ]
    for target in dict.fromkeys(r.target for r in rules):
        out += ["", f"## {TARGET_TITLES.get(target, target.title())}"]
        for r in (r for r in rules if r.target == target):
            out += [
                "",
                f"### {r.id} {r.name}",
                "",
                f"Category: `{r.category}` · default severity: `{r.severity.value}` · target: `{r.target}`",
                "",
                "**What it does.** " + describe(r),
                "",
                "**Why is this bad?** " + r.rationale,
                "",
                "**How to fix.** " + r.fix,
            ]
            if r.options:
                out += ["", "**Options.** " + ", ".join(f"`{o}`" for o in r.options)]
            eq = EQUIVALENTS.get(r.id)
            if eq is not None:
                tools = [("Checkov", eq.checkov), ("Trivy/tfsec", eq.trivy)]
                out += [
                    "",
                    "**Equivalents.** "
                    + "; ".join(f"{name}: " + ", ".join(f"`{i}`" for i in ids) for name, ids in tools if ids),
                ]
            if r.id in CAUSES:
                out += ["", _causes(r.id)]
    return "\n".join(out) + "\n"


def _causes(rule_id: str) -> str:
    """The causes a rule's findings name, and which Checkov checks fail on each."""
    by_check = EQUIVALENTS[rule_id].causes if rule_id in EQUIVALENTS else {}

    def checks(cause: str) -> str:
        found = [c for c, covered in by_check.items() if cause in covered]
        return f" ({', '.join(f'`{c}`' for c in found)})" if found else ""

    text = "; ".join(f"`{cause}`{checks(cause)}: {meaning}" for cause, meaning in CAUSES[rule_id].items())
    flags = {f for covered in by_check.values() for f in covered} - set(CAUSES[rule_id])
    if flags:
        text += ". Flags in `flags_off`: " + "; ".join(f"`{f}`{checks(f)}" for f in sorted(flags))
    return (
        "**Causes.** Each finding names one (JSON `cause`, SARIF `properties.cause`), with the Checkov"
        f" checks that fail on it: {text}."
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1:
        sys.stderr.write("usage: python -m veilcv.linter.docs docs/rules.md\n")
        return 2
    write_text(args[0], render())
    return 0


if __name__ == "__main__":
    sys.exit(main())
