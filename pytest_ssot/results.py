"""The contract results of one run, each compared with the baseline once, where it is recorded.

A contract item records its result here and gets back the comparison it shows;
a pytest-xdist controller records the results its workers send through the same
door. Everything downstream (the summary, the reports, the baseline write) reads
the results and comparisons from here and never compares again.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from pytest_ssot.baseline import Baseline
from pytest_ssot.model import Comparison, ContractResult


class ContractResults:
    """Every contract's result of this run, by contract id, with its baseline comparison."""

    def __init__(self, baseline: Baseline | None) -> None:
        self._baseline = baseline
        self._results: dict[str, ContractResult] = {}
        self._comparisons: dict[str, Comparison] = {}

    def record(self, result: ContractResult) -> Comparison | None:
        """Keep ``result``; its comparison with the baseline (None: no baseline, or no verdict)."""
        cid = result.spec.id
        self._results[cid] = result
        self._comparisons.pop(cid, None)
        if self._baseline is None or result.error is not None:
            return None
        comparison = self._baseline.compare(cid, result.violations)
        self._comparisons[cid] = comparison
        return comparison

    @property
    def results(self) -> Mapping[str, ContractResult]:
        return MappingProxyType(self._results)

    @property
    def comparisons(self) -> Mapping[str, Comparison]:
        return MappingProxyType(self._comparisons)

    def checked(self) -> set[str]:
        """The contracts this run has a verdict for (checked without an error)."""
        return {cid for cid, result in self._results.items() if result.error is None}
