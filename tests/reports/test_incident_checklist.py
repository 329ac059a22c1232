"""The incident checklist's "Who to notify" comes from the policy's `incident` section, never typed."""

from __future__ import annotations

from pathlib import Path

from veilcv.cli.main import main
from veilcv.policies import load_policy
from veilcv.reports.compliance import Sources, build_documents

POLICY = """\
version: 1
extends: strict
incident:
  contacts:
    - {role: data protection officer, name: Privacy team, email: privacy@example.org}
    - {role: security on-call, name: "Rota | night", email: security+oncall@example.org}
  notify_within_hours: 24
"""


def _checklist(tmp_path: Path, text: str) -> str:
    (tmp_path / "veil.yaml").write_text(text, encoding="utf-8")
    assert main(["report", "--policy", str(tmp_path / "veil.yaml"), "-o", str(tmp_path / "docs")]) == 0
    return (tmp_path / "docs" / "incident-checklist.md").read_text(encoding="utf-8")


def _who(checklist: str) -> list[str]:
    body = checklist.split("## Who to notify\n", 1)[1].split("\n## ", 1)[0]
    return [line for line in body.splitlines() if line]


def test_contacts_and_deadline_from_the_policy_appear_in_the_checklist(tmp_path: Path) -> None:
    assert _who(_checklist(tmp_path, POLICY)) == [
        "- [ ] Notify within 24 hours of discovering the incident (policy).",
        "| Role | Name | E-mail |",
        "|---|---|---|",
        "| data protection officer | Privacy team | privacy@example.org |",
        "| security on-call | Rota \\| night | security+oncall@example.org |",  # escaped for Markdown
    ]


def test_no_contacts_says_not_provided_and_keeps_the_pack_deadline(tmp_path: Path) -> None:
    who = _who(_checklist(tmp_path, "version: 1\nextends: strict\n"))
    assert who[0] == "- [ ] Notify within 72 hours of discovering the incident (policy)."
    assert who[1].startswith(
        "> **Not provided.** The policy names no contacts; add them under `incident.contacts`"
    )
    assert not any(line.startswith("| ") for line in who)


def test_invalid_contact_is_refused_before_anything_is_written(tmp_path: Path, capsys) -> None:
    (tmp_path / "veil.yaml").write_text(POLICY.replace("privacy@example.org", "privacy"), encoding="utf-8")
    assert main(["report", "--policy", str(tmp_path / "veil.yaml"), "-o", str(tmp_path / "docs")]) == 2
    err = capsys.readouterr().err
    assert "$.incident.contacts[0].email: expected an e-mail address" in err and len(err.splitlines()) == 1
    assert not (tmp_path / "docs").exists()


def test_documents_read_the_validated_policy(tmp_path: Path) -> None:
    (tmp_path / "veil.yaml").write_text(POLICY, encoding="utf-8")
    docs = build_documents(Sources(policy=load_policy(tmp_path / "veil.yaml"), policy_file="veil.yaml"))
    assert "| data protection officer | Privacy team | privacy@example.org |" in docs["incident-checklist.md"]
