"""`veil store audit ...`: verify and read the hash-chained audit log."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from veilcv.cli.store_common import KEY_OPT, POLICY_OPT, STORE_OPT, open_store, utc

audit_app = typer.Typer(
    help="Verify and read the hash-chained audit log.\n\nExample: veil store audit verify --store ./vault",
    no_args_is_help=True,
)


@audit_app.command("verify")
def audit_verify(
    expect_head: str | None = typer.Option(None, "--expect-head", help="SEQ:HASH recorded earlier."),
    head_file: Path | None = typer.Option(
        None,
        "--head-file",
        help="File whose last line is the SEQ:HASH to expect (default: $VEIL_AUDIT_HEAD_FILE, "
        "which every store write appends to).",
    ),
    store: Path = STORE_OPT,
    key_file: Path | None = KEY_OPT,
    policy: Path | None = POLICY_OPT,
) -> None:
    """Recompute the audit chain; exit 1 on any edit, deletion or truncation.

    Example: veil store audit verify --store ./vault --expect-head 42:ab12...
    """
    from veilcv.store.audit import parse_head, read_head_file

    head = parse_head(expect_head) if expect_head else read_head_file(head_file) if head_file else None
    with open_store(store, key_file, policy) as st:
        report = st.verify_audit(head, actor="cli")
    for problem in report.problems:
        typer.echo(f"{store}: {problem}")
    if report.unanchored:
        typer.echo(f"{store}: note: {report.unanchored} entr(ies) after the last anchor (a crash mid-append)")
    typer.echo(
        f"{report.entries} entries; head {report.head_seq}:{report.head_hash}; "
        f"{'OK' if report.ok else 'FAILED'}"
    )
    if not report.ok:
        raise typer.Exit(1)


@audit_app.command("head")
def audit_head(
    store: Path = STORE_OPT, key_file: Path | None = KEY_OPT, policy: Path | None = POLICY_OPT
) -> None:
    """Print SEQ:HASH of the newest entry; keep it elsewhere to detect a rollback later.

    Example: veil store audit head --store ./vault >> audit-heads.txt
    """
    with open_store(store, key_file, policy) as st:
        seq, digest = st.audit_head()
    typer.echo(f"{seq}:{digest}")


@audit_app.command("log")
def audit_log(
    limit: int = typer.Option(
        20, "--limit", min=1, max=100000, help="How many of the newest entries to print."
    ),
    action: str | None = typer.Option(
        None, "--action", help="Only entries of this action (put, get, sign, serve, purge, ...)."
    ),
    store: Path = STORE_OPT,
    key_file: Path | None = KEY_OPT,
    policy: Path | None = POLICY_OPT,
) -> None:
    """Print the newest audit entries as JSON lines.

    Example: veil store audit log --limit 50 --action serve --store ./vault
    """
    from veilcv.store.audit import entries

    with open_store(store, key_file, policy) as st:
        rows = entries(st._conn(), limit=limit, action=action)
    for e in rows:
        typer.echo(
            json.dumps(
                {
                    "seq": e.seq,
                    "ts": utc(e.ts),
                    "actor": e.actor,
                    "role": e.role,
                    "action": e.action,
                    "key": e.key,
                    "outcome": e.outcome,
                    "detail": e.detail,
                },
                sort_keys=True,
            )
        )
