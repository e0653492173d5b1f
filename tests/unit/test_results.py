"""Each contract result is compared with the baseline once, where it is recorded."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pytest_ssot.baseline import Baseline
from pytest_ssot.findings import FindingsReporter
from pytest_ssot.model import ContractResult, ContractSpec, SessionOptions, Violation
from pytest_ssot.results import ContractResults
from pytest_ssot.run_failures import RunFailures
from pytest_ssot.serialize import result_to_dict
from pytest_ssot.xdist_wire import WorkerWire

SPEC = ContractSpec(
    id="no-legacy",
    name="No legacy",
    type="forbidden",
    options={},
    source_path=Path("pyproject.toml"),
    source_display="pyproject.toml",
    line=3,
    session=SessionOptions(raw={}, root_packages=("app",)),
)
OLD = Violation("import", "app.a", "app.legacy")
NEW = Violation("import", "app.b", "app.legacy")


class CountingBaseline(Baseline):
    compares = 0

    def compare(self, key: str, violations: Any) -> Any:
        CountingBaseline.compares += 1
        return super().compare(key, violations)


@pytest.fixture
def baseline(tmp_path: Path) -> CountingBaseline:
    CountingBaseline.compares = 0
    gone = "import: app.gone -> app.legacy"
    return CountingBaseline(tmp_path / "b.json", entries={"no-legacy": {OLD.fingerprint, gone}})


def test_record_compares_once_and_returns_the_comparison(baseline: CountingBaseline) -> None:
    results = ContractResults(baseline)
    comparison = results.record(ContractResult(SPEC, kept=False, violations=(OLD, NEW)))
    assert comparison is not None
    assert (comparison.new, comparison.frozen) == ((NEW,), (OLD,))
    assert [fp.text for fp in comparison.fixed] == ["import: app.gone -> app.legacy"]
    assert results.comparisons["no-legacy"] is comparison
    assert CountingBaseline.compares == 1
    with pytest.raises(TypeError):  # read-only: nothing downstream writes back
        results.results["other"] = results.results["no-legacy"]  # type: ignore[index]


def test_an_error_has_no_comparison(baseline: CountingBaseline) -> None:
    results = ContractResults(baseline)
    assert results.record(ContractResult(SPEC, kept=False, error="no such module")) is None
    assert "no-legacy" not in results.comparisons
    assert results.checked() == set()


def test_a_worker_result_is_recorded_through_the_same_door(baseline: CountingBaseline) -> None:
    results = ContractResults(baseline)
    wire = WorkerWire(
        [SPEC],
        results,
        FindingsReporter(),
        RunFailures.__new__(RunFailures),  # no config: this worker sent no run failures
        {},
        observed=set,
        graph_stats=list,
    )
    sent = result_to_dict(ContractResult(SPEC, kept=False, violations=(NEW,)))
    wire.merge({"results": [sent]})
    assert CountingBaseline.compares == 1
    comparison = results.comparisons["no-legacy"]
    assert comparison.new == (NEW,)
    assert results.checked() == {"no-legacy"}
