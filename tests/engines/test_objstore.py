"""`veil redact` with fsspec URLs (``memory://`` stands for an object store): the same outputs as a local
run, a failing file with no output key, a listing that is walked lazily, and one-line refusals where
fsspec or the store's file system is missing or a video would have to be decoded from an object."""

from __future__ import annotations

import json
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

from veilcv.cli.main import main
from veilcv.cli.redact_plan import PAIR, REFUSED, SKIPPED, iter_plan
from veilcv.engines import objstore
from veilcv.errors import InputError, ModelError

fsspec = pytest.importorskip("fsspec", reason="fsspec is not installed (pip install 'veilcv[ray]')")
Image = pytest.importorskip("PIL.Image")
skimage_data = pytest.importorskip("skimage.data")

SIZES = {"a.jpg": 512, "b.png": 384, "sub/c.jpg": 448, "sub/d.bmp": 256}


@pytest.fixture()
def bucket() -> Any:
    """A fresh ``memory://`` prefix, removed afterwards (the memory file system is one per process)."""
    fs = fsspec.filesystem("memory")
    root = f"veiltest-{uuid.uuid4().hex[:8]}"
    yield fs, root
    if fs.exists(f"/{root}"):
        fs.rm(f"/{root}", recursive=True)


def photos(root: Path) -> Path:
    astronaut = Image.fromarray(skimage_data.astronaut())
    for name, side in SIZES.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        astronaut.resize((side, side)).save(root / name, quality=90)
    (root / "sub" / "notes.txt").write_text("not an image")
    (root / "bad.jpg").write_bytes(b"\xff\xd8\xff\xe0" + b"\x00\x10JFIF" + b"\x17" * 300)
    return root


def upload(fs: Any, local: Path, prefix: str) -> None:
    for path in sorted(local.rglob("*")):
        if path.is_file():
            fs.pipe_file(f"/{prefix}/{path.relative_to(local).as_posix()}", path.read_bytes())


def files(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def objects(fs: Any, prefix: str) -> dict[str, bytes]:
    return {p[len(prefix) + 2 :]: fs.cat_file(p) for p in sorted(fs.find(f"/{prefix}"))}


@pytest.fixture(scope="module")
def model() -> None:
    from veilcv.core.detection import load_detector

    try:
        load_detector("face")
    except ModelError as exc:
        pytest.skip(f"face model unavailable: {exc}")


def test_a_bucket_gives_the_local_runs_outputs_and_reports_its_urls(
    tmp_path: Path, bucket: Any, model: None, capsys: pytest.CaptureFixture[str]
) -> None:
    fs, root = bucket
    src = photos(tmp_path / "in")
    upload(fs, src, f"{root}/in")
    base = ["redact", "--what", "faces", "-q"]
    assert (
        main([*base, str(src), "-o", str(tmp_path / "local"), "--report", str(tmp_path / "local.json")]) == 2
    )
    capsys.readouterr()
    url_in, url_out = f"memory://{root}/in", f"memory://{root}/out"
    assert main([*base, url_in, "-o", url_out, "--report", str(tmp_path / "url.json")]) == 2
    err = capsys.readouterr().err
    assert f"veil: error: {url_in}/bad.jpg:" in err

    local = files(tmp_path / "local")
    assert objects(fs, f"{root}/out") == local  # byte for byte; sub/d.bmp became sub/d.png
    assert "bad.jpg" not in objects(fs, f"{root}/out")  # the failing file has no output key

    doc = json.loads((tmp_path / "url.json").read_text())
    by_input = {rec["input"]: rec for rec in doc["files"]}
    assert by_input[f"{url_in}/sub/d.bmp"]["output"] == f"{url_out}/sub/d.png"
    assert not by_input[f"{url_in}/bad.jpg"]["ok"] and by_input[f"{url_in}/bad.jpg"]["output"] is None
    assert doc["skipped"] == [f"{url_in}/sub/notes.txt"]
    local_doc = json.loads((tmp_path / "local.json").read_text())
    sha = {Path(r["input"]).relative_to(src).as_posix(): r["output_sha256"] for r in local_doc["files"]}
    assert {r["input"][len(url_in) + 1 :]: r["output_sha256"] for r in doc["files"]} == sha

    # a local folder into the bucket, and the bucket back into a local folder: the same bytes
    assert main([*base, str(src), "-o", f"memory://{root}/up"]) == 2
    assert objects(fs, f"{root}/up") == local
    assert main([*base, url_in, "-o", str(tmp_path / "down")]) == 2
    assert files(tmp_path / "down") == local


def test_a_write_that_fails_leaves_no_key(
    tmp_path: Path, bucket: Any, model: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    fs, root = bucket
    photos(tmp_path / "in")
    upload(fs, tmp_path / "in", f"{root}/in")
    real = type(fs).pipe_file

    def torn(self: Any, path: str, value: bytes, **kwargs: Any) -> None:
        if path.endswith("/a.jpg"):  # the store keeps a short object, then the call fails
            real(self, path, value[: len(value) // 2], **kwargs)
        else:
            real(self, path, value, **kwargs)

    monkeypatch.setattr(type(fs), "pipe_file", torn)
    url_out = f"memory://{root}/out"
    assert main(["redact", f"memory://{root}/in", "-o", url_out, "--what", "faces", "-q",
                 "--report", str(tmp_path / "r.json")]) == 2  # fmt: skip
    written = objects(fs, f"{root}/out")
    assert "a.jpg" not in written and "b.png" in written
    rec = next(
        r for r in json.loads((tmp_path / "r.json").read_text())["files"] if r["input"].endswith("/a.jpg")
    )
    assert not rec["ok"] and "removed" in rec["error"]


def test_the_listing_is_walked_one_folder_at_a_time(bucket: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    fs, root = bucket
    for name in (
        "a/1.jpg",
        "b/2.jpg",
        "b/x.bmp",
        "b/x.png",
        "c/3.mp4",
        "c/d/4.jpg",
        "c/notes.txt",
        ".hidden/5.jpg",
    ):
        fs.pipe_file(f"/{root}/in/{name}", b"x")
    listed: list[str] = []
    real = type(fs).ls

    def ls(self: Any, path: str, detail: bool = True, **kwargs: Any) -> Any:
        listed.append(path.rsplit("/", 1)[-1])
        return real(self, path, detail=detail, **kwargs)

    monkeypatch.setattr(type(fs), "ls", ls)
    url = f"memory://{root}/in"
    items = iter_plan([url], f"memory://{root}/out", in_place=False)
    assert next(items) == (PAIR, (f"{url}/a/1.jpg", f"memory://{root}/out/a/1.jpg"))
    assert listed == ["in", "a"]  # the first file comes before the rest of the prefix is listed
    rest = list(items)
    assert listed == ["in", "a", "b", "c", "d"]
    assert rest == [
        (PAIR, (f"{url}/b/2.jpg", f"memory://{root}/out/b/2.jpg")),
        (PAIR, (f"{url}/b/x.bmp", f"memory://{root}/out/b/x.png")),
        (REFUSED, f"{url}/b/x.png: maps to the same output as {url}/b/x.bmp (memory://{root}/out/b/x.png); "
                  "redact them separately"),
        (REFUSED, objstore.video_refusal(f"{url}/c/3.mp4")),
        (PAIR, (f"{url}/c/d/4.jpg", f"memory://{root}/out/c/d/4.jpg")),
        (SKIPPED, f"{url}/c/notes.txt"),
    ]  # fmt: skip


def test_url_refusals_are_one_line(
    bucket: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fs, root = bucket
    fs.pipe_file(f"/{root}/in/a.jpg", b"x")
    cases = [
        (["redact", f"memory://{root}/nothing", "-o", str(tmp_path / "o")], "no such file or folder"),
        (["redact", f"memory://{root}/in", "-o", f"memory://{root}/in"], "-o is this input folder itself"),
        (["redact", f"memory://{root}/in", "-o", "nosuchfs://x/y"], "nosuchfs:// is not a file system"),
    ]
    for argv, words in cases:
        assert main([*argv, "-q"]) == 2
        err = capsys.readouterr().err
        assert words in err and "Traceback" not in err and err.startswith("veil: error: ")
    if not _installed("s3fs"):
        with pytest.raises(InputError, match=r"^s3://bucket/x: s3://: install s3fs$"):
            objstore.filesystem("s3://bucket/x")
    monkeypatch.setitem(sys.modules, "fsspec", None)  # import fsspec fails, as where it is not installed
    assert main(["redact", f"memory://{root}/in", "-o", str(tmp_path / "o"), "-q"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"veil: error: memory://{root}/in: URLs need fsspec; pip install 'veilcv[ray]' (or fsspec)"
    assert not (tmp_path / "o").exists()


def _installed(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None


def test_resume_over_urls_writes_nothing_again(
    tmp_path: Path, bucket: Any, model: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    fs, root = bucket
    photos(tmp_path / "in")
    upload(fs, tmp_path / "in", f"{root}/in")
    argv = ["redact", f"memory://{root}/in", "-o", f"memory://{root}/out", "--what", "faces", "-q"]
    assert main([*argv, "--report", str(tmp_path / "first.json")]) == 2
    before = objects(fs, f"{root}/out")
    # b.png changes (another picture, still a PNG): the one file to redact again
    Image.fromarray(skimage_data.astronaut()).resize((320, 320)).save(tmp_path / "b2.png")
    fs.pipe_file(f"/{root}/in/b.png", (tmp_path / "b2.png").read_bytes())
    puts: list[str] = []
    real = type(fs).pipe_file

    def counted(self: Any, path: str, value: bytes, **kwargs: Any) -> None:
        puts.append(path.rsplit("/", 1)[-1])
        real(self, path, value, **kwargs)

    monkeypatch.setattr(type(fs), "pipe_file", counted)
    resumed = ["--resume", str(tmp_path / "first.json"), "--report", str(tmp_path / "second.json")]
    assert main([*argv, *resumed]) == 2
    assert puts == ["b.png"]  # only the input that changed is redacted again (bad.jpg fails again)
    after = objects(fs, f"{root}/out")
    assert {k: v for k, v in after.items() if k != "b.png"} == {
        k: v for k, v in before.items() if k != "b.png"
    }
    doc = json.loads((tmp_path / "second.json").read_text())
    assert sum(r["ok"] for r in doc["files"]) == len(SIZES)
