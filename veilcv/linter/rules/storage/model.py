"""One normalised bucket model for every storage source (Terraform AWS/GCP/Azure, plain YAML/JSON).

Rules never look at Terraform or YAML: they look at :class:`Bucket`. Settings that Terraform
spreads over companion resources (``aws_s3_bucket_versioning``, ``..._logging``, ...) are
already joined to their bucket here, so a bucket hardened through separate resources is as
clean as one hardened inline.

Tri-state fields use ``None`` for "not declared", which rules may treat differently from an
explicit ``False`` (e.g. ``public=None``: not public, but public access is not blocked either).

:func:`load_buckets` is memoised on the lint context (key ``"storage.buckets"``) so the
cross-file rules read the same model without parsing any file twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from veilcv.linter.context import LintContext

#: Providers that encrypt every object at rest whether or not the code declares it (S3 applies SSE-S3
#: to every new object since January 2023; Cloud Storage and Azure Storage always have). The policy's
#: ``storage.encryption: provider_default`` accepts an undeclared configuration on these only.
ENCRYPTS_BY_DEFAULT = frozenset({"aws", "gcp", "azure"})


@dataclass(frozen=True)
class Loc:
    """Where a setting is written: the finding for a bad setting points here."""

    file: str
    line: int
    address: str


@dataclass(frozen=True)
class LifecycleRule:
    prefix: str  # "" means the whole bucket
    expiration_days: int | None  # None: the rule never deletes current objects
    enabled: bool
    loc: Loc


@dataclass(frozen=True)
class PublicCause:
    """One thing that makes a bucket public (or would, but for a guard): VC201 reports each."""

    kind: str  # a key of causes.PUBLIC
    reason: str  # what is granted, in words
    loc: Loc  # the resource (and line) that grants it


@dataclass(frozen=True)
class GuardGap:
    """One reason public access is not blocked (a guard resource that leaves flags off, no guard):
    VC202 reports each."""

    kind: str  # a key of causes.GUARD
    reason: str
    loc: Loc
    flags_off: tuple[str, ...] = ()  # S3 public access block flags off or undetermined


@dataclass(frozen=True)
class Grant:
    """Read access given to one principal; ``prefixes == ("*",)`` means the whole bucket."""

    principal: str
    role: str | None  # the policy role the principal maps to (``reader``...), when it maps to one
    prefixes: tuple[str, ...]
    loc: Loc


@dataclass
class Bucket:
    name: str
    provider: str  # "aws" | "gcp" | "azure" | whatever a plain config says
    address: str  # "aws_s3_bucket.frames"; plain configs: "bucket.<name>"
    file: str
    line: int
    public: bool | None = None  # True: public; False: public access blocked; None: neither
    public_reason: str = ""
    # Every grant that makes the bucket public, each with its resource (see add_public); the first
    # one's reason and location are also public_reason and locs["public"].
    public_causes: list[PublicCause] = field(default_factory=list)
    unguarded: str = ""  # why public access is not blocked (a public bucket's guard is judged too)
    # Each guard resource that leaves public access open; empty: one gap, of kind causes["guard"]
    # (the provider's guard), flags_off and unguarded, where the guard is (or the bucket).
    guard_gaps: list[GuardGap] = field(default_factory=list)
    flags_off: tuple[str, ...] = ()  # S3 public access block flags not on (no block: all four)
    # Public grants the guard (an S3 public access block, GCS public access prevention) keeps from
    # taking effect. They become live the moment the guard is lifted.
    guarded_public: list[PublicCause] = field(default_factory=list)
    # setting -> the cause kind (linter/causes.py) of its verdict where it is not a per-grant list: "public"
    # (what leaves publicity undetermined), "guard" (the guard that is missing or off)
    causes: dict[str, str] = field(default_factory=dict)
    encrypted: bool | None = None  # None: the code declares no encryption configuration
    kms_key: bool = False  # encrypted with a customer-managed key (a key the code names)
    kms: bool = False  # encrypted through the provider's KMS, naming a key or not (S3 aws:kms alone)
    versioning: bool | None = None
    access_logging: bool | None = None
    log_target: str | None = None  # name or address of the log sink bucket
    log_sink_immutable: bool | None = None  # None: the sink is not in the checked files
    lifecycle: list[LifecycleRule] = field(default_factory=list)
    tls_only: bool | None = None
    # Azure: each reason plain HTTP or old TLS is accepted ("https", "min_tls": causes.TLS), where
    tls_gaps: list[tuple[str, Loc]] = field(default_factory=list)
    grants: list[Grant] = field(default_factory=list)
    replication_targets: list[str] = field(default_factory=list)  # names/addresses of destinations
    object_lock: bool = False
    signed_url_max_seconds: int | None = None
    prefixes: tuple[str, ...] = ()  # prefixes the config says the bucket holds, when it says
    is_log_sink: bool = False  # another bucket ships its access logs here
    locs: dict[str, Loc] = field(default_factory=dict)  # setting name -> where it is written
    # Declared outside the checked files (a `data` source, a name or reference that no checked
    # bucket matches): only what the checked companions declare about it is judged.
    external: bool = False
    # Settings whose value the code does not determine (a variable without default, a conditional):
    # setting name -> the expression. Rules give an "unknown" verdict for them (policy decides).
    unknown: dict[str, str] = field(default_factory=dict)
    # Settings the code writes with a value the provider rejects (an sse_algorithm or canned ACL S3
    # does not know): setting name -> why. Encryption fails with it; an invalid ACL is unknown.
    invalid: dict[str, str] = field(default_factory=dict)
    module_call: Loc | None = None  # the `module` block that creates this bucket, if any
    # How the module's code was found, where a reviewer should know (a version left unpinned, a
    # checked-out copy read instead of the ref the source names); outer calls first, "; " between.
    module_note: str = ""
    # Settings the rules judge beyond the classic ones; None: not declared.
    object_ownership: str | None = None  # S3: BucketOwnerEnforced / BucketOwnerPreferred / ObjectWriter
    uniform_access: bool | None = None  # GCS uniform bucket-level access
    aborts_incomplete_uploads: bool | None = None  # a lifecycle rule aborts incomplete multipart uploads
    public_network_access: bool | None = None  # Azure: reachable from public networks
    soft_delete: bool | None = None  # deleted objects are recoverable for a retention period
    # Objects are protected from deletes and overwrites for a retention period (S3 object lock
    # enabled, a GCS retention policy, an Azure immutability policy), locked or not; `object_lock`
    # above is narrower (a default retention, locked where the provider locks: immutable log sinks).
    immutable: bool | None = None
    immutable_reason: str = ""  # why not, when the code says why (a disabled policy, bare containers)
    # A copy of every object in another region (S3 replication with an enabled rule, a GCS multi- or
    # dual-region location, Azure geo-redundant storage); None: not declared.
    replicated: bool | None = None
    replicated_reason: str = ""
    # Retention locks: (prefix, days, where): no object under the prefix ("" the whole bucket) can be
    # deleted, by a lifecycle rule or anyone, before it is that many days old.
    locks: list[tuple[str, int, Loc]] = field(default_factory=list)
    # S3 access points whose public access block turns flags off: (the flags, where)
    access_points: list[tuple[str, Loc]] = field(default_factory=list)
    # Objects the code writes with their own encryption that is not a customer-managed key
    object_keys: list[Loc] = field(default_factory=list)

    @property
    def loc(self) -> Loc:
        return Loc(self.file, self.line, self.address)

    def add_public(self, kind: str, reason: str, loc: Loc) -> None:
        """Record a grant that makes the bucket public (each is reported, at its own resource)."""
        if any(c.kind == kind and c.loc == loc for c in self.public_causes):
            return  # one finding per causing resource, however many statements it holds
        if not self.public_causes:
            self.public_reason, self.locs["public"] = reason, loc
        self.public = True
        self.public_causes.append(PublicCause(kind, reason, loc))

    def where(self, setting: str) -> Loc:
        """Location of a setting, or of the bucket itself when the setting is absent."""
        return self.locs.get(setting, self.loc)

    @property
    def replication(self) -> bool:
        return bool(self.replication_targets)

    def unencrypted(self, setting: str) -> bool:
        """Whether the bucket counts as unencrypted at rest under ``storage.encryption`` (VC203 and
        VC504 alike). ``declared``: the code must declare encryption; ``provider_default``: a bucket
        at a provider that encrypts everything by default may leave it undeclared, but one that
        turns encryption off, or on a provider that does not, still fails; ``optional``: never."""
        if setting == "optional" or (self.external and self.encrypted is None):
            return False
        if self.encrypted is None:
            return setting == "declared" or self.provider not in ENCRYPTS_BY_DEFAULT
        return self.encrypted is False

    def declared_prefixes(self) -> set[str]:
        """Prefixes the configuration shows the bucket holds (lifecycle, grants, ``prefixes``)."""
        found = set(self.prefixes)
        found.update(r.prefix for r in self.lifecycle if r.prefix)
        found.update(p for g in self.grants for p in g.prefixes if p != "*")
        return found

    def expiry_for(self, prefix: str) -> int | None:
        """Days after which objects under ``prefix`` are deleted by some enabled rule; None: never."""
        days = [
            r.expiration_days
            for r in self.lifecycle
            if r.enabled and r.expiration_days is not None and prefix.startswith(r.prefix)
        ]
        return min(days) if days else None


def index(buckets: list[Bucket]) -> dict[str, Bucket]:
    """Each bucket under its address and its name; where several share one, the first in the list."""
    out: dict[str, Bucket] = {}
    for b in buckets:
        out.setdefault(b.address, b)
        if b.name:
            out.setdefault(b.name, b)
    return out


def resolve(named: dict[str, Bucket], target: str | None) -> Bucket | None:
    """The bucket a name or address points to (log sinks, replication destinations), from
    :func:`index` (a lookup: a tree of thousands of buckets links its sinks in linear time)."""
    return named.get(target) if target else None


def link_sinks(buckets: list[Bucket]) -> None:
    """Mark log sinks and decide whether each bucket's sink is immutable (object lock/retention)."""
    named = index(buckets)
    for b in buckets:
        sink = resolve(named, b.log_target)
        if sink is None:
            continue
        sink.is_log_sink = True
        if b.log_sink_immutable is None:
            b.log_sink_immutable = sink.object_lock


def load_buckets(ctx: LintContext) -> list[Bucket]:
    """Every bucket declared in the checked files (memoised per run); unparseable ones are VC004."""
    return ctx.memo("storage.buckets", lambda: _load(ctx))


def _load(ctx: LintContext) -> list[Bucket]:
    # Imported here: both loaders import this module for the dataclasses.
    from veilcv.linter.rules.storage.plainconfig import load_plain
    from veilcv.linter.rules.storage.terraform import load_terraform
    from veilcv.linter.rules.storage.tf_json import is_json_syntax, is_terraform

    tf_files = [f for f in ctx.files if is_terraform(f)]
    buckets = load_terraform(ctx, tf_files)
    plain = [f for f in ctx.files if f.endswith((".yaml", ".yml", ".json")) and not is_json_syntax(f)]
    buckets.extend(load_plain(ctx, plain))
    link_sinks(buckets)
    return buckets
