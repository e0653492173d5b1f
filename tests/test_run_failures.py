"""Failures outside any test: in the short test summary, the final line and JUnit XML."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.conftest import WriteFiles

pytestmark = pytest.mark.library_surface

PROJECT = {
    "pkg/__init__.py": "",
    "pkg/app/__init__.py": "",
    "pkg/app/core.py": "",
    "pkg/app/plugins/one.py": "",
    "pkg/app/plugins/two.py": "",
    "tests/test_ok.py": "def test_ok():\n    pass\n\n\ndef test_other():\n    pass\n",
    "pyproject.toml": """
        [tool.pytest.ini_options]
        ssot_hidden_folders = "fail"

        [tool.importlinter]
        root_package = "pkg"

        [[tool.importlinter.contracts]]
        id = "no-legacy"
        name = "App code does not use the legacy package"
        type = "forbidden"
        source_modules = ["pkg.app"]
        forbidden_modules = ["pkg.app.core"]
        allow_indirect_imports = true
    """,
}
"""A kept contract and two passing tests; the folder pkg/app/plugins has no __init__.py."""


def junit_cases(path: Path) -> dict[tuple[str, str], ET.Element]:
    root = ET.parse(path).getroot()
    return {(c.get("classname", ""), c.get("name", "")): c for c in root.iter("testcase")}


@pytest.mark.parametrize("xdist", [False, True], ids=["serial", "xdist"])
def test_a_hidden_folder_is_a_failed_report(
    pytester: pytest.Pytester, write: WriteFiles, xdist: bool
) -> None:
    write(PROJECT)
    args = ["--ssot", "-p", "no:randomly", "--junitxml=junit.xml"]
    if xdist:
        args += ["-n", "2"]
    result = pytester.runpytest_subprocess(*args) if xdist else pytester.runpytest(*args)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    # The final line counts it, and the short summary gives the reason.
    result.assert_outcomes(passed=3, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*_ pytest-ssot::hidden-folder _*",
            "during the scan of the root packages:",
            "  [[]hidden-folder[]] pkg/app/plugins/ holds 2 .py files but no __init__.py: *",
            "*short test summary info*",
            "FAILED pytest-ssot::hidden-folder - pkg/app/plugins/ holds 2 .py files*",
            "*= 1 failed, 3 passed in *",
        ]
    )
    assert "[150%]" not in result.stdout.str() and "[100%]pytest-ssot" not in result.stdout.str()
    cases = junit_cases(pytester.path / "junit.xml")
    failure = cases[("pytest-ssot", "hidden-folder")].find("failure")
    assert failure is not None
    assert failure.get("message", "").startswith("pkg/app/plugins/ holds 2 .py files")
    assert "no contract sees their imports" in (failure.text or "")
    suite = ET.parse(pytester.path / "junit.xml").getroot().find("testsuite")
    assert suite is not None and suite.get("failures") == "1" and suite.get("tests") == "4"


def test_a_passing_run_stays_green(pytester: pytest.Pytester, write: WriteFiles) -> None:
    write({**PROJECT, "pkg/app/plugins/__init__.py": ""})
    result = pytester.runpytest("--ssot", "-p", "no:randomly", "--junitxml=junit.xml")
    assert result.ret == pytest.ExitCode.OK
    result.assert_outcomes(passed=3)
    assert "pytest-ssot::" not in result.stdout.str()
    assert not [key for key in junit_cases(pytester.path / "junit.xml") if key[0] == "pytest-ssot"]


def test_strict_baseline_with_an_orphaned_entry(
    pytester: pytest.Pytester, write: WriteFiles
) -> None:
    write({**PROJECT, "pkg/app/plugins/__init__.py": ""})
    baseline = {
        "format": "pytest-ssot-baseline",
        "version": 1,
        "violations": {"renamed-contract": ["import: a -> b"]},
    }
    (pytester.path / ".ssot-baseline.json").write_text(json.dumps(baseline))
    args = ("--ssot", "-p", "no:randomly", "--ssot-baseline=.ssot-baseline.json")
    assert pytester.runpytest(*args).ret == pytest.ExitCode.OK  # not strict: only reported
    result = pytester.runpytest(*args, "--ssot-baseline-strict")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.assert_outcomes(passed=3, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*_ pytest-ssot::baseline-strict _*",
            ".ssot-baseline.json lists 1 violation(s) of contract 'renamed-contract', which no "
            "longer exists *",
            "  import: a -> b",
            "Drop them with: pytest --ssot --ssot-baseline-prune",
            "FAILED pytest-ssot::baseline-strict - the baseline lists 1 violation(s) of *",
        ]
    )


MANAGERS = """
    [tool.pytest.ini_options]
    pythonpath = ["."]

    [[tool.ssot.managers]]
    name = "missing-module"
    classes = ["no_such_module:Manager"]
"""


def test_a_declaration_error_in_a_k_run(pytester: pytest.Pytester, write: WriteFiles) -> None:
    """The declared module is never imported by the selected tests: found at session end."""
    write(
        {
            "pkg/__init__.py": "",
            "pyproject.toml": MANAGERS,
            "tests/test_ok.py": "def test_ok():\n    pass\n\n\ndef test_other():\n    pass\n",
        }
    )
    result = pytester.runpytest("--ssot", "-p", "no:randomly", "-k", "test_other")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.assert_outcomes(passed=1, failed=1, deselected=1)
    result.stdout.fnmatch_lines(
        [
            "during session end:",
            "  [[]manager-declaration[]] manager 'missing-module' (pyproject.toml:4): "
            "no_such_module:Manager: there is no module named 'no_such_module'",
            "FAILED pytest-ssot::manager-declaration - manager 'missing-module'*",
            "*= 1 failed, 1 passed, 1 deselected in *",
        ]
    )


MANAGERS_BELOW_A_PACKAGE = """
    [tool.pytest.ini_options]
    pythonpath = ["."]

    [[tool.ssot.managers]]
    name = "ws"
    classes = [
        "app.websocket_core.manager:WebSocketManager",
        "app.gone:Manager",
        "app.websocket_core.manager:Ghost",
    ]

    [[tool.ssot.managers]]
    name = "elsewhere"
    classes = ["no_such_module:Manager"]
"""


APP_NEVER_IMPORTED = {
    "app/__init__.py": "raise RuntimeError('app must not be imported')\n",
    "app/websocket_core/__init__.py": "",
    "app/websocket_core/manager.py": "class WebSocketManager:\n    pass\n",
    "pyproject.toml": MANAGERS_BELOW_A_PACKAGE,
    "tests/test_ok.py": "def test_ok():\n    pass\n",
}
"""A project whose package fails if imported: the checks must find its mistakes by file."""


def test_a_contracts_only_run_checks_the_declared_modules_without_importing(
    pytester: pytest.Pytester, write: WriteFiles
) -> None:
    """--ssot-only runs no test and imports none of the project, yet a declared class
    whose module cannot exist still fails the run; the modules that exist are not
    imported to find out."""
    write(APP_NEVER_IMPORTED)
    result = pytester.runpytest("--ssot", "--ssot-only", "-p", "no:randomly")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        [
            "during start-up*",
            "  [[]manager-declaration[]] manager 'ws' (pyproject.toml:4): "
            "app.gone:Manager: there is no module named 'app.gone'",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "  [[]manager-declaration[]] manager 'elsewhere' (pyproject.toml:12): "
            "no_such_module:Manager: there is no module named 'no_such_module'",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "  [[]manager-declaration[]] manager 'ws' (pyproject.toml:4): "
            "app.websocket_core.manager:Ghost: module app.websocket_core.manager has no 'Ghost'",
        ]
    )
    result.stdout.fnmatch_lines(["FAILED pytest-ssot::manager-declaration - *"])
    assert "WebSocketManager: there is no module" not in result.stdout.str()
    assert "has no 'WebSocketManager'" not in result.stdout.str()
    assert "app must not be imported" not in result.stdout.str()


def test_a_full_run_finds_a_missing_class_in_a_module_no_test_imported(
    pytester: pytest.Pytester, write: WriteFiles
) -> None:
    write(APP_NEVER_IMPORTED)
    result = pytester.runpytest("--ssot", "-p", "no:randomly")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "during session end:",
            "  [[]manager-declaration[]] manager 'ws' (pyproject.toml:4): "
            "app.gone:Manager: there is no module named 'app.gone'",
            "  [[]manager-declaration[]] manager 'ws' (pyproject.toml:4): "
            "app.websocket_core.manager:Ghost: module app.websocket_core.manager has no 'Ghost'",
        ]
    )
    assert "app must not be imported" not in result.stdout.str()


API_PLUGIN = """
import pytest

from pytest_ssot.run_failures import report_run_failure


@pytest.hookimpl(trylast=True)
def pytest_collection_finish(session):
    report_run_failure(
        session.config, "example-check", "the title line", "the full text\\nline two"
    )
    report_run_failure(session.config, "example-check", "a second one")


def pytest_terminal_summary(config):
    # After pytest-ssot's session end: reported at once, still counted in the final line.
    report_run_failure(config, "late-check", "found in the terminal summary")
"""


def test_the_api_for_other_checks(pytester: pytest.Pytester, write: WriteFiles) -> None:
    write(
        {
            **PROJECT,
            "pyproject.toml": PROJECT["pyproject.toml"].replace('"fail"', '"off"'),
            "conftest.py": API_PLUGIN,
            "tests/test_ok.py": "def test_ok():\n    pass\n",
        }
    )
    result = pytester.runpytest("--ssot", "-p", "no:randomly", "--junitxml=junit.xml")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        [
            "*_ pytest-ssot::example-check _*",
            "the full text",
            "line two",
            "",
            "a second one",
            "*short test summary info*",
            "FAILED pytest-ssot::example-check - the title line (and 1 more)",
            "FAILED pytest-ssot::late-check - found in the terminal summary",
            "*= 2 failed, 2 passed in *",
        ]
    )
    cases = junit_cases(pytester.path / "junit.xml")
    failure = cases[("pytest-ssot", "example-check")].find("failure")
    assert failure is not None and failure.get("message") == "the title line (and 1 more)"
    # Without --ssot the API says what it needs instead of failing silently.
    off = pytester.runpytest("-p", "no:randomly")
    off.stdout.fnmatch_lines(["*RuntimeError: report_run_failure needs a run with --ssot*"])


def test_last_failed_after_a_run_level_failure(
    pytester: pytest.Pytester, write: WriteFiles
) -> None:
    """The node id matches no item: --lf runs everything again, and fails again."""
    write(PROJECT)
    assert pytester.runpytest("--ssot", "-p", "no:randomly").ret == pytest.ExitCode.TESTS_FAILED
    again = pytester.runpytest("--ssot", "-p", "no:randomly", "--lf")
    again.assert_outcomes(passed=3, failed=1)
    (pytester.path / "pkg/app/plugins/__init__.py").write_text("")
    fixed = pytester.runpytest("--ssot", "-p", "no:randomly", "--lf")
    assert fixed.ret == pytest.ExitCode.OK
    fixed.assert_outcomes(passed=3)
