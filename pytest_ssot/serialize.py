"""Model objects to JSON-able dicts and back.

Used for the result cache on disk and for sending results and runtime findings
from pytest-xdist workers to the controller. A contract is referred to by id; the receiving side
owns the ContractSpec (it loaded the same configuration).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pytest_ssot.model import (
    ContractResult,
    ContractSpec,
    Finding,
    GraphKey,
    GraphStats,
    Hop,
    Phase,
    RedundantIgnore,
    Violation,
)


def hop_to_dict(hop: Hop) -> dict[str, Any]:
    return {
        "importer": hop.importer,
        "imported": hop.imported,
        "line_numbers": list(hop.line_numbers),
        "importer_file": hop.importer_file,
        "via": hop.via,
    }


def hop_from_dict(data: Mapping[str, Any]) -> Hop:
    return Hop(
        importer=str(data["importer"]),
        imported=str(data["imported"]),
        line_numbers=tuple(int(n) for n in data["line_numbers"]),
        importer_file=data.get("importer_file"),
        via=data.get("via"),
    )


def violation_to_dict(violation: Violation) -> dict[str, Any]:
    return {
        "kind": violation.kind,
        "importer": violation.importer,
        "imported": violation.imported,
        "hops": [hop_to_dict(h) for h in violation.hops],
        "heading": violation.heading,
        "message": violation.message,
        "file": violation.file,
        "line": violation.line,
    }


def violation_from_dict(data: Mapping[str, Any]) -> Violation:
    return Violation(
        kind=str(data["kind"]),
        importer=str(data["importer"]),
        imported=str(data["imported"]),
        hops=tuple(hop_from_dict(h) for h in data["hops"]),
        heading=str(data["heading"]),
        message=str(data["message"]),
        file=data.get("file"),
        line=data.get("line"),
    )


def result_to_dict(result: ContractResult) -> dict[str, Any]:
    return {
        "id": result.spec.id,
        "kept": result.kept,
        "violations": [violation_to_dict(v) for v in result.violations],
        "warnings": list(result.warnings),
        "ignored_import_count": result.ignored_import_count,
        "check_ms": result.check_ms,
        "fallback_text": result.fallback_text,
        "error": result.error,
        "redundant_ignores": [
            {
                "expression": r.expression,
                "reason": r.reason,
                "imports": list(r.imports),
                "shadowed_by": list(r.shadowed_by),
            }
            for r in result.redundant_ignores
        ],
        "redundant_unchecked": list(result.redundant_unchecked),
    }


def result_from_dict(data: Mapping[str, Any], spec: ContractSpec) -> ContractResult:
    return ContractResult(
        spec=spec,
        kept=bool(data["kept"]),
        violations=tuple(violation_from_dict(v) for v in data["violations"]),
        warnings=tuple(str(w) for w in data["warnings"]),
        ignored_import_count=int(data["ignored_import_count"]),
        check_ms=float(data["check_ms"]),
        fallback_text=str(data["fallback_text"]),
        error=data.get("error"),
        redundant_ignores=tuple(
            RedundantIgnore(
                expression=str(r["expression"]),
                reason=str(r["reason"]),
                imports=tuple(str(i) for i in r.get("imports", ())),
                shadowed_by=tuple(str(i) for i in r.get("shadowed_by", ())),
            )
            for r in data.get("redundant_ignores", ())
        ),
        redundant_unchecked=tuple(str(e) for e in data.get("redundant_unchecked", ())),
    )


def graph_key_to_dict(key: GraphKey) -> dict[str, Any]:
    return {
        "root_packages": list(key.root_packages),
        "include_external_packages": key.include_external_packages,
        "exclude_type_checking_imports": key.exclude_type_checking_imports,
    }


def graph_key_from_dict(data: Mapping[str, Any]) -> GraphKey:
    return GraphKey(
        tuple(data["root_packages"]),
        bool(data["include_external_packages"]),
        bool(data["exclude_type_checking_imports"]),
    )


def stats_to_dict(stats: GraphStats) -> dict[str, Any]:
    return {
        "key": graph_key_to_dict(stats.key),
        "modules": stats.modules,
        "imports": stats.imports,
        "build_ms": stats.build_ms,
        "from_cache": stats.from_cache,
        "dynamic_imports": stats.dynamic_imports,
        "unresolved": list(stats.unresolved),
        "changed_files": stats.changed_files,
        "dynamic_added": list(stats.dynamic_added),
    }


def stats_from_dict(data: Mapping[str, Any]) -> GraphStats:
    return GraphStats(
        key=graph_key_from_dict(data["key"]),
        modules=int(data["modules"]),
        imports=int(data["imports"]),
        build_ms=float(data["build_ms"]),
        from_cache=bool(data.get("from_cache", False)),
        dynamic_imports=data.get("dynamic_imports"),
        unresolved=tuple(str(u) for u in data.get("unresolved", ())),
        changed_files=int(data.get("changed_files", 0)),
        dynamic_added=tuple(str(u) for u in data.get("dynamic_added", ())),
    )


def phase_to_dict(phase: Phase) -> dict[str, Any]:
    return {
        "when": phase.when,
        "nodeid": phase.nodeid,
        "fixture": phase.fixture,
        "fixture_scope": phase.fixture_scope,
    }


def phase_from_dict(data: Mapping[str, Any]) -> Phase:
    return Phase(
        when=str(data["when"]),
        nodeid=str(data["nodeid"]),
        fixture=data.get("fixture"),
        fixture_scope=data.get("fixture_scope"),
    )


def finding_to_dict(finding: Finding) -> dict[str, Any]:
    return {
        "check": finding.check,
        "rule": finding.rule,
        "summary": finding.summary,
        "details": finding.details,
        "phase": phase_to_dict(finding.phase),
        "fingerprint": finding.fingerprint,
        "severity": finding.severity,
        "file": finding.file,
        "line": finding.line,
        "frozen": finding.frozen,
    }


def finding_from_dict(data: Mapping[str, Any]) -> Finding:
    return Finding(
        check=str(data["check"]),
        rule=str(data["rule"]),
        summary=str(data["summary"]),
        details=str(data["details"]),
        phase=phase_from_dict(data["phase"]),
        fingerprint=str(data["fingerprint"]),
        severity=str(data["severity"]),
        file=data.get("file"),
        line=data.get("line"),
        frozen=bool(data.get("frozen", False)),
    )
