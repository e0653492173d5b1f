"""What the two SSOT contract types share: options, finding kinds, ignores and rendering."""

from __future__ import annotations

import enum
import itertools
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from grimp import ImportGraph
from importlinter import Contract, ContractCheck, fields, output

from pytest_ssot.contract_types._matching import (
    DefinitionExpression,
    DefinitionExpressionField,
    ModulePattern,
)
from pytest_ssot.contract_types._source_index import ParseFailure, SourceIndex
from pytest_ssot.model import Hop, Violation

# The kinds of finding, in the order they are reported. Each is documented in
# docs/contract-types.md; a baseline fingerprint starts with the kind.
LEGACY_IMPORT = "legacy-import"
SHIM_DEFINITION = "shim-definition"
SHIM_IMPORT = "shim-import"
CANONICAL_IMPORTS_LEGACY = "canonical-imports-legacy"
SHADOW_SUBCLASS = "shadow-subclass"
DUPLICATE_DEFINITION = "duplicate-definition"
PARSE_ERROR = "parse-error"
KINDS = (
    LEGACY_IMPORT,
    SHIM_DEFINITION,
    SHIM_IMPORT,
    CANONICAL_IMPORTS_LEGACY,
    SHADOW_SUBCLASS,
    DUPLICATE_DEFINITION,
    PARSE_ERROR,
)
DEFINITION_KINDS = frozenset({SHIM_DEFINITION, SHADOW_SUBCLASS, DUPLICATE_DEFINITION})
"""Findings identified by (module, name); ``ignore_definitions`` applies to them."""

PARSE_ERROR_HEADING = "Files that do not parse (what they define was not checked)"


class Alerting(enum.Enum):
    """What to do about an ignore entry that matches nothing."""

    NONE = "none"
    WARN = "warn"
    ERROR = "error"


def root_packages(session_options: Mapping[str, Any]) -> tuple[str, ...]:
    value = session_options.get("root_packages") or session_options.get("root_package") or ()
    if isinstance(value, str):
        value = [value]
    return tuple(str(v).strip() for v in value if str(v).strip())


def internal_modules(graph: ImportGraph, index: SourceIndex) -> list[str]:
    return sorted(m for m in graph.modules if index.is_internal(m))


def match_modules(
    expressions: Iterable[Any],
    modules: Iterable[str],
    *,
    as_packages: bool,
    option: str,
    must_match: bool = True,
) -> set[str]:
    """The modules matched by some module expressions; ValueError for one that matches nothing."""
    candidates = list(modules)
    matched: set[str] = set()
    for expression in expressions:
        pattern = ModulePattern(str(expression))
        found = {m for m in candidates if pattern.matches(m, as_package=as_packages)}
        if must_match and not found:
            what = "matches no module" if pattern.has_wildcard else "does not exist"
            raise ValueError(f"{option}: module {pattern.expression!r} {what}.")
        matched |= found
    return matched


def hop(graph: ImportGraph, importer: str, imported: str) -> Hop:
    details = graph.get_import_details(importer=importer, imported=imported)
    lines = sorted({int(d["line_number"]) for d in details if d.get("line_number")})
    return Hop(importer=importer, imported=imported, line_numbers=tuple(lines))


def chain_violation(graph: ImportGraph, kind: str, chain: Sequence[str], heading: str) -> Violation:
    hops = tuple(hop(graph, a, b) for a, b in itertools.pairwise(chain))
    return Violation(kind=kind, importer=chain[0], imported=chain[-1], hops=hops, heading=heading)


def parse_error(module: str, path: Path | None, failure: ParseFailure) -> Violation:
    return Violation(
        kind=PARSE_ERROR,
        importer=module,
        imported=module,
        heading=PARSE_ERROR_HEADING,
        message=f"{module} does not parse on this Python: {failure.message}",
        file=str(path) if path is not None else None,
        line=failure.line or None,
    )


class SsotContract(Contract):
    """Options and behaviour both SSOT contract types share."""

    ignore_definitions = fields.ListField(subfield=DefinitionExpressionField(), required=False)
    unmatched_ignore_alerting = fields.EnumField(Alerting, default=Alerting.ERROR)
    broken_contract_guidance = fields.TextField(required=False)

    def __init__(
        self,
        name: str,
        session_options: dict[str, Any],
        contract_options: dict[str, Any],
    ) -> None:
        super().__init__(name, session_options, contract_options)
        roots = root_packages(session_options)
        if not roots:
            raise ValueError("the session options name no root package (root_packages)")
        # Found now, while the project folder is on sys.path, as it is for the graph.
        self.index = SourceIndex(roots)

    def leaves_graph_unchanged(self) -> bool:
        """Whether ``check`` only reads the graph it is given. pytest-ssot then checks the
        contract on the graph every contract of the run shares instead of a copy of its own
        (a deep copy per contract, as import-linter makes). False unless a type says so."""
        return False

    def option(self, name: str) -> Any:
        """A parsed option (fields are replaced by their values on the instance)."""
        return getattr(self, name)

    def expressions(self, name: str) -> list[Any]:
        return list(self.option(name) or ())

    # -- ignores -----------------------------------------------------------------

    def ignore_definition_findings(
        self, violations: Iterable[Violation]
    ) -> tuple[list[Violation], list[str]]:
        """Drop definition findings matched by ``ignore_definitions``; return the unmatched."""
        entries: list[DefinitionExpression] = self.expressions("ignore_definitions")
        used: set[str] = set()
        kept = []
        for violation in violations:
            if violation.kind in DEFINITION_KINDS:
                matching = [e for e in entries if e.matches(violation.importer, violation.imported)]
                if matching:
                    used.update(e.text for e in matching)
                    continue
            kept.append(violation)
        return kept, [e.text for e in entries if e.text not in used]

    def alert_unmatched(self, unmatched: Sequence[str], option: str) -> list[str]:
        """Warnings for ignore entries that matched nothing, or ValueError when they are errors."""
        if not unmatched:
            return []
        level = self.option("unmatched_ignore_alerting")
        messages = [f"{option} entry {entry!r} matched nothing." for entry in unmatched]
        if level == Alerting.ERROR:
            raise ValueError(
                "\n".join(messages)
                + "\nRemove the entries, or set unmatched_ignore_alerting = warn (or none)."
            )
        return messages if level == Alerting.WARN else []

    # -- result ------------------------------------------------------------------

    def result(
        self,
        violations: Iterable[Violation],
        *,
        warnings: Sequence[str] = (),
        ignored_import_count: int = 0,
    ) -> ContractCheck:
        order = {kind: i for i, kind in enumerate(KINDS)}
        ordered = sorted(
            violations,
            key=lambda v: (order.get(v.kind, len(order)), v.heading, v.importer, v.imported),
        )
        files: dict[str, str] = {}
        for violation in ordered:
            for module in {h.importer for h in violation.hops}:
                path = self.index.module_file(module)
                if path is not None:
                    files[module] = str(path)
        return ContractCheck(
            kept=not ordered,
            metadata={"ssot_violations": ordered, "ssot_module_files": files},
            warnings=list(warnings),
            ignored_import_count=ignored_import_count,
        )

    def render_broken_contract(self, check: ContractCheck) -> None:
        """Every finding with file:line and the source line, for plain ``lint-imports``."""
        violations = [
            v for v in check.metadata.get("ssot_violations", ()) if isinstance(v, Violation)
        ]
        files: Mapping[str, str] = check.metadata.get("ssot_module_files", {})
        reader = _Lines()
        heading: str | None = None
        for violation in violations:
            if violation.heading != heading:
                heading = violation.heading
                output.console.print(
                    f"{heading}:", style="bold red", markup=False, highlight=False, soft_wrap=True
                )
                output.new_line()
            for text in _finding_lines(violation, files, reader):
                output.console.print(text, markup=False, highlight=False, soft_wrap=True)
            output.new_line()
        guidance = self.option("broken_contract_guidance")
        if guidance:
            output.console.print(str(guidance).strip(), style="bold", markup=False, highlight=False)
            output.new_line()


def _display(path: str) -> str:
    try:
        relative = os.path.relpath(path)
    except ValueError:
        return path
    return path if relative.startswith("..") else relative.replace(os.sep, "/")


class _Lines:
    def __init__(self) -> None:
        self._files: dict[str, list[str]] = {}

    def __call__(self, path: str, line: int) -> str:
        lines = self._files.get(path)
        if lines is None:
            try:
                lines = Path(path).read_text(encoding="utf-8", errors="replace").splitlines()
            except OSError:
                lines = []
            self._files[path] = lines
        return lines[line - 1].strip() if 1 <= line <= len(lines) else ""


def _finding_lines(violation: Violation, files: Mapping[str, str], read: _Lines) -> list[str]:
    if not violation.hops:
        lines = [f"- {violation.message or violation.fingerprint}"]
        if violation.file:
            where = _display(violation.file)
            if violation.line:
                where = f"{where}:{violation.line}"
                quoted = read(violation.file, violation.line)
                lines.append(f"      {where}  {quoted}".rstrip())
            else:
                lines.append(f"      {where}")
        return lines
    modules = [violation.hops[0].importer, *(h.imported for h in violation.hops)]
    lines = [f"- {' -> '.join(modules)}"]
    for step in violation.hops:
        path = files.get(step.importer)
        where = _display(path) if path else step.importer
        if not step.line_numbers:
            lines.append(f"      {where}  {step.importer} -> {step.imported}")
        for number in step.line_numbers:
            quoted = read(path, number) if path else ""
            lines.append(
                f"      {where}:{number}  {quoted or f'{step.importer} -> {step.imported}'}"
            )
    return lines
