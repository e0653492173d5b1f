"""``unique_definition``: each declared name is defined (``class``/``def``) in one module only.

Definitions are read from the syntax tree: a top-level ``class`` or ``def``,
also inside ``if``/``try``/``with`` blocks. Imports, re-exports and aliases
(``X = other.X``) are not definitions, so a name may be *bound* in many modules
as long as it is *defined* in one. Every further definition is a
``duplicate-definition`` finding, identified by module and name (not line).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from grimp import ImportGraph
from importlinter import ContractCheck, fields, output

from pytest_ssot.contract_types._common import (
    DUPLICATE_DEFINITION,
    SsotContract,
    internal_modules,
    match_modules,
    parse_error,
)
from pytest_ssot.contract_types._matching import NamePattern, NamePatternField, NonEmptyListField
from pytest_ssot.contract_types._source_index import (
    Definition,
    ParseFailure,
    definition_question,
)
from pytest_ssot.model import Violation


@dataclass(frozen=True)
class _Place:
    module: str
    path: Path
    definition: Definition


class UniqueDefinitionContract(SsotContract):
    """Checks that each name matching ``names`` is defined in exactly one module.

    Options: ``names`` (required); ``canonical_modules``, ``as_packages``,
    ``scan_unpackaged_dirs``, ``ignore_definitions``, ``unmatched_ignore_alerting``,
    ``broken_contract_guidance``.
    """

    type_name = "unique_definition"

    names = NonEmptyListField(subfield=NamePatternField(), meaning="name or name pattern")
    canonical_modules = fields.ListField(subfield=fields.ModuleExpressionField(), required=False)
    as_packages = fields.BooleanField(required=False, default=True)
    scan_unpackaged_dirs = fields.BooleanField(required=False, default=False)

    def leaves_graph_unchanged(self) -> bool:
        """This check only reads the graph, so pytest-ssot gives it the run's graph instead
        of a copy. A subclass with a ``check`` of its own makes no such promise."""
        return type(self).check is UniqueDefinitionContract.check

    def check(self, graph: ImportGraph, verbose: bool) -> ContractCheck:
        started = time.perf_counter()
        files: dict[str, Path | None] = {m: None for m in internal_modules(graph, self.index)}
        if self.option("scan_unpackaged_dirs"):
            files.update(self.index.unpackaged_modules(set(files)))
        patterns: list[NamePattern] = self.expressions("names")
        canonical = match_modules(
            self.expressions("canonical_modules"),
            files,
            as_packages=bool(self.option("as_packages")),
            option="canonical_modules",
        )

        # Only files that write a matching name after class/def are parsed.
        question = definition_question(patterns)
        places: dict[str, list[_Place]] = {}
        failures: list[Violation] = []
        for module in sorted(files):
            if not self.index.may_define(module, question, files[module]):
                continue
            path = files[module] or self.index.module_file(module)
            if path is None:
                continue
            facts = self.index.facts(module, path)
            if isinstance(facts, ParseFailure):
                failures.append(parse_error(module, path, facts))
                continue
            if facts is None:
                continue
            for definition in facts.definitions:
                if any(p.matches(definition.name) for p in patterns):
                    places.setdefault(definition.name, []).append(_Place(module, path, definition))

        declared = bool(self.expressions("canonical_modules"))
        findings: list[Violation] = []
        for name, found in sorted(places.items()):
            if len(found) > 1:
                findings += _duplicates(name, found, canonical, declared)
        findings, unmatched = self.ignore_definition_findings(findings)
        warnings = self.alert_unmatched(unmatched, "ignore_definitions")
        output.verbose_print(
            verbose,
            f"unique_definition: {len(files)} modules, {len(places)} names defined, "
            f"{len(findings)} duplicates in {(time.perf_counter() - started) * 1000:.0f} ms",
        )
        return self.result([*findings, *failures], warnings=warnings)


def _duplicates(
    name: str, found: list[_Place], canonical: set[str], has_canonical: bool
) -> list[Violation]:
    home = [p for p in found if p.module in canonical]
    heading = f"{name} is defined in {len(found)} modules"
    if len(home) == 1:
        source = home[0]
        return [
            _violation(
                place,
                heading,
                f"{place.module} defines {place.definition.kind} {name} again; the single "
                f"source is {source.module} (line {source.definition.line})",
            )
            for place in found
            if place is not source
        ]
    if not has_canonical:
        why = "declare the single source with canonical_modules, and remove the others"
    elif home:
        why = f"{len(home)} of them are canonical modules, so none is the single source"
    else:
        why = "none of them is a canonical module"
    return [
        _violation(
            place,
            heading,
            f"{place.module} defines {place.definition.kind} {name}, "
            f"{_as_do([p.module for p in found[:4] if p is not place], len(found) - 1)} ({why})",
        )
        for place in found
    ]


def _as_do(modules: list[str], total: int, shown: int = 3) -> str:
    """``as does a`` / ``as do a, b and 5 more``."""
    listed = ", ".join(modules[:shown])
    if total > shown:
        listed += f" and {total - shown} more"
    return f"as {'does' if total == 1 else 'do'} {listed}"


def _violation(place: _Place, heading: str, message: str) -> Violation:
    return Violation(
        kind=DUPLICATE_DEFINITION,
        importer=place.module,
        imported=place.definition.name,
        heading=heading,
        message=message,
        file=str(place.path),
        line=place.definition.line,
    )
