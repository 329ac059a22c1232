"""Fixtures for the linter tests: a small project tree with known findings."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from veilcv.policies.loader import LoadedPolicy, load_policy_source

MANIFEST = """\
filename,source,license,attribution
a.png,https://example.org/a,CC0-1.0,
b.png,,CC0-1.0,
c.png,https://example.org/c,CC-BY-NC-4.0,Jo Doe
"""

BUCKET_TF = """\
resource "aws_s3_bucket" "frames" {
  bucket = "acme-frames"
}
"""


def png(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (4, 4), (9, 9, 9)).save(path, format="PNG")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """data/manifest.csv (VC105 at line 3, VC103 at line 4), three listed images, one bucket."""
    root = tmp_path / "project"
    (root / "data").mkdir(parents=True)
    (root / "data" / "manifest.csv").write_text(MANIFEST)
    for name in ("a.png", "b.png", "c.png"):
        png(root / "data" / name)
    (root / "infra").mkdir()
    (root / "infra" / "main.tf").write_text(BUCKET_TF)
    return root


def policy_file(folder: Path, text: str) -> LoadedPolicy:
    path = folder / "policy.yaml"
    path.write_text(text)
    return load_policy_source(path)


@pytest.fixture
def default_policy() -> LoadedPolicy:
    return load_policy_source(pack="default")
