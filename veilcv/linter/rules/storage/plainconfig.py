"""Plain YAML/JSON bucket configs: for stores that are not written in Terraform (MinIO, on-prem, the
local store, a vendor console exported by hand).

A YAML or JSON file is a storage config when its top level is a mapping with a ``buckets`` key.
Every key is optional except ``name``; an absent setting counts as not configured::

    buckets:
      - name: frames                 # required
        provider: minio              # free text, default "plain"; aws, gcp and azure encrypt by default
        public: false                # true: readable by anyone; false: public access blocked
        encryption:                  # or `encryption: true`
          enabled: true
          kms_key: keys/frames       # any non-empty value: a customer-managed key
        versioning: true
        tls_only: true               # plain HTTP refused
        logging:                     # or `logging: false`
          target: audit-logs         # another bucket (by name) or an external sink
          immutable: true            # optional: otherwise taken from the target's object_lock
        lifecycle:
          - {prefix: raw/, expire_days: 7}        # prefix "" or absent: the whole bucket
        read_roles:
          - {role: reader, prefixes: [redacted/]} # prefixes absent or ["*"]: the whole bucket
        signed_url_max_seconds: 900
        replication: [frames-replica]             # destination bucket names (VC214, VC223)
        object_lock: false           # true: deletes and overwrites refused for a period (VC207, VC222)
        prefixes: [raw/, redacted/]  # what the bucket holds (for the retention rules)

Files over 2 MiB are not considered (a repository's large JSON files are dataset annotations).
Unknown keys and wrong types make the whole file a VC004 finding naming the line and the key, so
a typo (``versioning`` misspelt) never passes silently. A file that cannot be read at all is
listed as skipped: nothing says it was a bucket config.
"""

from __future__ import annotations

from typing import Any

from veilcv.linter import causes
from veilcv.linter.context import LintContext
from veilcv.linter.located import LocatedError, line_of, load_located
from veilcv.linter.rules.storage.model import Bucket, Grant, LifecycleRule, Loc

_KEYS = {
    "name": str,
    "provider": str,
    "public": bool,
    "encryption": (bool, dict),
    "versioning": bool,
    "tls_only": bool,
    "logging": (bool, dict),
    "lifecycle": list,
    "read_roles": list,
    "signed_url_max_seconds": int,
    "replication": list,
    "object_lock": bool,
    "prefixes": list,
}


MAX_CONFIG_BYTES = 2 * 1024 * 1024


class PlainConfigError(ValueError):
    pass


def load_plain(ctx: LintContext, files: list[str]) -> list[Bucket]:
    out: list[Bucket] = []
    roles = ctx.policy.get("storage", {}).get("roles", {}) or {}
    for file in sorted(files):
        try:
            if ctx.path(file).stat().st_size > MAX_CONFIG_BYTES:
                continue  # dataset annotations, not a bucket config: never read them whole
            raw = ctx.path(file).read_bytes()
        except OSError as exc:
            ctx.skip(file, f"cannot read: {exc.strerror or exc}")
            continue
        if b"buckets" not in raw:
            continue  # cheap pre-filter: most YAML/JSON files in a repo are not storage configs
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            ctx.unparseable(file, f"cannot read storage config: not UTF-8 (byte {exc.start})")
            continue
        try:
            data, lines = load_located(text, json_fallback=file.endswith(".json"))
        except LocatedError as exc:
            if '"buckets"' in text or "buckets:" in text:
                ctx.unparseable(file, f"cannot parse storage config: {exc}")
            continue
        if not isinstance(data, dict) or "buckets" not in data:
            continue
        if isinstance(data["buckets"], dict) and not set(data["buckets"]) & set(_KEYS):
            # A mapping with none of a bucket's keys is another document's `buckets` (a coverage
            # report's face sizes): listed as skipped, so the reader sees it was not judged. A mapping
            # that looks like one bucket is a config written wrong, and fails below.
            ctx.skip(file, "not a storage config: its `buckets` has none of a bucket's keys")
            continue
        try:
            out.extend(parse_buckets(file, data["buckets"], lines, roles))
        except PlainConfigError as exc:
            ctx.unparseable(file, f"invalid storage config: {exc}")
    return out


def _type_name(t: Any) -> str:
    if isinstance(t, tuple):
        return " or ".join(_type_name(x) for x in t)
    return {str: "a string", bool: "true/false", int: "an integer", list: "a list", dict: "a mapping"}[t]


def _check_nested(fail: Any, path: tuple[Any, ...], key: str, value: Any, keys: dict[str, type]) -> None:
    if not isinstance(value, dict):
        return
    for sub, v in value.items():
        if sub not in keys:
            raise fail((*path, key, sub), f"unknown key; use one of {', '.join(sorted(keys))}")
        if not isinstance(v, keys[sub]):
            raise fail((*path, key, sub), f"expected {_type_name(keys[sub])}, got {v!r}")


def parse_buckets(file: str, items: Any, lines: dict[Any, int], roles: dict[str, Any]) -> list[Bucket]:
    """Buckets of one config; raises :class:`PlainConfigError` ("expected X, got Y") on bad input."""

    def fail(path: tuple[Any, ...], msg: str) -> PlainConfigError:
        return PlainConfigError(f"line {line_of(lines, path)}: {'.'.join(map(str, path))}: {msg}")

    if not isinstance(items, list):
        raise fail(("buckets",), f"expected a list of buckets, got {type(items).__name__}")
    out = []
    for i, item in enumerate(items):
        path = ("buckets", i)
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise fail(path, "expected a mapping with a string `name`; use `- name: my-bucket`")
        for key, value in item.items():
            want = _KEYS.get(key)
            if want is None:
                raise fail((*path, key), f"unknown key; use one of {', '.join(sorted(_KEYS))}")
            bad_bool = want is int and isinstance(value, bool)
            if not isinstance(value, want) or bad_bool:
                raise fail((*path, key), f"expected {_type_name(want)}, got {value!r}")

        def loc(*sub: Any, _path: tuple[Any, ...] = path, _name: str = item["name"]) -> Loc:
            return Loc(file, line_of(lines, (*_path, *sub)), f"bucket.{_name}")

        b = Bucket(
            name=item["name"],
            provider=str(item.get("provider", "plain")),
            address=f"bucket.{item['name']}",
            file=file,
            line=line_of(lines, path),
        )
        for key in _KEYS:
            if key in item:
                b.locs[{"tls_only": "tls", "signed_url_max_seconds": "signed_url"}.get(key, key)] = loc(key)
        b.public = item.get("public")
        b.public_reason = "public: true" if b.public else ("" if b.public is False else "public not declared")
        b.unguarded = "public: true" if b.public else ""
        b.causes["public"] = b.causes["guard"] = causes.CONFIG
        _check_nested(fail, path, "encryption", item.get("encryption"), {"enabled": bool, "kms_key": str})
        _check_nested(fail, path, "logging", item.get("logging"), {"target": str, "immutable": bool})
        enc = item.get("encryption")  # absent: None, not declared (a provider may still encrypt)
        b.encrypted = bool(enc.get("enabled", True)) if isinstance(enc, dict) else enc
        b.kms_key = isinstance(enc, dict) and bool(enc.get("kms_key"))
        b.versioning = item.get("versioning", False)
        b.tls_only = item.get("tls_only")
        lg = item.get("logging", False)
        b.access_logging = bool(lg)
        if isinstance(lg, dict):
            b.log_target = str(lg["target"]) if lg.get("target") else None
            b.access_logging = b.log_target is not None
            if "immutable" in lg:
                b.log_sink_immutable = bool(lg["immutable"])
        for j, rule in enumerate(item.get("lifecycle", [])):
            days = rule.get("expire_days") if isinstance(rule, dict) else None
            if not isinstance(rule, dict) or not (days is None or (isinstance(days, int) and days >= 0)):
                raise fail((*path, "lifecycle", j), "expected {prefix: raw/, expire_days: 7}")
            enabled = rule.get("enabled", True) is not False
            b.lifecycle.append(
                LifecycleRule(str(rule.get("prefix") or ""), days, enabled, loc("lifecycle", j))
            )
        for j, grant in enumerate(item.get("read_roles", [])):
            if not isinstance(grant, dict) or not isinstance(grant.get("role"), str):
                raise fail((*path, "read_roles", j), "expected {role: reader, prefixes: [redacted/]}")
            listed = grant.get("prefixes", ["*"])
            if not isinstance(listed, list) or not all(isinstance(p, str) for p in listed):
                raise fail(
                    (*path, "read_roles", j, "prefixes"), f"expected a list of prefixes, got {listed!r}"
                )
            prefixes = tuple(listed or ["*"])
            role = grant["role"] if grant["role"] in roles else None
            b.grants.append(Grant(grant["role"], role, prefixes, loc("read_roles", j)))
        b.signed_url_max_seconds = item.get("signed_url_max_seconds")
        b.replication_targets = [str(t) for t in item.get("replication", [])]
        b.object_lock = item.get("object_lock", False)
        b.immutable = item.get("object_lock")  # absent: not declared (VC222 under object_lock: required)
        b.immutable_reason = "object_lock: false"
        b.replicated = bool(b.replication_targets) if "replication" in item else None
        b.replicated_reason = "replication lists no destination"
        b.prefixes = tuple(str(p) for p in item.get("prefixes", []))
        out.append(b)
    return out
