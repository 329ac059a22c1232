"""The payload classifier that the lint rules and the runtime telemetry gate share."""

from __future__ import annotations

import base64
import zlib

import pytest

from veilcv.telemetry.classify import KINDS, POLICY_KINDS, classify_key, classify_value, scan

PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + bytes(range(120))).decode()
JPEG_URLSAFE = base64.urlsafe_b64encode(b"\xff\xd8\xff\xe0" + bytes(range(250, 256)) * 20).decode()
BLOB = base64.b64encode(zlib.compress(b"x" * 400) + bytes(range(40))).decode()


@pytest.mark.parametrize(
    ("key", "value", "kinds"),
    [
        # allowed aggregates stay clean
        ("event", "ingest.summary", []),
        ("count", 12, []),
        ("hour", "2026-11-26T15", []),
        ("ok", True, []),
        ("missing", None, []),
        ("sha256", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", []),
        ("version", "1.2.3", []),
        ("image_count", 3, []),
        ("frame", "left", []),
        ("score", [0.5123, 0.2511], []),
        ("box", [10.5, 20.25], []),
        ("model_name", "yunet v2", []),
        ("url", "https://example.org/docs", []),
        # image bytes
        ("x", "data:image/jpeg;base64,/9j/4AAQ", ["image_bytes"]),
        ("x", PNG, ["image_bytes"]),
        ("x", JPEG_URLSAFE, ["image_bytes"]),
        ("raw", b"\xff\xd8\xff\xe0\x00\x10JFIF", ["image_bytes"]),
        ("pixels", list(range(256)), ["image_bytes"]),
        ("thumb", "\xff\xd8\xff\xe0\x00\x10JFIF", ["image_bytes"]),
        # other blobs
        ("x", BLOB, ["base64"]),
        ("x", "data:application/octet-stream;base64,AAAA", ["base64"]),
        ("x", "ab" * 100, ["base64"]),
        ("state", b"\x00\x01\x02", ["base64"]),
        # paths
        ("x", "/data/raw/cam1/frame_0001.jpg", ["path"]),
        ("frame", "/data/raw/cam1/frame_0001.jpg", ["path"]),
        ("x", "frame_0001.PNG", ["path"]),
        ("x", "C:\\Users\\me\\x.jpg", ["path"]),
        ("x", "s3://acme-frames/raw/x", ["path"]),
        ("x", "~/datasets/raw", ["path"]),
        ("x", "../raw/cam1", ["path"]),
        ("dir", "raw", ["path"]),
        # gps
        ("lat", 48.85, ["gps"]),
        ("longitude", "2.2945", ["gps"]),
        ("x", [48.858412, 2.294513], ["gps"]),
        ("x", "48.8584, 2.2945", ["gps"]),
        ("x", "48°51'30\"N", ["gps"]),
        ("x", {"latitude": 1, "longitude": 2}, ["gps"]),
        # free text
        ("x", "Saw a man in a red coat near the station", ["free_text"]),
        ("note", "ok", ["free_text"]),
        # identifiers and faces
        ("x", "jane.doe@example.com", ["identifier"]),
        ("x", "192.168.10.7", ["identifier"]),
        ("x", "fe80::1ff:fe23:4567:890a", ["identifier"]),
        ("x", "00:1A:2B:3C:4D:5E", ["identifier"]),
        ("x", "+44 20 7946 0958", ["identifier"]),
        ("user_id", 42, ["identifier"]),
        ("face_embedding", [0.01] * 128, ["face"]),
    ],
)
def test_classify_value(key: str, value: object, kinds: list[str]) -> None:
    assert classify_value(key, value) == kinds


def test_kinds_come_back_in_a_stable_order_and_policy_names_map() -> None:
    assert classify_value("x", "/home/jane doe/notes about the station trip.jpg") in (["free_text"], ["path"])
    assert set(POLICY_KINDS.values()) == set(KINDS)
    assert POLICY_KINDS["paths"] == "path" and POLICY_KINDS["faces"] == "face"


@pytest.mark.parametrize(
    ("key", "kinds"),
    [
        ("frameImagePath", ["path"]),
        ("thumbnail_b64", ["image_bytes", "base64"]),
        ("gps_lat", ["gps"]),
        ("caption", ["free_text"]),
        ("clientIp", ["identifier"]),
        ("faceEmbedding", ["face"]),
        ("count", []),
        ("hour", []),
    ],
)
def test_classify_key(key: str, kinds: list[str]) -> None:
    assert classify_key(key) == kinds


def test_scan_walks_nested_values_and_reports_paths_once() -> None:
    event = {
        "event": "x",
        "meta": {"frame_path": "/x/y.jpg", "pts": [[48.858412, 2.294513]], "where": {"lat": 1.5, "lon": 2.5}},
        "pixels": list(range(100)),
    }
    assert sorted(scan(event)) == [
        ("$.meta.frame_path", "path"),
        ("$.meta.pts[0]", "gps"),
        ("$.meta.where.lat", "gps"),
        ("$.meta.where.lon", "gps"),
        ("$.pixels", "image_bytes"),
    ]
