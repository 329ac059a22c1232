"""The kernels compiled ahead of time: a native module built once per environment and CPU, then loaded
in under a millisecond without importing Numba (why: ``_backend``).

Where it lives: ``$VEILCV_CACHE_DIR/kernels`` when set, else ``kernels`` in the per-user cache folder;
one subfolder per build key. The key is a hash of everything the machine code depends on: the kernel
sources, the installed Numba and llvmlite, the Python ABI, and the CPU (the code is compiled for the
host CPU, like Numba's JIT, so another CPU gets its own build). Changing any of them means a new key
and a new build; nothing is ever loaded across keys.

How it is built (:func:`ensure`): ``python -m veilcv.core.kernels._aot_build`` in a child process
compiles the same Numba functions the JIT runs, with Numba's ahead-of-time compiler and the system's
C compiler, into a temporary folder beside the final one; the child checks the module's results
before it exits, and the folder is then renamed into place (atomic: a reader sees all of it or
nothing; of two processes building at once, one rename wins and the other discards its own). A
failed build (no C compiler, a Numba without ``numba.pycc``, a failed check) leaves a one-line
``<key>.failed`` note and the kernels keep using the JIT: the build is not retried until the key
changes.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.machinery
import importlib.util
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from types import ModuleType

from veilcv import cachedir, setup_steps

#: The native module's name (its file is this name plus the interpreter's extension suffix).
MODULE = "veilcv_kernels_aot"
#: Kernel sources whose text goes into the build key (besides the builder itself).
SOURCES = ("_fill_jit.py", "_mosaic_jit.py", "_nms_jit.py", "_claim.py", "_validate.py", "_aot_build.py")
#: Seconds a build may take before it counts as failed.
BUILD_TIMEOUT = 600
#: Where the system lists this process's open files as paths that reopen the same file (Linux).
_PROC_FD = "/proc/self/fd"
#: Descriptors of the modules loaded through ``_PROC_FD``, open for the life of the process.
_held: list[int] = []

_HERE = Path(__file__).resolve().parent
_key: str | None = None


def cache_root() -> Path:
    """The folder holding the builds: ``kernels`` in veilcv's cache folder (``veilcv.cachedir``)."""
    return cachedir.cache_root() / "kernels"


def cpu_id() -> str:
    """What identifies this CPU's instruction set: the model name and feature flags where the system
    lists them (Linux), else the processor string. Empty when unknown (the build then targets the
    architecture's generic CPU)."""
    try:
        text = Path("/proc/cpuinfo").read_text(errors="replace")
    except OSError:
        return platform.processor()
    wanted = {}
    for line in text.splitlines():
        name, _, value = line.partition(":")
        name = name.strip()
        if name in ("model name", "flags", "Features", "CPU part") and name not in wanted:
            wanted[name] = " ".join(value.split())
        if not line.strip() and wanted:
            break  # the first processor is enough: the build key is per machine, not per core
    return "; ".join(f"{k}={v}" for k, v in sorted(wanted.items()))


def _package_stamp(name: str) -> str:
    """Where a package is installed and its ``__init__``'s size and time, without importing it."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.origin:
        return f"{name}: missing"
    st = os.stat(spec.origin)
    return f"{name}: {spec.origin} {st.st_size} {st.st_mtime_ns}"


def build_key() -> str:
    """The hash naming this environment's build (computed once per process)."""
    global _key
    if _key is None:
        h = hashlib.sha256()
        for name in SOURCES:
            h.update(name.encode() + b"\0" + (_HERE / name).read_bytes() + b"\0")
        for part in (
            _package_stamp("numba"),
            _package_stamp("llvmlite"),
            _package_stamp("numpy"),
            sys.version,
            importlib.machinery.EXTENSION_SUFFIXES[0],
            platform.machine(),
            cpu_id(),
        ):
            h.update(part.encode() + b"\0")
        _key = h.hexdigest()[:24]
    return _key


def module_path(root: Path | None = None) -> Path:
    """Where this environment's built module is (or would be)."""
    root = cache_root() if root is None else root
    return root / build_key() / (MODULE + importlib.machinery.EXTENSION_SUFFIXES[0])


def failure_path(root: Path | None = None) -> Path:
    root = cache_root() if root is None else root
    return root / f"{build_key()}.failed"


def load(root: Path | None = None) -> ModuleType | None:
    """The built module, or None when there is none (or it cannot be loaded).

    Native code runs as the user, so it is loaded only from ``root/<key>/<module>``, where ``root``,
    the key's folder and the file are real (not links), owned by the user and writable by no one
    else, each opened relative to the one above (``cachedir.open_trusted``). On Linux the module is
    then loaded through ``/proc/self/fd/<n>``, the very file checked: whoever can write a folder
    above ``root`` may swap ``root`` or ``<key>`` for a link after the checks, but it changes nothing.
    Where there is no ``/proc/self/fd`` (macOS) the module has to be loaded by its path, which the
    loader resolves again: it is loaded only when no one but the user and the superuser can change
    any folder on that path (``cachedir.private_ancestors``; a sticky folder like ``/tmp`` passes),
    and only when the path still leads to the file checked. What is left there: access control
    lists, which the mode bits do not show, and a race against the user's own processes. Where files
    have no owner (Windows) only the per-user cache directory is trusted (``cachedir.trusted_file``).
    """
    root = cache_root() if root is None else root
    path = module_path(root)
    if not cachedir.files_have_owners():
        return _exec(str(path)) if cachedir.trusted_file(path) else None
    fd = cachedir.open_trusted(root, path.parent.name, path.name)
    if fd is None:
        return None
    try:
        checked = os.fstat(fd)
        by_fd = f"{_PROC_FD}/{fd}"
        with contextlib.suppress(OSError):
            if os.path.samestat(os.stat(by_fd), checked):
                mod = _exec(by_fd, path)
                if mod is not None:
                    # The interpreter keeps loaded extension modules by path: a closed number would be
                    # reused by the next file opened, whose load would then get this module instead.
                    _held.append(fd)
                return mod
        if not cachedir.private_ancestors(root):
            return None
        real = os.path.realpath(path)
        try:
            if not os.path.samestat(os.stat(real), checked):
                return None
        except OSError:
            return None
        return _exec(real, path)
    finally:
        if fd not in _held:
            os.close(fd)


def _exec(location: str, path: Path | None = None) -> ModuleType | None:
    """Load the native module from ``location`` (its init function is found by ``MODULE``, not by
    the file's name); None when it does not load or lacks a kernel."""
    from veilcv.core.kernels._backend import NAMES

    try:
        loader = importlib.machinery.ExtensionFileLoader(MODULE, location)
        spec = importlib.util.spec_from_file_location(MODULE, location, loader=loader)
        if spec is None:
            return None
        mod = importlib.util.module_from_spec(spec)
        loader.exec_module(mod)
    except (ImportError, OSError):
        return None
    if not all(callable(getattr(mod, name, None)) for name in NAMES):
        return None
    if path is not None:
        mod.__file__ = str(path)  # where it lives, for messages
    return mod


def ensure(root: Path | None = None) -> ModuleType | None:
    """The built module, building it first when it is missing and no earlier build failed.

    Returns None (the caller uses the JIT) when the build fails; the reason is in ``<key>.failed``.
    """
    root = cache_root() if root is None else root
    with contextlib.suppress(OSError):
        cachedir.prepare_folder(root)
    if not cachedir.trusted_folder(root):  # others could replace a build there: the JIT serves
        return None
    mod = load(root)
    if mod is not None or failure_path(root).exists():
        return mod
    if module_path(root).exists():  # there but unloadable (damaged): replace it
        shutil.rmtree(module_path(root).parent, ignore_errors=True)
    with setup_steps.step("kernel_build", "building redaction kernels (once per environment)"):
        build(root)
    mod = load(root)
    if mod is None and not failure_path(root).exists():
        _write_failure(root, "the built module does not load")
    return mod


def build(root: Path | None = None) -> bool:
    """Build this environment's module into ``root``; True when it is in place afterwards."""
    root = cache_root() if root is None else root
    final = module_path(root).parent
    try:
        cachedir.prepare_folder(root)
        tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}-", dir=root))
    except OSError:  # an unwritable cache folder: the JIT serves, as without a compiler
        return False
    target = "host" if cpu_id() else ""
    cmd = [sys.executable, "-m", "veilcv.core.kernels._aot_build", str(tmp), build_key(), target]
    # The child must compile this process's veilcv, not one that its working folder would shadow:
    # it starts in the empty build folder with this veilcv's folder first on its path, and refuses
    # to build when its own key differs from ours.
    package_root = str(_HERE.parents[2])
    path = os.pathsep.join(p for p in (package_root, os.environ.get("PYTHONPATH", "")) if p)
    env = dict(os.environ, VEILCV_KERNELS="jit", PYTHONWARNINGS="ignore", PYTHONPATH=path)
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=BUILD_TIMEOUT, env=env, cwd=tmp)
        ok = proc.returncode == 0
        why = "" if ok else _last_line(proc.stderr) or f"exit status {proc.returncode}"
    except (OSError, subprocess.SubprocessError) as exc:
        ok, why = False, f"{type(exc).__name__}: {exc}"
    try:
        if ok:
            for built in tmp.rglob("*"):  # whatever the umask: writable by this user only (load checks)
                with contextlib.suppress(OSError):
                    if not built.is_symlink():
                        built.chmod(built.lstat().st_mode & 0o755)
            try:
                os.replace(tmp, final)
            except OSError as exc:  # another process put its build there first: keep that one
                if not final.is_dir():
                    _write_failure(root, f"cannot move the build into place: {exc}")
                    return False
            return True
        _write_failure(root, why)
        return False
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1][:300] if lines else ""


def _write_failure(root: Path, why: str) -> None:
    path = failure_path(root)
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    try:
        tmp.write_text(f"building the ahead-of-time kernels failed: {why}\n")
        os.replace(tmp, path)
    except OSError:  # nowhere to write it: the next run tries the build again
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
