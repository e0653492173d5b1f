"""The pytest nodes: one collector per contract source, one item per contract."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from pytest_ssot.checking import StaticChecker
from pytest_ssot.model import Comparison, ContractResult, ContractSpec, Fingerprint
from pytest_ssot.reporting.text import SourceLines, render_failure
from pytest_ssot.sources import LoadedFile

if TYPE_CHECKING:
    from pytest_ssot.fixing.runner import Fixer

MARKER = "pytest_ssot"
"""Carried by every item of ours; namespaced so it cannot collide with a project's markers."""


XDIST_GROUP = "pytest-ssot-contracts"


class PytestSsotWarning(UserWarning):
    """A contract's warning (for example an ignore_imports entry that matches nothing)."""


@dataclass(frozen=True)
class SsotContext:
    """What the nodes share for one run: read-only, built once the tree is final (after a fix)."""

    checker: StaticChecker
    max_chains: int
    reader: SourceLines
    record: Callable[[ContractResult], Comparison | None]
    """Keeps an item's result for the run and returns its comparison with the baseline
    (``pytest_ssot.results.ContractResults.record``)."""
    strict: bool = False
    """Fail a contract while the baseline lists violations it no longer has."""
    freezing: bool = False
    """--ssot-baseline-update: new violations are about to be frozen, not failures."""
    fixer: Callable[[], Fixer | None] = lambda: None
    """The planner of the fix shown under each chain (made on the first failure)."""


class ContractFailed(Exception):
    """Raised by a contract item whose contract is broken or cannot be checked."""

    def __init__(self, result: ContractResult, comparison: Comparison | None = None) -> None:
        super().__init__(result.spec.id)
        self.result = result
        self.comparison = comparison


class RedundantIgnoresFailed(Exception):
    """Raised by a contract item with ignore_imports entries that no longer matter (error mode)."""

    def __init__(self, result: ContractResult) -> None:
        super().__init__(result.spec.id)
        self.result = result


def redundant_ignore_lines(result: ContractResult) -> list[str]:
    """One line per ignore_imports entry that no longer matters, saying why."""
    lines = []
    for entry in result.redundant_ignores:
        if entry.reason == "shadowed":
            others = " and ".join(f"'{e}'" for e in entry.shadowed_by) or "another entry"
            why = f"every import it matches is also ignored by {others}"
        else:
            shown = ", ".join(entry.imports[:3]) + (" ..." if len(entry.imports) > 3 else "")
            why = "removing it adds no violation" + (f" (it ignores {shown})" if shown else "")
        lines.append(
            f"contract {result.spec.id!r}: ignore_imports entry '{entry.expression}' no longer "
            f"matters: {why}; remove it"
        )
    return lines


class SsotConfigError(pytest.Collector):
    """Stands for a configuration problem that belongs to no single contract file."""

    def __init__(self, *, message: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.message = message

    def collect(self) -> list[pytest.Item | pytest.Collector]:
        raise self.CollectError(f"pytest-ssot: {self.message}")


class ContractFile(pytest.Collector):
    """One file of contracts: the project's import-linter config or a contract file."""

    def __init__(self, *, loaded: LoadedFile, context: SsotContext, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.loaded = loaded
        self.context = context
        self.path = loaded.path

    def collect(self) -> Iterator[ContractItem]:
        if self.loaded.error is not None:
            error = self.loaded.error
            where = self.loaded.display
            if error.line:
                where = f"{where}:{error.line}"
            raise self.CollectError(f"pytest-ssot: {where}: {error}")
        assert self.loaded.source is not None
        for spec in self.loaded.source.contracts:
            yield ContractItem.from_parent(self, name=spec.id, spec=spec)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, self.loaded.display


class ContractItem(pytest.Item):
    """Checks one import-linter contract."""

    def __init__(self, *, spec: ContractSpec, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.spec = spec
        self.add_marker(MARKER)
        if self.config.pluginmanager.hasplugin("xdist"):
            # With --dist loadgroup all contract items go to one worker, which
            # builds each graph once; other modes rely on the shared result cache.
            self.add_marker(pytest.mark.xdist_group(XDIST_GROUP))
        self.result: ContractResult | None = None

    @property
    def context(self) -> SsotContext:
        parent = self.parent
        assert isinstance(parent, ContractFile)
        return parent.context

    def runtest(self) -> None:
        context = self.context
        result = context.checker.check(self.spec)
        self.result = result
        comparison = context.record(result)
        self._record_properties(result, comparison)
        for message in result.warnings:
            self.warn(PytestSsotWarning(f"contract {self.spec.id!r}: {message}"))
        redundant_mode = context.checker.redundant_ignores(self.spec)
        if result.redundant_ignores and redundant_mode == "warn":
            for line in redundant_ignore_lines(result):
                self.warn(PytestSsotWarning(line))
        if result.error is not None:
            raise ContractFailed(result)
        if comparison is None:
            if not result.kept:
                raise ContractFailed(result)
            self._fail_on_redundant(result, redundant_mode)
            return
        if comparison.new and not context.freezing:
            raise ContractFailed(result, comparison)
        if comparison.fixed and context.strict and not context.freezing:
            raise ContractFailed(result, comparison)
        self._fail_on_redundant(result, redundant_mode)

    def _fail_on_redundant(self, result: ContractResult, mode: str) -> None:
        if result.redundant_ignores and mode == "error":
            raise RedundantIgnoresFailed(result)

    def _record_properties(self, result: ContractResult, comparison: Comparison | None) -> None:
        # user_properties end up as <property> elements in --junitxml reports.
        props = [("ssot_status", result.status), ("ssot_violations", len(result.violations))]
        if comparison is not None:
            props += [
                ("ssot_new", len(comparison.new)),
                ("ssot_frozen", len(comparison.frozen)),
                ("ssot_fixed", len(comparison.fixed)),
            ]
        self.user_properties.extend(props)

    def repr_failure(
        self,
        excinfo: pytest.ExceptionInfo[BaseException],
        style: Any = None,
    ) -> str | Any:
        if isinstance(excinfo.value, PytestSsotWarning):
            # A contract's warning that -W error (or filterwarnings) turned into an error.
            return (
                f"{excinfo.value}\n(A warning of this contract, made an error by the warning "
                "filters: -W error or filterwarnings. Fix what it says, or change the filter.)"
            )
        if isinstance(excinfo.value, RedundantIgnoresFailed):
            return "\n".join(
                [
                    f"Contract {self.spec.id!r} ({self.spec.location}) ignores imports it no "
                    "longer needs to (ssot_redundant_ignores = error):",
                    *(f"  {line}" for line in redundant_ignore_lines(excinfo.value.result)),
                    "Remove these entries from ignore_imports: each one keeps a hole in the "
                    "contract open that nothing uses any more.",
                ]
            )
        if isinstance(excinfo.value, ContractFailed):
            return self._describe(excinfo.value.result, excinfo.value.comparison)
        return super().repr_failure(excinfo, style=style)

    def _fix_lines(self, result: ContractResult) -> dict[str, list[str]]:
        """The fix (or why there is none) under each chain whose last import can move."""
        if result.error is not None:
            return {}
        fixer = self.context.fixer()
        if fixer is None:
            return {}
        from pytest_ssot.fixing.runner import fixable_violation

        wanted = [v for v in result.violations if fixable_violation(result.spec, v)]
        if not wanted:
            return {}
        plan = fixer.shown()
        if plan is None:
            return {}
        lines = {}
        for violation in wanted:
            edge = plan.for_violation(violation)
            if edge is not None:
                lines[violation.fingerprint] = edge.lines()
        return lines

    def _describe(self, result: ContractResult, comparison: Comparison | None) -> str:
        verbose = self.config.get_verbosity() > 0
        fixes = self._fix_lines(result)
        if comparison is None:
            return render_failure(
                result,
                self.context.reader,
                verbose=verbose,
                max_chains=self.context.max_chains,
                fixes=fixes,
            )
        notes = []
        if comparison.frozen:
            notes.append(
                f"({len(comparison.frozen)} frozen violation"
                f"{'s' if len(comparison.frozen) != 1 else ''} of this contract are in the "
                "baseline and not shown.)"
            )
        if comparison.fixed:
            notes.append(stale_note(comparison.fixed, self.context.strict))
        if not comparison.new:
            # Only stale entries (strict mode): nothing is broken by new code.
            return "\n".join(
                [
                    f"Contract {result.spec.id!r} is kept apart from frozen violations, but the "
                    "baseline lists violations that no longer occur (strict mode).",
                    "",
                    *notes,
                ]
            )
        return render_failure(
            result,
            self.context.reader,
            verbose=verbose,
            max_chains=self.context.max_chains,
            shown=comparison.new,
            marks={v.fingerprint: "NEW" for v in comparison.new},
            notes=notes,
            fixes=fixes,
        )

    def reportinfo(self) -> tuple[Path, int | None, str]:
        line = self.spec.line - 1 if self.spec.line else None
        return self.spec.source_path, line, f"contract {self.spec.id}: {self.spec.name}"


def stale_note(fixed: tuple[Fingerprint, ...], strict: bool) -> str:
    listed = "\n".join(f"    {fingerprint.text}" for fingerprint in fixed)
    lead = "Fixed since the baseline (remove these entries" + (
        ", strict mode fails until you do):" if strict else "):"
    )
    return f"{lead}\n{listed}\nShrink the baseline with: pytest --ssot --ssot-baseline-prune"
