"""The SARIF 2.1.0 log (``--ssot-sarif=PATH``), for GitHub code scanning and other SARIF viewers.

Built from the JSON report's dict (``json_report.build_report``), the one source of
every file a run writes, so the two always agree. The mapping is documented in
docs/report.md: a rule per contract and per runtime check, a result per violation
located at its first hop with the chain as a code flow, ``baselineState`` from the
baseline, and partial fingerprints from the baseline's line-free fingerprints.
"""

from __future__ import annotations

import hashlib
import json
import os
import urllib.parse
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pytest_ssot.fileio import write_atomic

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA_URI = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
ROOT_BASE_ID = "%SRCROOT%"
"""The uriBaseId of every relative location (see ``source_root`` and originalUriBaseIds)."""
FINGERPRINT_KEY = "pytestSsot/v1"
"""partialFingerprints key; its value hashes the baseline key and fingerprint."""
RUNTIME_RULE_PREFIX = "runtime/"
INFORMATION_URI = "https://github.com/pytest-ssot/pytest-ssot/tree/main/docs"

RUNTIME_CHECKS: Mapping[str, str] = {
    "duplicate-instance": "More instances of a declared manager than its rule allows",
    "factory-bypass": "A declared manager constructed outside its factory",
    "manager-declaration": "A manager declaration that cannot be used",
    "dynamic-import": "A module the contracts forbid, loaded at run time",
    "double-load": "One source file loaded as two modules",
    "hidden-folder": "A folder of Python files without __init__.py inside a root package",
    "shared-state": "Instances of a keyed manager for different keys that share mutable state",
    "outlived-test": "A manager instance created in a test still alive after it",
    "shared-ok-unmatched": "A shared_ok pattern of a manager that excused nothing",
}
"""Descriptions of the runtime checks we know; others get a generic one."""


def partial_fingerprint(key: str, fingerprint: str) -> str:
    """A stable hash of a baseline entry: the same violation hashes the same across runs."""
    return hashlib.sha256(f"{key}\0{fingerprint}".encode()).hexdigest()


def source_root(rootdir: Path, environ: Mapping[str, str] = os.environ) -> Path:
    """What relative URIs are relative to: the GitHub workspace when the rootdir is inside it.

    GitHub code scanning reads relative paths as relative to the repository, which is
    GITHUB_WORKSPACE on Actions; elsewhere it is pytest's rootdir.
    """
    workspace = environ.get("GITHUB_WORKSPACE")
    if workspace:
        base = Path(workspace).resolve()
        if rootdir.resolve().is_relative_to(base):
            return base
    return rootdir


class _Locations:
    """Turns the report's rootdir-relative paths into SARIF artifact locations."""

    def __init__(self, rootdir: Path, base: Path) -> None:
        self.rootdir = rootdir
        self.base = base

    def artifact(self, file: str) -> dict[str, Any]:
        path = Path(file)
        if not path.is_absolute():
            path = self.rootdir / path
        if ".." in path.parts or self.base != self.rootdir:
            path = path.resolve()
        try:
            relative = path.relative_to(self.base)
        except ValueError:
            return {"uri": path.as_uri()}
        return {"uri": urllib.parse.quote(relative.as_posix()), "uriBaseId": ROOT_BASE_ID}

    def location(
        self, file: str | None, line: int | None, message: str | None = None
    ) -> dict[str, Any] | None:
        if not file:
            return None
        physical: dict[str, Any] = {"artifactLocation": self.artifact(file)}
        if line and line > 0:
            physical["region"] = {"startLine": line}
        found: dict[str, Any] = {"physicalLocation": physical}
        if message:
            found["message"] = {"text": message}
        return found


def _contract_rule(contract: Mapping[str, Any]) -> dict[str, Any]:
    where = contract["source"] + (f":{contract['line']}" if contract.get("line") else "")
    return {
        "id": contract["id"],
        "name": contract["type"],
        "shortDescription": {"text": contract["name"]},
        "fullDescription": {
            "text": f"import-linter contract {contract['id']!r} ({contract['type']}), "
            f"defined in {where}: {contract['name']}"
        },
        "helpUri": INFORMATION_URI + "/failures.md",
        "defaultConfiguration": {"level": "error"},
        "properties": {"source": contract["source"], "line": contract.get("line")},
    }


def _runtime_rule(check: str) -> dict[str, Any]:
    text = RUNTIME_CHECKS.get(check, f"pytest-ssot runtime check {check}")
    return {
        "id": RUNTIME_RULE_PREFIX + check,
        "name": check,
        "shortDescription": {"text": text},
        "helpUri": INFORMATION_URI + "/runtime-imports.md",
        "defaultConfiguration": {"level": "error"},
    }


def _hop_text(hop: Mapping[str, Any]) -> str:
    text = f"{hop['importer']} imports {hop['imported']}"
    numbers = hop.get("line_numbers") or []
    if numbers:
        text += f" (line{'s' if len(numbers) > 1 else ''} {', '.join(map(str, numbers))})"
    if hop.get("via"):
        text += f" [{hop['via']}]"
    return text


def _violation_result(
    contract: Mapping[str, Any],
    violation: Mapping[str, Any],
    rule_index: int,
    places: _Locations,
    with_baseline: bool,
) -> dict[str, Any]:
    chain = violation.get("chain") or []
    if chain:
        path = " -> ".join([chain[0]["importer"], *(hop["imported"] for hop in chain)])
        text = f"{violation['heading'] or contract['name']}: {path}"
    else:
        text = violation["message"] or violation["fingerprint"]
        if violation["heading"]:
            text = f"{violation['heading']}: {text}"
    frozen = violation["status"] == "frozen"
    result: dict[str, Any] = {
        "ruleId": contract["id"],
        "ruleIndex": rule_index,
        "kind": "fail",
        "level": "warning" if frozen else "error",
        "message": {"text": text},
        "partialFingerprints": {
            FINGERPRINT_KEY: partial_fingerprint(contract["id"], violation["fingerprint"])
        },
        "properties": {
            "fingerprint": violation["fingerprint"],
            "kind": violation["kind"],
            "frozen": frozen,
        },
    }
    if with_baseline:
        result["baselineState"] = "unchanged" if frozen else "new"
    first = places.location(violation.get("file"), violation.get("line"))
    if first is not None:
        result["locations"] = [first]
    steps = []
    related = []
    for number, hop in enumerate(chain, start=1):
        lines = hop.get("line_numbers") or []
        step = places.location(hop.get("file"), lines[0] if lines else None, _hop_text(hop))
        if step is None:
            step = {"message": {"text": _hop_text(hop)}}
        steps.append({"location": step, "executionOrder": number})
        if "physicalLocation" in step:
            related.append({"id": number, **step})
    if steps:
        result["codeFlows"] = [{"threadFlows": [{"locations": steps}]}]
    if related:
        result["relatedLocations"] = related
    return result


def _absent_result(rule_id: str, key: str, fingerprint: str, rule_index: int) -> dict[str, Any]:
    """A baseline entry (of baseline key ``key``) no longer found: code scanning closes it."""
    return {
        "ruleId": rule_id,
        "ruleIndex": rule_index,
        "kind": "pass",
        "level": "none",
        "baselineState": "absent",
        "message": {"text": f"Fixed since the baseline: {fingerprint}"},
        "partialFingerprints": {FINGERPRINT_KEY: partial_fingerprint(key, fingerprint)},
        "properties": {"fingerprint": fingerprint, "frozen": False},
    }


def _unread_result(
    contract: Mapping[str, Any], rule_index: int, places: _Locations
) -> dict[str, Any]:
    """A broken contract whose findings only its own text describes (a foreign type)."""
    result: dict[str, Any] = {
        "ruleId": contract["id"],
        "ruleIndex": rule_index,
        "kind": "fail",
        "level": "error",
        "message": {"text": contract["details"] or f"contract {contract['id']} is broken"},
    }
    where = places.location(contract["source"], contract.get("line"))
    if where is not None:
        result["locations"] = [where]
    return result


def _redundant_ignore_result(
    contract: Mapping[str, Any], entry: Mapping[str, Any], rule_index: int, places: _Locations
) -> dict[str, Any]:
    """An ignore_imports entry of the contract that no longer matters (a warning)."""
    why = (
        "every import it matches is also ignored by another entry"
        if entry["reason"] == "shadowed"
        else "removing it adds no violation"
    )
    fingerprint = f"redundant-ignore: {entry['expression']}"
    result: dict[str, Any] = {
        "ruleId": contract["id"],
        "ruleIndex": rule_index,
        "kind": "fail",
        "level": "warning",
        "message": {
            "text": f"ignore_imports entry '{entry['expression']}' no longer matters: {why}; "
            "remove it"
        },
        "partialFingerprints": {FINGERPRINT_KEY: partial_fingerprint(contract["id"], fingerprint)},
        "properties": {"fingerprint": fingerprint, "kind": "redundant-ignore", "frozen": False},
    }
    where = places.location(contract["source"], contract.get("line"))
    if where is not None:
        result["locations"] = [where]
    return result


def _runtime_result(
    finding: Mapping[str, Any], rule_index: int, places: _Locations, with_baseline: bool
) -> dict[str, Any]:
    frozen = bool(finding.get("frozen"))
    key = f"runtime:{finding['rule']}"
    level = "error" if finding.get("severity") == "error" and not frozen else "warning"
    result: dict[str, Any] = {
        "ruleId": RUNTIME_RULE_PREFIX + finding["check"],
        "ruleIndex": rule_index,
        "kind": "fail",
        "level": level,
        "message": {"text": f"{finding['summary']} (rule {finding['rule']})"},
        "partialFingerprints": {FINGERPRINT_KEY: partial_fingerprint(key, finding["fingerprint"])},
        "properties": {
            "fingerprint": finding["fingerprint"],
            "rule": finding["rule"],
            "phase": finding.get("phase"),
            "nodeid": finding.get("nodeid"),
            "details": finding.get("details"),
            "frozen": frozen,
        },
    }
    if with_baseline:
        result["baselineState"] = "unchanged" if frozen else "new"
    where = places.location(finding.get("file"), finding.get("line"))
    if where is not None:
        result["locations"] = [where]
    return result


def _cannot_check(
    contract: Mapping[str, Any], rule_index: int, places: _Locations
) -> dict[str, Any]:
    """A contract that could not be checked: a notification of the run, not a result."""
    notification: dict[str, Any] = {
        "level": "error",
        "message": {"text": f"contract {contract['id']} cannot be checked: {contract['error']}"},
        "descriptor": {"id": contract["id"], "index": rule_index},
    }
    where = places.location(contract["source"], contract.get("line"))
    if where is not None:
        notification["locations"] = [where]
    return notification


def _contract_results(
    contract: Mapping[str, Any], rule_index: int, places: _Locations, with_baseline: bool
) -> list[dict[str, Any]]:
    """The results of one contract that was checked."""
    results = [
        _violation_result(contract, violation, rule_index, places, with_baseline)
        for violation in contract["violations"]
    ]
    if contract["status"] == "broken" and not contract["violations"] and contract["details"]:
        results.append(_unread_result(contract, rule_index, places))
    if with_baseline:
        results += [
            _absent_result(contract["id"], contract["id"], fp, rule_index)
            for fp in contract["fixed"]
        ]
    results += [
        _redundant_ignore_result(contract, entry, rule_index, places)
        for entry in contract.get("redundant_ignores", ())
    ]
    return results


def build_sarif(
    report: Mapping[str, Any], environ: Mapping[str, str] = os.environ
) -> dict[str, Any]:
    """The SARIF log for one run, from the JSON report's dict."""
    rootdir = Path(report["rootdir"])
    base = source_root(rootdir, environ)
    places = _Locations(rootdir, base)
    with_baseline = report.get("baseline") is not None
    rules: list[dict[str, Any]] = []
    index: dict[str, int] = {}

    def rule_index(rule_id: str, make: Any) -> int:
        if rule_id not in index:
            index[rule_id] = len(rules)
            rules.append(make())
        return index[rule_id]

    results: list[dict[str, Any]] = []
    notifications: list[dict[str, Any]] = []
    contracts: Sequence[Mapping[str, Any]] = report["contracts"]
    for contract in contracts:
        number = rule_index(contract["id"], lambda c=contract: _contract_rule(c))
        if contract["error"] is not None:
            notifications.append(_cannot_check(contract, number, places))
        else:
            results += _contract_results(contract, number, places, with_baseline)
    # A rule per runtime check that was on, found or not: a viewer (code scanning) can
    # tell "ran and found nothing" from "did not run".
    for check in report.get("runtime_checks", ()):
        rule_index(RUNTIME_RULE_PREFIX + check, lambda c=check: _runtime_rule(c))
    for finding in report.get("runtime", ()):
        if finding.get("severity") not in ("error", "warning"):
            continue
        check = finding["check"]
        number = rule_index(RUNTIME_RULE_PREFIX + check, lambda c=check: _runtime_rule(c))
        results.append(_runtime_result(finding, number, places, with_baseline))
    if with_baseline:
        for entry in report["baseline"].get("runtime_fixed") or ():
            rule_id = RUNTIME_RULE_PREFIX + entry["check"]
            number = rule_index(rule_id, lambda c=entry["check"]: _runtime_rule(c))
            results.append(_absent_result(rule_id, entry["key"], entry["fingerprint"], number))
    tool = report.get("tool", {})
    invocation: dict[str, Any] = {
        "executionSuccessful": not notifications and report["exit_status"] in (0, 1),
        "exitCode": report["exit_status"],
        "endTimeUtc": report["created"].replace("+00:00", "Z"),
    }
    if notifications:
        invocation["toolExecutionNotifications"] = notifications
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "pytest-ssot",
                "version": tool.get("pytest-ssot", "unknown"),
                "informationUri": INFORMATION_URI,
                "rules": rules,
                "properties": {
                    "import-linter": tool.get("import-linter"),
                    "grimp": tool.get("grimp"),
                },
            }
        },
        "originalUriBaseIds": {ROOT_BASE_ID: {"uri": base.as_uri().rstrip("/") + "/"}},
        "invocations": [invocation],
        "columnKind": "unicodeCodePoints",
        "results": results,
    }
    if with_baseline:
        run["properties"] = {"baseline": report["baseline"]["path"]}
    return {"$schema": SARIF_SCHEMA_URI, "version": SARIF_VERSION, "runs": [run]}


def write_sarif(path: Path, log: Mapping[str, Any]) -> None:
    write_atomic(path, json.dumps(log, indent=2, ensure_ascii=False) + "\n")
