"""The machine-readable report (``--ssot-report=PATH``): one JSON document per run.

Its schema is documented in docs/report.md and shipped as report.schema.json
next to this module; ``SCHEMA_VERSION`` changes only with an incompatible change.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytest_ssot.fileio import write_atomic
from pytest_ssot.model import (
    Comparison,
    ContractResult,
    Fingerprint,
    GraphStats,
    Hop,
    Violation,
)

SCHEMA = "pytest-ssot-report"
SCHEMA_VERSION = 1
SCHEMA_FILE = Path(__file__).with_name("report.schema.json")
RUNTIME_KEY_PREFIX = "runtime:"
"""Baseline keys of runtime findings: ``runtime:<rule>``."""


ROLE_OPTIONS = {
    "legacy": ("forbidden_modules", "legacy_modules"),
    "canonical": ("canonical_modules",),
    "sources": ("source_modules",),
}
"""Which contract options name the legacy side, the canonical side and the importers."""


@dataclass(frozen=True)
class BaselineInfo:
    """The baseline as the JSON report describes it.

    Its path, whether it exists and is strict, entries no contract or rule matches
    any more (``orphaned``), whether this run wrote it, and what the ratchet refused
    to add. Made by the session when it writes the report, read only here.
    """

    path: str
    exists: bool
    strict: bool
    orphaned: Mapping[str, Sequence[str]] = field(default_factory=dict)
    written: bool = False
    refused: Mapping[str, Sequence[str]] = field(default_factory=dict)
    runtime_fixed: Sequence[tuple[str, str, str]] | None = None
    """Runtime entries no longer seen, as (baseline key, check, fingerprint); None when not
    known (not every test ran, so a finding not seen may just not have been run)."""


FixLookup = Mapping[tuple[str, str], Mapping[str, Any]]
"""(contract id, fingerprint) -> the violation's fix, as ``EdgeFix.to_dict`` gives it."""


def violation_dict(
    violation: Violation, status: str, fix: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    file, line = violation.site
    return {
        "fingerprint": violation.fingerprint,
        "kind": violation.kind,
        "status": status,
        "importer": violation.importer,
        "imported": violation.imported,
        "heading": violation.heading,
        "message": violation.message,
        "file": file,
        "line": line,
        "fix": None if fix is None else dict(fix),
        "chain": [hop_dict(hop) for hop in violation.hops],
    }


def hop_dict(hop: Hop) -> dict[str, Any]:
    found: dict[str, Any] = {
        "importer": hop.importer,
        "imported": hop.imported,
        "file": hop.importer_file,
        "line_numbers": list(hop.line_numbers),
    }
    if hop.via:
        found["via"] = hop.via
    return found


def contract_dict(
    result: ContractResult, comparison: Comparison | None, fixes: FixLookup | None = None
) -> dict[str, Any]:
    spec = result.spec
    lookup = fixes or {}

    def one(v: Violation, status: str) -> dict[str, Any]:
        return violation_dict(v, status, lookup.get((spec.id, v.fingerprint)))

    if comparison is None:
        violations = [one(v, "new") for v in result.violations]
        counts = {"new": len(result.violations), "frozen": 0, "fixed": 0}
        fixed: list[Fingerprint] = []
    else:
        violations = [one(v, "new") for v in comparison.new]
        violations += [one(v, "frozen") for v in comparison.frozen]
        counts = {
            "new": len(comparison.new),
            "frozen": len(comparison.frozen),
            "fixed": len(comparison.fixed),
        }
        fixed = list(comparison.fixed)
    return {
        "id": spec.id,
        "name": spec.name,
        "type": spec.type,
        "source": spec.source_display,
        "line": spec.line or None,
        "status": result.status,
        "passed": passes(result, comparison),
        "error": result.error,
        "check_ms": round(result.check_ms, 3),
        "ignored_imports": result.ignored_import_count,
        "warnings": list(result.warnings),
        "counts": counts,
        "violations": violations,
        "fixed": [fp.text for fp in fixed],
        "fixed_imports": [
            {"importer": edge[0], "imported": edge[1]}
            for edge in (fp.edge for fp in fixed)
            if edge is not None
        ],
        "fixes": {
            "fixable": sum(1 for v in violations if v["fix"] and v["fix"]["fixable"]),
            "not_fixable": sum(1 for v in violations if v["fix"] and not v["fix"]["fixable"]),
        },
        "details": result.fallback_text or None,
        "roles": contract_roles(spec.options),
        "redundant_ignores": [
            {
                "expression": r.expression,
                "reason": r.reason,
                "imports": list(r.imports),
                "shadowed_by": list(r.shadowed_by),
            }
            for r in result.redundant_ignores
        ],
        "redundant_ignores_unchecked": list(result.redundant_unchecked),
    }


def contract_roles(options: Mapping[str, Any]) -> dict[str, list[str]]:
    """The module expressions a contract names as legacy, canonical and sources (for the map)."""
    roles: dict[str, list[str]] = {}
    for role, keys in ROLE_OPTIONS.items():
        names: list[str] = []
        for key in keys:
            value = options.get(key)
            items = value.replace(",", "\n").splitlines() if isinstance(value, str) else value
            if isinstance(items, list | tuple):
                names += [str(i).strip() for i in items if str(i).strip()]
        roles[role] = list(dict.fromkeys(names))
    return roles


def passes(result: ContractResult, comparison: Comparison | None) -> bool:
    """Whether the contract's item passes: kept, or broken only by frozen violations."""
    if result.error is not None:
        return False
    if result.kept:
        return True
    return comparison is not None and not comparison.new and bool(result.violations)


def build_report(
    *,
    outcomes: Sequence[tuple[ContractResult, Comparison | None]],
    graphs: Sequence[GraphStats],
    versions: Mapping[str, str],
    created: str,
    rootdir: str,
    exit_status: int,
    baseline: BaselineInfo | None = None,
    runtime: Sequence[Mapping[str, Any]] = (),
    fixes: FixLookup | None = None,
    runtime_checks: Sequence[str] = (),
) -> dict[str, Any]:
    """The report's dict; ``runtime_checks`` are the runtime checks that were on."""
    contracts = [contract_dict(r, c, fixes) for r, c in outcomes]
    totals = {"new": 0, "frozen": 0, "fixed": 0}
    for item in contracts:
        for key in totals:
            totals[key] += item["counts"][key]
    return {
        "schema": SCHEMA,
        "version": SCHEMA_VERSION,
        "created": created,
        "tool": dict(versions),
        "rootdir": rootdir,
        "exit_status": exit_status,
        "summary": {
            "contracts": len(contracts),
            "kept": sum(1 for c in contracts if c["status"] == "kept"),
            "broken": sum(1 for c in contracts if c["status"] == "broken"),
            "error": sum(1 for c in contracts if c["status"] == "error"),
            "passed": sum(1 for c in contracts if c["passed"]),
            "violations": sum(len(c["violations"]) for c in contracts),
            **totals,
            "runtime_findings": len(runtime),
        },
        "graphs": [
            {
                "root_packages": list(g.key.root_packages),
                "include_external_packages": g.key.include_external_packages,
                "exclude_type_checking_imports": g.key.exclude_type_checking_imports,
                "modules": g.modules,
                "imports": g.imports,
                "build_ms": round(g.build_ms, 3),
                "reused": g.from_cache,
                **(
                    {}
                    if g.dynamic_imports is None
                    else {
                        "dynamic_imports": g.dynamic_imports,
                        "unresolved": list(g.unresolved),
                        "dynamic_added": list(g.dynamic_added),
                    }
                ),
            }
            for g in graphs
        ],
        "contracts": contracts,
        "baseline": None
        if baseline is None
        else {
            "path": baseline.path,
            "exists": baseline.exists,
            "strict": baseline.strict,
            "written": baseline.written,
            "orphaned": {k: sorted(v) for k, v in sorted(baseline.orphaned.items())},
            "refused": {k: sorted(v) for k, v in sorted(baseline.refused.items())},
            "runtime_fixed": None
            if baseline.runtime_fixed is None
            else [
                {
                    "key": key,
                    "rule": key.removeprefix(RUNTIME_KEY_PREFIX),
                    "check": check,
                    "fingerprint": fingerprint,
                }
                for key, check, fingerprint in sorted(baseline.runtime_fixed)
            ],
        },
        "runtime": [dict(f) for f in runtime],
        "runtime_checks": sorted(set(runtime_checks)),
    }


def write_report(path: Path, report: Mapping[str, Any]) -> None:
    write_atomic(path, json.dumps(report, indent=2, ensure_ascii=False) + "\n")
