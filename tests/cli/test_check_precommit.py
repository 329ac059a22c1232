"""The veil-check hooks under real pre-commit, in a temporary git repository.

The config mirrors our `.pre-commit-hooks.yaml` entries as `repo: local` / `language: system`
hooks, so pre-commit builds no environment (and needs no network); `veil` comes from this venv.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from PIL import Image

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
HOOK_IDS = ("veil-check", "veil-check-manifests", "veil-check-storage")

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")

GOOD = "filename,source,license\na.png,https://example.org/a,CC0-1.0\n"
BAD = "filename,source,license\na.png,,CC0-1.0\n"


def _config() -> str:
    offered = {h["id"]: h for h in yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())}
    hooks = []
    for hook_id in HOOK_IDS:
        hook = {k: v for k, v in offered[hook_id].items() if k != "description"}
        hook["language"] = "system"
        hooks.append(hook)
    return yaml.safe_dump({"repos": [{"repo": "local", "hooks": hooks}]}, sort_keys=False)


def _run(cwd: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


@pytest.fixture
def repo(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    root = tmp_path / "repo"
    root.mkdir()
    env = {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"),
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.org",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.org",
    }
    _run(root, "git", "init", "-q", "-b", "main", env=env)
    (root / ".pre-commit-config.yaml").write_text(_config())
    (root / "veil.yaml").write_text("version: 1\nextends: default\n")
    (root / "data").mkdir()
    (root / "data" / "manifest.csv").write_text(GOOD)
    Image.new("RGB", (4, 4)).save(root / "data" / "a.png")
    _run(root, "git", "add", "-A", env=env)
    return root, env


def test_hooks_block_a_bad_manifest_and_pass_a_good_one(repo: tuple[Path, dict[str, str]]) -> None:
    root, env = repo
    ok = _run(root, str(BIN / "pre-commit"), "run", "--all-files", env=env)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    (root / "data" / "manifest.csv").write_text(BAD)
    _run(root, "git", "add", "-A", env=env)
    bad = _run(root, str(BIN / "pre-commit"), "run", "--files", "data/manifest.csv", env=env)
    assert bad.returncode == 1
    out = bad.stdout
    assert "veil check (policy as code, whole repository)" in out and "Failed" in out
    assert "data/manifest.csv:2:1: VC105 medium missing-source" in out
    assert "veil check manifests" in out


def test_commit_is_refused(repo: tuple[Path, dict[str, str]]) -> None:
    root, env = repo
    assert _run(root, str(BIN / "pre-commit"), "install", env=env).returncode == 0
    (root / "data" / "manifest.csv").write_text(BAD)
    _run(root, "git", "add", "-A", env=env)
    commit = _run(root, "git", "commit", "-q", "-m", "add data", env=env)
    assert commit.returncode != 0
    assert "VC105" in commit.stdout + commit.stderr
    assert _run(root, "git", "rev-parse", "HEAD", env=env).returncode != 0  # nothing was committed
