"""What `veil check` (every pre-commit hook run) loads: no NumPy on the storage path, and the JSON
Schema machinery only when the policy chain has changed since it last validated cleanly."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

RUN = (
    "import sys\n"
    "from veilcv.cli.main import main\n"
    "rc = main(sys.argv[1:])\n"
    "print(sorted({'numpy', 'jsonschema', 'numba', 'cv2', 'PIL'} & set(sys.modules)), rc)\n"
)
TF = 'resource "aws_s3_bucket" "frames" {\n  bucket = "acme-frames"\n}\n'


def _check(root: Path, cache: Path, *args: str) -> tuple[str, str, str]:
    env = {**os.environ, "VEILCV_CACHE_DIR": str(cache)}
    env.pop("VEILCV_NO_CACHE", None)
    got = subprocess.run(
        [sys.executable, "-c", RUN, "check", *args],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    loaded, _, rc = got.stdout.strip().splitlines()[-1].rpartition(" ")
    return loaded, rc, got.stderr


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "infra").mkdir(parents=True)
    (root / "infra" / "main.tf").write_text(TF, encoding="utf-8")
    return root


def test_the_storage_hook_loads_no_heavy_library(tree: Path, tmp_path: Path) -> None:
    loaded, rc, _ = _check(tree, tmp_path / "cache", "--only", "storage", "infra/main.tf")
    assert (loaded, rc) == ("[]", "1")  # it ran and found the bare bucket's problems
    loaded, rc, _ = _check(tree, tmp_path / "cache", ".")
    assert (loaded, rc) == ("[]", "1")


def test_an_unchanged_policy_is_validated_once_and_a_broken_one_every_time(
    tree: Path, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    policy = tree / "veil.yaml"
    policy.write_text("version: 1\nextends: strict\nstorage:\n  lifecycle: any\n", encoding="utf-8")
    assert _check(tree, cache, ".")[:2] == ("['jsonschema']", "1")  # validated
    assert _check(tree, cache, ".")[:2] == ("[]", "1")  # same chain: not again
    policy.write_text("version: 1\nextends: strict\nstorage:\n  lifecycle: 3\n", encoding="utf-8")
    for _ in range(2):  # a policy with problems is never recorded as valid
        loaded, rc, err = _check(tree, cache, ".")
        assert rc == "2" and "$.storage.lifecycle" in err
    policy.write_text("version: 1\nextends: strict\nstorage:\n  lifecycle: any\n", encoding="utf-8")
    assert _check(tree, cache, ".")[:2] == ("[]", "1")  # the first text again: recorded
    (tree / "strict.yaml").write_text("version: 1\nextends: strict\n", encoding="utf-8")
    policy.write_text("version: 1\nextends: ./strict.yaml\n", encoding="utf-8")
    assert _check(tree, cache, ".")[:2] == ("['jsonschema']", "1")
    (tree / "strict.yaml").write_text(
        "version: 1\nextends: strict\nstorage:\n  tls: maybe\n", encoding="utf-8"
    )
    loaded, rc, err = _check(tree, cache, ".")  # a file the chain extends changed: validated again
    assert rc == "2" and "strict.yaml" in err and "$.storage.tls" in err


def test_report_suffixes_are_no_data_format() -> None:
    from veilcv.cli.check import _DATA_SUFFIXES, _REPORT_SUFFIXES
    from veilcv.core.metadata.api import METADATA_SUFFIXES

    assert _REPORT_SUFFIXES.isdisjoint(_DATA_SUFFIXES | METADATA_SUFFIXES)


def test_a_report_is_rewritten_but_an_image_is_never_overwritten(tree: Path, tmp_path: Path) -> None:
    (tree / "report.json").write_text("{}", encoding="utf-8")
    loaded, rc, _ = _check(tree, tmp_path / "cache", ".", "-f", "json", "-o", "report.json")
    assert (loaded, rc) == ("[]", "1") and (tree / "report.json").read_text() != "{}"
    (tree / "photo.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    loaded, rc, err = _check(tree, tmp_path / "cache", ".", "-o", "photo.png")
    assert rc == "2" and "photo.png" in err and (tree / "photo.png").read_bytes() == b"\x89PNG\r\n\x1a\n"
