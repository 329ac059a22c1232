"""Why a storage finding is raised: the ``cause`` of public-grant (VC201), guard (VC202), key
(VC204) and Azure TLS (VC212) findings.

Checkov judges each cause with its own check (``CKV_AWS_20`` a public-read ACL, ``CKV_AWS_57`` a
public-write one, ``CKV_AWS_70`` a bucket policy open to everyone...), where veil has one rule per
property. Every such finding names its cause (JSON ``cause``, SARIF ``properties.cause``), and
``veilcv.linter.equivalents`` lists the causes each Checkov check fails on, so a ``checkov:skip``
written for one cause never hides a finding raised by another.
"""

from __future__ import annotations

#: VC201: what makes a bucket public (or may make it, for an unknown verdict).
PUBLIC: dict[str, str] = {
    "acl_read": "an ACL lets everyone read (S3 public-read, an AllUsers READ grant; GCS publicRead)",
    "acl_read_write": "an ACL lets everyone read and write (S3 public-read-write, an AllUsers FULL_CONTROL"
    " grant; GCS publicReadWrite, an allUsers WRITER or OWNER entity)",
    "acl_write": "an ACL lets everyone write or change the ACL (an AllUsers WRITE or WRITE_ACP grant)",
    "acl_authenticated": "an ACL lets every authenticated cloud user in (S3 authenticated-read, an"
    " AuthenticatedUsers grant; GCS authenticatedRead, an allAuthenticatedUsers entity)",
    "acl": "an ACL the code does not determine, or one the provider rejects (so what is meant is unknown)",
    "policy": 'a bucket policy allows Principal "*" (or one the code does not determine)',
    "iam": "a Cloud Storage IAM member or binding for allUsers or allAuthenticatedUsers",
    "container": "an Azure container with blob or container access",
    "config": "a plain bucket config that says public: true",
}

#: S3 public access block flags, in the order messages name them.
PAB_FLAGS: tuple[str, ...] = (
    "block_public_acls",
    "ignore_public_acls",
    "block_public_policy",
    "restrict_public_buckets",
)

#: VC202: why public access is not blocked; ``flags`` findings also carry ``flags_off``.
GUARD: dict[str, str] = {
    "no_block": "the S3 bucket has no public access block (flags_off names all four flags)",
    "flags": "an S3 public access block leaves flags off or undetermined (flags_off names them)",
    "prevention": "Cloud Storage public_access_prevention is not enforced",
    "nested_public": "Azure allow_nested_items_to_be_public is not false",
    "config": "a plain bucket config does not say public: false",
}

#: VC204: what is not encrypted with a customer-managed key.
KEY: dict[str, str] = {
    "bucket_key": "the bucket's (account's) default encryption",
    "object_key": "an object the code writes with its own encryption",
}

#: VC212 on Azure: why plain HTTP or old TLS is accepted.
TLS: dict[str, str] = {
    "https": "https_traffic_only_enabled is false (plain HTTP accepted)",
    "min_tls": "min_tls_version is below TLS1_2",
}

#: Every cause, by rule.
BY_RULE: dict[str, dict[str, str]] = {"VC201": PUBLIC, "VC202": GUARD, "VC204": KEY, "VC212": TLS}

_CANNED = {
    "public-read": "acl_read",
    "publicread": "acl_read",
    "public-read-write": "acl_read_write",
    "publicreadwrite": "acl_read_write",
    "authenticated-read": "acl_authenticated",
    "authenticatedread": "acl_authenticated",
}


def canned_acl(acl: str) -> str:
    """The cause of a public canned (S3) or predefined (GCS) ACL."""
    return _CANNED.get(acl.lower(), "acl_read")


def acl_grants(grants: list[tuple[bool, str]]) -> str:
    """The cause of ACL grants to everyone: ``(authenticated users only, permission)`` pairs with
    S3 permissions (READ, WRITE, READ_ACP, WRITE_ACP, FULL_CONTROL) or GCS roles (READER, WRITER,
    OWNER)."""
    if grants and all(authenticated for authenticated, _ in grants):
        return "acl_authenticated"
    perms = {p.upper() for authenticated, p in grants if not authenticated}
    full = bool(perms & {"FULL_CONTROL", "OWNER", "WRITER"})
    reads = full or bool(perms & {"READ", "READ_ACP", "READER"})
    writes = full or bool(perms & {"WRITE", "WRITE_ACP"})
    if reads and writes:
        return "acl_read_write"
    return "acl_write" if writes else "acl_read"
