"""`veil check --only storage` against Checkov on the same generated Terraform tree, in the same run.

Run: .venv/bin/python -m pytest benchmarks/bench_checkov.py --benchmark-enable -s

The tree: MODULES directories, each with BUCKETS_PER_MODULE ``aws_s3_bucket`` resources hardened
through companion resources (public access block, SSE, versioning, logging, lifecycle, TLS-only
policy), one companion left out per bucket in a fixed rotation, plus an object-locked log bucket.
Two trees: ``storage``, only those files (every file concerns storage: the worst case for veilcv,
which must parse all of it), and ``mixed``, the same files plus FILLER_PER_BUCKET files of
compute and network resources (security groups, instances) per bucket file, so storage is one
file in five; veilcv reads those files but does not parse them, Checkov parses them all.
veilcv's findings are checked against the construction before anything is timed.

Checkov is installed by this file into its own virtual environment under the temp directory
(``veilcv-bench-checkov``; set ``VEILCV_CHECKOV`` to an existing ``checkov`` executable to reuse
one) and run with ``--check`` limited to its checks for the same storage properties. When it
cannot be installed the Checkov side is skipped. Checkov is timed as its CLI (interpreter
start-up included, which is part of what a user waits for; ``checkov --version`` alone is timed as
its start-up). Ours is timed two ways, each cold (``VEILCV_NO_CACHE=1``: every file parsed in every
round) and warm (the parse cache filled by the first run, as in a second ``veil check`` or
pre-commit run over unchanged files): in-process through the engine (no interpreter start-up,
imports done) and as the ``veil check`` CLI in a subprocess, start-up included. The summary prints
like-for-like ratios: CLI against CLI, and in-process against Checkov less its start-up; the
in-process-against-Checkov-CLI ratio mixes the two and is labelled so.

The pre-commit hook is timed as it runs: ``veil check --only storage <one changed .tf file>`` from
the tree's root, a new process each time, with the parse cache cold and warm; its findings are
checked first against the whole-tree run's for that file. Before anything is timed the package is
byte-compiled, as installing it does (a checkout under ``PYTHONDONTWRITEBYTECODE`` would otherwise
compile every edited module again on every run).

Measured on a shared 2-core VM (Checkov 3.3.30, the package byte-compiled; wall seconds and
ratio to Checkov, ranges over five runs of this file with the files the cache lacks parsed on
both cores when the second is idle; "before": earlier the same day, serial parsing, four runs):

    seconds (x Checkov)                  storage, 410 files    mixed, 2,010 files
    Checkov CLI                          5.4-5.9               9.6-10.1
    veil check CLI, cold parse cache     0.24-0.29 (19.5-23x)  0.28-0.34 (28-34x)
      before                             0.31-0.35 (17-20x)    0.37-0.46 (25-34x)
    veil check CLI, warm parse cache     0.18-0.22 (26-31x)    0.22-0.25 (39-44x)
    hook, one changed file, cold cache   0.12-0.14             0.14-0.18
    hook, one changed file, warm cache   0.12-0.14             0.13-0.16
      before the hook's scope (warm)     0.28                  0.34

The storage tree is the hard case: every file is a storage file, so a cold check is mostly
tree-sitter's parse (about 80 ms on one core) and turning its nodes into blocks (about 35 ms),
shared out to a forked child where that pays (``storage/parallel.py``); the rest is start-up
(about 0.1 s: interpreter, typer, the rule families) and the joins.
"""

from __future__ import annotations

import compileall
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import pytest

import veilcv
from veilcv.linter import engine
from veilcv.policies.loader import load_policy_source

MODULES = 10
BUCKETS_PER_MODULE = 40
# Checkov's checks for the properties veilcv's storage rules cover (AWS S3).
CHECKOV_CHECKS = [
    "CKV_AWS_18",  # access logging
    "CKV_AWS_19",  # encryption at rest
    "CKV_AWS_145",  # encrypted with a KMS customer-managed key
    "CKV_AWS_20",  # no public READ ACL
    "CKV_AWS_57",  # no public WRITE ACL
    "CKV_AWS_21",  # versioning
    "CKV2_AWS_6",  # public access block
    "CKV_AWS_53",  # block_public_acls
    "CKV_AWS_54",  # block_public_policy
    "CKV_AWS_55",  # ignore_public_acls
    "CKV_AWS_56",  # restrict_public_buckets
    "CKV2_AWS_61",  # lifecycle configuration
    "CKV_AWS_70",  # no Allow for Principal "*"
]
# Which companion each bucket leaves out (by index modulo the list) and the veilcv rule that fires.
# Without an SSE configuration S3 still encrypts (SSE-S3 by default since 2023): the default pack's
# storage.encryption: provider_default passes it, as Checkov's CKV_AWS_19 does (strict reports
# VC203), but not with a customer-managed key: VC204, as Checkov's CKV_AWS_145.
DROPS = [None, "pab", "sse", "versioning", "logging", "lifecycle", "policy", None]
DROP_RULE = {"pab": "VC202", "sse": "VC204", "versioning": "VC205", "logging": "VC206",
             "lifecycle": "VC208", "policy": "VC212"}  # fmt: skip
RESULTS: dict[str, float] = {}
TREES = {"storage": 0, "mixed": 4}  # tree name -> non-storage files per bucket file
_FILLER = """resource "aws_security_group" "web_{i}" {{
  name   = "web-{i}"
  vpc_id = aws_vpc.main.id
  ingress {{
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = ["10.0.0.0/8"]
  }}
  tags = {{ Name = "web-{i}", Team = "ml" }}
}}

resource "aws_instance" "web_{i}" {{
  ami                    = "ami-0123456789abcdef0"
  instance_type          = "t3.micro"
  vpc_security_group_ids = [aws_security_group.web_{i}.id]
  root_block_device {{
    volume_size = 20
    encrypted   = true
  }}
}}
"""

_COMPANIONS = {
    "pab": """resource "aws_s3_bucket_public_access_block" "{n}" {{
  bucket                  = aws_s3_bucket.{n}.id
  block_public_acls       = true
  ignore_public_acls      = true
  block_public_policy     = true
  restrict_public_buckets = true
}}
""",
    "sse": """resource "aws_s3_bucket_server_side_encryption_configuration" "{n}" {{
  bucket = aws_s3_bucket.{n}.id
  rule {{
    apply_server_side_encryption_by_default {{
      sse_algorithm     = "aws:kms"
      kms_master_key_id = "arn:aws:kms:eu-west-1:123456789012:key/{n}"
    }}
  }}
}}
""",
    "versioning": """resource "aws_s3_bucket_versioning" "{n}" {{
  bucket = aws_s3_bucket.{n}.id
  versioning_configuration {{
    status = "Enabled"
  }}
}}
""",
    "logging": """resource "aws_s3_bucket_logging" "{n}" {{
  bucket        = aws_s3_bucket.{n}.id
  target_bucket = aws_s3_bucket.logs.id
  target_prefix = "{n}/"
}}
""",
    "lifecycle": """resource "aws_s3_bucket_lifecycle_configuration" "{n}" {{
  bucket = aws_s3_bucket.{n}.id
  rule {{
    id     = "raw"
    status = "Enabled"
    filter {{
      prefix = "raw/"
    }}
    expiration {{
      days = 7
    }}
  }}
}}
""",
    "policy": """resource "aws_s3_bucket_policy" "{n}" {{
  bucket = aws_s3_bucket.{n}.id
  policy = jsonencode({{
    Version = "2012-10-17"
    Statement = [{{
      Effect    = "Deny"
      Principal = "*"
      Action    = "s3:*"
      Resource  = [aws_s3_bucket.{n}.arn, "${{aws_s3_bucket.{n}.arn}}/*"]
      Condition = {{ Bool = {{ "aws:SecureTransport" = "false" }} }}
    }}]
  }})
}}
""",
}
_LOGS = (
    'resource "aws_s3_bucket" "logs" {\n  bucket              = "acme-logs-{m}"\n'
    "  object_lock_enabled = true\n}\n"
    + "".join(_COMPANIONS[k].replace("{n}", "logs").replace("{{", "{").replace("}}", "}")
              for k in ("pab", "sse", "versioning", "policy"))
    + 'resource "aws_s3_bucket_object_lock_configuration" "logs" {\n  bucket = aws_s3_bucket.logs.id\n'
    '  rule {\n    default_retention {\n      mode = "COMPLIANCE"\n      days = 400\n    }\n  }\n}\n'
)  # fmt: skip


def make_tree(root: Path, filler: int = 0) -> Counter[str]:
    """Write the tree; return the veilcv findings the construction implies, per rule."""
    expected: Counter[str] = Counter()
    for m in range(MODULES):
        module = root / f"module_{m:02d}"
        module.mkdir(parents=True)
        (module / "logs.tf").write_text(_LOGS.replace("{m}", str(m)), encoding="utf-8")
        expected["VC208"] += 1  # the log bucket keeps its logs forever (Checkov: CKV2_AWS_61 too)
        for i in range(BUCKETS_PER_MODULE):
            name = f"frames_{i:03d}"
            drop = DROPS[(m + i) % len(DROPS)]
            parts = [f'resource "aws_s3_bucket" "{name}" {{\n  bucket = "acme-{m}-{name}"\n}}\n']
            parts += [tpl.format(n=name) for key, tpl in _COMPANIONS.items() if key != drop]
            (module / f"{name}.tf").write_text("\n".join(parts), encoding="utf-8")
            for k in range(filler):
                n = i * filler + k
                (module / f"compute_{n:04d}.tf").write_text(_FILLER.format(i=n), encoding="utf-8")
            if drop and DROP_RULE[drop]:
                expected[DROP_RULE[drop]] += 1
    return expected


Tree = tuple[str, Path, Counter[str]]
HOOK_FILE = "module_03/frames_001.tf"  # the file a commit changed (it leaves out its access logging)


@pytest.fixture(scope="module", autouse=True)
def _bytecode() -> None:
    """Compile the package's bytecode as an install does, so that no run pays for compiling it."""
    compileall.compile_dir(Path(veilcv.__file__).parent, quiet=1)


@pytest.fixture(scope="module", params=list(TREES))
def tree(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Tree:
    root = tmp_path_factory.mktemp(f"tf-{request.param}")
    return request.param, root, make_tree(root, TREES[request.param])


def _checkov() -> str | None:
    """A checkov executable: $VEILCV_CHECKOV, or one installed into a private venv (once)."""
    given = os.environ.get("VEILCV_CHECKOV")
    if given:
        return given if Path(given).is_file() else None
    venv = Path(tempfile.gettempdir()) / "veilcv-bench-checkov"
    exe = venv / "bin" / "checkov"
    if exe.is_file():
        return str(exe)
    try:
        subprocess.run(
            [sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True, timeout=300
        )
        subprocess.run(
            [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "checkov"],
            check=True, capture_output=True, timeout=1800,
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return None
    return str(exe) if exe.is_file() else None


def _run_checkov(exe: str, root: Path) -> dict:
    cmd = [exe, "-d", str(root), "--framework", "terraform", "--check", ",".join(CHECKOV_CHECKS),
           "-o", "json", "--quiet", "--compact", "--skip-download"]  # fmt: skip
    env = {**os.environ, "BC_SKIP_MAPPING": "TRUE", "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "false"}
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=1800)
    if out.returncode not in (0, 1):
        raise RuntimeError(f"checkov failed ({out.returncode}): {out.stderr.strip()[-500:]}")
    doc = json.loads(out.stdout)
    return doc[0] if isinstance(doc, list) else doc


def _ours(root: Path) -> Counter[str]:
    report = engine.check(root, load_policy_source(None), only=["storage"])
    return Counter(f.rule_id for f in report.findings)


@pytest.mark.parametrize("cache", ["cold", "warm"])
def test_veil_storage_check(
    benchmark, tree: Tree, cache: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """cold: every file parsed in every round (no parse cache); warm: unchanged files come from it."""
    name, root, expected = tree
    if cache == "cold":
        monkeypatch.setenv("VEILCV_NO_CACHE", "1")
    else:
        monkeypatch.delenv("VEILCV_NO_CACHE", raising=False)
        monkeypatch.setenv("VEILCV_CACHE_DIR", str(tmp_path / "cache"))
    assert _ours(root) == expected  # result first (and, warm, the run that fills the cache)
    if benchmark.disabled:
        t0 = time.perf_counter()
        _ours(root)
        RESULTS[f"{name}/veil_{cache}"] = time.perf_counter() - t0
    else:
        benchmark.pedantic(_ours, args=(root,), rounds=3, iterations=1)
        RESULTS[f"{name}/veil_{cache}"] = benchmark.stats.stats.mean
    benchmark.extra_info.update(files=sum(1 for _ in root.rglob("*.tf")), cache=cache)


def _veil_script(cache: str, tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """The installed veil console script, and its environment for a cold (no cache) or warm run."""
    exe = Path(sys.executable).with_name("veil")
    if not exe.is_file():
        pytest.skip("the veil console script is not installed beside this interpreter")
    env = {k: v for k, v in os.environ.items() if k not in ("VEILCV_NO_CACHE", "VEILCV_CACHE_DIR")}
    env.update({"VEILCV_NO_CACHE": "1"} if cache == "cold" else {"VEILCV_CACHE_DIR": str(tmp_path / "c")})
    return exe, env


def _run_veil(cmd: list[str], env: dict[str, str], cwd: Path | None = None) -> str:
    """Run ``veil check`` (exit 0 clean, 1 findings); its standard output."""
    done = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=env, timeout=600)
    if done.returncode not in (0, 1):
        raise RuntimeError(f"veil check failed ({done.returncode}): {done.stderr.strip()[-500:]}")
    return done.stdout


def _veil_cli(exe: Path, root: Path, out: Path, env: dict[str, str]) -> Counter[str]:
    _run_veil([str(exe), "check", str(root), "--only", "storage", "-f", "json", "-o", str(out)], env)
    doc = json.loads(out.read_text(encoding="utf-8"))
    return Counter(f["rule_id"] for f in doc["findings"])


@pytest.mark.parametrize("cache", ["cold", "warm"])
def test_veil_cli_storage_check(benchmark, tree: Tree, cache: str, tmp_path: Path) -> None:
    """`veil check` as a user runs it: a new interpreter per run, start-up and imports included."""
    exe, env = _veil_script(cache, tmp_path)
    name, root, expected = tree
    out = tmp_path / "report.json"
    assert _veil_cli(exe, root, out, env) == expected  # result first (warm: fills the cache)
    t0 = time.perf_counter()
    subprocess.run([str(exe), "--version"], capture_output=True, check=True)
    RESULTS["veil_startup"] = time.perf_counter() - t0
    if benchmark.disabled:
        t0 = time.perf_counter()
        _veil_cli(exe, root, out, env)
        RESULTS[f"{name}/cli_{cache}"] = time.perf_counter() - t0
    else:
        benchmark.pedantic(_veil_cli, args=(exe, root, out, env), rounds=3, iterations=1)
        RESULTS[f"{name}/cli_{cache}"] = benchmark.stats.stats.mean


def _hook(exe: Path, root: Path, env: dict[str, str]) -> set[tuple[str, str, int]]:
    out = _run_veil([str(exe), "check", "--only", "storage", "-f", "json", HOOK_FILE], env, cwd=root)
    return {(f["rule_id"], f["file"], f["line"]) for f in json.loads(out)["findings"]}


@pytest.mark.parametrize("cache", ["cold", "warm"])
def test_veil_precommit_hook_one_file(benchmark, tree: Tree, cache: str, tmp_path: Path) -> None:
    """The veil-check-storage hook on one changed file: `veil check --only storage FILE` in the tree."""
    exe, env = _veil_script(cache, tmp_path)
    name, root, _ = tree
    whole = engine.check(root, load_policy_source(None), only=["storage"])
    expected = {(f.rule_id, f.file, f.line) for f in whole.findings if f.file == HOOK_FILE}
    assert expected and _hook(exe, root, env) == expected  # result first (warm: fills the cache)
    if benchmark.disabled:
        t0 = time.perf_counter()
        _hook(exe, root, env)
        RESULTS[f"{name}/hook_{cache}"] = time.perf_counter() - t0
    else:
        benchmark.pedantic(_hook, args=(exe, root, env), rounds=5, iterations=1)
        RESULTS[f"{name}/hook_{cache}"] = benchmark.stats.stats.mean


def test_checkov_same_checks(benchmark, tree: Tree) -> None:
    exe = _checkov()
    if exe is None:
        pytest.skip("checkov could not be installed into its own environment")
    name, root, expected = tree
    result = _run_checkov(exe, root)  # result first, and warms Checkov's caches
    failed = Counter(c["check_id"] for c in result.get("results", {}).get("failed_checks", []))
    assert failed, "checkov reported no failed checks on a tree with missing companions"
    t0 = time.perf_counter()
    subprocess.run([exe, "--version"], capture_output=True, check=True)
    RESULTS["checkov_startup"] = time.perf_counter() - t0
    if benchmark.disabled:
        t0 = time.perf_counter()
        _run_checkov(exe, root)
        RESULTS[f"{name}/checkov"] = time.perf_counter() - t0
    else:
        benchmark.pedantic(_run_checkov, args=(exe, root), rounds=1, iterations=1)
        RESULTS[f"{name}/checkov"] = benchmark.stats.stats.mean
    buckets = MODULES * BUCKETS_PER_MODULE
    print(f"\n{name} tree: checkov failed checks on {buckets} buckets: {dict(sorted(failed.items()))}")
    print(f"veilcv findings on the same tree:      {dict(sorted(expected.items()))}")


def teardown_module() -> None:
    for name in TREES:
        if f"{name}/checkov" in RESULTS:
            _summary(name)


def _summary(name: str) -> None:
    checkov, startup = RESULTS[f"{name}/checkov"], RESULTS.get("checkov_startup", 0.0)
    print(
        f"\n{name} tree, storage checks on {MODULES * BUCKETS_PER_MODULE} buckets ({MODULES} modules):"
        f" checkov CLI {checkov:.2f} s (start-up alone {startup:.2f} s)"
    )
    veil_startup = RESULTS.get("veil_startup", 0.0)
    for cache in ("cold", "warm"):
        cli = RESULTS.get(f"{name}/cli_{cache}")
        if cli:
            print(
                f"  veil check CLI, {cache} parse cache: {cli:.2f} s (start-up alone"
                f" {veil_startup:.2f} s): {checkov / cli:.1f}x faster, CLI vs CLI"
            )
        hook = RESULTS.get(f"{name}/hook_{cache}")
        if hook:
            print(f"  pre-commit hook on one changed .tf file (CLI), {cache} parse cache: {hook:.3f} s")
        ours = RESULTS.get(f"{name}/veil_{cache}")
        if ours:
            print(
                f"  veil in-process, {cache} parse cache: {ours:.2f} s:"
                f" {(checkov - startup) / ours:.1f}x faster than checkov less its start-up"
                f" ({checkov / ours:.1f}x against the whole checkov CLI: mixed basis)"
            )
