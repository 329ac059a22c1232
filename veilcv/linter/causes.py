"""Why a storage finding is raised: the ``cause`` of public-grant (VC201), guard (VC202), key
(VC204) and Azure TLS (VC212) findings.

Checkov judges each cause with its own check (``CKV_AWS_20`` a public-read ACL, ``CKV_AWS_57`` a
public-write one, ``CKV_AWS_70`` a bucket policy open to everyone...), where veil has one rule per
property. Every such finding names its cause (JSON ``cause``, SARIF ``properties.cause``), and
``veilcv.linter.equivalents`` lists the causes each Checkov check fails on, so a ``checkov:skip``
written for one cause never hides a finding raised by another.
"""

from __future__ import annotations

# Cause names, as findings carry them (JSON ``cause``) and the Checkov mapping lists them.
ACL_READ, ACL_READ_WRITE, ACL_WRITE = "acl_read", "acl_read_write", "acl_write"
ACL_AUTHENTICATED, ACL, POLICY, IAM = "acl_authenticated", "acl", "policy", "iam"
CONTAINER, CONFIG = "container", "config"
NO_BLOCK, FLAGS, PREVENTION, NESTED_PUBLIC = "no_block", "flags", "prevention", "nested_public"
BUCKET_KEY, OBJECT_KEY = "bucket_key", "object_key"
HTTPS, MIN_TLS = "https", "min_tls"

#: VC201: what makes a bucket public (or may make it, for an unknown verdict).
PUBLIC: dict[str, str] = {
    ACL_READ: "an ACL lets everyone read (S3 public-read, an AllUsers READ grant; GCS publicRead)",
    ACL_READ_WRITE: "an ACL lets everyone read and write (S3 public-read-write, an AllUsers FULL_CONTROL"
    " grant; GCS publicReadWrite, an allUsers WRITER or OWNER entity)",
    ACL_WRITE: "an ACL lets everyone write or change the ACL (an AllUsers WRITE or WRITE_ACP grant)",
    ACL_AUTHENTICATED: "an ACL lets every authenticated cloud user in (S3 authenticated-read, an"
    " AuthenticatedUsers grant; GCS authenticatedRead, an allAuthenticatedUsers entity)",
    ACL: "an ACL the code does not determine, or one the provider rejects (so what is meant is unknown)",
    POLICY: 'a bucket policy allows Principal "*" (or one the code does not determine)',
    IAM: "a Cloud Storage IAM member or binding for allUsers or allAuthenticatedUsers",
    CONTAINER: "an Azure container with blob or container access",
    CONFIG: "a plain bucket config that says public: true",
}

# S3 public access block flags (VC202 ``flags`` findings name those left off in ``flags_off``).
BLOCK_PUBLIC_ACLS, IGNORE_PUBLIC_ACLS = "block_public_acls", "ignore_public_acls"
BLOCK_PUBLIC_POLICY, RESTRICT_PUBLIC_BUCKETS = "block_public_policy", "restrict_public_buckets"
#: S3 public access block flags, in the order messages name them.
PAB_FLAGS: tuple[str, ...] = (
    BLOCK_PUBLIC_ACLS,
    IGNORE_PUBLIC_ACLS,
    BLOCK_PUBLIC_POLICY,
    RESTRICT_PUBLIC_BUCKETS,
)

#: VC202: why public access is not blocked; ``flags`` findings also carry ``flags_off``.
GUARD: dict[str, str] = {
    NO_BLOCK: "the S3 bucket has no public access block (flags_off names all four flags)",
    FLAGS: "an S3 public access block leaves flags off or undetermined (flags_off names them)",
    PREVENTION: "Cloud Storage public_access_prevention is not enforced",
    NESTED_PUBLIC: "Azure allow_nested_items_to_be_public is not false",
    CONFIG: "a plain bucket config does not say public: false",
}

#: VC204: what is not encrypted with a customer-managed key.
KEY: dict[str, str] = {
    BUCKET_KEY: "the bucket's (account's) default encryption",
    OBJECT_KEY: "an object the code writes with its own encryption",
}

#: VC212 on Azure: why plain HTTP or old TLS is accepted.
TLS: dict[str, str] = {
    HTTPS: "https_traffic_only_enabled is false (plain HTTP accepted)",
    MIN_TLS: "min_tls_version is below TLS1_2",
}

#: Every cause, by rule.
BY_RULE: dict[str, dict[str, str]] = {"VC201": PUBLIC, "VC202": GUARD, "VC204": KEY, "VC212": TLS}

#: S3's canned ACLs that open a bucket (case-sensitive, as S3 reads them), with their cause.
S3_PUBLIC_ACLS: dict[str, str] = {
    "public-read": ACL_READ,
    "public-read-write": ACL_READ_WRITE,
    "authenticated-read": ACL_AUTHENTICATED,
}
#: Cloud Storage's predefined ACLs that open a bucket (lowercased, as they are compared), with their cause.
GCS_PUBLIC_ACLS: dict[str, str] = {
    "publicread": ACL_READ,
    "publicreadwrite": ACL_READ_WRITE,
    "authenticatedread": ACL_AUTHENTICATED,
}
_CANNED = {**S3_PUBLIC_ACLS, **GCS_PUBLIC_ACLS}


def canned_acl(acl: str) -> str:
    """The cause of a public canned (S3) or predefined (GCS) ACL."""
    return _CANNED.get(acl.lower(), ACL_READ)


def acl_grants(grants: list[tuple[bool, str]]) -> str:
    """The cause of ACL grants to everyone: ``(authenticated users only, permission)`` pairs with
    S3 permissions (READ, WRITE, READ_ACP, WRITE_ACP, FULL_CONTROL) or GCS roles (READER, WRITER,
    OWNER)."""
    if grants and all(authenticated for authenticated, _ in grants):
        return ACL_AUTHENTICATED
    perms = {p.upper() for authenticated, p in grants if not authenticated}
    full = bool(perms & {"FULL_CONTROL", "OWNER", "WRITER"})
    reads = full or bool(perms & {"READ", "READ_ACP", "READER"})
    writes = full or bool(perms & {"WRITE", "WRITE_ACP"})
    if reads and writes:
        return ACL_READ_WRITE
    return ACL_WRITE if writes else ACL_READ
