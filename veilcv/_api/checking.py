"""``veilcv.load_policy`` and ``veilcv.check``: the policy resolution and the check `veil check` runs."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from veilcv._api import keyword_error
from veilcv.errors import InputError, PolicyError, VeilcvError
from veilcv.linter.finding import TARGETS
from veilcv.policies.loader import (
    LoadedPolicy,
    PolicyIssue,
    PolicySchemaError,
    bundled_packs,
    check_rule_ids,
    find_policy,
    load_policy_source,
)
from veilcv.policies.messages import did_you_mean, json_path

if TYPE_CHECKING:  # the engine loads every rule family: only when a check runs
    from veilcv.linter.engine import Report


def load_policy(
    policy: str | os.PathLike[str] | None = None, *, root: str | os.PathLike[str] = "."
) -> LoadedPolicy:
    """Load, validate and resolve the policy a check of ``root`` uses.

    Parameters
    ----------
    policy : path-like or str, optional
        A policy file, or the name of a bundled pack (``default``, ``strict``, ...). None: the
        nearest ``veil.yaml`` at or above ``root`` (up to its repository root), else the
        ``default`` pack.
    root : path-like
        The folder to be checked, where the search for ``veil.yaml`` starts.

    Returns
    -------
    LoadedPolicy
        The effective policy (``data``), its chain of files and packs (``chain``, the user's file
        first) and where each value came from.

    Raises
    ------
    PolicyError
        A missing file or unknown pack. :class:`~veilcv.policies.loader.PolicySchemaError` (a
        ``PolicyError``) lists every schema problem, unknown rule ID and invalid SPDX expression of
        the chain at once in ``issues``, each with its file, line and JSON path.
    """
    try:
        name = os.fspath(policy) if policy is not None else None
        if name is not None and not Path(name).exists() and name in bundled_packs():
            loaded = load_policy_source(pack=name)
        elif name is not None and _looks_like_pack(name) and not Path(name).exists():
            hint = did_you_mean(name, bundled_packs()) or "; use `veil policy init` to write one"
            raise PolicyError(
                f"{name}: expected a policy file or a bundled pack ({', '.join(bundled_packs())}), "
                f"got neither{hint}"
            )
        else:
            path = Path(name) if name is not None else find_policy(Path(root))
            loaded = load_policy_source(path) if path is not None else load_policy_source()
        _check_ids(loaded)
    except VeilcvError:
        raise
    except Exception as exc:  # the API's contract: only the documented exception types escape
        raise PolicyError(f"{policy or root}: internal error: {type(exc).__name__}: {exc}") from exc
    return loaded


def check(
    root: str | os.PathLike[str] = ".",
    *,
    policy: LoadedPolicy | str | os.PathLike[str] | None = None,
    files: Iterable[str | os.PathLike[str]] | None = None,
    only: Iterable[str] | None = None,
    baseline: str | os.PathLike[str] | None = None,
) -> Report:
    """Check a tree (its dataset manifests, storage configs, telemetry and repository) against a policy.

    Parameters
    ----------
    root : path-like
        The folder to check (``.gitignore`` is respected).
    policy : LoadedPolicy, path-like or str, optional
        A policy from :func:`load_policy`, or what :func:`load_policy` takes (a file or a pack
        name). None: the nearest ``veil.yaml`` at or above ``root``, else the ``default`` pack.
    files : iterable of path-like, optional
        Report only on these files inside ``root`` (paths as the command line takes them); the rest
        of the tree is still read for cross-file rules.
    only : iterable of str, optional
        Run only the rules of these targets: ``manifest``, ``storage``, ``telemetry``, ``repo``,
        ``cross``.
    baseline : path-like, optional
        A baseline file (`veil check --write-baseline`): findings it holds go to ``baselined``.

    Returns
    -------
    Report
        Immutable: ``findings`` (each a :class:`~veilcv.linter.finding.Finding` with rule ID, message,
        file, line, severity), ``suppressed``, ``baselined``, ``skipped`` files with the reason, and
        ``exit_code`` (0 clean, 1 findings), as `veil check` reports them.

    Raises
    ------
    InputError
        ``root`` is not a folder, a file is missing, or a target is unknown.
    PolicyError
        The policy cannot be loaded (see :func:`load_policy`).
    """
    from veilcv.linter import engine

    targets = sorted(set(only)) if only is not None else None
    if isinstance(only, str) or (targets is not None and not set(targets) <= set(TARGETS)):
        unknown = [only] if isinstance(only, str) else sorted(set(targets or ()) - set(TARGETS))
        raise keyword_error(InputError(f"--only: expected targets among {', '.join(TARGETS)}, got {unknown}"))
    tree = Path(root)
    loaded = policy if isinstance(policy, LoadedPolicy) else load_policy(policy, root=tree)
    paths = None
    if files is not None:
        paths = []
        for f in files:
            if not Path(f).exists():
                raise InputError(f"{os.fspath(f)}: expected a file or folder, got nothing there")
            paths.append(str(Path(f).resolve()))
    try:
        return engine.check(tree, loaded, paths=paths, only=targets, baseline=baseline)
    except VeilcvError:
        raise
    except Exception as exc:  # the API's contract: only the documented exception types escape
        raise VeilcvError(f"{tree}: internal error: {type(exc).__name__}: {exc}") from exc


def _looks_like_pack(name: str) -> bool:
    # A bare word ("strcit") was meant as a pack; "x.yaml" or "a/b" as a file (the loader names it).
    return not Path(name).suffix and "/" not in name and "\\" not in name


def _check_ids(loaded: LoadedPolicy) -> None:
    """Unknown rule IDs and invalid SPDX IDs, all reported at once: a typo in `denied` fails open."""
    from veilcv.linter import registry
    from veilcv.policies import licences

    issues: list[PolicyIssue] = []
    try:
        check_rule_ids(loaded, (r.id for r in registry.all_rules()))
    except PolicySchemaError as exc:
        issues.extend(exc.issues)
    for key in ("allowed", "denied"):
        for i, expression in enumerate(loaded.data.get("licences", {}).get(key, [])):
            parsed, why = licences.parse(expression)
            if parsed is None:
                file, line = loaded.source("licences", key, i)
                msg = f"expected an SPDX licence expression such as CC-BY-4.0, got {expression!r} ({why})"
                issues.append(PolicyIssue(file, line, 1, json_path(("licences", key, i)), msg))
    if issues:
        raise PolicySchemaError(sorted(issues, key=lambda i: (i.file, i.line, i.column, i.path)))


for _fn in (load_policy, check):
    _fn.__module__ = "veilcv"  # documented as the public name
