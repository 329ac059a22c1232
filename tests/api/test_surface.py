"""The public Python API is exactly these names with exactly these signatures.

A change here is a decision about the surface users build on: add, rename or re-type a name
deliberately, update this file, docs/api.md (``python -m veilcv._api.apidoc docs/api.md``) and the
changelog of the release that carries it.
"""

from __future__ import annotations

import inspect
import pickle
import subprocess
import sys
from dataclasses import fields, is_dataclass

import pytest

import veilcv
import veilcv.errors
import veilcv.meta

#: name -> signature of the callable (functions) or of the constructor (classes); ``{v}`` is the version
SIGNATURES = {
    "Redactor": (
        "(what: 'str | Iterable[str]' = 'faces,plates', *, mode: 'str' = 'box', "
        "mask_scale: 'float' = 1.5, thresholds: 'Mapping[str, float] | None' = None, "
        "precision: 'str' = 'auto', profile: 'str | os.PathLike[str] | None' = None, "
        "small_faces: 'bool | None' = None, verify: 'bool' = True, strict: 'bool' = False, "
        "fix_residuals: 'int' = 0, quality: 'int' = 95, carry: 'int' = 5, "
        "keep_audio: 'bool' = False) -> 'None'"
    ),
    "RedactionResult": (
        "(pixels: 'np.ndarray', regions: 'tuple[Region, ...]', detections: 'tuple[Detection, ...]', "
        "residuals: 'tuple[Detection, ...]', timings_ms: 'Mapping[str, float]') -> None"
    ),
    "Detection": "(label: 'str', box: 'tuple[float, float, float, float]', score: 'float') -> None",
    "Region": ("(label: 'str', box: 'tuple[int, int, int, int]', fixed: 'bool' = False) -> None"),
    "FileResult": (
        "(input: 'str', output: 'str | None' = None, kind: 'str' = 'image', ok: 'bool' = False, "
        "error: 'str | None' = None, input_sha256: 'str | None' = None, "
        "output_sha256: 'str | None' = None, width: 'int | None' = None, "
        "height: 'int | None' = None, frames: 'int | None' = None, regions: 'dict[str, "
        "int]' = <factory>, residuals: 'list[dict[str, Any]]' = <factory>, "
        "detections: 'list[dict[str, Any]]' = <factory>, fixed: 'dict[str, int]' = <factory>, "
        "timings_ms: 'dict[str, float]' = <factory>, audio: 'str | None' = None, "
        "output_suffix: 'str | None' = None) -> None"
    ),
    "check": (
        "(root: 'str | os.PathLike[str]' = '.', *, "
        "policy: 'LoadedPolicy | str | os.PathLike[str] | None' = None, "
        "files: 'Iterable[str | os.PathLike[str]] | None' = None, "
        "only: 'Iterable[str] | None' = None, "
        "baseline: 'str | os.PathLike[str] | None' = None) -> 'Report'"
    ),
    "load_policy": (
        "(policy: 'str | os.PathLike[str] | None' = None, *, "
        "root: 'str | os.PathLike[str]' = '.') -> 'LoadedPolicy'"
    ),
    "LoadedPolicy": (
        "(data: 'dict[str, Any]', chain: 'tuple[str, ...]', sources: 'dict[JsonPath, tuple[str, "
        "int]]' = <factory>, path: 'Path | None' = None) -> None"
    ),
    "Report": (
        "(root: 'str', policy: 'tuple[str, ...]', rules: 'tuple[RuleMeta, ...]', "
        "findings: 'tuple[Finding, ...]', suppressed: 'tuple[SuppressedFinding, ...]', "
        "baselined: 'tuple[Finding, ...]', skipped: 'tuple[tuple[str, str], ...]', "
        "files_checked: 'int', tool_version: 'str' = '{v}') -> None"
    ),
    "Finding": (
        "(rule_id: 'str', message: 'str', file: 'str', line: 'int' = 1, column: 'int' = 1, "
        "resource: 'str | None' = None, severity: 'Severity | None' = None, "
        "category: 'str | None' = None, extra: 'dict[str, str]' = <factory>) -> None"
    ),
}

#: public methods of the public classes, with their signatures
METHODS = {
    "Redactor": {
        "load": ("(self, threads: 'int' = 1) -> 'None'"),
        "describe": ("(self) -> 'dict[str, Any]'"),
        "redact": (
            "(self, image: 'np.ndarray', *, channels: \"Literal['bgr', 'rgb']\" = 'bgr') -> 'RedactionResult'"
        ),
        "redact_bytes": ("(self, data: 'bytes', suffix: 'str') -> 'tuple[bytes, FileResult]'"),
        "redact_files": (
            "(self, pairs: 'Iterable[tuple[str | os.PathLike[str], str | os.PathLike[str]]]', *, "
            "threads: 'int' = 2) -> 'Iterator[FileResult]'"
        ),
        "redact_file": (
            "(self, src: 'str | os.PathLike[str]', dst: 'str | os.PathLike[str]') -> 'FileResult'"
        ),
    },
    "FileResult": {"to_dict": "(self) -> 'dict[str, Any]'"},
    "Report": {"rule": "(self, rule_id: 'str') -> 'RuleMeta'", "counts": "(self) -> 'dict[str, int]'"},
    "Finding": {"fingerprint": "(self) -> 'str'"},
    "LoadedPolicy": {"source": "(self, *path: 'str | int') -> 'tuple[str, int]'"},
}

META = {
    "check": (
        "(source: 'str | os.PathLike[str] | bytes', *, "
        "allow: 'str | Iterable[str | Family] | None' = None) -> 'MetaReport'"
    ),
    "strip": (
        "(src: 'str | os.PathLike[str]', dst: 'str | os.PathLike[str]', *, "
        "allow: 'str | Iterable[str | Family] | None' = None) -> 'StripResult'"
    ),
    "strip_bytes": ("(data: 'bytes', *, allow: 'str | Iterable[str | Family] | None' = None) -> 'bytes'"),
}
META_TYPES = {"Family", "MetaFinding", "MetaReport", "MetadataError", "StripResult"}


def test_the_public_names_are_exactly_these() -> None:
    assert set(veilcv.__all__) == {*SIGNATURES, "Severity", "VeilcvError", "meta", "errors", "__version__"}
    assert set(veilcv.meta.__all__) == set(META) | META_TYPES
    # veilcv.errors is public whole: every class there is a documented VeilcvError the API may raise
    classes = [v for n, v in vars(veilcv.errors).items() if isinstance(v, type) and n[0] != "_"]
    assert {"InputError", "ValidationError", "ModelError", "DetectionError", "RedactionError"} <= {
        c.__name__ for c in classes
    }
    assert all(issubclass(c, veilcv.VeilcvError) and c.__doc__ for c in classes)


@pytest.mark.parametrize("name", sorted(SIGNATURES))
def test_signature(name: str) -> None:
    assert str(inspect.signature(getattr(veilcv, name))) == SIGNATURES[name].format(v=veilcv.__version__)


@pytest.mark.parametrize("name", sorted(METHODS))
def test_methods(name: str) -> None:
    cls = getattr(veilcv, name)
    public = {m: str(inspect.signature(f)) for m, f in vars(cls).items() if m[0] != "_" and callable(f)}
    assert public == METHODS[name]


@pytest.mark.parametrize("name", sorted(META))
def test_meta_signature(name: str) -> None:
    assert str(inspect.signature(getattr(veilcv.meta, name))) == META[name]


def test_severity_levels() -> None:
    assert [s.value for s in veilcv.Severity] == ["low", "medium", "high", "critical"]


def test_every_public_name_is_documented() -> None:
    for name in [*SIGNATURES, "Severity", "VeilcvError"]:
        assert inspect.getdoc(getattr(veilcv, name)), name
    for name, methods in METHODS.items():
        if name == "Redactor":
            for method in methods:
                doc = inspect.getdoc(getattr(veilcv.Redactor, method)) or ""
                assert "Raises" in doc or "Returns" in doc, method
    for name in veilcv.meta.__all__:
        assert inspect.getdoc(getattr(veilcv.meta, name)), name


def test_result_types_are_frozen_and_shown_under_the_public_name() -> None:
    for cls in (veilcv.Detection, veilcv.Region, veilcv.RedactionResult):
        assert is_dataclass(cls) and cls.__dataclass_params__.frozen  # type: ignore[attr-defined]
        assert repr(cls) == f"<class 'veilcv.{cls.__name__}'>"
    assert [f.name for f in fields(veilcv.RedactionResult)] == [
        "pixels", "regions", "detections", "residuals", "timings_ms",
    ]  # fmt: skip


def test_results_pickle_through_the_public_names() -> None:
    # Ray, multiprocessing and joblib send results to other processes by pickling them.
    import numpy as np

    res = veilcv.RedactionResult(
        np.zeros((2, 2, 3), np.uint8),
        (veilcv.Region("face", (0, 0, 1, 1)),),
        (veilcv.Detection("face", (0.0, 0.0, 1.0, 1.0), 0.9),),
        (),
        {"detect": 1.0},
    )
    back = pickle.loads(pickle.dumps(res))
    assert back.regions == res.regions and back.detections == res.detections
    assert np.array_equal(back.pixels, res.pixels)


def test_unknown_attribute_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'Redacter'"):
        veilcv.Redacter  # noqa: B018
    assert {"Redactor", "check", "meta"} <= set(dir(veilcv))


def test_import_veilcv_loads_no_heavy_library() -> None:
    # A CLI start, a pre-commit hook and `import veilcv` in a notebook must not pay for numpy,
    # OpenCV, OpenVINO or Numba; the names load them on first use.
    code = (
        "import sys, veilcv\n"
        "heavy = {'numpy', 'cv2', 'openvino', 'numba', 'PIL', 'yaml', 'jsonschema'} & set(sys.modules)\n"
        "print(sorted(heavy))\n"
        "veilcv.check, veilcv.load_policy, veilcv.Finding\n"
        "print(sorted({'numpy', 'cv2', 'openvino', 'numba'} & set(sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.splitlines() == ["[]", "[]"]


def test_only_the_cli_builds_on_the_api() -> None:
    # The API is the top library layer: core, linter, policies and the rest never import it (that
    # would be a cycle through the pipeline); the CLI imports it so the two cannot drift.
    import ast
    from pathlib import Path

    package = Path(veilcv.__file__).resolve().parent
    found = []
    for path in sorted(package.rglob("*.py")):
        rel = path.relative_to(package)
        if rel.parts[0] in ("_api", "cli") or rel.name in ("__init__.py", "meta.py") and len(rel.parts) == 1:
            continue
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            names += [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if any(n == "veilcv.meta" or n.startswith("veilcv._api") for n in names):
                found.append(f"{rel}:{node.lineno}")
    assert found == []
