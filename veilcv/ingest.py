"""The only way data gets into the store: licence check → metadata strip → redaction → verification → store.

For each file under the source folder:

1. **Licence.** The file needs a manifest record (looked up as `veil check` looks it up: its path
   from the source folder, or a pattern as in ``.gitignore``) that the manifest rules' verdict
   accepts: the policy's required fields, a source, a valid SPDX licence the policy allows,
   attribution where the licence demands it, and (if the record has one) a matching sha256.
   Otherwise it is rejected, naming the rule `veil check` reports: logged, never stored.
2. **Deletion requests.** A file whose content or subject was deleted on request is rejected.
3. **Resume.** A file whose content was ingested before is skipped (idempotent by content hash).
   The ledger outlives the objects: re-running an old ingest does not bring purged files back.
4. **Strip, redact, verify.** Metadata is stripped; the redactor detects, redacts, re-encodes and
   re-detects on the output (``strict``: a residual detection fails the file) and checks that the
   output carries no metadata; the store checks once more before encrypting.
5. **Store.** The redacted image goes under the redacted prefix, and the original under the raw
   prefix only if the policy's ``retention.keep_raw`` allows, in one transaction with the ledger.

Fail closed: any failure in 4 or 5 stores nothing of that file (the raw original is stored only
together with a verified redaction). Audit entries name files by content hash and manifest line,
not by path, because file names often carry names of people.
"""

from __future__ import annotations

import hashlib
import os
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from veilcv.core.defaults import IMAGE_SUFFIXES, output_suffix
from veilcv.core.metadata import check_bytes, strip_bytes
from veilcv.errors import InputError, RedactionError, StoreError, VeilcvError
from veilcv.linter.engine import effective_rules
from veilcv.linter.rules.manifest import RULE_OF_KIND
from veilcv.linter.rules.manifest.index import LoadedManifest, index_manifests
from veilcv.linter.rules.manifest.reader import ManifestRecord, read_manifest
from veilcv.policies import licences, with_defaults
from veilcv.store.objects import PutItem, Store
from veilcv.store.subjects import check_subject, link_subject
from veilcv.telemetry.gate import TelemetryGate

STATUSES = ("stored", "duplicate", "rejected", "failed")
MAX_FILE_BYTES = 256 << 20


@dataclass(frozen=True)
class Outcome:
    file: str  # relative to the source folder, forward slashes
    status: str  # one of STATUSES
    reason: str = ""
    key: str | None = None
    raw_key: str | None = None


@dataclass
class IngestReport:
    outcomes: list[Outcome] = field(default_factory=list)
    telemetry: list[dict[str, Any]] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        c = Counter(o.status for o in self.outcomes)
        return {s: c.get(s, 0) for s in STATUSES}

    @property
    def ok(self) -> bool:
        return not any(o.status in ("rejected", "failed") for o in self.outcomes)


class RecordIndex:
    """The manifest records of a file, found the way `veil check` finds them (same index, same matcher).

    Record file names are relative to the source folder; patterns match as in ``.gitignore``.
    """

    def __init__(self, records: list[ManifestRecord]) -> None:
        self._index = index_manifests([LoadedManifest("", tuple(records))])

    def records(self, rel: str) -> list[ManifestRecord]:
        return [record for _, record in self._index.records_for(rel)]

    def find(self, rel: str) -> ManifestRecord | None:
        found = self.records(rel)
        return found[0] if found else None


def licence_problem(rec: ManifestRecord, policy: dict[str, Any]) -> str:
    """Why the policy refuses this record (``""`` when it is acceptable): the manifest rules' own verdict.

    A problem of a rule the policy disables does not refuse the file, as it is no finding in `veil check`.
    """
    effective = with_defaults(policy)
    enabled = effective_rules(effective)
    for problem in licences.record_problems(rec, effective):
        rule = RULE_OF_KIND[problem.kind]
        if rule.id in enabled:
            return f"manifest line {rec.line}: {rule.id} {rule.name}: {problem.message}"
    return ""


def _key_suffix(suffix: str) -> str:
    low = suffix.lower()
    return ".jpg" if low == ".jpeg" else low


def iter_files(src: Path) -> Iterator[tuple[str, Path]]:
    """Regular files under ``src`` (or ``src`` itself), sorted, hidden files and links skipped."""
    if src.is_file():
        yield src.name, src
        return
    if not src.is_dir():
        raise InputError(f"{src}: expected a folder or file to ingest, got nothing there")
    for dirpath, dirnames, filenames in os.walk(src):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            path = Path(dirpath) / name
            if name.startswith(".") or path.is_symlink() or not path.is_file():
                continue
            yield path.relative_to(src).as_posix(), path


@dataclass
class Ingestor:
    """One ingest run into ``store``; ``redactor`` is a :class:`veilcv.core.pipeline.Redactor`."""

    store: Store
    policy: dict[str, Any]
    redactor: Any
    actor: str = "ingest"
    role: str = "writer"
    gate: TelemetryGate | None = None

    def run(
        self,
        src: Path,
        manifest: Path,
        *,
        jobs: int = 1,
        on_file: Callable[[Outcome], None] | None = None,
        records: list[ManifestRecord] | None = None,
    ) -> IngestReport:
        """Ingest every file under ``src`` (the manifest itself excluded); per-file errors never escape."""
        index = RecordIndex(read_manifest(manifest) if records is None else records)
        files = [(rel, p) for rel, p in iter_files(src) if p.resolve() != manifest.resolve()]
        report = IngestReport()
        with ThreadPoolExecutor(max_workers=max(1, jobs), thread_name_prefix="veil-ingest") as pool:
            for outcome in pool.map(lambda item: self.one(item[0], item[1], index), files):
                report.outcomes.append(outcome)
                if on_file is not None:
                    on_file(outcome)
        if self.gate is not None:
            for status, n in report.counts.items():
                self.gate.count(f"ingest_{status}", n)
            report.telemetry = self.gate.flush()
        return report

    def one(self, rel: str, path: Path, index: RecordIndex) -> Outcome:
        try:
            return self._one(rel, path, index)
        except StoreError as exc:
            return self._log(rel, "failed", f"store: {exc}", None)
        except VeilcvError as exc:
            return self._log(rel, "failed", str(exc), None)
        except OSError as exc:
            return self._log(rel, "failed", f"cannot read or write: {exc.strerror or exc}", None)
        except Exception as exc:  # a bug fails this file closed; it never lets the file through
            return self._log(rel, "failed", f"internal error: {type(exc).__name__}: {exc}", None)

    def _log(
        self, rel: str, status: str, reason: str, digest: str | None, line: int | None = None
    ) -> Outcome:
        detail = {
            "status": status,
            "reason": reason.replace(rel, "<file>"),
            "sha256": digest,
            "manifest_line": line,
        }
        self.store.record(f"ingest-{status}", None, status, role=self.role, actor=self.actor, detail=detail)
        return Outcome(rel, status, reason)

    def _one(self, rel: str, path: Path, index: RecordIndex) -> Outcome:
        found = index.records(rel)
        if not found:
            return self._log(rel, "rejected", "no manifest record", None)
        rec = found[0]
        if path.suffix.lower() not in IMAGE_SUFFIXES:
            return self._log(
                rel,
                "rejected",
                f"expected an image ({', '.join(sorted(IMAGE_SUFFIXES))}), got {path.suffix or 'no suffix'}",
                None,
                rec.line,
            )
        problem = next(filter(None, (licence_problem(r, self.policy) for r in found)), "")
        if not problem and rec.subject_id:
            try:
                check_subject(rec.subject_id)
            except InputError as exc:
                problem = f"manifest line {rec.line}: {str(exc).replace('--subject', 'subject_id')}"
        if problem:
            return self._log(rel, "rejected", problem, None, rec.line)
        if path.stat().st_size > MAX_FILE_BYTES:
            return self._log(rel, "rejected", f"file over {MAX_FILE_BYTES} bytes", None, rec.line)
        data = path.read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        if rec.sha256 and rec.sha256.lower() != digest:
            return self._log(
                rel, "rejected", f"sha256 differs from manifest line {rec.line}", digest, rec.line
            )
        if self.store.is_tombstoned("source", digest) or (
            rec.subject_id and self.store.is_tombstoned("subject", rec.subject_id)
        ):
            return self._log(rel, "rejected", "covered by a deletion request", digest, rec.line)
        if self._already(digest):
            reason = "already ingested"
            # A subject id added to the manifest after the first run must still reach the stored
            # objects, or a deletion request for that subject would miss them.
            if rec.subject_id and link_subject(
                self.store, digest, rec.subject_id, role=self.role, actor=self.actor
            ):
                reason += f"; subject of manifest line {rec.line} recorded"
            return Outcome(rel, "duplicate", reason)
        stripped = strip_bytes(data)
        redacted, _result = self.redactor.redact_bytes(stripped, path.suffix.lower(), name=rel)
        # Keys name the stored format: BMP and HEIC are written as PNG; JPEG is always .jpg.
        suffix = _key_suffix(output_suffix(path.suffix))
        final = check_bytes(redacted, suffix=suffix)
        if not final.clean:  # the pipeline checked too; the store is the last gate, so check again
            raise RedactionError(
                f"{rel}: redacted output failed the metadata check: {final.error or 'metadata left'}"
            )
        items = [
            PutItem(
                f"{self.store.policy.redacted_prefix}{digest[:2]}/{digest}{suffix}",
                redacted,
                rec.subject_id or None,
                digest,
                rec.license,
                rec.retention_days,
            )
        ]
        if self.store.policy.keep_raw:
            items.append(
                PutItem(
                    f"{self.store.policy.raw_prefix}{digest[:2]}/{digest}{_key_suffix(path.suffix)}",
                    data,
                    rec.subject_id or None,
                    digest,
                    rec.license,
                    rec.retention_days,
                )
            )
        stored = self.store.put_many(items, role=self.role, actor=self.actor, ingest_source=digest)
        if stored is None:
            return Outcome(rel, "duplicate", "ingested concurrently by another run")
        return Outcome(rel, "stored", "", items[0].key, items[1].key if len(items) > 1 else None)

    def _already(self, digest: str) -> bool:
        row = (
            self.store._conn().execute("SELECT 1 FROM ingested WHERE source_sha256 = ?", (digest,)).fetchone()
        )
        return row is not None
