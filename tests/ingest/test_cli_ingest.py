"""`veil ingest` through the CLI: bad input gets one line and exit 2; a real run with the real model."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image
from store.helpers import POLICY, key_env

from ingest.conftest import Dataset
from veilcv.cli.main import main
from veilcv.store import MasterKey, Store, from_policy


@pytest.fixture
def veil_env(key: MasterKey, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    for name in ("VEIL_MASTER_KEY", "VEIL_MASTER_KEY_FILE", "VEIL_STORE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("VEIL_MASTER_KEY", key_env(key)["VEIL_MASTER_KEY"])
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        yaml.safe_dump(
            {
                "version": 1,
                "retention": POLICY["retention"],
                "storage": POLICY["storage"],
                "redaction": {"classes": ["face"], "modes": ["box", "pixelate"]},
            }
        )
    )
    return policy


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("missing-src", "expected a folder or file to ingest"),
        ("missing-manifest", "expected a manifest file"),
        ("bad-manifest", "expected a header with a filename column"),
        ("bad-mode", "--mode: expected one the policy allows (box, pixelate), got 'ellipse'"),
        ("bad-policy", "policy.yaml"),
        ("latin1-manifest", "expected UTF-8 text"),
        ("telemetry-under-a-file", "expected a folder at"),
        ("mask-scale-below-policy", "--mask-scale: expected at least the policy's min_mask_scale 1.4"),
        ("bad-threshold", "--threshold: expected CLASS=VALUE pairs"),
    ],
)
def test_bad_input_gets_one_line_and_exit_2(
    tmp_path, dataset: Dataset, veil_env: Path, capsys, case, message
):
    src, manifest, args = dataset.src, dataset.manifest, []
    if case == "missing-src":
        src = tmp_path / "nothing"
    elif case == "missing-manifest":
        manifest = tmp_path / "none.csv"
    elif case == "bad-manifest":
        manifest = tmp_path / "bad.csv"
        manifest.write_text("colour,licence\nred,MIT\n")
    elif case == "bad-mode":
        args = ["--mode", "ellipse"]
    elif case == "bad-policy":
        veil_env.write_text("retention: {prefixes: {raw: 3}}\n")
    elif case == "latin1-manifest":
        manifest = tmp_path / "latin1.csv"
        manifest.write_bytes(b"filename,source,license\na.jpg,caf\xe9,CC0-1.0\n")
    elif case == "telemetry-under-a-file":
        args = ["--telemetry-out", str(manifest / "t.jsonl")]
    elif case == "mask-scale-below-policy":
        data = yaml.safe_load(veil_env.read_text())
        data["redaction"]["min_mask_scale"] = 1.4
        veil_env.write_text(yaml.safe_dump(data))
        args = ["--mask-scale", "1.2"]
    elif case == "bad-threshold":
        args = ["--threshold", "face"]
    code = main(
        [
            "ingest",
            str(src),
            "--manifest",
            str(manifest),
            "--store",
            str(tmp_path / "v"),
            "--policy",
            str(veil_env),
            *args,
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("veil: error: ") and message in err, err
    if case != "bad-policy":  # schema errors list every problem, one per line
        assert err.count("\n") == 1
    assert "Traceback" not in err and not (tmp_path / "v").exists()


@pytest.mark.model
def test_real_ingest_of_a_photo_with_a_face(tmp_path: Path, key: MasterKey, veil_env: Path, capsys) -> None:
    skimage_data = pytest.importorskip("skimage.data")
    from veilcv.core.pipeline import RedactOptions, Redactor
    from veilcv.errors import ModelError

    try:
        Redactor(RedactOptions(what=("face",))).load()
    except ModelError as exc:
        pytest.skip(f"face model unavailable: {exc}")
    src = tmp_path / "photos"
    src.mkdir()
    buf = io.BytesIO()
    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: (48.0, 51.0, 24.0), 3: "E", 4: (2.0, 21.0, 7.0)}
    Image.fromarray(skimage_data.astronaut()).save(buf, "JPEG", quality=92, exif=exif.tobytes())
    (src / "astronaut.jpg").write_bytes(buf.getvalue())
    manifest = tmp_path / "manifest.csv"
    manifest.write_text("filename,source,license\nastronaut.jpg,https://images.nasa.gov,CC0-1.0\n")
    telemetry = tmp_path / "telemetry.jsonl"
    store = tmp_path / "vault"
    args = [
        "ingest",
        str(src),
        "--manifest",
        str(manifest),
        "--store",
        str(store),
        "--policy",
        str(veil_env),
        "--telemetry-out",
        str(telemetry),
    ]
    assert main(args) == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    assert "stored" in out and "held back ingest_stored=1: below telemetry.min_aggregation_count" in out
    assert telemetry.read_text() == ""  # a single stored file is below the minimum count: nothing sent
    with Store.open(store, key, from_policy(POLICY)) as st:
        (info,) = st.list(role="reader", actor="t")
        redacted = np.asarray(Image.open(io.BytesIO(st.get(info.key, role="reader", actor="t"))).convert("L"))
        assert st.verify_audit().ok
    assert redacted[70:170, 185:265].mean() < 10  # the astronaut's face is boxed out
    assert redacted.mean() > 50
    assert main(args) == 0  # a rerun stores nothing new
    with Store.open(store, key, from_policy(POLICY)) as st:
        assert [i.key for i in st.list(role="reader", actor="t")] == [info.key]


def test_ingest_redacts_with_the_same_default_geometry_as_redact(
    tmp_path: Path, dataset: Dataset, veil_env: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    import veilcv.core.pipeline as pipeline
    from veilcv.core.defaults import DEFAULT_MASK_SCALE
    from veilcv.errors import ModelError

    seen = []

    class Captured:
        def __init__(self, options: object) -> None:
            seen.append(options)

        def load(self) -> None:
            raise ModelError("stop after the options are built")

    monkeypatch.setattr(pipeline, "Redactor", Captured)
    base = ["ingest", str(dataset.src), "--manifest", str(dataset.manifest), "--policy", str(veil_env)]
    assert main([*base, "--store", str(tmp_path / "v")]) == 2
    assert main([*base, "--store", str(tmp_path / "v"), "--threshold", "face=0.3", "--mask-scale", "2"]) == 2
    assert seen[0].mask_scale == DEFAULT_MASK_SCALE  # never less than `veil redact` covers
    assert (seen[1].mask_scale, dict(seen[1].thresholds)) == (2.0, {"face": 0.3})
    assert not (tmp_path / "v").exists()  # a model failure stores nothing, creates nothing


@pytest.mark.parametrize("kind", ["missing", "folder"])
def test_manifest_error_says_what_is_there_and_names_a_manifest_nearby(
    tmp_path: Path, dataset: Dataset, veil_env: Path, capsys, kind: str
) -> None:
    given = tmp_path / ("none.csv" if kind == "missing" else "annotations")
    if kind == "folder":
        given.mkdir()
    args = ["ingest", str(dataset.src), "--manifest", str(given), "--store", str(tmp_path / "v")]
    assert main([*args, "--policy", str(veil_env)]) == 2
    got = "nothing there" if kind == "missing" else "a folder; name the manifest file inside it"
    assert capsys.readouterr().err == (
        f"veil: error: --manifest {given}: expected a manifest file (.csv, .json, .jsonl or .jsonld), "
        f"got {got}; found {dataset.manifest}\n"
    )
    assert not (tmp_path / "v").exists()


def test_missing_manifest_without_one_nearby_gets_no_hint(tmp_path: Path, veil_env: Path, capsys) -> None:
    (tmp_path / "photos").mkdir()
    args = ["ingest", str(tmp_path / "photos"), "--manifest", str(tmp_path / "photos" / "manifest.csv")]
    assert main([*args, "--store", str(tmp_path / "v"), "--policy", str(veil_env)]) == 2
    err = capsys.readouterr().err
    assert err.endswith("expected a manifest file (.csv, .json, .jsonl or .jsonld), got nothing there\n")
    assert "use --manifest" not in err  # it was used


class _PassThrough:
    """A redactor that returns the stripped bytes as they are: the CLI's reporting, not redaction."""

    def __init__(self, options: object) -> None:
        self.options = options

    def load(self, jobs: int = 1) -> None:
        pass

    def redact_bytes(self, data: bytes, suffix: str, name: str = "") -> tuple[bytes, None]:
        return data, None


def _ingest_with(tmp_path: Path, dataset: Dataset, policy: Path, monkeypatch, *extra: str) -> int:
    import veilcv.core.pipeline as pipeline

    monkeypatch.setattr(pipeline, "Redactor", _PassThrough)
    args = ["ingest", str(dataset.src), "--manifest", str(dataset.manifest), "--store", str(tmp_path / "v")]
    return main([*args, "--policy", str(policy), *extra])


def test_telemetry_lines_say_what_was_counted_and_why_it_was_held_back(
    tmp_path: Path, dataset: Dataset, veil_env: Path, monkeypatch, capsys
) -> None:
    data = yaml.safe_load(veil_env.read_text())
    data["telemetry"] = {"min_aggregation_count": 5}
    veil_env.write_text(yaml.safe_dump(data, sort_keys=False))
    line = veil_env.read_text().splitlines().index("  min_aggregation_count: 5") + 1
    out_file = tmp_path / "t.jsonl"
    assert _ingest_with(tmp_path, dataset, veil_env, monkeypatch, "--telemetry-out", str(out_file)) == 1
    lines = [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("telemetry:")]
    assert lines == [
        f"telemetry: 1 of 2 hourly ingest count(s) released (written to {out_file}); "
        "counted: ingest_stored=4, ingest_rejected=5",
        f"telemetry: held back ingest_stored=4: below telemetry.min_aggregation_count 5 "
        f"(set in {veil_env} line {line}), the smallest count the policy lets leave, "
        "so no count singles anyone out",
    ]
    assert [json.loads(ln)["event"] for ln in out_file.read_text().splitlines()] == ["ingest_rejected"]


def test_telemetry_line_without_an_output_says_nothing_was_written(
    tmp_path: Path, dataset: Dataset, veil_env: Path, monkeypatch, capsys
) -> None:
    assert _ingest_with(tmp_path, dataset, veil_env, monkeypatch) == 1
    out = capsys.readouterr().out
    assert "not written anywhere; use --telemetry-out FILE to keep them" in out
    assert "below telemetry.min_aggregation_count" in out
