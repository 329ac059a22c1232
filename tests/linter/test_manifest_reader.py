"""The reusable manifest reader (also used by ingest) and the licence verdicts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from veilcv.errors import InputError
from veilcv.linter.rules.manifest.reader import read_manifest, spdx_from_url
from veilcv.policies import licences


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_seed_csv_with_aliases_comments_and_lines(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "manifest.csv",
        "File Name,Source URL,Licence,Attribution Needed,Retention,Subject,camera\n"
        '# veil:ignore VC105 reason="x"\n'
        "a.jpg,https://example.org/a,CC-BY-4.0,yes,30,s-1,cam2\n"
        "\n"
        '"b, c.jpg",,MIT,no,,,\n',
    )
    a, b = read_manifest(path)
    assert (
        a.filename,
        a.source,
        a.license,
        a.attribution_needed,
        a.retention_days,
        a.subject_id,
        a.line,
    ) == (
        "a.jpg",
        "https://example.org/a",
        "CC-BY-4.0",
        True,
        30,
        "s-1",
        3,
    )
    assert a.extra == {"camera": "cam2"}
    assert (b.filename, b.source, b.attribution_needed, b.retention_days, b.line) == (
        "b, c.jpg",
        "",
        False,
        None,
        5,
    )
    assert "source" not in b.fields and "license" in b.fields


def test_json_object_jsonl_and_line_numbers(tmp_path: Path) -> None:
    doc = {"records": [{"path": "x.png", "license": "MIT"}, {"path": "y.png", "license": "CC0-1.0"}]}
    path = _write(tmp_path / "manifest.json", json.dumps(doc, indent=2))
    x, y = read_manifest(path)
    assert (x.filename, x.line, y.filename, y.line) == ("x.png", 4, "y.png", 8)
    lines = _write(tmp_path / "m.jsonl", '{"filename": "a.png", "sha256": "ABC"}\n\n{"filename": "b.png"}\n')
    a, b = read_manifest(lines)
    assert (a.sha256, a.line, b.line) == ("abc", 1, 3)


def test_croissant_file_objects_and_file_sets(tmp_path: Path) -> None:
    doc = {
        "@context": {"@vocab": "https://schema.org/"},
        "@type": "Dataset",
        "url": "https://example.org/ds",
        "license": "https://creativecommons.org/licenses/by-sa/4.0/",
        "citeAs": "Doe et al. 2024",
        "distribution": [
            {"@type": "cr:FileObject", "@id": "archive", "contentUrl": "https://example.org/a.zip"},
            {"@type": "cr:FileObject", "@id": "meta", "contentUrl": "meta.csv", "sha256": "00"},
            {"@type": "cr:FileSet", "@id": "imgs", "includes": "images/*.jpg"},
        ],
    }
    meta, imgs = read_manifest(_write(tmp_path / "croissant.json", json.dumps(doc, indent=1)))
    assert (meta.filename, meta.license, meta.source, meta.attribution, meta.is_pattern) == (
        "meta.csv",
        "CC-BY-SA-4.0",
        "https://example.org/ds",
        "Doe et al. 2024",
        False,
    )
    assert (imgs.filename, imgs.is_pattern) == ("images/*.jpg", True)


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("m.csv", "filename,license\na.png\n", "m.csv:2: expected 2 columns, got 1"),
        (
            "m.csv",
            "name-less,license\n",
            "m.csv:1: expected a header with a filename column, got name-less, license",
        ),
        ("m.csv", "", "m.csv: expected a CSV header and records, got an empty file"),
        (
            "m.csv",
            "filename,retention_days\na,7d\n",
            "m.csv:2: retention_days: expected a whole number of days, got '7d'",
        ),
        (
            "m.csv",
            "filename,attribution_needed\na,maybe\n",
            "m.csv:2: attribution_needed: expected yes or no, got 'maybe'",
        ),
        ("m.jsonl", '{"filename": "a"}\n[1]\n', "m.jsonl:2: expected a JSON object per line, got list"),
        ("m.json", '{"filename": ', "m.json:1: invalid JSON: Expecting value"),
        ("m.txt", "x", "m.txt: expected a .csv, .json, .jsonl or .jsonld manifest, got .txt"),
    ],
)
def test_malformed_manifests_are_one_line_errors(tmp_path: Path, name: str, text: str, message: str) -> None:
    path = _write(tmp_path / name, text)
    with pytest.raises(InputError) as info:
        read_manifest(path, display=name)
    assert str(info.value) == message


@pytest.mark.parametrize(
    ("url", "spdx"),
    [
        ("https://creativecommons.org/licenses/by-nc-nd/3.0/", "CC-BY-NC-ND-3.0"),
        ("https://creativecommons.org/publicdomain/zero/1.0/", "CC0-1.0"),
        ("https://spdx.org/licenses/Apache-2.0.html", "Apache-2.0"),
        ("MIT", "MIT"),
    ],
)
def test_licence_urls_become_spdx_ids(url: str, spdx: str) -> None:
    assert spdx_from_url(url) == spdx


@pytest.mark.parametrize(
    ("expression", "allowed", "denied_categories", "ok"),
    [
        ("MIT OR CC-BY-NC-4.0", [], ["non_commercial"], True),  # one acceptable choice suffices
        ("MIT AND CC-BY-NC-4.0", [], ["non_commercial"], False),  # every part must be acceptable
        ("GPL-2.0-or-later WITH Classpath-exception-2.0", [], ["share_alike"], False),
        ("LicenseRef-Vendor", [], ["non_commercial"], False),  # unknown terms: fail closed
        ("LicenseRef-Vendor", ["LicenseRef-Vendor"], ["non_commercial"], True),
        ("Apache-2.0", ["MIT"], [], False),
        ("CC-BY-SA-4.0", [], [], True),
    ],
)
def test_licence_verdicts(
    expression: str, allowed: list[str], denied_categories: list[str], ok: bool
) -> None:
    parsed, why = licences.parse(expression)
    assert parsed is not None, why
    assert licences.judge(parsed, allowed, [], denied_categories).allowed is ok


def test_attribution_needed_only_when_every_choice_needs_it() -> None:
    assert licences.needs_attribution(licences.parse("CC-BY-4.0")[0])
    assert not licences.needs_attribution(licences.parse("CC0-1.0 OR MIT")[0])
    assert licences.needs_attribution(licences.parse("CC0-1.0 AND MIT")[0])


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ("filename,source\nCafé.png,x\n".encode("latin-1"), "got byte 0xe9 at offset 19"),
        ("filename,source\na.png,x\n".encode("utf-16"), "got UTF-16 at offset 0"),
    ],
)
def test_non_utf8_manifest_names_the_problem_and_the_fix(tmp_path: Path, data: bytes, reason: str) -> None:
    path = tmp_path / "manifest.csv"
    path.write_bytes(data)
    with pytest.raises(InputError) as info:
        read_manifest(path)
    assert (
        str(info.value)
        == f"{path}: cannot read manifest: expected UTF-8 text, {reason}; save the file as UTF-8"
    )


def test_utf8_bom_manifest_from_a_spreadsheet_reads(tmp_path: Path) -> None:
    path = tmp_path / "manifest.csv"
    path.write_bytes("filename,source,license\nCafé.png,x,MIT\n".encode("utf-8-sig"))
    (record,) = read_manifest(path)
    assert record.filename == "Café.png" and record.license == "MIT"


def test_header_error_escapes_control_bytes_and_cuts_long_headers(tmp_path: Path) -> None:
    path = tmp_path / "manifest.csv"
    path.write_text("a\x00b,c\x1b[31m\n")
    with pytest.raises(InputError) as info:
        read_manifest(path)
    assert str(info.value) == f"{path}:1: expected a header with a filename column, got a\\x00b, c\\x1b[31m"
    path.write_text(",".join(f"column{i}" for i in range(100)) + "\n")
    with pytest.raises(InputError) as info:
        read_manifest(path)
    assert str(info.value).endswith(
        "got column0, column1, column2, column3, column4, column5, column6, column7, column8,..."
    )
