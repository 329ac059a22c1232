"""Object-store URLs (``s3://``, ``gs://``, ``memory://``, ``file://``...) for `veil redact`, through fsspec.

A location is either a local :class:`~pathlib.Path` or a URL string. URLs need ``fsspec`` (in the
``ray`` extra) and the protocol's own file system package (``s3fs``, ``gcsfs``...); without them a run
is refused with a one-line error before any model loads. Folders are listed one folder at a time, in
the order of a sorted recursive listing (:func:`walk`), never all at once. A file is read whole, redacted
in memory (:meth:`veilcv.core.pipeline.Redactor.redact_bytes`) and written only once verified, with one
``pipe_file`` to its final key: an object appears whole or not at all, so a failed or killed write
leaves nothing. ``file://`` outputs are local files: they get the local engine's atomic write instead.

Videos are decoded by ffmpeg from local files only: on an object store they are refused.
"""

from __future__ import annotations

import hashlib
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from veilcv.core.defaults import media_kind, output_suffix
from veilcv.errors import InputError, RedactionError

if TYPE_CHECKING:
    from veilcv.core.pipeline import Redactor
    from veilcv.core.redact_types import FileResult

#: Where a file lives: a local path, or a URL string.
Location = Path | str

_URL = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
_LOCAL = ("file", "local")


def is_url(where: object) -> bool:
    """Whether ``where`` is a URL string (``proto://...``) rather than a local path."""
    return isinstance(where, str) and _URL.match(where) is not None


def video_refusal(src: Location) -> str:
    """The one-line refusal of a video on an object store."""
    return (
        f"{src}: videos are redacted from and to local files only (ffmpeg reads them); "
        "copy it to a local folder first"
    )


def filesystem(url: str) -> tuple[Any, str]:
    """The fsspec file system of ``url`` and the path on it.

    Raises
    ------
    InputError
        fsspec is not installed, the protocol is unknown, or its file system package is not installed.
    """
    proto = _URL.match(url).group(1).lower()  # type: ignore[union-attr]
    try:
        import fsspec
        from fsspec.registry import known_implementations
    except ImportError:
        raise InputError(f"{url}: URLs need fsspec; pip install 'veilcv[ray]' (or fsspec)") from None
    try:
        fsspec.get_filesystem_class(proto)
    except ValueError:
        raise InputError(f"{url}: {proto}:// is not a file system fsspec knows; use a local path") from None
    except ImportError:
        package = str(known_implementations.get(proto, {}).get("class", "")).split(".")[0]
        raise InputError(f"{url}: {proto}://: install {package or 'its fsspec file system'}") from None
    try:
        return fsspec.core.url_to_fs(url)
    except Exception as exc:  # a malformed URL, options the file system refuses
        raise InputError(f"{url}: {' '.join(str(exc).split())[:200]}") from None


def _is_local(fs: Any) -> bool:
    protocol = fs.protocol if isinstance(fs.protocol, tuple) else (fs.protocol,)
    return any(p in _LOCAL for p in protocol)


def local_path(url: str) -> Path | None:
    """The local path of a ``file://`` URL, None for any other store."""
    fs, path = filesystem(url)
    return Path(path) if _is_local(fs) else None


def key(where: Location) -> str:
    """What two locations share when they are the same file: a resolved local path (``file://`` too),
    else ``proto://path``."""
    if not is_url(where):
        return str(Path(where).resolve())
    fs, path = filesystem(str(where))
    if _is_local(fs):
        return str(Path(path).resolve())
    proto = fs.protocol[0] if isinstance(fs.protocol, tuple) else fs.protocol
    return f"{proto}://{path.rstrip('/')}"


def join(base: Location, rel: str) -> Location:
    """``base / rel`` for a path, ``base/rel`` for a URL (as the user spelled ``base``)."""
    if is_url(base):
        return f"{str(base).rstrip('/')}/{rel}"
    return Path(base) / rel


def name(where: Location) -> str:
    return PurePosixPath(str(where)).name if is_url(where) else Path(where).name


def with_suffix(where: Location, suffix: str) -> Location:
    if not is_url(where):
        return Path(where).with_suffix(suffix)
    head, _, last = str(where).rpartition("/")
    return f"{head}/{PurePosixPath(last).with_suffix(suffix)}"


def kind_of(url: str) -> str | None:
    """``"file"``, ``"directory"`` or None (nothing there) for a URL.

    Raises
    ------
    InputError
        The store could not be asked (no credentials, no network...).
    """
    fs, path = filesystem(url)
    try:
        info = fs.info(path)
    except FileNotFoundError:
        return None
    except Exception as exc:
        raise InputError(f"{url}: cannot look it up: {_why(exc)}") from None
    return "directory" if info.get("type") == "directory" else "file"


def walk(url: str) -> Iterator[tuple[Location, str, str | OSError]]:
    """Everything under the folder ``url``, depth first, each folder's entries sorted by name (the local
    walk's order), one folder listing at a time: ``(url, relative path, "file" or "directory")``; a folder
    that cannot be listed comes as ``(its url, relative path, an OSError with the reason)``. Hidden entries
    are left out, as in a local folder."""
    fs, root = filesystem(url)

    def listing(folder: str, rel: str) -> Iterator[tuple[Location, str, str | OSError]]:
        try:
            entries = sorted((e["name"].rstrip("/"), e.get("type")) for e in fs.ls(folder, detail=True))
        except Exception as exc:
            yield (join(url, rel) if rel else url), rel, OSError(_why(exc))
            return
        if hasattr(fs, "invalidate_cache"):  # a listings cache would keep every folder listed so far
            fs.invalidate_cache(folder)
        for path, kind in entries:
            entry = path.rsplit("/", 1)[-1]
            if path == folder.rstrip("/") or entry.startswith("."):
                continue
            sub = f"{rel}/{entry}" if rel else entry
            yield join(url, sub), sub, "directory" if kind == "directory" else "file"
            if kind == "directory":
                yield from listing(path, sub)

    yield from listing(root.rstrip("/") or root, "")


def read_bytes(src: Location) -> bytes:
    """The whole of ``src``.

    Raises
    ------
    InputError
        It cannot be read (the message names it).
    """
    if not is_url(src):
        try:
            return Path(src).read_bytes()
        except OSError as exc:
            raise InputError(f"{src}: cannot read: {exc.strerror or exc}") from None
    fs, path = filesystem(str(src))
    try:
        return bytes(fs.cat_file(path))
    except FileNotFoundError:
        raise InputError(f"{src}: cannot read: no such file or object") from None
    except Exception as exc:
        raise InputError(f"{src}: cannot read: {_why(exc)}") from None


def sha256(where: Location) -> str:
    """Hex sha256 of a file or object, read in 1 MiB blocks (raises ``OSError`` when it cannot be read)."""
    h = hashlib.sha256()
    if is_url(where):
        fs, path = filesystem(str(where))
        try:
            fh = fs.open(path, "rb")
        except FileNotFoundError:
            raise
        except Exception as exc:
            raise OSError(_why(exc)) from None
    else:
        fh = open(where, "rb")  # noqa: SIM115 (closed below)
    with fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def write_verified(src: Location, dst: Location, data: bytes, digest: str) -> None:
    """Put the verified ``data`` (sha256 ``digest``) at ``dst``, whole or not at all.

    A local ``dst`` (path or ``file://``) is written atomically and read back, as the local engine does;
    an object is put with one ``pipe_file`` to its final key and its size checked (an object of another
    size is deleted again).

    Raises
    ------
    RedactionError
        It could not be written (the message names ``src`` and ``dst``).
    """
    from veilcv.atomic import atomic_path
    from veilcv.core.redact_types import remove_stale_temps, sha256_file

    target: Path | None = None if is_url(dst) else Path(dst)
    fs, path = (None, "") if target is not None else filesystem(str(dst))
    if fs is not None and _is_local(fs):
        target = Path(path)
    if target is not None:
        remove_stale_temps(target)
        try:
            with atomic_path(target) as tmp:
                tmp.write_bytes(data)
                if sha256_file(tmp) != digest:
                    raise RedactionError(
                        f"{src}: bytes written to {target.parent} differ from the checked ones"
                    )
                local_src = None if is_url(src) else Path(src)
                if local_src is not None:  # the output gets the input's permissions, as the local engine's
                    os.chmod(tmp, local_src.stat().st_mode & 0o777)
        except OSError as exc:
            raise RedactionError(f"{src}: cannot write {dst}: {exc.strerror or exc}") from exc
        return
    try:
        fs.pipe_file(path, data)
        size = fs.info(path).get("size")
    except Exception as exc:
        raise RedactionError(f"{src}: cannot write {dst}: {_why(exc)}") from None
    if size is not None and int(size) != len(data):
        try:
            fs.rm_file(path)
        except Exception:
            pass
        raise RedactionError(f"{src}: {dst} holds {size} bytes after the put, not {len(data)}; removed")


def redact(redactor: Redactor, src: Location, dst: Location) -> FileResult:
    """Redact one image where ``src`` or ``dst`` is a URL (else the local ``redact_file``): read it whole,
    redact and verify it in memory, write the verified output; nothing is written on failure.

    Raises
    ------
    VeilcvError
        Any failure, with a message naming ``src``.
    """
    from veilcv.core.redact_types import _lap

    if not (is_url(src) or is_url(dst)):
        return redactor.redact_file(src, dst)
    kind = media_kind(str(src))
    if kind == "video":
        raise InputError(video_refusal(src))
    if kind is None:
        raise InputError(f"{src}: expected an image file, got suffix {PurePosixPath(str(src)).suffix!r}")
    suffix = PurePosixPath(str(dst)).suffix
    if output_suffix(suffix).lower() != suffix.lower():
        raise InputError(
            f"{dst}: the metadata checker cannot verify {suffix} files; write {output_suffix(suffix)} instead"
        )
    data = read_bytes(src)
    out, res = redactor.redact_bytes(data, suffix, name=str(src))
    t = time.perf_counter()
    write_verified(src, dst, out, res.output_sha256 or "")
    _lap(res, "write", t)
    res.input, res.output = str(src), str(dst)
    return res


def _why(exc: BaseException) -> str:
    text = " ".join(str(getattr(exc, "strerror", None) or exc).split())[:200]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
