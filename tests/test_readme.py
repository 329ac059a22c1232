"""Every fenced command block of the README runs as written (conventions: tests/readme_blocks.py).

Each runnable block runs once in a fresh folder and must exit 0; the checks below say what it must
leave behind. Each skipped block is covered here another way.
"""

from __future__ import annotations

import contextlib
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
from pathlib import Path

import pytest

from tests.readme_blocks import (
    BLOCK_TIMEOUT_S,
    README,
    REPO,
    RUNNABLE,
    Block,
    Ran,
    command_lines,
    convention_problems,
    parse_readme,
    run_script,
)
from veilcv.core.metadata import check_file

pytestmark = pytest.mark.slow

BLOCKS = parse_readme(README.read_text(encoding="utf-8"))
RUN = [b for b in BLOCKS if b.lang == RUNNABLE and b.directive is None]


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


def port_frees(port: int, wait_s: float = 75.0) -> bool:
    """Whether the server can bind ``port``, waiting out a TIME_WAIT (about 60 s) left by an
    earlier run: the server binds without SO_REUSEADDR, so this check does too."""
    deadline = time.monotonic() + wait_s
    while True:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
                return True
            except OSError:
                if time.monotonic() > deadline:
                    return False
        time.sleep(1)


def test_store_serve_line(run_block) -> None:
    """The serve line, run where the store block ended: it serves a signed GET, refuses an unsigned
    one, and stops cleanly on Ctrl-C (SIGINT), as its help says."""
    block = skipped("veil store serve")
    (line,) = command_lines(block)
    above = [b for b in RUN if b.line < block.line][-1]
    assert "veil ingest" in above.body, "the serve block goes on from the store block"
    port = int(re.search(r"--port (\d+)", line)[1])
    if not port_frees(port):
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
