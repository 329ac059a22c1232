"""A checked-out pull request must not make `veil check` read, and echo, files outside the repository."""

from __future__ import annotations

from pathlib import Path

import pytest

from veilcv.cli.main import main
from veilcv.errors import PolicyError
from veilcv.policies import load_policy
from veilcv.policies.loader import MAX_POLICY_BYTES

SECRET = "root:SECRET-HASH-123:0:0:root:/root:/bin/bash\n"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    (tmp_path / "secret.yaml").write_text(SECRET)  # outside the repository
    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)
    (root / "sub").mkdir()
    return root


def _check(root: Path, capsys, *args: str) -> tuple[int, str]:
    code = main(["check", str(root), *args])
    out = capsys.readouterr()
    return code, out.out + out.err


@pytest.mark.parametrize("target", ["{secret}", "../secret.yaml", "../../secret.yaml", "~/secret.yaml"])
def test_extends_outside_the_repository_is_refused_without_reading_it(
    repo: Path, capsys, target: str, monkeypatch
) -> None:
    monkeypatch.setenv("HOME", str(repo.parent))
    target = target.format(secret=repo.parent / "secret.yaml")
    policy = repo / ("sub/veil.yaml" if target.startswith("../../") else "veil.yaml")
    policy.write_text(f"version: 1\nextends: {target}\n")
    with pytest.raises(PolicyError) as info:
        load_policy(policy)
    assert "SECRET-HASH" not in str(info.value) and repr(target) in str(info.value)
    assert "extends" in str(info.value)


def test_extends_through_a_symlink_that_leaves_the_repository_is_refused(repo: Path) -> None:
    (repo / "base.yaml").symlink_to(repo.parent / "secret.yaml")
    (repo / "veil.yaml").write_text("version: 1\nextends: base.yaml\n")
    with pytest.raises(PolicyError, match="leads outside it") as info:
        load_policy(repo / "veil.yaml")
    assert "SECRET-HASH" not in str(info.value)


def test_extends_inside_the_repository_still_works(repo: Path) -> None:
    (repo / "org.yaml").write_text("version: 1\nextends: strict\nretention:\n  keep_raw: false\n")
    (repo / "sub" / "veil.yaml").write_text("version: 1\nextends: ../org.yaml\n")
    assert load_policy(repo / "sub" / "veil.yaml")["retention"]["keep_raw"] is False


def test_a_manifest_symlink_out_of_the_repository_is_skipped_not_read(repo: Path, capsys) -> None:
    (repo / "manifest.csv").symlink_to(repo.parent / "secret.yaml")
    code, out = _check(repo, capsys, "--format", "json")
    assert "SECRET-HASH" not in out and "root:" not in out
    assert "symbolic link to outside the checked folder; not followed" in out
    assert code in (0, 1)


def test_a_huge_policy_is_refused_before_it_is_parsed(repo: Path) -> None:
    with open(repo / "veil.yaml", "w") as fh:
        fh.write("version: 1\n")
        fh.truncate(MAX_POLICY_BYTES + 1)
    with pytest.raises(PolicyError, match="expected a policy file of at most 1024 KiB"):
        load_policy(repo / "veil.yaml")


def test_a_found_policy_that_links_out_of_the_repository_is_refused_unread(repo: Path, capsys) -> None:
    (repo / "veil.yaml").symlink_to(repo.parent / "secret.yaml")
    code, out = _check(repo, capsys)
    assert code == 2 and "SECRET-HASH" not in out
    assert "symbolic link leading out of it; not read" in out


def test_a_linked_folder_leading_out_is_listed_as_skipped(repo: Path, capsys) -> None:
    outside = repo.parent / "outside"
    outside.mkdir()
    (outside / "manifest.csv").write_text(SECRET)
    (repo / "data").symlink_to(outside)
    code, out = _check(repo, capsys, "--format", "json")
    assert "SECRET-HASH" not in out and "data/" in out and "not followed" in out
