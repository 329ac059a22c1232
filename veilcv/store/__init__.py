"""The private local store: encrypted objects, signed access, a hash-chained audit log, retention.

Public API::

    from veilcv.store import Store, load_master_key, load_store_policy
    store = Store.open(path, load_master_key(), load_store_policy(policy_path), create=True)
    store.put("redacted/a.jpg", data, role="writer", actor="me")
    token = store.sign("redacted/a.jpg", role="reader", ttl=300, actor="me")
"""

from __future__ import annotations

from veilcv.store.crypto import MasterKey, generate_key_text, load_master_key
from veilcv.store.maintenance import Consistency
from veilcv.store.objects import ObjectInfo, PutItem, Store
from veilcv.store.policy import StorePolicy, from_policy
from veilcv.store.policy import load as load_store_policy
from veilcv.store.roles import Op

__all__ = [
    "Consistency",
    "MasterKey",
    "ObjectInfo",
    "Op",
    "PutItem",
    "Store",
    "StorePolicy",
    "from_policy",
    "generate_key_text",
    "load_master_key",
    "load_store_policy",
]
