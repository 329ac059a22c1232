"""Readers of the tool outputs `veil report` turns into documents, one small function per producer.

Each reader takes the parsed JSON and the file name, checks the few fields it relies on, and
returns a plain dict with only what the documents print. When a producer's format changes,
only its function here changes.

- ``veil check --format json``: ``{"findings": [{"rule_id", "severity", "category", "file",
  "line", "message", "resource"?}], ...}`` (a bare list of findings, or SARIF 2.1.0, also work).
- ``veil redact --report``: the pipeline's header (``tool``, ``mode``, ``what``, ``mask_scale``,
  ``thresholds``, ``verify``, ``verify_thresholds``, ``strict``, ``models`` [{``task``,
  ``name``, ``sha256``, ...}], ``video``) and ``files`` [{``ok``, ``error``, ``kind``,
  ``regions`` {class: count}, ``residuals`` [...]}], ``summary`` {``redacted``, ``failed``,
  ``skipped``, ``residuals``} (preferred over counting ``files``), ``refused``, ``created``.
- ``veil coverage --json``: per size bucket figures under ``buckets`` (an object keyed by
  bucket, or a list of objects with ``bucket``), ``all`` (or ``overall``), top-level scalar
  figures (``hit_threshold``, ``tolerance``, ``images``, ``background_changed_fraction``) and
  ``errors``.
- ``veil fairness --json``: schema ``veilcv.fairness/1``.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from veilcv.errors import InputError
from veilcv.evaluation.fairness import REPORT_SCHEMA


def load_json(path: Path, what: str) -> tuple[Any, str]:
    """Parse ``path``; return the document and the sha256 of its bytes."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{path}: {what} file not found") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read {what} file ({exc.strerror or exc})") from None
    try:
        doc = json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise InputError(f"{path}: expected UTF-8 JSON ({what}), got binary data") from None
    except json.JSONDecodeError as exc:
        raise InputError(
            f"{path}:{exc.lineno}: expected JSON ({what}), got invalid JSON ({exc.msg})"
        ) from None
    return doc, hashlib.sha256(raw).hexdigest()


def _expect(cond: bool, path: Path, where: str, expected: str, got: Any, hint: str) -> None:
    if not cond:
        shown = json.dumps(got)[:60] if not isinstance(got, type) else got.__name__
        raise InputError(f"{path}: {where}: expected {expected}, got {shown}; {hint}")


def parse_check(doc: Any, path: Path) -> dict[str, Any]:
    """Findings of ``veil check`` (JSON reporter, bare list, or SARIF 2.1.0)."""
    hint = "use the output of `veil check --format json`"
    if isinstance(doc, dict) and "runs" in doc:
        return _parse_sarif(doc, path, hint)
    items = doc.get("findings") if isinstance(doc, dict) else doc
    shown = items if isinstance(doc, dict) and items is not None else type(doc)
    _expect(isinstance(items, list), path, "$.findings", "a list of findings", shown, hint)
    findings = []
    for i, f in enumerate(items):
        _expect(isinstance(f, dict), path, f"$.findings[{i}]", "an object", type(f), hint)
        rule = f.get("rule_id", f.get("rule"))
        _expect(isinstance(rule, str), path, f"$.findings[{i}].rule_id", "a rule ID", rule, hint)
        findings.append(
            {
                "rule_id": rule,
                "severity": f.get("severity"),
                "category": f.get("category"),
                "file": f.get("file"),
                "line": f.get("line"),
                "message": f.get("message"),
                "resource": f.get("resource"),
                "rule": f.get("rule") if isinstance(f.get("rule"), str) else None,
            }
        )
    summary = doc.get("summary") if isinstance(doc, dict) else None
    counts = {k: v for k, v in (summary or {}).items() if isinstance(v, int) and k != "findings"}
    return {"findings": findings, "summary": counts}


def _parse_sarif(doc: dict[str, Any], path: Path, hint: str) -> dict[str, Any]:
    findings, suppressed = [], 0
    _expect(isinstance(doc["runs"], list), path, "$.runs", "a list of runs", doc["runs"], hint)
    for r, run in enumerate(doc["runs"]):
        _expect(isinstance(run, dict), path, f"$.runs[{r}]", "an object", type(run), hint)
        for i, res in enumerate(run.get("results") or []):
            _expect(isinstance(res, dict), path, f"$.runs[{r}].results[{i}]", "an object", type(res), hint)
            rule = res.get("ruleId")
            _expect(isinstance(rule, str), path, f"$.runs[{r}].results[{i}].ruleId", "a rule ID", rule, hint)
            if res.get("suppressions"):
                suppressed += 1
                continue
            where = (res.get("locations") or [{}])[0]
            loc = where.get("physicalLocation") or {}
            logical = where.get("logicalLocations") or [{}]
            props = res.get("properties") or {}
            uri = (loc.get("artifactLocation") or {}).get("uri")
            findings.append(
                {
                    "rule_id": rule,
                    "severity": props.get("severity", res.get("level")),
                    "category": props.get("category"),
                    "file": unquote(uri) if isinstance(uri, str) else None,
                    "line": (loc.get("region") or {}).get("startLine"),
                    "message": (res.get("message") or {}).get("text"),
                    "resource": logical[0].get("fullyQualifiedName"),
                    "rule": None,
                }
            )
    return {"findings": findings, "summary": {"suppressed": suppressed}}


def parse_redact(doc: Any, path: Path) -> dict[str, Any]:
    """Settings, models and totals of a ``veil redact --report``."""
    hint = "use the JSON written by `veil redact --report`"
    _expect(isinstance(doc, dict), path, "$", "an object", type(doc), hint)
    files = doc.get("files")
    _expect(isinstance(files, list), path, "$.files", "a list of per-file records", files, hint)
    models = doc.get("models", [])
    _expect(isinstance(models, list), path, "$.models", "a list of models", models, hint)
    for i, m in enumerate(models):
        _expect(isinstance(m, dict), path, f"$.models[{i}]", "an object", type(m), hint)
    regions: dict[str, int] = {}
    ok = failed = residuals = 0
    kinds: dict[str, int] = {}
    for i, f in enumerate(files):
        _expect(isinstance(f, dict), path, f"$.files[{i}]", "an object", type(f), hint)
        good = f.get("ok", f.get("error") is None)
        ok += bool(good)
        failed += not good
        kinds[str(f.get("kind", "image"))] = kinds.get(str(f.get("kind", "image")), 0) + 1
        reg = f.get("regions") or {}
        _expect(isinstance(reg, dict), path, f"$.files[{i}].regions", "an object of class: count", reg, hint)
        for cls, n in reg.items():
            _expect(isinstance(n, int), path, f"$.files[{i}].regions.{cls}", "an integer", n, hint)
            regions[cls] = regions.get(cls, 0) + n
        residuals += len(f.get("residuals") or [])
    summary = doc.get("summary")
    if isinstance(summary, dict):
        # The producer's own totals also count files refused before any work (``refused``).
        for key in ("redacted", "failed", "skipped", "residuals"):
            _expect(
                isinstance(summary.get(key, 0), int),
                path,
                f"$.summary.{key}",
                "an integer",
                summary.get(key),
                hint,
            )
        ok = summary.get("redacted", ok)
        failed = summary.get("failed", failed)
        residuals = summary.get("residuals", residuals)
    skipped = summary.get("skipped") if isinstance(summary, dict) else None
    keys = (
        "tool",
        "mode",
        "mode_note",
        "what",
        "mask_scale",
        "thresholds",
        "verify",
        "verify_thresholds",
        "strict",
        "video",
    )
    return {
        **{k: doc.get(k) for k in keys},
        "models": models,
        "files": len(files),
        "ok": ok,
        "failed": failed,
        "kinds": kinds,
        "regions": regions,
        "residuals": residuals,
        "skipped": skipped,
        "refused": len(doc.get("refused") or []),
        "created": doc.get("created"),
    }


def _scalars(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if isinstance(v, int | float | str | bool) or v is None}


def parse_coverage(doc: Any, path: Path) -> dict[str, Any]:
    """Per-bucket and overall figures of ``veil coverage``, kept under their own names."""
    hint = "use the JSON written by `veil coverage`"
    _expect(isinstance(doc, dict), path, "$", "an object", type(doc), hint)
    buckets = doc.get("buckets", doc.get("by_size"))
    rows: list[dict[str, Any]] = []
    if isinstance(buckets, dict):
        for name, v in buckets.items():
            _expect(isinstance(v, dict), path, f"$.buckets.{name}", "an object of figures", v, hint)
            rows.append({"bucket": name, **_scalars(v)})
    elif isinstance(buckets, list):
        for i, v in enumerate(buckets):
            _expect(isinstance(v, dict), path, f"$.buckets[{i}]", "an object of figures", v, hint)
            rows.append(_scalars(v))
    else:
        _expect(False, path, "$.buckets", "per size bucket figures (object or list)", buckets, hint)
    overall = doc.get("all", doc.get("overall", doc.get("total", {})))
    _expect(isinstance(overall, dict), path, "$.all", "an object of overall figures", overall, hint)
    for i, row in enumerate(rows):
        _check_figures(row, path, f"$.buckets[{i}]", hint)
    _check_figures(overall, path, "$.all", hint)
    _check_figures(doc, path, "$", hint)
    return {
        "buckets": rows,
        "overall": _scalars(overall) if isinstance(overall, dict) else {},
        "figures": {k: v for k, v in _scalars(doc).items() if not isinstance(v, str)},
        "errors": len(doc["errors"]) if isinstance(doc.get("errors"), list) else None,
    }


_COUNTS = ("boxes", "covered", "images", "n", "positives", "negatives", "tp", "fp", "fn", "tn", "k")


def _check_figures(d: dict[str, Any], path: Path, where: str, hint: str) -> None:
    """Counts are non-negative integers and fractions lie in [0, 1]: a document prints them as read."""
    for key, v in d.items():
        if key in _COUNTS:
            ok = v is None or (isinstance(v, int) and not isinstance(v, bool) and v >= 0)
            _expect(ok, path, f"{where}.{key}", "a count (an integer >= 0) or null", v, hint)
        elif key == "interval" and v is not None:
            ok = isinstance(v, list) and len(v) == 2
            ok = ok and all(isinstance(x, int | float) and not isinstance(x, bool) and 0 <= x <= 1 for x in v)
            _expect(ok, path, f"{where}.{key}", "[low, high] within [0, 1] or null", v, hint)
        elif key.endswith("fraction") or key in ("value", "hit_threshold"):
            ok = v is None or (isinstance(v, int | float) and not isinstance(v, bool) and 0 <= v <= 1)
            _expect(ok, path, f"{where}.{key}", "a fraction in [0, 1] or null", v, hint)


def _check_fairness(doc: dict[str, Any], path: Path, hint: str) -> None:
    for key, kind, name in (
        ("settings", dict, "an object"),
        ("attributes", list, "a list"),
        ("warnings", list, "a list"),
        ("summary", dict, "an object"),
    ):
        _expect(isinstance(doc.get(key), kind), path, f"$.{key}", name, doc.get(key), hint)
    n = doc["summary"].get("disparities")
    ok = isinstance(n, int) and not isinstance(n, bool) and n >= 0
    _expect(ok, path, "$.summary.disparities", "a count (an integer >= 0)", n, hint)
    for i, attr in enumerate(doc["attributes"]):
        at = f"$.attributes[{i}]"
        _expect(isinstance(attr, dict), path, at, "an object", type(attr), hint)
        _expect(isinstance(attr.get("name"), str), path, f"{at}.name", "a string", attr.get("name"), hint)
        groups, disp = attr.get("groups"), attr.get("disparities", {})
        _expect(isinstance(groups, list), path, f"{at}.groups", "a list", groups, hint)
        _expect(isinstance(disp, dict), path, f"{at}.disparities", "an object", disp, hint)
        for j, g in enumerate(groups):
            gt = f"{at}.groups[{j}]"
            _expect(isinstance(g, dict), path, gt, "an object", type(g), hint)
            _expect(isinstance(g.get("group"), str), path, f"{gt}.group", "a string", g.get("group"), hint)
            for key in ("n", "positives", "negatives"):
                _expect(g.get(key) is not None, path, f"{gt}.{key}", "a count", g.get(key), hint)
            _check_figures(g, path, gt, hint)
            metrics = g.get("metrics")
            _expect(isinstance(metrics, dict), path, f"{gt}.metrics", "an object", metrics, hint)
            for name, m in metrics.items():
                _expect(isinstance(m, dict), path, f"{gt}.metrics.{name}", "an object", m, hint)
                _check_figures(m, path, f"{gt}.metrics.{name}", hint)


def parse_fairness(doc: Any, path: Path) -> dict[str, Any]:
    """A ``veil fairness --json`` report, checked for the fields the documents use."""
    hint = "use the JSON written by `veil fairness --json`"
    _expect(
        isinstance(doc, dict) and doc.get("schema") == REPORT_SCHEMA,
        path,
        "$.schema",
        f"'{REPORT_SCHEMA}'",
        doc.get("schema") if isinstance(doc, dict) else type(doc),
        hint,
    )
    _check_fairness(doc, path, hint)
    return doc
