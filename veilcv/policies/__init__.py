"""Policy as code: the JSON Schema, the bundled packs and the loader."""

from veilcv.policies.loader import (
    LoadedPolicy,
    PolicyIssue,
    PolicySchemaError,
    load_policy,
    load_policy_source,
    with_defaults,
)

__all__ = [
    "LoadedPolicy",
    "PolicyIssue",
    "PolicySchemaError",
    "load_policy",
    "load_policy_source",
    "with_defaults",
]
