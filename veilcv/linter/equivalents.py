"""Which checks of other infrastructure scanners judge the same property as a veil rule.

One table, read by the rule reference (``docs/rules.md``, generated) and by the suppressions:
a ``#checkov:skip=CKV_AWS_20:reason`` comment suppresses the veil rules mapped to CKV_AWS_20, so
a team moving from Checkov keeps its triage. Trivy (formerly tfsec) IDs are listed for reference;
its ignore comments are not read.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass


@dataclass(frozen=True)
class Equivalents:
    checkov: tuple[str, ...] = ()
    trivy: tuple[str, ...] = ()  # AVD IDs (tfsec's checks live on in Trivy under these)


EQUIVALENTS: dict[str, Equivalents] = {
    "VC201": Equivalents(
        checkov=("CKV_AWS_20", "CKV_AWS_57", "CKV_AWS_70", "CKV_GCP_28", "CKV_AZURE_34"),
        trivy=("AVD-AWS-0092", "AVD-GCP-0001", "AVD-AZU-0007"),
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
    ),
    "VC203": Equivalents(checkov=("CKV_AWS_19",), trivy=("AVD-AWS-0088",)),
    "VC204": Equivalents(
        checkov=("CKV_AWS_145", "CKV_AWS_186", "CKV2_AZURE_1"), trivy=("AVD-AWS-0132", "AVD-GCP-0066")
    ),
    "VC205": Equivalents(checkov=("CKV_AWS_21", "CKV_GCP_78"), trivy=("AVD-AWS-0090",)),
    "VC206": Equivalents(checkov=("CKV_AWS_18", "CKV_GCP_62"), trivy=("AVD-AWS-0089",)),
    "VC208": Equivalents(checkov=("CKV2_AWS_61",)),
    "VC212": Equivalents(checkov=("CKV_AZURE_3", "CKV_AZURE_44"), trivy=("AVD-AZU-0008", "AVD-AZU-0011")),
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
