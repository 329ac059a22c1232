"""`veil redact` over a folder with a subfolder it cannot list: refused and named, never passed over."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from veilcv.cli import redact_plan
from veilcv.cli.redact_plan import plan_inputs


def test_a_folder_that_cannot_be_listed_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    src = tmp_path / "in"
    (src / "locked").mkdir(parents=True)
    (src / "locked" / "x.jpg").write_bytes(b"\xff\xd8")
    (src / "a.jpg").write_bytes(b"\xff\xd8")
    real = os.scandir

    def scandir(path: os.PathLike[str] | str) -> object:
        if Path(path).name == "locked":  # as a folder without read permission (root can read all)
            raise PermissionError(13, "Permission denied", str(path))
        return real(path)

    monkeypatch.setattr(redact_plan.os, "scandir", scandir)
    plan = plan_inputs([src], tmp_path / "out", in_place=False)
    assert [s for s, _ in plan.pairs] == [src / "a.jpg"]
    assert plan.errors == [
        f"{src / 'locked'}: cannot list this folder (Permission denied); none of its files was redacted"
    ]
