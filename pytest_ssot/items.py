"""The pytest nodes: one collector per contract source, one item per contract."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from pytest_ssot.checking import StaticChecker
from pytest_ssot.model import ContractResult, ContractSpec
from pytest_ssot.reporting.text import SourceLines, render_failure
from pytest_ssot.sources import LoadedFile

MARKER = "pytest_ssot"
"""Carried by every item of ours; namespaced so it cannot collide with a project's markers."""


class PytestSsotWarning(UserWarning):
    """A contract's warning (for example an ignore_imports entry that matches nothing)."""


@dataclass
class SsotContext:
    """What the nodes share for one run."""

    rootdir: Path
    checker: StaticChecker
    max_chains: int
    results: dict[str, ContractResult] = field(default_factory=dict)
    reader: SourceLines = field(init=False)

    def __post_init__(self) -> None:
        self.reader = SourceLines(self.rootdir)


class ContractFailed(Exception):
    """Raised by a contract item whose contract is broken or cannot be checked."""

    def __init__(self, result: ContractResult) -> None:
        super().__init__(result.spec.id)
        self.result = result


class SsotConfigError(pytest.Collector):
    """Stands for a configuration problem that belongs to no single contract file."""

    def __init__(self, *, message: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.message = message

    def collect(self) -> list[pytest.Item | pytest.Collector]:
        raise self.CollectError(f"pytest-ssot: {self.message}")


class ContractSource(pytest.Collector):
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
        self.result: ContractResult | None = None

    @property
    def context(self) -> SsotContext:
        parent = self.parent
        assert isinstance(parent, ContractSource)
        return parent.context

    def runtest(self) -> None:
        result = self.context.checker.check(self.spec)
        self.result = result
        self.context.results[self.spec.id] = result
        self.user_properties.append(("ssot_status", result.status))
        self.user_properties.append(("ssot_violations", len(result.violations)))
        for message in result.warnings:
            self.warn(PytestSsotWarning(f"contract {self.spec.id!r}: {message}"))
        if result.status != "kept":
            raise ContractFailed(result)

    def repr_failure(
        self,
        excinfo: pytest.ExceptionInfo[BaseException],
        style: Any = None,
    ) -> str | Any:
        if isinstance(excinfo.value, ContractFailed):
            return render_failure(
                excinfo.value.result,
                self.context.reader,
                verbose=self.config.get_verbosity() > 0,
                max_chains=self.context.max_chains,
            )
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        line = self.spec.line - 1 if self.spec.line else None
        return self.spec.source_path, line, f"contract {self.spec.id}: {self.spec.name}"
