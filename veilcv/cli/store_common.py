"""Options and helpers shared by the `veil store` commands and `veil ingest`."""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from veilcv.atomic import write_bytes
from veilcv.cli.outputs import write_error

if TYPE_CHECKING:
    from veilcv.store import Store

# The store, its crypto and the policy loader are imported inside the functions: `veil --help`
# imports this module and must not pay for them.

STORE_OPT = typer.Option(..., "--store", "-s", envvar="VEIL_STORE", help="Store folder (or $VEIL_STORE).")
KEY_OPT = typer.Option(
    None, "--key-file", help="Master key file (default: $VEIL_MASTER_KEY_FILE or $VEIL_MASTER_KEY)."
)
POLICY_OPT = typer.Option(
    None,
    "--policy",
    "-p",
    help="Policy file (default: the nearest veil.yaml here or above, up to the repository root; "
    "else the default pack).",
)
ACTOR_OPT = typer.Option(None, "--actor", help="Name recorded in the audit log (default: the OS user).")


def role_opt(default: str) -> Any:
    """The ``--role`` option, defaulting to the role the command normally needs."""
    return typer.Option(
        default,
        "--role",
        help="Role to act as: the policy's storage.roles say which key prefixes it may use.",
    )


def load_policy_dict(policy: Path | None) -> dict[str, Any]:
    from veilcv.policies import load_policy
    from veilcv.policies.loader import find_policy

    return load_policy(policy if policy is not None else find_policy(Path.cwd()))


def open_store(
    store: Path, key_file: Path | None, policy: Path | None, *, create: bool = False, actor: str = "cli"
) -> Store:
    from veilcv.store import Store, from_policy, load_master_key

    master = load_master_key(key_file, store_root=store)
    return Store.open(store, master, from_policy(load_policy_dict(policy)), create=create, actor=actor)


def save(out: Path, data: bytes) -> None:
    """Write decrypted store data (or a receipt) atomically, readable by its owner only."""
    try:
        write_bytes(out, data, mode=0o600)
    except OSError as exc:
        raise write_error(out, exc) from None


def actor_name(actor: str | None) -> str:
    if actor:
        return actor
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "cli"


def utc(ts: float) -> str:
    import datetime as dt

    return dt.datetime.fromtimestamp(ts, dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
