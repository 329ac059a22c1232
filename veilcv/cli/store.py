"""`veil store ...`: the private local store (encrypted objects, signed access, audit, retention)."""

from __future__ import annotations

import dataclasses
import json
import os
import stat
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from veilcv.atomic import atomic_path
from veilcv.cli.display import printable
from veilcv.cli.outputs import check_writable, write_error
from veilcv.cli.store_audit import audit_app
from veilcv.cli.store_common import (
    ACTOR_OPT,
    KEY_OPT,
    POLICY_OPT,
    STORE_OPT,
    actor_name,
    load_policy_dict,
    open_store,
    role_opt,
    save,
    utc,
)
from veilcv.errors import InputError

if TYPE_CHECKING:
    from veilcv.store.layout import ObjectInfo

# The store, its crypto, the server and rich are imported inside the commands: `veil --help`
# must not pay for them.

# Where `veil store serve` listens by default; `veil store sign` prints its URLs for the same place.
SERVE_HOST = "127.0.0.1"
SERVE_PORT = 8731

store_app = typer.Typer(
    help="The private local store: encrypted, audited, short-lived access.\n\n"
    "Example: veil store put redacted/a.jpg a.jpg --store ./vault",
    no_args_is_help=True,
)
store_app.add_typer(audit_app, name="audit")


@store_app.command("keygen")
def keygen(
    out: Path = typer.Option(
        ..., "-o", "--output", "--out", help="Key file to create (mode 600; never overwritten)."
    ),
) -> None:
    """Create a new random master key file. Keep it outside the store and back it up.

    Example: veil store keygen -o ~/.config/veil/master.key
    """
    from veilcv.store import generate_key_text

    if out.exists():
        raise InputError(f"{out}: already exists; refusing to overwrite a key (keys lost mean data lost)")
    try:
        with atomic_path(out) as tmp:
            os.chmod(tmp, stat.S_IRUSR | stat.S_IWUSR)
            tmp.write_text(generate_key_text() + "\n", encoding="ascii")
    except OSError as exc:
        raise write_error(out, exc) from None
    typer.echo(f"wrote {out} (base64, 32 bytes); set VEIL_MASTER_KEY_FILE={out} or pass --key-file")


@store_app.command("init")
def init(
    store: Path = STORE_OPT,
    key_file: Path | None = KEY_OPT,
    policy: Path | None = POLICY_OPT,
    actor: str | None = ACTOR_OPT,
) -> None:
    """Create an empty store in a new folder.

    Example: veil store init --store ./vault --key-file ~/.config/veil/master.key
    """
    from veilcv.store import Store, from_policy, load_master_key

    master = load_master_key(key_file, store_root=store)
    Store.init(store, master, from_policy(load_policy_dict(policy)), actor=actor_name(actor)).close()
    typer.echo(f"created store {store} (master key {master.key_id})")


@store_app.command("put")
def put(
    key: str = typer.Argument(..., help="Object key, e.g. redacted/2024/a.jpg."),
    file: Path = typer.Argument(..., help="File to store."),
    subject: str | None = typer.Option(None, "--subject", help="Data-subject id for deletion requests."),
    role: str = role_opt("writer"),
    store: Path = STORE_OPT,
    key_file: Path | None = KEY_OPT,
    policy: Path | None = POLICY_OPT,
    actor: str | None = ACTOR_OPT,
) -> None:
    """Encrypt and store one file under KEY (writes are checked against the role's prefixes).

    Example: veil store put redacted/a.jpg a.jpg --store ./vault
    """
    from veilcv.store.layout import read_object_file

    data = read_object_file(file)
    with open_store(store, key_file, policy) as st:
        info = st.put(key, data, role=role, actor=actor_name(actor), subject=subject)
    typer.echo(f"stored {info.key} ({info.size} bytes)")


@store_app.command("get")
def get(
    key: str = typer.Argument(..., help="Object key."),
    out: Path = typer.Option(..., "-o", "--output", "--out", help="Where to write the decrypted object."),
    role: str = role_opt("reader"),
    store: Path = STORE_OPT,
    key_file: Path | None = KEY_OPT,
    policy: Path | None = POLICY_OPT,
    actor: str | None = ACTOR_OPT,
) -> None:
    """Decrypt one object to a file (atomically).

    Example: veil store get redacted/a.jpg -o a.jpg --store ./vault
    """
    with open_store(store, key_file, policy) as st:
        save(out, st.get(key, role=role, actor=actor_name(actor)))
    typer.echo(f"wrote {out}")


@store_app.command("ls")
def ls(
    prefix: str = typer.Argument("", help="Only keys starting with this."),
    role: str = role_opt("reader"),
    as_json: bool = typer.Option(False, "--json", help="Print the listing as JSON (one object per key)."),
    store: Path = STORE_OPT,
    key_file: Path | None = KEY_OPT,
    policy: Path | None = POLICY_OPT,
    actor: str | None = ACTOR_OPT,
) -> None:
    """List the objects a role may read.

    Example: veil store ls redacted/ --store ./vault
    """
    with open_store(store, key_file, policy) as st:
        infos = st.list(prefix, role=role, actor=actor_name(actor))
        scopes = st.policy.roles.get(role, ())
    if prefix and not any(s == "*" or s.startswith(prefix) or prefix.startswith(s) for s in scopes):
        # An empty listing would read as "nothing stored there"; say that the role cannot see it.
        typer.echo(
            f"note: role {role} reads only {', '.join(scopes) or 'nothing'}; "
            f"use --role admin to list {prefix}",
            err=True,
        )
    if as_json:
        typer.echo(json.dumps([dataclasses.asdict(i) for i in infos], indent=2))
        return
    for line in listing_lines(infos):
        typer.echo(printable(line))


def listing_lines(infos: list[ObjectInfo]) -> list[str]:
    """Aligned plain lines, a header first. Never a table: a wrapped or cut key cannot be pasted
    into `store get` or `store sign`, so every key stays whole on its own line."""
    rows = [("key", "bytes", "expires (UTC)", "subject")]
    rows += [(i.key, str(i.size), utc(i.expires), i.subject or "") for i in infos]
    widths = [max(len(row[c]) for row in rows) for c in range(3)]
    return [
        f"{row[0].ljust(widths[0])}  {row[1].rjust(widths[1])}  {row[2].ljust(widths[2])}  {row[3]}".rstrip()
        for row in rows
    ]


@store_app.command("sign")
def sign(
    key: str = typer.Argument(..., help="Object key."),
    ttl: int = typer.Option(300, "--ttl", help="Lifetime in seconds (at most the policy's maximum)."),
    role: str = typer.Option("reader", "--role", help="Role the token acts as."),
    method: str = typer.Option(
        "GET", "--method", help="HTTP method the token is valid for (`veil store serve` answers GET only)."
    ),
    port: int = typer.Option(
        SERVE_PORT, "--port", help="Port `veil store serve` listens on, for the printed URL."
    ),
    host: str = typer.Option(
        SERVE_HOST, "--host", help="Loopback address `veil store serve` binds, for the printed URL."
    ),
    store: Path = STORE_OPT,
    key_file: Path | None = KEY_OPT,
    policy: Path | None = POLICY_OPT,
    actor: str | None = ACTOR_OPT,
) -> None:
    """Issue a short-lived signed token for one object; `veil store serve` redeems it.

    The token goes to stdout (for scripts), the URL that redeems it on `veil store serve` to stderr.

    Example: veil store sign redacted/a.jpg --ttl 300 --store ./vault
    """
    from veilcv.store.access import sign as sign_token
    from veilcv.store.server import base_url, check_loopback, object_url

    if not 1 <= port <= 65535:
        raise InputError(f"--port: expected 1-65535 (the port `veil store serve` listens on), got {port}")
    check_loopback(host)  # serve binds loopback only: a URL for another address would never answer
    with open_store(store, key_file, policy) as st:
        token = sign_token(st, key, role=role, ttl=ttl, method=method.upper(), actor=actor_name(actor))
    typer.echo(token)
    typer.echo(f"url: {object_url(base_url(host, port), key, token)}", err=True)


@store_app.command("serve")
def serve(
    port: int = typer.Option(SERVE_PORT, "--port", help="TCP port (0: any free port)."),
    host: str = typer.Option(SERVE_HOST, "--host", help="Loopback address to bind."),
    store: Path = STORE_OPT,
    key_file: Path | None = KEY_OPT,
    policy: Path | None = POLICY_OPT,
    metrics: str | None = typer.Option(
        None,
        "--metrics",
        help="Serve Prometheus metrics (refused requests by reason, objects past retention) at "
        "[HOST]:PORT/metrics (:9465 binds 127.0.0.1 only).",
    ),
) -> None:
    """Serve signed GETs on loopback until Ctrl-C; every access is audited.

    Ctrl-C is the way to stop it: the server closes, the store is closed, and the exit code is 0.

    Example: veil store serve --port 8731 --store ./vault   (then GET /o/KEY?token=...)
    """
    from veilcv.cli.main import Interrupted
    from veilcv.store.server import StoreServer

    with open_store(store, key_file, policy) as st:
        counts, scrape = None, None
        if metrics:
            from veilcv.store.purge import due
            from veilcv.telemetry.metrics import StoreMetrics, serve_metrics

            counts = StoreMetrics(past_retention=lambda: len(due(st, st.clock())))
            scrape = serve_metrics(counts.registry, metrics)
        server = StoreServer(st, host, port, metrics=counts)
        typer.echo(f"serving {store} on {server.url}/o/<key>?token=<token> (Ctrl-C to stop)", err=True)
        if scrape is not None:
            typer.echo(f"metrics at {scrape.url}", err=True)
        try:
            server.serve_forever()
        except (KeyboardInterrupt, Interrupted):
            pass  # the documented way to stop: a clean stop, not an error
        finally:
            server.stop()
            if scrape is not None:
                scrape.stop()
    typer.echo(f"stopped serving {store}", err=True)


@store_app.command("purge")
def purge_cmd(
    dry_run: bool = typer.Option(False, "--dry-run", help="List what would be deleted."),
    role: str = role_opt("admin"),
    store: Path = STORE_OPT,
    key_file: Path | None = KEY_OPT,
    policy: Path | None = POLICY_OPT,
    actor: str | None = ACTOR_OPT,
) -> None:
    """Crypto-shred every object past its prefix's TTL, with receipts in the audit log.

    Example: veil store purge --dry-run --store ./vault
    """
    from rich.console import Console
    from rich.table import Column, Table

    from veilcv.store.purge import purge

    with open_store(store, key_file, policy) as st:
        result = purge(st, role=role, actor=actor_name(actor), dry_run=dry_run)
    if result.items:
        table = Table(
            Column("key", overflow="fold"),
            "prefix",
            "age (days)",
            "max (days)",
            title="would purge" if dry_run else "purged",
        )
        for item in result.items:
            table.add_row(item.key, item.prefix, f"{item.age_days:.1f}", str(item.max_days))
        Console().print(table)
    typer.echo(
        f"{len(result.items)} object(s) {'due' if dry_run else 'purged'}; "
        f"receipt: audit entry {result.receipt_seq}"
    )


@store_app.command("export")
def export(
    subject: str = typer.Option(..., "--subject", help="Data-subject id (from the manifest)."),
    out: Path = typer.Option(..., "-o", "--output", "--out", help="Zip archive to write."),
    role: str = role_opt("admin"),
    store: Path = STORE_OPT,
    key_file: Path | None = KEY_OPT,
    policy: Path | None = POLICY_OPT,
    actor: str | None = ACTOR_OPT,
) -> None:
    """Export every object of one data subject into a zip with a receipt (access request).

    Example: veil store export --subject S-042 -o s042.zip --store ./vault
    """
    from veilcv.store.subjects import export_subject, receipt_json

    with open_store(store, key_file, policy) as st:
        try:
            receipt = export_subject(st, subject, out, role=role, actor=actor_name(actor))
        except OSError as exc:
            raise write_error(out, exc) from None
    typer.echo(receipt_json(receipt), nl=False)


@store_app.command("delete")
def delete(
    subject: str = typer.Option(..., "--subject", help="Data-subject id (from the manifest)."),
    receipt_out: Path | None = typer.Option(None, "--receipt", help="Also write the receipt JSON here."),
    role: str = role_opt("admin"),
    store: Path = STORE_OPT,
    key_file: Path | None = KEY_OPT,
    policy: Path | None = POLICY_OPT,
    actor: str | None = ACTOR_OPT,
) -> None:
    """Crypto-shred every object of one data subject (deletion request) and print the receipt.

    Example: veil store delete --subject S-042 --receipt s042-deleted.json --store ./vault
    """
    from veilcv.store.subjects import delete_subject, receipt_json

    if receipt_out is not None:
        check_writable(receipt_out)  # the deletion cannot be undone: find out first
    with open_store(store, key_file, policy) as st:
        receipt = delete_subject(st, subject, role=role, actor=actor_name(actor))
    text = receipt_json(receipt)
    if receipt_out is not None:
        save(receipt_out, text.encode())
    typer.echo(text, nl=False)


@store_app.command("rotate-key")
def rotate_key(
    new_key_file: Path = typer.Option(..., "--new-key-file", help="File with the new master key."),
    revoke_tokens: bool = typer.Option(False, "--revoke-tokens", help="Also invalidate all tokens."),
    store: Path = STORE_OPT,
    key_file: Path | None = KEY_OPT,
    policy: Path | None = POLICY_OPT,
    actor: str | None = ACTOR_OPT,
) -> None:
    """Re-wrap every data key under a new master key (objects are not re-encrypted).

    Example: veil store rotate-key --new-key-file new.key --store ./vault
    """
    from veilcv.store import load_master_key
    from veilcv.store.maintenance import rotate_key as rotate

    new = load_master_key(new_key_file, store_root=store)
    with open_store(store, key_file, policy) as st:
        if new.key_id == st._envelope.key_id:
            raise InputError(
                f"{new_key_file}: expected a new master key, got the store's current key {new.key_id}; "
                "make one with `veil store keygen -o FILE`"
            )
        n = rotate(st, new, role="admin", actor=actor_name(actor), revoke_tokens=revoke_tokens)
    typer.echo(f"re-wrapped {n} data key(s) under master key {new.key_id}; use the new key from now on")


@store_app.command("fsck")
def fsck(
    repair: bool = typer.Option(False, "--repair", help="Remove orphan blobs left by a crash."),
    store: Path = STORE_OPT,
    key_file: Path | None = KEY_OPT,
    policy: Path | None = POLICY_OPT,
) -> None:
    """Compare the catalog with the blob files (exit 1 on any mismatch).

    Example: veil store fsck --repair --store ./vault
    """
    from veilcv.store.maintenance import check, recover

    with open_store(store, key_file, policy) as st:
        if repair and recover(st) is None:
            raise InputError(f"{store}: another process has the store open; run --repair when it is idle")
        report = check(st)
    for key in report.missing:
        typer.echo(f"{store}: object {key}: blob missing")
    for rel in report.orphans:
        typer.echo(f"{store}: {rel}: orphan blob (no catalog row; unreadable); use --repair")
    for key in report.tampered:
        typer.echo(f"{store}: object {key}: catalog row fails its integrity check (edited outside veilcv)")
    typer.echo(
        f"{report.objects} object(s), {len(report.missing)} missing, {len(report.orphans)} orphan(s), "
        f"{len(report.tampered)} tampered"
    )
    if not report.ok:
        raise typer.Exit(1)


@store_app.command("migrate")
def migrate_cmd(
    store: Path = STORE_OPT,
    key_file: Path | None = KEY_OPT,
    policy: Path | None = POLICY_OPT,
    actor: str | None = ACTOR_OPT,
) -> None:
    """Check a store written by an older veilcv against its audit log and upgrade it (once).

    Example: veil store migrate --store ./vault
    """
    from veilcv.store import from_policy, load_master_key
    from veilcv.store.migrate import migrate

    master = load_master_key(key_file, store_root=store)
    pol = from_policy(load_policy_dict(policy))
    report = migrate(store, master, pol, role="admin", actor=actor_name(actor))
    for problem in report.problems:
        typer.echo(f"{store}: {problem}")
    if report.problems:
        typer.echo(f"{store}: not upgraded; nothing was changed (restore the store from a backup)")
        raise typer.Exit(1)
    if not report.upgraded:
        typer.echo(f"{store}: already at the current format; nothing to do")
        return
    typer.echo(f"{store}: checked {report.objects} object(s) against the audit log; upgraded them")


def register(app: typer.Typer) -> None:
    """Add this module's commands to `app`."""
    app.add_typer(store_app, name="store")
