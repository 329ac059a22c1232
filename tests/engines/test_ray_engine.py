"""`veil redact --engine ray` on a local Ray (2 CPUs) with the real face model: the same outputs and
report as the local engine, a failing file that stops nothing, a worker killed with SIGKILL mid-run,
and a resumed run that writes nothing again. One Ray session for the module."""

from __future__ import annotations

import json
import os
import re
import signal
import sys
from pathlib import Path
from typing import Any

import pytest

from veilcv.cli.main import main
from veilcv.core.redact_types import RedactOptions, sha256_file
from veilcv.errors import ModelError

ray = pytest.importorskip("ray", reason="Ray is not installed (pip install 'veilcv[ray]')")
Image = pytest.importorskip("PIL.Image")
skimage_data = pytest.importorskip("skimage.data")

# the same geometry as tests/cli/test_redact.py: the astronaut's face in the 512x512 photo
SIZES = {"a.jpg": 512, "b.png": 384, "sub/c.jpg": 640, "sub/d.webp": 256, "sub/deeper/e.jpg": 448}


@pytest.fixture(scope="module", autouse=True)
def local_ray() -> Any:
    from veilcv.core.detection import load_detector

    try:
        load_detector("face")
    except ModelError as exc:
        pytest.skip(f"face model unavailable: {exc}")
    from veilcv.engines.ray_worker import embedded

    ray.init(**embedded(2))
    yield
    ray.shutdown()


def photos(root: Path, *, bad: bool = True, copies: int = 0) -> Path:
    """The astronaut at several sizes and formats, a corrupt JPEG, and ``copies`` more JPEGs."""
    astronaut = Image.fromarray(skimage_data.astronaut())
    for name, side in SIZES.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        astronaut.resize((side, side)).save(root / name, quality=90)
    for i in range(copies):
        astronaut.resize((480 + 16 * i, 480 + 16 * i)).save(root / f"copy{i:02d}.jpg", quality=88)
    if bad:
        (root / "bad.jpg").write_bytes(b"\xff\xd8\xff\xe0" + b"\x00\x10JFIF" + b"\x17" * 300)
    return root


def comparable(report: Path, out: Path) -> dict[str, Any]:
    """The report minus what differs between two runs by nature: times, and the output folder's name."""
    doc = json.loads(report.read_text())
    for key in ("created", "setup_ms"):
        assert key in doc
        doc.pop(key)
    for rec in doc["files"]:
        rec.pop("timings_ms")
        if rec["output"]:
            rec["output"] = str(Path(rec["output"]).relative_to(out))
    return doc


def tree(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def test_same_outputs_and_report_as_the_local_engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # relative paths, as a user types them: the workers' own working folder is another one
    monkeypatch.chdir(tmp_path)
    src = photos(Path("in"))
    local, remote = Path("local"), Path("ray")
    base = ["redact", str(src), "--what", "faces", "-q"]
    assert main([*base, "-o", str(local), "--report", "local.json"]) == 2
    assert main([*base, "-o", str(remote), "--report", "ray.json", "--engine", "ray"]) == 2
    assert tree(remote) == tree(local)  # byte for byte
    assert sorted(tree(remote)) == sorted(SIZES)
    doc = comparable(Path("ray.json"), remote)
    assert doc == comparable(Path("local.json"), local)
    assert all(not Path(r["input"]).is_absolute() for r in doc["files"])
    # the corrupt JPEG failed alone, named in the report; every other file was redacted
    failed = [r for r in doc["files"] if not r["ok"]]
    assert [r["input"] for r in failed] == [str(src / "bad.jpg")]
    assert failed[0]["error"].startswith(f"{src / 'bad.jpg'}: ")
    assert doc["summary"]["redacted"] == len(SIZES) and doc["summary"]["failed"] == 1
    assert all(r["regions"] == {"face": 1} for r in doc["files"] if r["ok"])


def test_urls_are_read_and_written_by_the_workers(tmp_path: Path) -> None:
    # file:// stands for an object store here: memory:// is one per process, and a worker is another
    pytest.importorskip("fsspec", reason="fsspec is not installed (pip install 'veilcv[ray]')")
    src = photos(tmp_path / "in")
    base = ["redact", "--what", "faces", "-q"]
    assert main([*base, str(src), "-o", str(tmp_path / "local")]) == 2
    url_in, url_out = f"file://{src}", f"file://{tmp_path / 'ray'}"
    report = tmp_path / "ray.json"
    assert main([*base, url_in, "-o", url_out, "--report", str(report), "--engine", "ray"]) == 2
    assert tree(tmp_path / "ray") == tree(tmp_path / "local")  # byte for byte, no output of bad.jpg
    doc = json.loads(report.read_text())
    by_input = {r["input"]: r for r in doc["files"]}
    assert sorted(by_input) == sorted(f"{url_in}/{name}" for name in [*SIZES, "bad.jpg"])
    assert by_input[f"{url_in}/a.jpg"]["output"] == f"{url_out}/a.jpg"
    assert not by_input[f"{url_in}/bad.jpg"]["ok"] and by_input[f"{url_in}/bad.jpg"]["output"] is None
    assert by_input[f"{url_in}/bad.jpg"]["error"].startswith(f"{url_in}/bad.jpg: ")


def test_a_worker_killed_mid_run_leaves_every_file_done_once(tmp_path: Path) -> None:
    from veilcv.engines.ray_engine import RayRedactor, RaySettings

    src = photos(tmp_path / "in", bad=False, copies=8)
    pairs = [(p, tmp_path / "out" / p.relative_to(src)) for p in sorted(src.rglob("*.*"))]
    killed: list[int] = []
    engine = RayRedactor(RedactOptions(what=("face",)), RaySettings(workers=2))
    with engine:
        for pid in engine.pids() if sys.platform == "linux" else []:  # the pids are Ray's workers
            assert Path(f"/proc/{pid}/cmdline").read_bytes().startswith(b"ray::Worker")

        def kill_one(_: object) -> None:
            if not killed:  # the other worker and the victim both hold files now
                killed.append(engine.pids()[0])
                os.kill(killed[0], signal.SIGKILL)

        results = list(engine.run(pairs, on_result=kill_one))
        assert killed[0] not in engine.pids()
    assert sorted(r.input for r in results) == sorted(str(s) for s, _ in pairs)  # each exactly once
    by_input = {r.input: r for r in results}
    for s, d in pairs:
        res = by_input[str(s)]
        assert res.ok, res.error  # one death: each of its files got a second worker
        assert res.output == str(d) and sha256_file(d) == res.output_sha256
    assert [p.name for p in (tmp_path / "out").rglob(".*")] == []  # no temp file of the dead worker


def test_a_file_whose_workers_die_is_reported(tmp_path: Path) -> None:
    from veilcv.engines.ray_engine import RayRedactor, RaySettings

    src = photos(tmp_path / "in", bad=False, copies=4)
    pairs = [(p, tmp_path / "out" / p.relative_to(src)) for p in sorted(src.rglob("*.*"))]
    engine = RayRedactor(RedactOptions(what=("face",)), RaySettings(workers=2, retries=0))
    killed: list[int] = []
    with engine:

        def kill_one(_: object) -> None:
            if not killed:
                killed.append(engine.pids()[0])
                os.kill(killed[0], signal.SIGKILL)

        results = list(engine.run(pairs, on_result=kill_one))
    assert sorted(r.input for r in results) == sorted(str(s) for s, _ in pairs)
    lost = [r for r in results if not r.ok]
    assert lost, "the killed worker held files"
    for res in lost:
        assert res.error.startswith(f"{res.input}: its worker died each of the 1 time(s) it was redacted")
        assert res.output is None and res.output_sha256 is None
    for res in results:
        if res.ok:
            assert sha256_file(Path(res.output)) == res.output_sha256
    assert [p.name for p in (tmp_path / "out").rglob(".*")] == []


def test_resume_writes_nothing_again_and_redoes_what_changed(tmp_path: Path) -> None:
    src = photos(tmp_path / "in", bad=False)
    out, report = tmp_path / "out", tmp_path / "report.json"
    run = ["redact", str(src), "-o", str(out), "--what", "faces", "-q", "--engine", "ray", "--workers", "2"]
    assert main([*run, "--report", str(report)]) == 0
    first = comparable(report, out)
    stamps = {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()}
    (out / "b.png").write_bytes(b"tampered")  # an output that no longer matches its record
    again = tmp_path / "again.json"
    assert main([*run, "--report", str(again), "--resume", str(report)]) == 0
    assert comparable(again, out) == first
    changed = {p.name for p, t in stamps.items() if p.stat().st_mtime_ns != t}
    assert changed == {"b.png"}
    assert (
        sha256_file(out / "b.png")
        == next(r for r in first["files"] if r["input"].endswith("b.png"))["output_sha256"]
    )


def test_ingest_on_ray_stores_what_the_local_engine_stores(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import base64

    import yaml

    from veilcv.store import MasterKey, Store, from_policy

    key = MasterKey(os.urandom(32))
    monkeypatch.setenv("VEIL_MASTER_KEY", base64.b64encode(key.raw).decode())
    policy = {
        "version": 1,
        "retention": {"prefixes": {"redacted/": {"max_days": 90}}, "keep_raw": False},
        "storage": {"roles": {"reader": {"prefixes": ["redacted/"]}, "writer": {"prefixes": ["redacted/"]}}},
        "redaction": {"classes": ["face"], "modes": ["box"]},
    }
    (tmp_path / "policy.yaml").write_text(yaml.safe_dump(policy))
    src = photos(tmp_path / "in")  # the corrupt JPEG fails alone, nothing of it stored
    rows = [
        f"{p.relative_to(src).as_posix()},https://example.org/{i},CC0-1.0"
        for i, p in enumerate(src.rglob("*.*"))
    ]
    manifest = tmp_path / "manifest.csv"
    manifest.write_text("filename,source,license\n" + "\n".join(rows) + "\n")
    stored = {}
    for engine in ("local", "ray"):
        vault = tmp_path / f"vault-{engine}"
        args = ["ingest", str(src), "--manifest", str(manifest), "--store", str(vault)]
        assert main([*args, "--policy", str(tmp_path / "policy.yaml"), "--engine", engine]) == 1
        assert f"{src / 'bad.jpg'}: failed: " in capsys.readouterr().err
        with Store.open(vault, key, from_policy(policy)) as st:
            stored[engine] = {
                i.key: st.get(i.key, role="reader", actor="t") for i in st.list(role="reader", actor="t")
            }
            assert st.verify_audit().ok
    assert len(stored["local"]) == len(SIZES)
    assert stored["ray"] == stored["local"]  # the same keys, byte-identical redactions


def test_bytes_on_ray_are_the_local_pipelines_and_survive_a_killed_worker(tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor, wait

    from veilcv.core.pipeline import Redactor
    from veilcv.engines.ray_bytes import RayBytesRedactor
    from veilcv.engines.ray_engine import RayRedactor, RaySettings
    from veilcv.errors import VeilcvError

    src = photos(tmp_path / "in")
    data, bad = (src / "a.jpg").read_bytes(), (src / "bad.jpg").read_bytes()
    local = Redactor(RedactOptions(what=("face",)))
    expected, _ = local.redact_bytes(data, ".jpg", name="a.jpg")
    with pytest.raises(VeilcvError) as local_error:
        local.redact_bytes(bad, ".jpg", name="bad.jpg")
    engine = RayRedactor(RedactOptions(what=("face",)), RaySettings(workers=2))
    with engine:
        remote = RayBytesRedactor(engine)
        out, res = remote.redact_bytes(data, ".jpg", name="a.jpg")
        assert out == expected and res.ok and res.regions == {"face": 1}
        with pytest.raises(type(local_error.value)) as remote_error:
            remote.redact_bytes(bad, ".jpg", name="bad.jpg")
        assert str(remote_error.value) == str(local_error.value)
        with ThreadPoolExecutor(4) as pool:  # the ingest's threads
            calls = [pool.submit(remote.redact_bytes, data, ".jpg", name=f"{i}.jpg") for i in range(12)]
            wait(calls, return_when="FIRST_COMPLETED")
            os.kill(engine.pids()[0], signal.SIGKILL)  # it holds calls: each thread keeps one in flight
            outputs = [call.result()[0] for call in calls]  # none failed: sent again to a live worker
        assert engine._replacements == 1
    assert outputs == [expected] * 12


def test_more_workers_than_the_cluster_places_run_with_those_it_does(tmp_path: Path) -> None:
    from veilcv.engines.ray_engine import RayRedactor, RaySettings

    src = photos(tmp_path / "in", bad=False)
    pairs = [(p, tmp_path / "out" / p.relative_to(src)) for p in sorted(src.rglob("*.*"))]
    with RayRedactor(RedactOptions(what=("face",)), RaySettings(workers=3)) as engine:  # 2 CPUs
        results = list(engine.run(pairs))
        assert len(engine.pids()) <= 2
    assert sorted(r.input for r in results) == sorted(str(s) for s, _ in pairs)
    assert all(r.ok for r in results)


def test_a_retried_file_whose_output_is_in_place_is_not_written_again(tmp_path: Path) -> None:
    from veilcv.engines.ray_engine import RayRedactor, RaySettings

    src = photos(tmp_path / "in", bad=False)
    a, dst = src / "a.jpg", tmp_path / "out" / "a.jpg"
    with RayRedactor(RedactOptions(what=("face",)), RaySettings(workers=1)) as engine:
        worker = next(s.actor for s in engine._slots if s.alive)
        first = ray.get(worker.redact.remote(str(a), str(dst)))
        stamp = dst.stat().st_mtime_ns
        # the retry of a file whose first worker died after renaming its output into place
        again = ray.get(worker.redact.remote(str(a), str(dst), None, True))
        assert dst.stat().st_mtime_ns == stamp  # not written twice
        assert {**again.to_dict(), "timings_ms": {}} == {**first.to_dict(), "timings_ms": {}}
        dst.write_bytes(b"not what the worker makes")
        third = ray.get(worker.redact.remote(str(a), str(dst), None, True))
        assert third.ok and sha256_file(dst) == first.output_sha256  # anything else is redone


def test_progress_and_summary_on_the_driver(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = photos(tmp_path / "in")
    assert main(["redact", str(src), "-o", str(tmp_path / "out"), "--what", "faces", "--engine", "ray"]) == 2
    err = capsys.readouterr().err
    assert f"veil: error: {src / 'bad.jpg'}: " in err
    progress = next(line for line in err.splitlines() if line.startswith("redact (ray, 2 workers)"))
    n = len(SIZES) + 1
    assert f"{n}/{n}" in progress and "files/s" in progress and "1 failed" in progress
    assert re.search(rf"files redacted\s+│\s+{len(SIZES)} │", err)
    assert re.search(r"files failed\s+│\s+1 │", err)


def test_a_worker_whose_models_differ_from_the_first_is_not_used() -> None:
    from veilcv.engines.ray_engine import RayRedactor, _Slot

    engine = RayRedactor(RedactOptions(what=("face",)))
    engine.header = {"mode": "box", "models": [{"task": "face", "precision": "int8"}]}
    # a node whose CPU has no INT8: its worker picked f32 (what its load reports)
    ref = ray.put(
        {
            "pid": 1,
            "setup_ms": {},
            "header": {"mode": "box", "models": [{"task": "face", "precision": "f32"}]},
        }
    )
    slot = _Slot(actor=None, ready_ref=ref)
    engine._slots, engine._starting = [slot], {ref: slot}
    assert "error" in engine._loaded(ref)
    assert not slot.alive and engine.pids() == []
    assert engine.unused == [
        "a Ray worker was not used: its models differ from the first worker's (models); "
        "pin --precision to use mixed nodes"
    ]
