"""``single_source``: one concept, its canonical modules, and the legacy shims that forward to them.

Five checks, each with its own finding kind (see docs/contract-types.md):

1. ``legacy-import``: a module outside the legacy set (and outside
   ``allowed_importers`` and the canonical modules) imports a legacy module.
2. ``shim-definition``: a legacy module holds code of its own (a class, a
   function, state) instead of only forwarding to the canonical modules.
3. ``shim-import``: a legacy module imports a module of the root packages that
   is neither canonical nor legacy.
4. ``canonical-imports-legacy``: a canonical module imports a legacy module.
5. ``shadow-subclass``: a class outside the module that defines a canonical
   class subclasses it under one of its public names, so two class objects
   answer to that name.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable

from grimp import ImportGraph
from importlinter import ContractCheck, fields, output

from pytest_ssot.contract_types._common import (
    CANONICAL_IMPORTS_LEGACY,
    LEGACY_IMPORT,
    SHADOW_SUBCLASS,
    SHIM_DEFINITION,
    SHIM_IMPORT,
    SsotContract,
    chain_violation,
    internal_modules,
    match_modules,
    parse_error,
)
from pytest_ssot.contract_types._matching import NamePattern, NonEmptyListField
from pytest_ssot.contract_types._source_index import (
    Definition,
    Located,
    ModuleFacts,
    Resolver,
    definition_question,
)
from pytest_ssot.model import Violation

HEADINGS = {
    LEGACY_IMPORT: "Legacy modules imported from outside the legacy set",
    SHIM_DEFINITION: "Legacy modules with code of their own (a shim may only forward)",
    SHIM_IMPORT: "Legacy modules importing modules that are neither canonical nor legacy",
    CANONICAL_IMPORTS_LEGACY: "Canonical modules importing legacy modules",
    SHADOW_SUBCLASS: "Subclasses that take the public name of a canonical class",
}


class SingleSourceContract(SsotContract):
    """Checks that a concept lives in its canonical modules and its legacy modules only forward.

    Options: ``canonical_modules``, ``legacy_modules`` (required); ``as_packages``,
    ``allowed_importers``, ``legacy_modules_with_code``, ``check_indirect_imports``,
    ``ignore_imports``, ``ignore_definitions``, ``unmatched_ignore_alerting``,
    ``broken_contract_guidance``.
    """

    type_name = "single_source"

    canonical_modules = NonEmptyListField(
        subfield=fields.ModuleExpressionField(), meaning="module expression"
    )
    legacy_modules = NonEmptyListField(
        subfield=fields.ModuleExpressionField(), meaning="module expression"
    )
    as_packages = fields.BooleanField(required=False, default=True)
    allowed_importers = fields.ListField(subfield=fields.ModuleExpressionField(), required=False)
    legacy_modules_with_code = fields.ListField(
        subfield=fields.ModuleExpressionField(), required=False
    )
    check_indirect_imports = fields.BooleanField(required=False, default=False)
    ignore_imports = fields.ListField(subfield=fields.ImportExpressionField(), required=False)

    def check(self, graph: ImportGraph, verbose: bool) -> ContractCheck:
        started = time.perf_counter()
        modules = internal_modules(graph, self.index)
        as_packages = bool(self.option("as_packages"))
        legacy = match_modules(
            self.expressions("legacy_modules"),
            modules,
            as_packages=as_packages,
            option="legacy_modules",
        )
        # A legacy module inside a canonical package is legacy: the canonical side
        # is the package minus its shims.
        canonical = (
            match_modules(
                self.expressions("canonical_modules"),
                modules,
                as_packages=as_packages,
                option="canonical_modules",
            )
            - legacy
        )
        if not canonical:
            raise ValueError("canonical_modules: every module it names is also a legacy module.")
        with_code = match_modules(
            self.expressions("legacy_modules_with_code"),
            modules,
            as_packages=as_packages,
            option="legacy_modules_with_code",
        )
        if with_code - legacy:
            raise ValueError(
                "legacy_modules_with_code: not legacy modules: "
                + ", ".join(sorted(with_code - legacy))
            )
        allowed = match_modules(
            self.expressions("allowed_importers"),
            modules,
            as_packages=True,
            option="allowed_importers",
        )
        imports, ignored_count, unmatched_imports = self._imports_less_ignored(graph)
        shims = legacy - with_code

        resolver = Resolver(self.index)
        findings: list[Violation] = []
        findings += self._legacy_imports(imports, legacy, canonical, allowed)
        findings += self._shim_definitions(resolver, shims)
        findings += self._shim_imports(imports, shims, canonical, legacy)
        findings += self._canonical_imports(imports, canonical, legacy)
        findings += self._shadow_subclasses(resolver, modules, canonical, shims)
        findings, unmatched_definitions = self.ignore_definition_findings(findings)
        findings += [
            parse_error(module, self.index.module_file(module), failure)
            for module, failure in sorted(resolver.failures.items())
        ]
        warnings = self.alert_unmatched(unmatched_imports, "ignore_imports")
        warnings += self.alert_unmatched(unmatched_definitions, "ignore_definitions")
        output.verbose_print(
            verbose,
            f"single_source: {len(canonical)} canonical, {len(legacy)} legacy modules, "
            f"{len(findings)} findings in {(time.perf_counter() - started) * 1000:.0f} ms",
        )
        return self.result(findings, warnings=warnings, ignored_import_count=ignored_count)

    # -- ignore_imports -------------------------------------------------------------

    def leaves_graph_unchanged(self) -> bool:
        """This check only reads the graph (``ignore_imports`` are left out, not removed),
        so pytest-ssot gives it the run's graph instead of a copy. A subclass with a
        ``check`` of its own makes no such promise."""
        return type(self).check is SingleSourceContract.check

    def _imports_less_ignored(self, graph: ImportGraph) -> tuple[_Imports, int, list[str]]:
        """The graph's imports without the ignored ones, as import-linter's removal would
        leave them: entries apply in order, and one that matches only imports an earlier
        entry took is unmatched. The graph itself is not changed."""
        ignored: set[tuple[str, str]] = set()
        count = 0
        unmatched: list[str] = []
        for expression in self.expressions("ignore_imports"):
            matches = graph.find_matching_direct_imports(import_expression=str(expression))
            pairs = {(m["importer"], m["imported"]) for m in matches} - ignored
            if not pairs:
                unmatched.append(str(expression))
                continue
            for importer, imported in sorted(pairs):
                count += len(graph.get_import_details(importer=importer, imported=imported)) or 1
            ignored |= pairs
        return _Imports(graph, frozenset(ignored)), count, unmatched

    # -- 1, 3, 4: imports -------------------------------------------------------------

    def _legacy_imports(
        self, imports: _Imports, legacy: set[str], canonical: set[str], allowed: set[str]
    ) -> list[Violation]:
        # Canonical importers are check 4's; allowed importers may; legacy modules may.
        exempt = legacy | canonical | allowed
        heading = HEADINGS[LEGACY_IMPORT]
        graph = imports.graph
        if not self.option("check_indirect_imports"):
            return [
                chain_violation(graph, LEGACY_IMPORT, (importer, imported), heading)
                for imported in sorted(legacy)
                for importer in sorted(imports.importers_of(imported))
                if importer not in exempt
            ]
        # Chains may not pass through the allowed importers: going through them is allowed.
        chains = _chains_to(imports, legacy, through=lambda m: m not in legacy | allowed)
        return [
            chain_violation(graph, LEGACY_IMPORT, chain, heading)
            for module, chain in sorted(chains.items())
            if module not in exempt
        ]

    def _shim_imports(
        self, imports: _Imports, shims: set[str], canonical: set[str], legacy: set[str]
    ) -> list[Violation]:
        return [
            chain_violation(imports.graph, SHIM_IMPORT, (shim, imported), HEADINGS[SHIM_IMPORT])
            for shim in sorted(shims)
            for imported in sorted(imports.imported_by(shim))
            if self.index.is_internal(imported)
            and imported not in canonical
            and imported not in legacy
        ]

    def _canonical_imports(
        self, imports: _Imports, canonical: set[str], legacy: set[str]
    ) -> list[Violation]:
        heading = HEADINGS[CANONICAL_IMPORTS_LEGACY]
        graph = imports.graph
        if not self.option("check_indirect_imports"):
            return [
                chain_violation(graph, CANONICAL_IMPORTS_LEGACY, (importer, imported), heading)
                for importer in sorted(canonical)
                for imported in sorted(imports.imported_by(importer))
                if imported in legacy
            ]
        chains = _chains_to(imports, legacy, through=lambda m: m not in legacy)
        return [
            chain_violation(graph, CANONICAL_IMPORTS_LEGACY, chain, heading)
            for module, chain in sorted(chains.items())
            if module in canonical
        ]

    # -- 2, 5: definitions ------------------------------------------------------------

    def _shim_definitions(self, resolver: Resolver, shims: set[str]) -> list[Violation]:
        findings = []
        for module in sorted(shims):
            facts = resolver.facts(module)
            if facts is None:
                continue
            path = self.index.module_file(module)
            for code in facts.own_code:
                what = "code" if code.kind == "statement" else f"{code.kind} {code.name}"
                findings.append(
                    Violation(
                        kind=SHIM_DEFINITION,
                        importer=module,
                        imported=code.name,
                        heading=HEADINGS[SHIM_DEFINITION],
                        message=(
                            f"{module} has {what} of its own: a legacy module may only "
                            "re-export from the canonical modules"
                        ),
                        file=str(path) if path else None,
                        line=code.line,
                    )
                )
        return findings

    def _shadow_subclasses(
        self, resolver: Resolver, modules: list[str], canonical: set[str], shims: set[str]
    ) -> list[Violation]:
        exported = _canonical_classes(resolver, canonical)
        if not exported:
            return []
        question = definition_question([NamePattern(n) for n in sorted(exported)], ("class",))
        findings = []
        # Shims are reported by check 2 already, whatever they define. Only files that
        # write one of the names after ``class`` are parsed.
        for module in modules:
            if module in shims or not self.index.may_define(module, question):
                continue
            facts = resolver.facts(module)
            if facts is None:
                continue
            for definition in facts.definitions:
                violation = self._shadow(resolver, facts, definition, exported)
                if violation is not None:
                    findings.append(violation)
        return findings

    def _shadow(
        self,
        resolver: Resolver,
        facts: ModuleFacts,
        definition: Definition,
        exported: dict[str, list[tuple[Located, str]]],
    ) -> Violation | None:
        if definition.kind != "class":
            return None
        candidate = Located(facts.module, definition)
        for target, exporter in exported.get(definition.name, ()):
            if target.module == facts.module or not resolver.is_subclass(candidate, target):
                continue
            path = self.index.module_file(facts.module)
            return Violation(
                kind=SHADOW_SUBCLASS,
                importer=facts.module,
                imported=definition.name,
                heading=HEADINGS[SHADOW_SUBCLASS],
                message=(
                    f"{candidate.qualname} subclasses {target.qualname}, which {exporter} "
                    f"exports as {definition.name}: importing {definition.name} from the two "
                    "modules gives two different classes"
                ),
                file=str(path) if path else None,
                line=definition.line,
            )
        return None


def _canonical_classes(
    resolver: Resolver, canonical: Iterable[str]
) -> dict[str, list[tuple[Located, str]]]:
    """Public name -> the classes the canonical modules export under it (and which module)."""
    exported: dict[str, list[tuple[Located, str]]] = {}
    for module in sorted(canonical):
        facts = resolver.facts(module)
        if facts is None:
            continue
        for name in sorted(facts.symbols):
            if name.startswith("_"):
                continue
            found = resolver.resolve(module, name)
            if found is None or found.definition.kind != "class":
                continue
            entries = exported.setdefault(name, [])
            if all(found != known for known, _ in entries):
                entries.append((found, module))
    return exported


class _Imports:
    """The graph's direct imports less the ignored ones (``ignore_imports``), read-only."""

    def __init__(self, graph: ImportGraph, ignored: frozenset[tuple[str, str]]) -> None:
        self.graph = graph
        self.ignored = ignored

    def importers_of(self, module: str) -> set[str]:
        found: set[str] = self.graph.find_modules_that_directly_import(module)
        if not self.ignored:
            return found
        return {m for m in found if (m, module) not in self.ignored}

    def imported_by(self, module: str) -> set[str]:
        found: set[str] = self.graph.find_modules_directly_imported_by(module)
        if not self.ignored:
            return found
        return {m for m in found if (module, m) not in self.ignored}


def _chains_to(
    imports: _Imports, targets: set[str], *, through: Callable[[str], bool]
) -> dict[str, tuple[str, ...]]:
    """For every module that reaches a target, its shortest chain to one.

    One breadth-first walk backwards from the targets; a chain only passes through
    modules for which ``through`` is true (the first module is not constrained).
    """
    chains: dict[str, tuple[str, ...]] = {}
    queue: deque[str] = deque()
    for target in sorted(targets):
        for importer in sorted(imports.importers_of(target)):
            if importer not in chains and importer not in targets:
                chains[importer] = (importer, target)
                queue.append(importer)
    while queue:
        module = queue.popleft()
        if not through(module):
            continue
        for importer in sorted(imports.importers_of(module)):
            if importer not in chains and importer not in targets:
                chains[importer] = (importer, *chains[module])
                queue.append(importer)
    return chains
