"""Store benchmarks: put/get and ingest with encryption on vs off, and `serve` under bounded load.

Run: ``.venv/bin/python -m pytest benchmarks/bench_store.py --benchmark-enable -s``

* put/get: the same store code path with AES-256-GCM envelope encryption, and with a pass-through
  envelope (the "encryption off" baseline a user would otherwise run: files + catalog + audit);
  objects/s and MB/s, ratio printed.
* ingest: the full pipeline (licence check, strip, redaction with an injected fixed detector so
  detection cost does not drown the store cost, verification, store), encryption on vs off.
* serve: ``veil store serve`` in its own process on 127.0.0.1, driven by this process with a
  bounded number of requests over a few keep-alive connections; requests/s and p50/p99 latency,
  next to Python's plain ``http.server`` serving the same bytes from a file (no token check, no
  decryption, no audit) as the baseline.

Every timed result is checked first (round trip equal, status 200 and the right bytes).
"""

from __future__ import annotations

import base64
import http.client
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from store.helpers import POLICY, FixedDetector, jpeg_bytes, make_store, new_key  # noqa: E402

from veilcv.core.pipeline import RedactOptions, Redactor  # noqa: E402
from veilcv.ingest import Ingestor  # noqa: E402
from veilcv.store import Store  # noqa: E402
from veilcv.store.access import sign  # noqa: E402
from veilcv.store.crypto import Envelope  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SIZES = {"200KB": 200_000, "2MB": 2_000_000}
N_OBJECTS = 40
N_REQUESTS = 1500
CONNECTIONS = 4


class PlainEnvelope:
    """Encryption off: the blob is the plaintext (benchmark baseline only)."""

    key_id = "plain"

    def seal(self, blob_id: str, plaintext: bytes) -> tuple[bytes, bytes]:
        return plaintext, b"-"

    def open(self, blob_id: str, blob: bytes, wrapped: bytes) -> bytes:
        return blob


def _store(tmp: Path, encrypted: bool) -> Store:
    store = make_store(tmp, new_key())
    if not encrypted:
        store._envelope = PlainEnvelope()  # type: ignore[assignment]
    return store


def _put_get_rate(tmp: Path, encrypted: bool, size: int) -> tuple[float, float]:
    payload = np.random.default_rng(0).integers(0, 256, size, dtype=np.uint8).tobytes()
    store = _store(tmp, encrypted)
    keys = [f"redacted/bench/{i:05d}.jpg" for i in range(N_OBJECTS)]
    t0 = time.perf_counter()
    for k in keys:
        store.put(k, payload, role="writer", actor="bench")
    t1 = time.perf_counter()
    for k in keys:
        assert store.get(k, role="reader", actor="bench") == payload
    t2 = time.perf_counter()
    store.close()
    return t1 - t0, t2 - t1


@pytest.mark.parametrize("size_name", list(SIZES))
def test_put_get_encryption_on_vs_off(benchmark, tmp_path: Path, size_name: str) -> None:
    size = SIZES[size_name]
    runs: dict[bool, list[tuple[float, float]]] = {False: [], True: []}
    for r in range(3):  # interleaved, baseline first, so drifting load hits both alike
        for encrypted in (False, True):
            runs[encrypted].append(_put_get_rate(tmp_path / f"{encrypted}-{r}", encrypted, size))
    results = {}
    for encrypted in (False, True):
        put_s = min(x[0] for x in runs[encrypted])
        get_s = min(x[1] for x in runs[encrypted])
        results[encrypted] = (put_s, get_s)
        label = "encrypted" if encrypted else "plain    "
        print(
            f"\n[store {size_name}] {label}: put {N_OBJECTS / put_s:8.1f} obj/s "
            f"{N_OBJECTS * size / put_s / 1e6:7.1f} MB/s"
            f" | get {N_OBJECTS / get_s:8.1f} obj/s {N_OBJECTS * size / get_s / 1e6:7.1f} MB/s"
        )
    envelope = Envelope(new_key())
    payload = os.urandom(size)
    blob, wrapped = envelope.seal("b", payload)
    assert envelope.open("b", blob, wrapped) == payload
    t0 = time.perf_counter()
    for _ in range(20):
        envelope.seal("b", payload)
    t1 = time.perf_counter()
    for _ in range(20):
        envelope.open("b", blob, wrapped)
    t2 = time.perf_counter()
    for _ in range(20):
        bytearray(payload)  # a plain copy of the same bytes: the floor
    t3 = time.perf_counter()
    print(
        f"[crypto {size_name}] AES-256-GCM seal {20 * size / (t1 - t0) / 1e6:7.0f} MB/s, "
        f"open {20 * size / (t2 - t1) / 1e6:7.0f} MB/s, memory copy {20 * size / (t3 - t2) / 1e6:7.0f} MB/s"
    )
    put_ratio = results[True][0] / results[False][0]
    get_ratio = results[True][1] / results[False][1]
    print(f"[store {size_name}] encryption costs x{put_ratio:.2f} put time, x{get_ratio:.2f} get time")
    benchmark.extra_info.update(
        {"put_ratio_enc_over_plain": put_ratio, "get_ratio_enc_over_plain": get_ratio}
    )
    counter = iter(range(10**9))
    store = _store(tmp_path / "bench", True)
    payload = os.urandom(size)
    benchmark.pedantic(
        lambda: store.put(f"redacted/b/{next(counter)}.jpg", payload, role="writer", actor="b"),
        rounds=20,
        iterations=1,
    )
    store.close()


def _dataset(root: Path, n: int) -> tuple[Path, Path, int]:
    src = root / "src"
    src.mkdir(parents=True)
    rows = ["filename,source,license"]
    total = 0
    for i in range(n):
        data = jpeg_bytes(i, (480, 640), gps=True)
        total += len(data)
        (src / f"{i:04d}.jpg").write_bytes(data)
        rows.append(f"{i:04d}.jpg,https://example.org/{i},CC-BY-4.0")
    manifest = root / "manifest.csv"
    manifest.write_text("\n".join(rows) + "\n")
    return src, manifest, total


def test_ingest_encryption_on_vs_off(benchmark, tmp_path: Path) -> None:
    n = 40
    src, manifest, total = _dataset(tmp_path, n)
    redactor = Redactor(RedactOptions(what=("face",), strict=True), detectors={"face": FixedDetector()})
    times = {}
    for encrypted in (False, True):
        best = float("inf")
        for r in range(2):
            store = _store(tmp_path / f"ingest-{encrypted}-{r}", encrypted)
            t0 = time.perf_counter()
            report = Ingestor(store, POLICY, redactor).run(src, manifest, jobs=2)
            best = min(best, time.perf_counter() - t0)
            assert report.counts["stored"] == n
            store.close()
        times[encrypted] = best
        label = "encrypted" if encrypted else "plain    "
        print(
            f"\n[ingest 640x480 JPEG, fixed detector] {label}: {n / best:6.1f} obj/s "
            f"{total / best / 1e6:6.2f} MB/s"
        )
    print(f"[ingest] encryption costs x{times[True] / times[False]:.3f} of the ingest time")
    benchmark.extra_info["ingest_ratio_enc_over_plain"] = times[True] / times[False]
    store = _store(tmp_path / "ingest-bench", True)
    benchmark.pedantic(
        lambda: Ingestor(store, POLICY, redactor).run(src, manifest, jobs=2), rounds=1, iterations=1
    )
    store.close()


def _load(port: int, path: str, expect: bytes) -> tuple[float, list[float]]:
    """N_REQUESTS GETs over CONNECTIONS keep-alive connections; (seconds, latencies)."""
    per = N_REQUESTS // CONNECTIONS
    latencies: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        mine = []
        for _ in range(per):
            t = time.perf_counter()
            conn.request("GET", path)
            resp = conn.getresponse()
            body = resp.read()
            mine.append(time.perf_counter() - t)
            assert resp.status == 200 and body == expect
        conn.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=worker) for _ in range(CONNECTIONS)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    return time.perf_counter() - t0, latencies


def _start(cmd: list[str], env: dict[str, str], pattern: str) -> tuple[subprocess.Popen, int]:
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=REPO)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stdout.readline().decode()
        m = re.search(pattern, line)
        if m:  # keep draining its log so a full pipe never blocks the server
            threading.Thread(target=lambda: [None for _ in proc.stdout], daemon=True).start()
            return proc, int(m.group(1))
    proc.kill()
    raise AssertionError("server did not start")


def test_serve_under_bounded_load(benchmark, tmp_path: Path) -> None:
    payload = jpeg_bytes(0, (240, 320))
    key = new_key()
    env = {**os.environ, "VEIL_MASTER_KEY": base64.b64encode(key.raw).decode()}
    store = make_store(tmp_path / "vault", key)
    store.put("redacted/x.jpg", payload, role="writer", actor="bench")
    token = sign(store, "redacted/x.jpg", role="reader", ttl=600, actor="bench")
    store.close()
    veil = [
        sys.executable,
        "-m",
        "veilcv",
        "store",
        "serve",
        "--port",
        "0",
        "--store",
        str(tmp_path / "vault"),
    ]
    policy = tmp_path / "veil.yaml"
    import yaml

    policy.write_text(
        yaml.safe_dump({"version": 1, "retention": POLICY["retention"], "storage": POLICY["storage"]})
    )
    proc, port = _start([*veil, "--policy", str(policy)], env, r"127\.0\.0\.1:(\d+)")
    static = tmp_path / "static"
    static.mkdir()
    (static / "x.jpg").write_bytes(payload)
    base, bport = _start(
        [sys.executable, "-u", "-m", "http.server", "0", "--bind", "127.0.0.1", "-d", str(static)],
        env,
        r"port (\d+)",
    )
    try:
        results = {}
        for name, p, path in (
            ("http.server static file", bport, "/x.jpg"),
            ("veil store serve", port, f"/o/redacted/x.jpg?token={token}"),
        ):
            seconds, lat = _load(p, path, payload)
            lat_ms = np.array(lat) * 1000
            results[name] = len(lat) / seconds
            print(
                f"\n[serve {len(payload) / 1e3:.0f} KB, {len(lat)} req, {CONNECTIONS} conns] {name}: "
                f"{len(lat) / seconds:7.1f} req/s  p50 {np.percentile(lat_ms, 50):6.2f} ms  "
                f"p99 {np.percentile(lat_ms, 99):6.2f} ms"
            )
        ratio = results["veil store serve"] / results["http.server static file"]
        print(f"[serve] veil serve reaches {ratio:.2f}x the req/s of the unauthenticated static baseline")
        benchmark.extra_info["serve_ratio_over_static"] = ratio
        benchmark.pedantic(
            lambda: _load(port, f"/o/redacted/x.jpg?token={token}", payload), rounds=1, iterations=1
        )
    finally:
        for p in (proc, base):
            p.terminate()
            p.wait(timeout=30)


def test_ingest_with_the_real_face_model(benchmark, tmp_path: Path) -> None:
    """The same ingest with the real detector: detection dominates, encryption is noise."""
    from veilcv.errors import ModelError

    redactor = Redactor(RedactOptions(what=("face",), strict=False))
    try:
        redactor.load()
    except ModelError as exc:
        pytest.skip(f"face model unavailable: {exc}")
    n = 16
    src, manifest, total = _dataset(tmp_path, n)
    times = {}
    for encrypted in (False, True):
        store = _store(tmp_path / f"real-{encrypted}", encrypted)
        t0 = time.perf_counter()
        report = Ingestor(store, POLICY, redactor).run(src, manifest, jobs=2)
        times[encrypted] = time.perf_counter() - t0
        assert report.counts["stored"] == n, report.outcomes[0]
        store.close()
        label = "encrypted" if encrypted else "plain    "
        print(
            f"\n[ingest 640x480 JPEG, CenterFace] {label}: {n / times[encrypted]:6.1f} obj/s "
            f"{total / times[encrypted] / 1e6:6.2f} MB/s"
        )
    print(f"[ingest, real model] encryption costs x{times[True] / times[False]:.3f} of the ingest time")
    benchmark.extra_info["real_ingest_ratio_enc_over_plain"] = times[True] / times[False]
    benchmark.pedantic(lambda: None, rounds=1, iterations=1)
