"""The storage rules (VC2xx): what each one means. IDs are stable and never reused."""

from __future__ import annotations

from veilcv.linter.finding import RuleMeta, Severity


def _rule(
    id: str,
    name: str,
    category: str,
    severity: Severity,
    rationale: str,
    fix: str,
    options: tuple[str, ...] = (),
) -> RuleMeta:
    return RuleMeta(
        id,
        name,
        category,
        severity,
        " ".join(rationale.split()),
        " ".join(fix.split()),
        "storage",
        options=options,
    )


PUBLIC_BUCKET = _rule(
    "VC201",
    "public-bucket",
    "public_access",
    Severity.CRITICAL,
    """A bucket that anyone on the internet (or any authenticated cloud user) can read exposes
    every frame in it: a public ACL, a bucket policy allowing Principal "*", an allUsers IAM member
    or a blob/container access level publishes faces and licence plates the moment they land.""",
    """Remove the public ACL, statement, IAM member or container access level and serve data through
    short-lived signed URLs to authenticated roles instead. A grant that a guard (GCS public access
    prevention, an S3 public access block) keeps from taking effect is reported too: it becomes live
    the moment the guard is lifted. `storage.guarded_public_grants: ignore` accepts it while the guard
    holds.""",
    ("storage.public_access", "storage.guarded_public_grants"),
)
PUBLIC_ACCESS_NOT_BLOCKED = _rule(
    "VC202",
    "public-access-not-blocked",
    "public_access",
    Severity.HIGH,
    """Without a provider-level guard (S3 public access block with all four flags, GCS
    public_access_prevention = "enforced", Azure allow_nested_items_to_be_public = false) a single
    later ACL or policy change makes the bucket public, and nothing stops it.""",
    """Add aws_s3_bucket_public_access_block with all four flags true (or the GCS/Azure equivalent).""",
)
UNENCRYPTED_BUCKET = _rule(
    "VC203",
    "unencrypted-bucket",
    "encryption",
    Severity.HIGH,
    """Data at rest must be encrypted. With `storage.encryption: provider_default` (the default
    pack) a bucket on a provider that encrypts everything by default (S3 since January 2023, Cloud
    Storage, Azure Storage) passes without a configuration; one that turns encryption off, or a
    plain config for another store (MinIO, on-prem) that does not declare it, fails. With `declared`
    (the strict pack) the code must declare it: a provider default is not shown in the code and a
    reviewer cannot verify it.""",
    """Add aws_s3_bucket_server_side_encryption_configuration (or the inline block) with AES256 or
    aws:kms, or set `encryption: {enabled: true}` in a plain config.""",
    ("storage.encryption",),
)
BUCKET_WITHOUT_CMK = _rule(
    "VC204",
    "bucket-without-cmk",
    "encryption",
    Severity.MEDIUM,
    """The policy requires a customer-managed key (`storage.customer_managed_key: true`, the strict
    pack): with a provider-managed key you cannot revoke access to the data, rotate on your own
    schedule or crypto-shred it by destroying the key. With `storage.kms_key: id_required` (strict)
    the code must name the key; with `kms_enough` S3's aws:kms without a key id (the AWS-managed
    aws/s3 key) also passes. Objects written with their own non-KMS encryption are reported too.""",
    """Use sse_algorithm "aws:kms" with kms_master_key_id, GCS encryption.default_kms_key_name, or an
    Azure customer_managed_key.""",
    ("storage.customer_managed_key", "storage.kms_key"),
)
UNVERSIONED_BUCKET = _rule(
    "VC205",
    "unversioned-bucket",
    "versioning",
    Severity.MEDIUM,
    """Without versioning an overwrite or delete (a bug, a compromised writer, ransomware) destroys
    the only copy and leaves no trace of what was there.""",
    """Add aws_s3_bucket_versioning with status "Enabled" (GCS versioning.enabled, Azure
    blob_properties.versioning_enabled).""",
)
BUCKET_WITHOUT_ACCESS_LOGS = _rule(
    "VC206",
    "bucket-without-access-logs",
    "logging",
    Severity.MEDIUM,
    """Without access logs nobody can answer who read which frames and when, which a data-protection
    audit or a breach investigation asks first. Buckets that are themselves log sinks are exempt.""",
    """Add aws_s3_bucket_logging (GCS logging.log_bucket, an Azure diagnostic setting) pointing at a
    dedicated log bucket.""",
)
ACCESS_LOGS_TO_MUTABLE_SINK = _rule(
    "VC207",
    "access-logs-to-mutable-sink",
    "logging",
    Severity.MEDIUM,
    """Access logs that whoever misused the data can also delete or edit are not evidence. The sink
    must be write-once: S3 object lock, a locked GCS retention policy, a locked Azure immutability
    policy.""",
    """Enable object lock (object_lock_enabled + aws_s3_bucket_object_lock_configuration) or a locked
    retention policy on the log bucket.""",
)
MISSING_LIFECYCLE = _rule(
    "VC208",
    "missing-lifecycle",
    "lifecycle",
    Severity.MEDIUM,
    """With no lifecycle configuration nothing is ever deleted: personal data outlives its purpose
    and every retention promise is kept by hand, if at all. `storage.lifecycle: any` (the default
    pack) accepts a lifecycle configuration of any kind; `expiring` (the strict pack) requires an
    enabled rule that deletes objects. VC209 judges each retention prefix's expiry either way.""",
    """Add aws_s3_bucket_lifecycle_configuration with an expiration per prefix (GCS lifecycle_rule
    with a Delete action, an Azure management policy).""",
    ("storage.lifecycle",),
)
LIFECYCLE_EXCEEDS_RETENTION = _rule(
    "VC209",
    "lifecycle-exceeds-retention",
    "retention",
    Severity.HIGH,
    """The policy sets a maximum retention per prefix; objects under a prefix the bucket holds must
    be expired by a rule no later than that. A longer or missing expiry keeps data past the promised
    date. So does a retention lock longer than max_days (S3 object lock's default retention, a GCS
    retention policy, an Azure immutability policy): no lifecycle rule, and no erasure request, can
    delete a locked object before its period ends.""",
    """Add or shorten the lifecycle rule for that prefix to at most the policy's max_days, and keep
    any retention lock on the bucket (or the container holding the prefix) within it.""",
)
BROAD_READ_GRANT = _rule(
    "VC210",
    "broad-read-grant",
    "iam",
    Severity.HIGH,
    """A read grant on the whole bucket (resource `bucket/*`, no IAM condition, an account- or
    container-wide role) gives a principal the unredacted prefixes too; least privilege means read
    roles scoped to the prefixes they need.""",
    """Scope the grant to a prefix (`arn:aws:s3:::bucket/redacted/*`, a GCS IAM condition on
    resource.name) or map the principal to a policy role whose prefixes include "*".""",
)
READ_GRANT_OUTSIDE_ROLE_PREFIX = _rule(
    "VC211",
    "read-grant-outside-role-prefix",
    "iam",
    Severity.HIGH,
    """A principal reads a prefix its policy role does not list, or a principal that maps to no
    policy role reads a prefix that holds unredacted data.""",
    """Narrow the grant to the role's prefixes in the policy, or change storage.roles if the access is
    intended.""",
)
TLS_NOT_ENFORCED = _rule(
    "VC212",
    "tls-not-enforced",
    "transport_tls",
    Severity.MEDIUM,
    """Requests over plain HTTP (or TLS below 1.2) expose frames and credentials on the wire. S3
    accepts HTTP unless the bucket policy denies aws:SecureTransport = false.""",
    """Add a Deny statement with Condition Bool aws:SecureTransport = "false"; on Azure keep
    https_traffic_only_enabled and min_tls_version TLS1_2.""",
)
SIGNED_URL_TOO_LONG = _rule(
    "VC213",
    "signed-url-too-long",
    "iam",
    Severity.MEDIUM,
    """A signed URL is a bearer credential: whoever holds it reads the object until it expires. A
    lifetime above the policy's max_signed_url_seconds leaves leaked links usable for too long.""",
    """Lower the limit (S3: Deny when s3:signatureAge is greater than the policy maximum in ms;
    plain configs: signed_url_max_seconds).""",
)
REPLICATION_TO_WEAKER_BUCKET = _rule(
    "VC214",
    "replication-to-weaker-bucket",
    "replication",
    Severity.HIGH,
    """Replication copies every object; a destination that is public or unencrypted undoes the
    source's hardening for all of them.""",
    """Harden the destination bucket like the source (private, encrypted) or stop replicating to it.""",
)

ACLS_ENABLED = _rule(
    "VC215",
    "acls-enabled",
    "public_access",
    Severity.MEDIUM,
    """With object ownership other than BucketOwnerEnforced, S3 still honours ACLs: every writer can
    attach a public-read ACL to the objects it uploads, and objects written by another account stay
    that account's, outside the bucket policy. AWS disables ACLs on new buckets by default; declaring
    ObjectWriter or BucketOwnerPreferred turns them back on.""",
    """Set aws_s3_bucket_ownership_controls rule.object_ownership = "BucketOwnerEnforced" and grant
    access through the bucket policy instead of ACLs.""",
)
UNIFORM_ACCESS_DISABLED = _rule(
    "VC216",
    "uniform-access-disabled",
    "public_access",
    Severity.MEDIUM,
    """Without uniform bucket-level access a Cloud Storage bucket also honours per-object ACLs: a
    single object can be made public (or readable by another project) while the bucket's IAM policy,
    the one reviewers read, says otherwise.""",
    """Set uniform_bucket_level_access = true on google_storage_bucket and manage access with IAM
    only.""",
)
INCOMPLETE_UPLOADS_KEPT = _rule(
    "VC217",
    "incomplete-uploads-kept",
    "lifecycle",
    Severity.MEDIUM,
    """Parts of a multipart upload that never completed are stored (and billed) but are not objects:
    listings do not show them and expiration rules do not delete them, so fragments of frames outlive
    every retention promise unseen.""",
    """Add a lifecycle rule with abort_incomplete_multipart_upload { days_after_initiation = 7 } (GCS:
    an AbortIncompleteMultipartUpload action).""",
    ("storage.abort_incomplete_uploads",),
)
PUBLIC_NETWORK_ACCESS = _rule(
    "VC218",
    "public-network-access",
    "network",
    Severity.MEDIUM,
    """A storage account reachable from every network is one leaked key or SAS token away from a
    download anywhere on the internet; restricting it to private endpoints or selected networks
    limits where stolen credentials work.""",
    """Set public_network_access_enabled = false on azurerm_storage_account and reach it through private
    endpoints.""",
    ("storage.public_network_access",),
)
SOFT_DELETE_DISABLED = _rule(
    "VC219",
    "soft-delete-disabled",
    "versioning",
    Severity.LOW,
    """Without soft delete, a delete by mistake or by an attacker is final before anyone notices.
    Keep the window short: a recoverable copy is still personal data held.""",
    """Azure: blob_properties { delete_retention_policy { days = 7 } } (and
    container_delete_retention_policy); GCS: keep soft_delete_policy retention_duration_seconds above
    0.""",
    ("storage.soft_delete",),
)
ACCESS_POINT_PUBLIC = _rule(
    "VC220",
    "access-point-public-access-not-blocked",
    "public_access",
    Severity.HIGH,
    """An S3 access point is a second door to its bucket with a policy of its own. One whose public
    access block turns a flag off lets that policy open the bucket's objects to anyone, whatever the
    bucket's own settings say.""",
    """Remove the public_access_block_configuration flags set to false from aws_s3_access_point (all
    four default to true).""",
)
MODULE_NOT_CHECKED = _rule(
    "VC221",
    "module-not-checked",
    "public_access",
    Severity.MEDIUM,
    """A module call whose code veil cannot read (a registry or git source that terraform init has
    not vendored, a local folder that is missing) may create public, unencrypted or unlogged buckets
    that no rule sees. The verdict is unknown, not pass: the finding names the call and its source so
    a reviewer knows what was not checked, and the policy's storage.unknown_values decides whether
    it fails. A modelled registry module given an input the model does not know is reported the same
    way. The fixed category vocabulary has no 'coverage': an unchecked module's gravest possible
    defect is a public bucket.""",
    """Run terraform init before veil check so the module is vendored under .terraform/modules, use a
    local copy, or set storage.unknown_values to pass if unchecked modules are accepted.""",
    ("storage.unknown_values",),
)

OBJECT_LOCK_DISABLED = _rule(
    "VC222",
    "object-lock-disabled",
    "object_lock",
    Severity.LOW,
    """Versioning keeps old copies, but whoever can write to the bucket (a bug, a stolen key,
    ransomware) can still delete every version. Object lock (S3), a retention policy (Cloud Storage)
    or an immutability policy (Azure) refuses deletes and overwrites for a retention period, whoever
    asks. An unlocked GCS retention policy or Azure immutability policy counts, as S3's governance
    mode does: it binds every writer, and only an administrator who changes the bucket can lift it.
    Locked policies cannot be shortened, not even to honour an erasure request, so keep their period
    within the policy's retention for the prefixes the bucket holds.""",
    """S3: object_lock_enabled = true on aws_s3_bucket (provider v3: object_lock_configuration {
    object_lock_enabled = "Enabled" }) and an aws_s3_bucket_object_lock_configuration with a
    default_retention; GCS: retention_policy { retention_period = ... } (or enable_object_retention);
    Azure: an immutability_policy on the account (state Unlocked or Locked) or an
    azurerm_storage_container_immutability_policy on every container.""",
    ("storage.object_lock",),
)
UNREPLICATED_BUCKET = _rule(
    "VC223",
    "unreplicated-bucket",
    "replication",
    Severity.LOW,
    """A bucket kept in one region (one S3 bucket, a single-region Cloud Storage bucket, an LRS or
    ZRS Azure account) is lost or unreachable with that region. A copy elsewhere keeps the data
    available, and a replica in another account survives a compromised one. S3 replicates only from
    a versioned bucket: a replication configuration without versioning is refused, so it counts as
    none. Every replica is another copy of personal data, held under the same rules.""",
    """S3: aws_s3_bucket_replication_configuration with an enabled rule (provider v3: the inline
    replication_configuration) and versioning enabled; GCS: a multi-region or dual-region location
    ("EU", "US", "EUR4") or custom_placement_config; Azure: account_replication_type GRS, RAGRS, GZRS
    or RAGZRS.""",
    ("storage.replication",),
)

RULES: tuple[RuleMeta, ...] = (
    PUBLIC_BUCKET,
    PUBLIC_ACCESS_NOT_BLOCKED,
    UNENCRYPTED_BUCKET,
    BUCKET_WITHOUT_CMK,
    UNVERSIONED_BUCKET,
    BUCKET_WITHOUT_ACCESS_LOGS,
    ACCESS_LOGS_TO_MUTABLE_SINK,
    MISSING_LIFECYCLE,
    LIFECYCLE_EXCEEDS_RETENTION,
    BROAD_READ_GRANT,
    READ_GRANT_OUTSIDE_ROLE_PREFIX,
    TLS_NOT_ENFORCED,
    SIGNED_URL_TOO_LONG,
    REPLICATION_TO_WEAKER_BUCKET,
    ACLS_ENABLED,
    UNIFORM_ACCESS_DISABLED,
    INCOMPLETE_UPLOADS_KEPT,
    PUBLIC_NETWORK_ACCESS,
    SOFT_DELETE_DISABLED,
    ACCESS_POINT_PUBLIC,
    MODULE_NOT_CHECKED,
    OBJECT_LOCK_DISABLED,
    UNREPLICATED_BUCKET,
)
