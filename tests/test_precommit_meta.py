"""The metadata pre-commit hooks, for real: a temporary git repo, `pre-commit run` and `git commit`.

The temporary repo's config mirrors this repository's `.pre-commit-hooks.yaml` entries as
`repo: local` / `language: system` hooks, so pre-commit builds no environment from the network.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.core.metadata import builders as b
from veilcv.cli.hooks import main as hooks_main
from veilcv.core.metadata import check_file

REPO = Path(__file__).resolve().parent.parent
HOOK_IDS = ("veil-meta-check", "veil-meta-strip")

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def published_hooks() -> dict[str, dict]:
    hooks = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())
    return {h["id"]: h for h in hooks}


def local_config() -> str:
    hooks = []
    for hook_id in HOOK_IDS:
        hook = dict(published_hooks()[hook_id])
        assert hook["entry"].startswith("python -m ")
        hook["entry"] = f"{sys.executable} {hook['entry'][len('python ') :]}"
        hook["language"] = "system"
        hooks.append(hook)
    return yaml.safe_dump({"repos": [{"repo": "local", "hooks": hooks}]})


@pytest.fixture
def git_repo(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    repo = tmp_path / "repo"
    repo.mkdir()
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "pc-cache"), "GIT_CONFIG_NOSYSTEM": "1",
           "HOME": str(tmp_path), "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.invalid"}  # fmt: skip
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=repo, check=True, env=env)
    (repo / ".pre-commit-config.yaml").write_text(local_config())
    (repo / "gps.jpg").write_bytes(b.full_jpeg())
    (repo / "clean.png").write_bytes(b.encode("PNG"))
    (repo / "README.txt").write_text("hello\n")
    subprocess.run(["git", "add", "."], cwd=repo, check=True, env=env)
    return repo, env


def pre_commit(repo: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", *args], cwd=repo, env=env, capture_output=True, text=True
    )


def test_check_hook_fails_on_gps_photo(git_repo: tuple[Path, dict[str, str]]) -> None:
    repo, env = git_repo
    run = pre_commit(repo, env, "run", "veil-meta-check", "--files", "gps.jpg", "clean.png", "README.txt")
    assert run.returncode == 1, run.stdout + run.stderr
    assert "gps.jpg: gps: GPS IFD with coordinates" in run.stdout
    assert "clean.png" not in run.stdout.replace("veil meta check", "") and "README" not in run.stdout
    assert pre_commit(repo, env, "run", "veil-meta-check", "--files", "clean.png").returncode == 0


def test_check_hook_blocks_the_commit(git_repo: tuple[Path, dict[str, str]]) -> None:
    repo, env = git_repo
    installed = pre_commit(repo, env, "install")
    assert installed.returncode == 0, installed.stderr
    # keep only the check hook for the commit, as a user who never wants to rewrite files would
    config = yaml.safe_load((repo / ".pre-commit-config.yaml").read_text())
    config["repos"][0]["hooks"] = [h for h in config["repos"][0]["hooks"] if h["id"] == "veil-meta-check"]
    (repo / ".pre-commit-config.yaml").write_text(yaml.safe_dump(config))
    subprocess.run(["git", "add", "."], cwd=repo, check=True, env=env)
    commit = subprocess.run(
        ["git", "commit", "-m", "add photo"], cwd=repo, env=env, capture_output=True, text=True
    )
    assert commit.returncode != 0
    assert "gps.jpg: gps" in commit.stdout + commit.stderr
    log = subprocess.run(["git", "log", "--oneline"], cwd=repo, env=env, capture_output=True, text=True)
    assert log.stdout.strip() == ""  # nothing was committed


def test_strip_hook_rewrites_and_exits_1(git_repo: tuple[Path, dict[str, str]]) -> None:
    repo, env = git_repo
    clean_before = (repo / "clean.png").read_bytes()
    run = pre_commit(repo, env, "run", "veil-meta-strip", "--files", "gps.jpg", "clean.png")
    assert run.returncode == 1, run.stdout + run.stderr
    assert "Stripped metadata from gps.jpg" in run.stdout and "files were modified by this hook" in run.stdout
    assert check_file(repo / "gps.jpg").clean
    assert (repo / "clean.png").read_bytes() == clean_before
    again = pre_commit(repo, env, "run", "veil-meta-strip", "--files", "gps.jpg", "clean.png")
    assert again.returncode == 0, again.stdout


def test_repo_config_mirrors_the_published_hook() -> None:
    config = yaml.safe_load((REPO / ".pre-commit-config.yaml").read_text())
    local = {h["id"]: h for r in config["repos"] if r["repo"] == "local" for h in r["hooks"]}
    published = published_hooks()
    assert {"ruff", "ruff-format", "veil-meta-check"} <= set(local)
    for key in ("entry", "types_or"):
        assert local["veil-meta-check"][key] == published["veil-meta-check"][key]
    for hook_id in HOOK_IDS:
        assert published[hook_id]["language"] == "python"


def test_hook_entry_points(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    photo = tmp_path / "p.webp"
    photo.write_bytes(b.full_webp())
    assert hooks_main(["meta-check", str(photo)]) == 1
    assert hooks_main(["meta-check", "--allow", "nope", str(photo)]) == 2
    assert hooks_main(["meta-strip", str(photo)]) == 1
    assert hooks_main(["meta-strip", str(photo)]) == 0
    assert hooks_main(["meta-check", str(photo)]) == 0
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe1\xff\xff")
    assert hooks_main(["meta-strip", str(bad)]) == 2
    assert hooks_main(["no-such-hook"]) == 2
    assert "Traceback" not in capsys.readouterr().err
