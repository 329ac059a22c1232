"""Every fenced command block of the README runs as written.

Each ```bash block runs with ``bash -e -o pipefail`` in a fresh folder of its own, as a new user
would run it: ``.venv`` there links to this test's environment (a checkout where the Start-here
command ran), its ``bin`` comes first on PATH, HOME and TMPDIR are inside the folder, and the
per-user model and kernel caches are shared so nothing is fetched or built again. A block makes
its own inputs (``python -m veilcv.examples ...``) and states an expected non-zero exit in the
command itself (``|| test $? = 1``). Commands are on lines of their own, never chained with
``&&``: under ``bash -e`` a failure before a ``&&`` would pass unnoticed.

A block that must not run here (it installs, runs for minutes, or serves until Ctrl-C) is
preceded by ``<!-- readme-test: skip (REASON) -->`` and a test below covers it another way.
Every other fence names a language that is not a command (yaml, json, toml, text).
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

from veilcv.cachedir import cache_root
from veilcv.core.detection import provision
from veilcv.core.detection.registry import load_registry, model_dir
from veilcv.core.metadata import check_file
from veilcv.errors import ModelError

REPO = Path(__file__).resolve().parent.parent
README = REPO / "README.md"
BIN = Path(sys.executable).parent  # the environment's bin folder: `veil`, `python`, `pre-commit`
VENV = BIN.parent

pytestmark = pytest.mark.slow

RUNNABLE = "bash"
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


BLOCKS = parse_readme(README.read_text(encoding="utf-8"))
RUN = [b for b in BLOCKS if b.lang == RUNNABLE and b.directive is None]


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


def models_or_skip(script: str) -> None:
    if re.search(r"veil (redact|ingest)\b", script) and models_problem():
        pytest.skip(f"the default models cannot be had here: {models_problem()}")


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
    models_or_skip(script)
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


@pytest.fixture(scope="module")
def run_block(tmp_path_factory: pytest.TempPathFactory):
    """Run a README block once per module (the serve test goes on where the store block ended)."""
    runs: dict[int, Ran] = {}

    def run(block: Block) -> Ran:
        if block.line not in runs:
            runs[block.line] = run_script(block.body, tmp_path_factory.mktemp(block.id))
        return runs[block.line]

    return run


# --- what each block leaves behind, beyond its exit status ------------------------------------


def json_file(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def no_metadata(path: Path) -> bool:
    return not check_file(path).families


def after_redact(ran: Ran) -> None:
    report = json_file(ran.work / "redacted" / "report.json")
    done = {Path(f["input"]).name: f for f in report["files"] if f["ok"]}
    assert {"astronaut.jpg", "coffee.jpg", "chelsea.jpg", "clip.mp4"} <= set(done), report["files"]
    assert done["clip.mp4"]["frames"] and done["astronaut.jpg"]["regions"]["face"] >= 1
    assert all(no_metadata(ran.work / "redacted" / n) for n in done if n.endswith(".jpg"))
    coverage = json_file(ran.work / "coverage.json")
    assert coverage["all"]["boxes"] == 1 and coverage["all"]["covered"] == 1  # the astronaut's face
    assert (ran.work / "pixelated" / "astronaut.jpg").is_file()


def after_meta(ran: Ran) -> None:
    assert "gps" in ran.output  # the check named what it found before the strip
    assert not no_metadata(ran.work / "photos" / "gps.jpg")  # -o leaves the input alone
    assert no_metadata(ran.work / "clean" / "gps.jpg")


def after_precommit(ran: Ran) -> None:
    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=ran.cwd, env=ran.env, capture_output=True, text=True, check=True
        ).stdout

    assert "Failed" in ran.output and "gps" in ran.output  # the hook refused the first commit
    assert git("rev-list", "--count", "HEAD").strip() == "1"  # ... so only the second one exists
    assert "photos/gps.jpg" in git("ls-files") and git("status", "--porcelain") == ""
    assert no_metadata(ran.cwd / "photos" / "gps.jpg")


def after_policy(ran: Ran) -> None:
    assert (ran.work / "veil.yaml").is_file() and (ran.work / ".veil-baseline.json").is_file()
    assert "VC201" in ran.output  # `veil policy explain` and `veil rules` listed the rules


def after_store(ran: Ran) -> None:
    listed = set(re.findall(r"redacted/[0-9a-f]{2}/[0-9a-f]{64}\.jpg", ran.output))
    assert len(listed) == 3, ran.output  # one object per photo, keys whole
    assert (ran.env.get("VEIL_MASTER_KEY_FILE") or "").startswith(ran.env["HOME"])


def after_report(ran: Ran) -> None:
    docs = {p.name for p in (ran.work / "docs" / "compliance").glob("*.md")}
    assert {"index.md", "fairness.md", "redaction-sop.md"} <= docs
    assert json_file(ran.work / "fairness.json")["summary"]["attributes"] == 1


#: a command the block runs -> what must hold after it (each must match exactly one block)
AFTER = {
    "veil redact photos/ clip.mp4": after_redact,
    "veil meta strip photos/ -o clean/": after_meta,
    "pre-commit install": after_precommit,
    "veil check . --write-baseline": after_policy,
    "veil ingest photos/": after_store,
    "veil report --policy": after_report,
}


def checks_for(block: Block) -> list:
    return [check for command, check in AFTER.items() if command in block.body]


# --- the tests ---------------------------------------------------------------------------------


@pytest.mark.parametrize("block", RUN, ids=[b.id for b in RUN])
def test_block_runs_as_written(block: Block, run_block) -> None:
    ran = run_block(block)
    for check in checks_for(block):
        check(ran)


def convention_problems(blocks: list[Block]) -> list[str]:
    """One line per fence that breaks the conventions in this module's docstring."""
    out = []
    for block in blocks:
        where = f"README.md:{block.line}"
        if block.lang not in NOT_COMMANDS | {RUNNABLE}:
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


def test_every_fence_is_a_command_or_says_it_is_not() -> None:
    assert RUN, "no runnable block found"
    assert convention_problems(BLOCKS) == []
    for command in AFTER:
        assert sum(command in b.body for b in RUN) == 1, f"no single runnable block runs {command!r}"


def test_conventions_catch_what_they_are_for() -> None:
    text = (
        "# A\n```sh\nls\n```\n"
        "<!-- readme-test: skip () -->\n```bash\nls\n```\n"
        "<!-- readme-test: skip (a reason) -->\n\n```yaml\nk: v\n```\n"
        "## B\n```bash\ncat > f <<'EOF'\na && b\nEOF\nmake && make test\n```\n"
        "<!-- readme-test: skip (slow) -->\n```bash\nmake bench && true\n```\n```\nplain\n```\n"
    )
    blocks = parse_readme(text)
    assert [(b.line, b.lang, b.section, b.skip_reason) for b in blocks] == [
        (2, "sh", "A", None), (6, "bash", "A", None), (11, "yaml", "A", "a reason"),
        (15, "bash", "B", None), (22, "bash", "B", "slow"), (25, "", "B", None),
    ]  # fmt: skip
    problems = convention_problems(blocks)
    assert [p.split(":")[1] for p in problems] == ["2", "6", "11", "15", "25"], problems
    assert "['make && make test']" in problems[3]  # the here-document's body is not a command


def skipped(claim: str) -> Block:
    found = [b for b in BLOCKS if b.skip_reason and claim in b.body]
    assert len(found) == 1, f"expected one skipped block with {claim!r}, got {len(found)}"
    return found[0]


#: what identifies each skipped block -> the test that covers it
SKIP_CLAIMS = {
    "python3 -m venv .venv": "test_start_here_commands",
    "benchmarks/": "test_benchmark_commands_collect",
    "veil store serve": "test_store_serve_line",
}


def test_every_skipped_block_is_covered_by_a_test() -> None:
    for block in (b for b in BLOCKS if b.skip_reason):
        claims = [test for claim, test in SKIP_CLAIMS.items() if claim in block.body]
        assert len(claims) == 1, f"README.md:{block.line}: a skipped block needs one test here that covers it"


START = "python3 -m venv .venv && .venv/bin/pip install -e '.[dev]' && "


def test_start_here_commands(tmp_path: Path) -> None:
    block = skipped("python3 -m venv .venv")
    assert block.section == "Start here"
    install_and_redact, test_command = command_lines(block)
    # CI runs exactly the README's test command, after the same install
    ci = [line.strip() for line in (REPO / ".ci" / "run").read_text().splitlines()]
    ci = [line for line in ci if line and not line.startswith("#")]
    assert ci[-1] == test_command == ".venv/bin/python -m pytest -q"
    assert "python3 -m venv .venv" in ci and any(
        re.fullmatch(r"\.venv/bin/python -m pip install( -q)? -e '\.\[dev\]'", line) for line in ci
    ), ci
    assert install_and_redact.startswith(START), install_and_redact
    redact = install_and_redact[len(START) :]
    assert redact.startswith(".venv/bin/veil redact ")
    ran = run_script(redact, tmp_path)  # the install's result is this environment
    out = ran.work / "redacted"
    assert no_metadata(out / "astronaut.png")
    report = json_file(out / "report.json")
    assert [Path(f["output"]).name for f in report["files"] if f["ok"]] == ["astronaut.png"]
    assert report["files"][0]["regions"]["face"] >= 1


def test_benchmark_commands_collect() -> None:
    block = skipped("benchmarks/")
    command = re.compile(r"\.venv/bin/python -m pytest (benchmarks/\w+\.py) --benchmark-enable -s\s+# \S.*")
    files = []
    for line in command_lines(block):
        match = command.fullmatch(line)
        assert match, f"README.md:{block.line}: expected '{command.pattern}', got {line!r}"
        files.append(match[1])
    prose = README.read_text(encoding="utf-8").split("## Development", 1)[1]
    named = sorted(set(re.findall(r"`((?:bench|calibrate)_\w+\.py)`", prose)))
    assert named, "the Development section names no other benchmark"
    missing = [f for f in files + [f"benchmarks/{n}" for n in named] if not (REPO / f).is_file()]
    assert not missing
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", *files,
         "--benchmark-enable", "-s"],
        cwd=REPO, capture_output=True, text=True, timeout=BLOCK_TIMEOUT_S,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert all(f"{f}::" in proc.stdout for f in files), proc.stdout


def free_port(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server does: TIME_WAIT is free
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def test_store_serve_line(run_block) -> None:
    """The serve line, run where the store block ended: it serves a signed GET, refuses an unsigned
    one, and stops cleanly on Ctrl-C (SIGINT), as its help says."""
    block = skipped("veil store serve")
    (line,) = command_lines(block)
    above = [b for b in RUN if b.line < block.line][-1]
    assert "veil ingest" in above.body, "the serve block goes on from the store block"
    port = int(re.search(r"--port (\d+)", line)[1])
    if not free_port(port):
        pytest.skip(f"port {port} is in use on this machine")
    ran = run_block(above)
    listed = subprocess.run(
        ["veil", "store", "ls", "redacted/", "--store", "./vault", "--json"],
        cwd=ran.cwd, env=ran.env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    key = json.loads(listed.stdout)[0]["key"]
    signed = subprocess.run(
        ["veil", "store", "sign", key, "--store", "./vault", "--ttl", "60"],
        cwd=ran.cwd, env=ran.env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    token = re.search(r"token=(\S+)", signed.stdout) or re.search(r"(\S+)\s*$", signed.stdout)
    server = subprocess.Popen(
        ["bash", "-c", line], cwd=ran.cwd, env=ran.env, start_new_session=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        url = f"http://127.0.0.1:{port}/o/{key}"
        deadline = time.monotonic() + 120  # a guard against a server that never comes up
        while server.poll() is None and time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
                break
            time.sleep(0.1)
        assert server.poll() is None, server.communicate()
        with urllib.request.urlopen(f"{url}?token={token[1]}", timeout=30) as resp:
            assert resp.status == 200 and resp.read(2) == b"\xff\xd8"  # the redacted JPEG
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(url, timeout=30)
        assert refused.value.code in (401, 403)
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGINT)
        out, err = server.communicate(timeout=60)
    assert server.returncode == 0 and "error" not in err, (server.returncode, out, err)
