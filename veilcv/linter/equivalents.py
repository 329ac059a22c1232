"""Which checks of other infrastructure scanners judge the same property as a veil rule.

One table, read by the rule reference (``docs/rules.md``, generated) and by the suppressions:
a ``#checkov:skip=CKV_AWS_20:reason`` comment suppresses the veil rules mapped to CKV_AWS_20, so
a team moving from Checkov keeps its triage. Trivy (formerly tfsec) IDs are listed for reference;
its ignore comments are not read.

Where Checkov splits a veil rule's property into one check per cause (a public-read ACL, a
public-write ACL, a bucket policy open to everyone...), ``causes`` says which finding causes each
check fails on (the ``cause`` of the finding, or for VC202 each flag in its ``flags_off``; see
``veilcv.linter.causes``). Skips then hide a finding only when every Checkov check
that fails for it, on its provider, is skipped where the finding is (:func:`checkov_failing`): a
skip written for one cause never hides a finding that Checkov would still report under another.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field

from veilcv.linter import causes as c
from veilcv.linter.finding import Finding


@dataclass(frozen=True)
class Equivalents:
    checkov: tuple[str, ...] = ()
    trivy: tuple[str, ...] = ()  # AVD IDs (tfsec's checks live on in Trivy under these)
    # Checkov check -> the causes it fails on; a check not listed judges every finding of the rule
    # on its provider (one property, one check per provider).
    causes: Mapping[str, tuple[str, ...]] = field(default_factory=dict, hash=False)


EQUIVALENTS: dict[str, Equivalents] = {
    "VC201": Equivalents(
        checkov=("CKV_AWS_20", "CKV_AWS_57", "CKV_AWS_70", "CKV_GCP_28", "CKV_AZURE_34"),
        trivy=("AVD-AWS-0092", "AVD-GCP-0001", "AVD-AZU-0007"),
        # public-read-write fails both ACL checks, and an ACL the code does not determine may be
        # either: skipping one alone leaves the finding.
        causes={
            "CKV_AWS_20": (c.ACL_READ, c.ACL_READ_WRITE, c.ACL_AUTHENTICATED, c.ACL),
            "CKV_AWS_57": (c.ACL_WRITE, c.ACL_READ_WRITE, c.ACL),
            "CKV_AWS_70": (c.POLICY,),
            "CKV_GCP_28": (c.IAM,),
            "CKV_AZURE_34": (c.CONTAINER,),
        },
    ),
    "VC202": Equivalents(
        checkov=(
            "CKV2_AWS_6",
            "CKV_AWS_53",
            "CKV_AWS_54",
            "CKV_AWS_55",
            "CKV_AWS_56",
            "CKV_GCP_114",
            "CKV_AZURE_190",
        ),
        trivy=("AVD-AWS-0086", "AVD-AWS-0087", "AVD-AWS-0091", "AVD-AWS-0093", "AVD-AWS-0094"),
        # CKV2_AWS_6 fails a bucket without a block, and one whose block leaves block_public_acls
        # or block_public_policy off; CKV_AWS_53..56 judge one flag of a block each.
        causes={
            "CKV2_AWS_6": (c.NO_BLOCK, c.BLOCK_PUBLIC_ACLS, c.BLOCK_PUBLIC_POLICY),
            "CKV_AWS_53": (c.BLOCK_PUBLIC_ACLS,),
            "CKV_AWS_54": (c.BLOCK_PUBLIC_POLICY,),
            "CKV_AWS_55": (c.IGNORE_PUBLIC_ACLS,),
            "CKV_AWS_56": (c.RESTRICT_PUBLIC_BUCKETS,),
            "CKV_GCP_114": (c.PREVENTION,),
            "CKV_AZURE_190": (c.NESTED_PUBLIC,),
        },
    ),
    "VC203": Equivalents(checkov=("CKV_AWS_19",), trivy=("AVD-AWS-0088",)),
    "VC204": Equivalents(
        checkov=("CKV_AWS_145", "CKV_AWS_186", "CKV2_AZURE_1"),
        trivy=("AVD-AWS-0132", "AVD-GCP-0066"),
        causes={
            "CKV_AWS_145": (c.BUCKET_KEY,),
            "CKV_AWS_186": (c.OBJECT_KEY,),
            "CKV2_AZURE_1": (c.BUCKET_KEY,),
        },
    ),
    "VC205": Equivalents(checkov=("CKV_AWS_21", "CKV_GCP_78"), trivy=("AVD-AWS-0090",)),
    "VC206": Equivalents(checkov=("CKV_AWS_18", "CKV_GCP_62"), trivy=("AVD-AWS-0089",)),
    "VC208": Equivalents(checkov=("CKV2_AWS_61",)),
    "VC212": Equivalents(
        checkov=("CKV_AZURE_3", "CKV_AZURE_44"),
        trivy=("AVD-AZU-0008", "AVD-AZU-0011"),
        causes={"CKV_AZURE_3": (c.HTTPS,), "CKV_AZURE_44": (c.MIN_TLS,)},
    ),
    "VC215": Equivalents(checkov=("CKV2_AWS_65",)),
    "VC216": Equivalents(checkov=("CKV_GCP_29",), trivy=("AVD-GCP-0002",)),
    "VC217": Equivalents(checkov=("CKV_AWS_300",)),
    "VC218": Equivalents(checkov=("CKV_AZURE_59",)),
    "VC219": Equivalents(checkov=("CKV2_AZURE_38",)),
    # Checkov judges S3 only (CKV_AWS_143 fails a declared lock configuration that is not Enabled and
    # leaves a bucket without one unjudged); it has no Cloud Storage or Azure immutability check.
    "VC222": Equivalents(checkov=("CKV_AWS_143",)),
    "VC223": Equivalents(checkov=("CKV_AWS_144", "CKV_AZURE_206")),
}


@functools.cache
def checkov_to_veil() -> dict[str, frozenset[str]]:
    """Checkov check ID -> the veil rules that judge the same property."""
    out: dict[str, set[str]] = {}
    for rule_id, eq in EQUIVALENTS.items():
        for check in eq.checkov:
            out.setdefault(check, set()).add(rule_id)
    return {k: frozenset(v) for k, v in out.items()}


_PROVIDERS = (("CKV_AWS_", "aws"), ("CKV2_AWS_", "aws"), ("CKV_GCP_", "gcp"), ("CKV2_GCP_", "gcp"))
_PROVIDERS += (("CKV_AZURE_", "azure"), ("CKV2_AZURE_", "azure"))


def provider_of(check: str) -> str | None:
    """The cloud a Checkov check judges (``aws``, ``gcp``, ``azure``), from its ID."""
    return next((name for prefix, name in _PROVIDERS if check.startswith(prefix)), None)


def facets(finding: Finding) -> frozenset[str]:
    """What a finding is raised for, as ``causes`` names it: its cause, or each flag a public
    access block leaves off (VC202 ``flags``); empty for a finding without a cause."""
    cause = finding.extra.get("cause", "")
    if cause == c.FLAGS:
        return frozenset(f for f in finding.extra.get("flags_off", "").split(",") if f)
    return frozenset({cause}) if cause else frozenset()


def checkov_failing(finding: Finding) -> frozenset[str]:
    """The Checkov checks that fail for what ``finding`` reports: all must be skipped to hide it.

    Only checks of the finding's provider count (a skip of CKV_GCP_62 does not hide an S3
    bucket's VC206). Empty: no Checkov skip can hide it (a cause no check judges, such as an ACL on
    Cloud Storage, or a plain config).
    """
    eq = EQUIVALENTS.get(finding.rule_id)
    if eq is None:
        return frozenset()
    provider = finding.extra.get("provider")
    causes = facets(finding)
    return frozenset(
        check
        for check in eq.checkov
        if (not provider or provider_of(check) in (None, provider))
        and (check not in eq.causes or bool(causes & set(eq.causes[check])))
    )
