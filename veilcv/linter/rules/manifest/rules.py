"""The manifest family's rules (VC1xx). IDs are never reused; retired rules keep their number."""

from __future__ import annotations

from veilcv.linter.finding import RuleMeta, Severity

_T = "manifest"

UNREADABLE = RuleMeta(
    "VC100",
    "unreadable-manifest",
    "licence",
    Severity.HIGH,
    "A manifest the tool cannot parse (bad CSV quoting, invalid JSON, no filename column, a retention that "
    "is not a number) vouches for nothing: none of its licences, sources or retention periods can be "
    "checked, so the files it was meant to cover are effectively unlicensed.",
    "Fix the syntax error at the reported line; `veil check` then checks every record.",
    _T,
    summary="Reports a dataset manifest that cannot be parsed.",
    options=("manifests.patterns",),
)
MISSING_LICENCE = RuleMeta(
    "VC101",
    "missing-licence-expression",
    "licence",
    Severity.HIGH,
    "A file without a licence cannot legally be used, shared or trained on: the default is that all rights "
    "are reserved. Images of people add personality and data-protection rights on top, so the dataset owner "
    "must know and record under which terms every file was obtained.",
    "Add the SPDX licence expression of the file (e.g. `CC-BY-4.0`) in the manifest's license column.",
    _T,
    summary="Reports a manifest record with an empty licence.",
)
INVALID_SPDX = RuleMeta(
    "VC102",
    "invalid-spdx-expression",
    "licence",
    Severity.HIGH,
    "Free-text licences (`CC by`, `public`, `see website`) cannot be checked by a machine and are often "
    "ambiguous between versions with different terms. SPDX expressions are precise, versioned and "
    "understood by every compliance tool.",
    "Write the licence as an SPDX expression (`CC-BY-4.0`, `MIT OR Apache-2.0`); use `LicenseRef-<name>` "
    "for a custom licence.",
    _T,
    summary="Reports a licence that is not a valid SPDX expression.",
)
DISALLOWED = RuleMeta(
    "VC103",
    "disallowed-licence",
    "licence",
    Severity.HIGH,
    "The policy says which licences the project may use, by SPDX ID or by category (non-commercial, "
    "share-alike, no-derivatives, proprietary). A file under another licence may block commercial use of the "
    "whole model or force it to be released under the same terms. Licences with terms the tool does not know "
    "are refused when any category is denied, because their terms cannot be checked.",
    "Replace the file with one under an allowed licence, remove it, or change `licences.allowed` / "
    "`licences.denied_categories` in the policy after a legal review.",
    _T,
    summary="Reports a licence the policy does not allow.",
    options=("licences.allowed", "licences.denied", "licences.denied_categories"),
)
ATTRIBUTION = RuleMeta(
    "VC104",
    "missing-attribution",
    "licence",
    Severity.MEDIUM,
    "Attribution licences (CC-BY, MIT, Apache-2.0...) are only honoured when the author is credited. A "
    "record that marks attribution as needed, or whose licence requires it, but carries no attribution text "
    "leaves the project unable to produce the credits it owes.",
    "Fill the attribution column (author, title, source link) for the record.",
    _T,
    summary="Reports a record whose licence requires attribution that the record does not give.",
)
MISSING_SOURCE = RuleMeta(
    "VC105",
    "missing-source",
    "licence",
    Severity.MEDIUM,
    "Without a source nobody can verify the licence, answer a data-subject request, or remove a file when "
    "its origin withdraws consent. Provenance is the first question of every audit.",
    "Record where the file came from (URL, dataset name and version, or collection campaign).",
    _T,
    summary="Reports a record without a source.",
)
LISTED_MISSING = RuleMeta(
    "VC106",
    "listed-file-missing",
    "licence",
    Severity.MEDIUM,
    "A manifest that lists files which are not there is stale: the licences and checksums it records no "
    "longer describe the dataset, and deleted files may still be present elsewhere under another name.",
    "Remove the record, or restore the file at the listed path (relative to the manifest's folder).",
    _T,
    summary="Reports a manifest record whose file is absent.",
)
UNLISTED = RuleMeta(
    "VC107",
    "unlisted-file",
    "licence",
    Severity.HIGH,
    "An image inside a dataset folder that its manifest does not list has no recorded licence, source or "
    "retention: it slipped in unchecked, and it is exactly the file nobody will think of when a deletion "
    "request arrives.",
    "Add a record for the file to the manifest of its folder, or remove the file.",
    _T,
    summary="Reports an image inside a manifest's folder that no record lists.",
    options=("manifests.image_extensions",),
)
CHECKSUM = RuleMeta(
    "VC108",
    "checksum-mismatch",
    "licence",
    Severity.HIGH,
    "A sha256 that does not match means the file was replaced or altered after it was recorded: the licence "
    "and consent recorded for the original do not necessarily cover what is there now.",
    "Find out why the file changed; restore the original or re-record the file with its new sha256.",
    _T,
    summary="Reports a file whose sha256 differs from the manifest's.",
)
MISSING_RETENTION = RuleMeta(
    "VC109",
    "missing-retention",
    "retention",
    Severity.MEDIUM,
    "Personal data may be kept only as long as needed for its purpose. A record without a retention period "
    "cannot be purged on time, and nobody can show that it will be.",
    "Add `retention_days` to every record (the policy requires it).",
    _T,
    summary="Reports a record without retention_days when the policy requires one.",
    options=("retention.require_record_retention", "licences.required_fields"),
)
RETENTION_OVER = RuleMeta(
    "VC110",
    "retention-over-policy",
    "retention",
    Severity.HIGH,
    "The policy caps how long data may stay under each storage prefix (for example 7 days for raw frames). A "
    "record asking for longer keeps personal data beyond what the project promised its subjects.",
    "Lower the record's `retention_days` to the prefix's `max_days`, or store the file under another prefix.",
    _T,
    summary="Reports a record whose retention_days exceeds the policy's maximum for its prefix.",
    options=("retention.prefixes",),
)
MISSING_FIELD = RuleMeta(
    "VC111",
    "missing-required-field",
    "licence",
    Severity.MEDIUM,
    "The policy lists the fields every manifest record must carry (for example sha256 or subject_id). A "
    "missing field breaks the checks and processes that depend on it, such as integrity checks or "
    "deletion requests by subject.",
    "Add the field to the record, or remove it from `licences.required_fields`.",
    _T,
    summary="Reports a record without a field the policy requires.",
    options=("licences.required_fields",),
)

RULES: tuple[RuleMeta, ...] = (
    UNREADABLE,
    MISSING_LICENCE,
    INVALID_SPDX,
    DISALLOWED,
    ATTRIBUTION,
    MISSING_SOURCE,
    LISTED_MISSING,
    UNLISTED,
    CHECKSUM,
    MISSING_RETENTION,
    RETENTION_OVER,
    MISSING_FIELD,
)
