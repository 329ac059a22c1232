"""Module sources as Terraform reads them: git, archive and registry spellings of the modelled
modules, a monorepo calling itself through git, and no module call that passes in silence."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from veilcv.linter.rules.storage.tf_sources import git_remotes, parse_source, repo_id

S3 = "terraform-aws-modules/s3-bucket/aws"
S3_REPO = "github.com/terraform-aws-modules/terraform-aws-s3-bucket"
GCS = "terraform-google-modules/cloud-storage/google"


@pytest.mark.parametrize(
    ("source", "kind", "module", "ref", "version"),
    [
        (f"git::https://{S3_REPO}.git?ref=v4.1.2", "git", S3, "v4.1.2", "4.1.2"),
        (f"{S3_REPO}?ref=v3.15.1", "git", S3, "v3.15.1", "3.15.1"),
        ("git@github.com:terraform-aws-modules/terraform-aws-s3-bucket.git", "git", S3, None, None),
        (f"git::ssh://git@{S3_REPO}.git?ref=4.1.2", "git", S3, "4.1.2", "4.1.2"),
        (f"git::https://{S3_REPO}.git?ref=master", "git", S3, "master", None),
        (f"git::https://{S3_REPO}.git?ref=0a1b2c3d4e5f", "git", S3, "0a1b2c3d4e5f", None),
        (
            "git::https://github.com/terraform-google-modules/terraform-google-cloud-storage.git"
            "//modules/simple_bucket?ref=v6.0.0",
            "git",
            f"{GCS}//modules/simple_bucket",
            "v6.0.0",
            "6.0.0",
        ),
        (  # go-getter also takes the query before the folder
            "git::https://github.com/terraform-google-modules/terraform-google-cloud-storage.git?ref=v6.0.0"
            "//modules/simple_bucket",
            "git",
            f"{GCS}//modules/simple_bucket",
            "v6.0.0",
            "6.0.0",
        ),
        (
            "github.com/Azure/terraform-azurerm-avm-res-storage-storageaccount?ref=v0.5.0",
            "git",
            "azure/avm-res-storage-storageaccount/azurerm",
            "v0.5.0",
            "0.5.0",
        ),
        (f"registry.terraform.io/{S3}", "registry", S3, None, None),
        (f"{GCS}//modules/simple_bucket", "registry", f"{GCS}//modules/simple_bucket", None, None),
        (
            f"https://{S3_REPO}/archive/refs/tags/v4.1.2.tar.gz//terraform-aws-s3-bucket-4.1.2",
            "archive",
            S3,
            "v4.1.2",
            "4.1.2",
        ),
        (f"https://codeload.{S3_REPO}/zip/refs/tags/v4.1.2?archive=zip", "archive", S3, "v4.1.2", "4.1.2"),
        ("git::https://gitlab.com/terraform-aws-modules/terraform-aws-s3-bucket.git", "git", "", None, None),
        ("github.com/acme/infra//modules/bucket?ref=v1.2.0", "git", "", "v1.2.0", "1.2.0"),
        # build metadata names no other release (as in a version constraint); + is escaped in a query
        ("github.com/acme/infra//modules/bucket?ref=v1.2.0%2Bb7", "git", "", "v1.2.0+b7", "1.2.0"),
        ("github.com/acme/infra//modules/bucket?ref=v1.3.0-rc.1", "git", "", "v1.3.0-rc.1", "1.3.0-rc.1"),
        ("s3::https://s3-eu-west-1.amazonaws.com/acme/vpc.zip", "other", "", None, None),
        ("${var.source}", "expression", "", None, None),
        ("./modules/bucket", "local", "", None, None),
    ],
)
def test_sources_are_taken_apart_as_terraform_does(source, kind, module, ref, version) -> None:
    src = parse_source(source)
    assert (src.kind, src.module, src.ref, src.version) == (kind, module, ref, version)


def test_a_private_registry_is_not_the_public_one() -> None:
    src = parse_source(f"app.terraform.io/{S3}")
    assert (src.kind, src.module, src.host) == ("registry", S3, "app.terraform.io")
    assert parse_source(f"registry.opentofu.org/{S3}").host == ""


@pytest.mark.parametrize(
    "url",
    [
        "git@github.com:Acme/infra.git",
        "https://github.com/acme/infra.git",
        "https://ci-bot:token@github.com/acme/infra",
        "ssh://git@github.com:22/acme/infra.git/",
        "github.com/acme/infra",
    ],
)
def test_every_spelling_of_a_remote_is_one_repository(url: str) -> None:
    assert repo_id(url) == "github.com/acme/infra"


def test_local_paths_are_no_remote() -> None:
    assert repo_id("/srv/git/infra.git") is None
    assert repo_id("file:///srv/git/infra.git") is None


def _by_rule(findings, bucket: str) -> dict[str, str]:
    return {f.rule_id: f.extra["verdict"] for f in findings if f.extra.get("bucket") == bucket}


@pytest.mark.parametrize(
    "source",
    [
        f"git::https://{S3_REPO}.git?ref=v4.1.2",
        f"{S3_REPO}?ref=v4.1.2",
        f"git::ssh://git@{S3_REPO}.git?ref=v4.1.2",
        f"registry.terraform.io/{S3}",
        f"https://{S3_REPO}/archive/refs/tags/v4.1.2.zip//terraform-aws-s3-bucket-4.1.2",
    ],
)
def test_every_spelling_of_the_s3_module_is_its_model(run, source: str) -> None:
    call = f'module "logs" {{\n  source = "{source}"\n  bucket = "acme-logs"\n}}\n'
    findings, _ = run({"main.tf": call})
    verdicts = _by_rule(findings, "module.logs.aws_s3_bucket.this[0]")
    assert verdicts["VC205"] == "fail"
    assert "VC202" not in verdicts  # v4 blocks public access by default
    assert "VC221" not in {f.rule_id for f in findings}


def test_a_tag_before_the_secure_defaults_is_judged_with_that_release(run) -> None:
    old = f'module "old" {{\n  source = "{S3_REPO}?ref=v3.7.0"\n  bucket = "acme-old"\n}}\n'
    findings, _ = run({"main.tf": old})
    assert _by_rule(findings, "module.old.aws_s3_bucket.this[0]")["VC202"] == "fail"
    assert all("module_note" not in f.extra for f in findings)  # a tag pins the release


@pytest.mark.parametrize(
    ("ref", "said"),
    [
        ("?ref=main", "ref main is a branch or other ref, not a release tag"),
        ("?ref=0a1b2c3d4e5f60718293", "ref 0a1b2c3d4e5f60718293 is a commit, not a release tag"),
        ("", "no ref, so the default branch"),
    ],
)
def test_an_unpinned_git_source_is_judged_as_the_latest_release_and_says_so(run, ref, said) -> None:
    call = f'module "logs" {{\n  source = "git::https://{S3_REPO}.git{ref}"\n  bucket = "acme-logs"\n}}\n'
    findings, _ = run({"main.tf": call})
    notes = {f.extra.get("module_note") for f in findings}
    assert notes == {f"module.logs version unpinned ({said}): judged by veil's model of the latest release"}


def test_a_private_registry_copy_of_a_modelled_module_is_not_guessed(run) -> None:
    call = f'module "logs" {{\n  source  = "app.terraform.io/{S3}"\n  version = "4.1.2"\n}}\n'
    findings, _ = run({"main.tf": call})
    (f,) = findings
    assert f.rule_id == "VC221"
    assert "app.terraform.io is not the public registry" in f.message


# --- a monorepo calling its own modules through git ------------------------------------------

MODULE = 'variable "name" {}\nresource "aws_s3_bucket" "this" {\n  bucket = var.name\n}\n'


def _git_config(root: Path, url: str) -> None:
    (root / ".git").mkdir(parents=True, exist_ok=True)
    (root / ".git" / "config").write_text(
        f'[core]\n\tbare = false\n[remote "origin"]\n\turl = {url}\n'
        "\tfetch = +refs/heads/*:refs/remotes/origin/*\n",
        encoding="utf-8",
    )


def test_a_git_source_naming_the_checked_repository_reads_its_own_folder(run, tmp_path: Path) -> None:
    _git_config(tmp_path, "git@github.com:Acme/infra.git")
    call = (
        'module "logs" {\n  source = "git::https://github.com/acme/infra.git//modules/bucket?ref=v1.2.0"\n'
        '  name   = "acme-logs"\n}\n'
    )
    findings, _ = run({"main.tf": call, "modules/bucket/main.tf": MODULE})
    assert {f.extra["bucket"] for f in findings} == {"module.logs.aws_s3_bucket.this"}  # not judged alone
    assert {f.extra["bucket_name"] for f in findings} == {"acme-logs"}
    assert {f.extra["module_note"] for f in findings} == {
        "module.logs read from this checkout's modules/bucket, not from ref v1.2.0 of github.com/acme/infra"
    }


def test_a_worktree_finds_its_remotes_through_the_main_checkout(tmp_path: Path) -> None:
    main = tmp_path / "main"
    _git_config(main, "https://github.com/acme/infra.git")
    gitdir = main / ".git" / "worktrees" / "feature"
    gitdir.mkdir(parents=True)
    (gitdir / "commondir").write_text("../..\n", encoding="utf-8")
    tree = tmp_path / "feature"
    tree.mkdir()
    (tree / ".git").write_text(f"gitdir: {gitdir}\n", encoding="utf-8")
    assert git_remotes(tree) == {"github.com/acme/infra"}
    assert git_remotes(tmp_path) == frozenset()


def test_a_missing_folder_of_the_checked_repository_is_reported(run, tmp_path: Path) -> None:
    _git_config(tmp_path, "https://github.com/acme/infra")
    call = 'module "logs" {\n  source = "github.com/acme/infra//modules/gone?ref=v1"\n}\n'
    findings, _ = run({"main.tf": call})
    (f,) = findings
    assert (f.rule_id, f.resource) == ("VC221", "module.logs")
    assert "no Terraform files in modules/gone" in f.message


def test_a_copy_terraform_would_not_look_in_is_not_guessed_and_the_finding_says_what_was_tried(
    run, tmp_path: Path
) -> None:
    _git_config(tmp_path, "https://github.com/acme/infra.git")
    call = 'module "thing" {\n  source = "git::https://github.com/other/thing.git?ref=v1.0.0"\n}\n'
    findings, _ = run({"main.tf": call, "vendor/thing/main.tf": MODULE})
    unchecked = [f for f in findings if f.rule_id == "VC221"]
    assert [f.message for f in unchecked] == [
        "module.thing (source git::https://github.com/other/thing.git?ref=v1.0.0) was not checked: its git"
        " source was not found: no .terraform/modules/modules.json (terraform init has not run);"
        " github.com/other/thing is not this checkout's remote (github.com/acme/infra);"
        " it is not a module veil models (unknown)"
    ]


# --- never silent ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "reason"),
    [
        ('module "x" {\n  source = var.source\n}\n', "its source is an expression"),
        ('module "x" {\n  name = "a"\n}\n', "it has no source"),
        ('module "x" {\n  source = "../outside"\n}\n', "its folder ../outside is outside the checked tree"),
        ('module "x" {\n  source = "./"\n}\n', "it calls ., which is already being read (a cycle)"),
        ('module "x" {\n  source = "./docs"\n}\n', "no Terraform files in docs"),
    ],
)
def test_a_call_veil_cannot_follow_is_reported(run, tmp_path: Path, call: str, reason: str) -> None:
    (tmp_path / "json").mkdir()
    (tmp_path / "json" / "main.tf.json").write_text("{}", encoding="utf-8")
    findings, _ = run({"main.tf": call})
    assert [f.rule_id for f in findings] == ["VC221"]
    assert reason in findings[0].message


def test_a_stale_manifest_falls_back_to_the_model_and_says_so(run) -> None:
    manifest = {"Modules": [{"Key": "logs", "Dir": ".terraform/modules/logs"}]}
    call = f'module "logs" {{\n  source  = "{S3}"\n  version = "4.1.2"\n  bucket  = "acme-logs"\n}}\n'
    findings, _ = run({"main.tf": call, ".terraform/modules/modules.json": json.dumps(manifest)})
    assert _by_rule(findings, "module.logs.aws_s3_bucket.this[0]")["VC205"] == "fail"
    assert {f.extra.get("module_note") for f in findings} == {
        "module.logs: .terraform/modules/modules.json lists logs in .terraform/modules/logs, which holds no"
        " Terraform files (run terraform init again)"
    }


def test_a_stale_manifest_of_an_unmodelled_module_is_reported(run) -> None:
    manifest = {"Modules": [{"Key": "logs", "Dir": ".terraform/modules/logs"}]}
    call = 'module "logs" {\n  source = "acme/bucket/aws"\n}\n'
    findings, _ = run({"main.tf": call, ".terraform/modules/modules.json": json.dumps(manifest)})
    (f,) = findings
    assert f.rule_id == "VC221"
    assert "lists logs in .terraform/modules/logs, which holds no Terraform files" in f.message


def test_a_modelled_module_called_from_a_local_module_is_judged_with_the_outer_inputs(run) -> None:
    outer = 'module "app" {\n  source = "./app"\n  name   = "acme-app"\n}\n'
    inner = (
        'variable "name" {}\nmodule "logs" {\n  source  = "terraform-aws-modules/s3-bucket/aws"\n'
        '  version = "4.1.2"\n  bucket  = "${var.name}-logs"\n}\n'
    )
    findings, _ = run({"main.tf": outer, "app/main.tf": inner})
    assert {f.extra["bucket"] for f in findings} == {"module.app.module.logs.aws_s3_bucket.this[0]"}
    assert {f.extra["bucket_name"] for f in findings} == {"acme-app-logs"}


def test_a_local_module_that_declares_nothing_about_storage_is_irrelevant(run) -> None:
    call = 'module "net" {\n  source = "./net"\n}\n'
    findings, _ = run(
        {"main.tf": call, "net/main.tf": 'resource "aws_vpc" "this" {\n  cidr_block = "10.0.0.0/16"\n}\n'}
    )
    assert findings == []


def test_a_module_file_linking_out_of_the_tree_is_not_read_and_not_silent(run, tmp_path: Path) -> None:
    outside = tmp_path.parent / "outside-linked"
    outside.mkdir(exist_ok=True)
    (outside / "main.tf").write_text('resource "aws_s3_bucket" "x" {\n  bucket = "stolen"\n}\n')
    (tmp_path / "linked").mkdir()
    (tmp_path / "linked" / "main.tf").symlink_to(outside / "main.tf")
    findings, _ = run({"main.tf": 'module "x" {\n  source = "./linked"\n}\n'})
    assert [(f.rule_id, f.resource) for f in findings] == [("VC221", "module.x")]


def test_module_calls_with_undecided_count_or_for_each_still_make_buckets(run) -> None:
    calls = (
        'variable "n" {}\nvariable "names" {}\n'
        f'module "a" {{\n  source  = "{S3}"\n  version = "4.1.2"\n'
        '  count   = var.n\n  bucket  = "acme-a"\n}\n'
        'module "b" {\n  source   = "./m"\n  for_each = var.names\n  name     = "acme-b"\n}\n'
    )
    findings, _ = run({"main.tf": calls, "m/main.tf": MODULE})
    made = {f.extra["bucket_name"] for f in findings if "bucket" in f.extra}
    assert made == {"acme-a", "acme-b"}


def test_nesting_deeper_than_terraform_would_be_followed_is_reported(run) -> None:
    files = {"main.tf": 'module "m0" {\n  source = "./m1"\n}\n'}
    for depth in range(1, 11):
        files[f"{'/'.join(f'm{i}' for i in range(1, depth + 1))}/main.tf"] = (
            f'module "m{depth}" {{\n  source = "./m{depth + 1}"\n}}\n'
        )
    findings, _ = run(files)
    assert [f.rule_id for f in findings] == ["VC221"]
    assert "nested deeper than 8 module calls" in findings[0].message
