"""The Google and Azure storage module models: members and containers the code does not determine."""

from __future__ import annotations

import pytest

SIMPLE = "terraform-google-modules/cloud-storage/google//modules/simple_bucket"


def _verdict(run, text: str, bucket: str, rule: str) -> str:
    findings, _ = run({"main.tf": text})
    found = {f.extra["verdict"] for f in findings if f.extra.get("bucket") == bucket and f.rule_id == rule}
    return "fail" if "fail" in found else found.pop() if found else "pass"


@pytest.mark.parametrize(("prevention", "verdict"), [("inherited", "unknown"), ("enforced", "pass")])
def test_gcs_members_the_code_does_not_determine_may_be_public(run, prevention: str, verdict: str) -> None:
    text = (
        f'variable "members" {{}}\nmodule "b" {{\n  source = "{SIMPLE}"\n  version = "~> 8.0"\n'
        f'  name = "acme-b"\n  project_id = "acme"\n  location = "EU"\n'
        f'  public_access_prevention = "{prevention}"\n  iam_members = var.members\n}}\n'
    )
    assert _verdict(run, text, "module.b.google_storage_bucket.bucket", "VC201") == verdict


def test_gcs_viewers_the_code_does_not_determine_may_be_public(run) -> None:
    text = (
        'variable "viewers" {}\nmodule "b" {\n  source = "terraform-google-modules/cloud-storage/google"\n'
        '  version = "~> 8.0"\n  project_id = "acme"\n  names = ["frames"]\n  location = "EU"\n'
        "  set_viewer_roles = true\n  viewers = var.viewers\n}\n"
    )
    assert _verdict(run, text, 'module.b.google_storage_bucket.buckets["frames"]', "VC201") == "unknown"


AZURE = (
    'variable "nested" {}\nvariable "access" {}\nmodule "sa" {\n'
    '  source = "Azure/avm-res-storage-storageaccount/azurerm"\n  version = "0.5.0"\n'
    '  name = "acmesa"\n  location = "westeurope"\n  resource_group_name = "rg"\n'
    "  allow_nested_items_to_be_public = NESTED\n"
    '  containers = {\n    press = {\n      name = "press"\n      public_access = ACCESS\n    }\n  }\n}\n'
)


@pytest.mark.parametrize(
    ("nested", "access", "verdict"),
    [
        ("true", '"Blob"', "fail"),
        ("var.nested", '"Blob"', "unknown"),
        ("true", "var.access", "unknown"),
        ("false", "var.access", "pass"),
        ("false", '"Container"', "pass"),
    ],
)
def test_azure_containers_open_the_account_only_where_nested_items_may_be_public(
    run, nested: str, access: str, verdict: str
) -> None:
    text = AZURE.replace("NESTED", nested).replace("ACCESS", access)
    assert _verdict(run, text, "module.sa.azurerm_storage_account.this", "VC201") == verdict


def _simple_bucket_with(member: str, role: str) -> str:
    return (
        f'module "b" {{\n  source = "{SIMPLE}"\n  version = "~> 8.0"\n  name = "acme-b"\n'
        '  project_id = "acme"\n  location = "EU"\n'
        f'  iam_members = [{{ role = "{role}", member = "{member}" }}]\n}}\n'
    )


@pytest.mark.parametrize(
    "role",
    ["roles/storage.legacyObjectReader", "roles/storage.objectUser", "roles/storage.legacyBucketOwner"],
)
def test_gcs_module_grants_read_through_the_roles_a_resource_grants_it_through(run, role: str) -> None:
    """The module's iam_members read objects through the same roles as google_storage_bucket_iam_member:
    allUsers with any of them is public, and another member gets a read grant (VC210 without a role)."""
    bucket = "module.b.google_storage_bucket.bucket"
    assert _verdict(run, _simple_bucket_with("allUsers", role), bucket, "VC201") == "fail"
    findings, _ = run({"main.tf": _simple_bucket_with("user:ops@acme.example", role)})
    broad = [f for f in findings if f.rule_id == "VC210" and f.extra.get("bucket") == bucket]
    assert [f.message for f in broad] == [
        "bucket acme-b: user:ops@acme.example (no policy role) can read the whole bucket"
    ]
