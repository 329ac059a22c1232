from __future__ import annotations

import subprocess
import sys

from veilcv import __version__
from veilcv.cli.main import main


def test_version(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"veil {__version__}"


def test_unknown_command_is_usage_error(capsys):
    assert main(["no-such-command"]) == 2
    assert "No such command" in capsys.readouterr().err


def test_console_script_runs():
    out = subprocess.run([sys.executable, "-m", "veilcv", "--help"], capture_output=True, text=True)
    assert out.returncode == 0
    assert "Usage" in out.stdout
