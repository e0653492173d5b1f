"""How the session wires a run: each fact read once, and only what the run needs imported."""

from __future__ import annotations

import sys
import tomllib
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

pytest_plugins = ["pytester"]


def test_the_ssot_tables_are_read_once_for_the_contracts_and_the_managers(
    pytester: pytest.Pytester, example: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # contracts/websocket_managers.toml declares managers and is listed in ssot_contracts:
    # the contract loader needs to know it declares runtime checks, the manager checks
    # need its [[tool.ssot.managers]] tables. One reading serves both.
    managers_file = (pytester.path / "contracts" / "websocket_managers.toml").read_text()
    assert "[[tool.ssot.managers]]" in managers_file
    parsed_by: Counter[str] = Counter()
    real_loads = tomllib.loads

    def counting_loads(text: str, **kwargs: Any) -> dict[str, Any]:
        caller = sys._getframe(1).f_globals.get("__name__", "")
        if caller.startswith("pytest_ssot") and text == managers_file:
            parsed_by[caller] += 1
        return real_loads(text, **kwargs)

    monkeypatch.setattr(tomllib, "loads", counting_loads)
    result = pytester.runpytest("--ssot", "--ssot-only", "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.TESTS_FAILED  # the example's two broken contracts
    # Once for its import-linter contracts (it has none), once for its [tool.ssot] tables.
    assert sum(parsed_by.values()) == 2, parsed_by
    assert not [m for m in parsed_by if m.startswith("pytest_ssot.runtime")], parsed_by


PROBE = """
import sys

import pytest


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session):
    loaded = sorted(m for m in sys.modules if m.startswith("pytest_ssot.runtime"))
    print(f"PROBE runtime modules: {loaded}")
"""


def test_a_contracts_only_run_imports_no_runtime_check_module(
    pytester: pytest.Pytester, example: Path
) -> None:
    # --ssot-only collects no test module and runs no test: the runtime checks would see
    # nothing, so none of them is imported, and no file is scanned for double loads.
    (example / "conftest.py").write_text(PROBE)
    only = pytester.runpytest_subprocess("--ssot", "--ssot-only", "-s", "-p", "no:cacheprovider")
    # (find_double_loads lives in pytest_ssot.runtime.modules: not imported, no scan.)
    only.stdout.fnmatch_lines(["*PROBE runtime modules: [[][]]"])
    assert only.ret == pytest.ExitCode.TESTS_FAILED  # the example's two broken contracts
    # The same project with its tests: the runtime checks are there.
    full = pytester.runpytest_subprocess("--ssot", "-s", "-p", "no:cacheprovider")
    full.stdout.fnmatch_lines(
        ["*PROBE runtime modules: [[]*'pytest_ssot.runtime.hooks.manager_checks'*"]
    )


LIBRARY_PROBE = """
import sys

import pytest


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config):
    loaded = sorted({m.partition(".")[0] for m in sys.modules} & {"importlinter", "grimp"})
    print(f"PROBE libraries: {loaded}")
"""


def test_a_warm_run_shows_its_failures_and_fixes_without_import_linter(
    pytester: pytest.Pytester, example: Path
) -> None:
    """Nothing changed: the verdicts, chains and fix lines are read back, and neither
    import-linter nor grimp is imported (the contract types' package imports them only
    when a contract type is asked for)."""
    (example / "conftest.py").write_text(LIBRARY_PROBE)
    args = ("--ssot", "--ssot-only", "-s", "-p", "no:randomly")
    cold = pytester.runpytest_subprocess(*args)
    assert cold.ret == pytest.ExitCode.TESTS_FAILED  # the example's two broken contracts
    cold.stdout.fnmatch_lines(["*PROBE libraries: [[]'grimp', 'importlinter'[]]"])
    warm = pytester.runpytest_subprocess(*args)
    assert warm.ret == pytest.ExitCode.TESTS_FAILED
    warm.stdout.fnmatch_lines(["*fix: *", "*PROBE libraries: [[][]]"])
    fixes = [line for line in cold.stdout.lines if "fix:" in line]
    assert fixes and fixes == [line for line in warm.stdout.lines if "fix:" in line]
