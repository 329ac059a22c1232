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


def test_help_loads_no_heavy_library():
    # `veil --help` and argument errors must be instant: numpy, OpenCV, OpenVINO, Numba and Pillow
    # load only when a command runs.
    code = (
        "import sys, veilcv.cli.main as m\n"
        "heavy = {'numpy', 'cv2', 'openvino', 'numba', 'PIL'} & set(sys.modules)\n"
        "print(sorted(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def _commands(group, prefix=()):
    for name, cmd in sorted(group.commands.items()):
        yield (*prefix, name), cmd
        if hasattr(cmd, "commands"):  # a group (typer vendors click: no direct import)
            yield from _commands(cmd, (*prefix, name))


def test_every_command_has_help_with_an_example():
    import typer

    from veilcv.cli.main import app

    root = typer.main.get_command(app)
    missing = [" ".join(path) for path, cmd in _commands(root) if "Example:" not in (cmd.help or "")]
    assert missing == []
    assert len(list(_commands(root))) > 30


def test_veil_process_never_loads_openvinos_converter_or_telemetry():
    """The `veil` entry point keeps OpenVINO's converter and telemetry client out; inference works."""
    code = (
        "import sys\n"
        "from veilcv.cli.main import without_model_converter\n"
        "without_model_converter()\n"
        "import openvino as ov, numpy as np\n"
        "from openvino import opset13 as ops\n"
        "x = ops.parameter([1, 3], np.float32)\n"
        "m = ov.Model([ops.relu(x)], [x])\n"
        "out = ov.Core().compile_model(m, 'CPU')(np.array([[-1, 0, 2]], np.float32))[0]\n"
        "loaded = [k for k, v in sys.modules.items() if v is not None]\n"
        "print(out.tolist(), sorted(k for k in loaded if 'telemetry' in k or 'ovc' in k))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "[[0.0, 0.0, 2.0]] []"


def test_library_users_keep_the_whole_openvino_package():
    code = "import veilcv.core.detection, openvino\nprint(hasattr(openvino, 'convert_model'))\n"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "True"
