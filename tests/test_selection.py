"""Node ids and paths on the command line: which contracts run (docs/configuration.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_ssot.selection import ALL, NAMED, NONE, decide
from tests.conftest import WriteFiles

pytestmark = pytest.mark.library_surface

PROJECT = {
    "pkg/__init__.py": "",
    "pkg/core.py": "",
    "pkg/legacy.py": "",
    "pkg/app.py": "import pkg.legacy\n",
    "tests/test_api.py": "def test_one():\n    pass\n\n\ndef test_two():\n    pass\n",
    "pyproject.toml": """
        [tool.pytest.ini_options]
        ssot_contracts = ["contracts"]

        [tool.importlinter]
        root_package = "pkg"

        [[tool.importlinter.contracts]]
        id = "core-alone"
        name = "core imports nothing"
        type = "forbidden"
        source_modules = ["pkg.core"]
        forbidden_modules = ["pkg.app"]
    """,
    "contracts/ssot.toml": """
        [[tool.importlinter.contracts]]
        id = "no-legacy"
        name = "app does not use legacy"
        type = "forbidden"
        source_modules = ["pkg.app"]
        forbidden_modules = ["pkg.legacy"]

        [[tool.importlinter.contracts]]
        id = "legacy-alone"
        name = "legacy imports nothing"
        type = "forbidden"
        source_modules = ["pkg.legacy"]
        forbidden_modules = ["pkg.app"]
    """,
}
"""Three contracts, one broken (no-legacy), and two passing tests."""

QUIET = ("-p", "no:randomly", "-rA")


def ran(result: pytest.RunResult) -> dict[str, str]:
    """{node id: PASSED|FAILED} from the -rA summary."""
    found = {}
    for line in result.stdout.lines:
        word, _, rest = line.partition(" ")
        if word in ("PASSED", "FAILED", "ERROR") and "::" in rest:
            found[rest.split(" - ")[0]] = word
    return found


@pytest.fixture
def project(write: WriteFiles) -> Path:
    return write(PROJECT)


EVERYTHING = {
    "pyproject.toml::core-alone": "PASSED",
    "contracts/ssot.toml::no-legacy": "FAILED",
    "contracts/ssot.toml::legacy-alone": "PASSED",
    "tests/test_api.py::test_one": "PASSED",
    "tests/test_api.py::test_two": "PASSED",
}


@pytest.mark.parametrize("args", [(), ("tests",), (".",), ("tests/", "contracts")])
def test_no_path_or_a_folder_checks_every_contract(
    pytester: pytest.Pytester, project: Path, args: tuple[str, ...]
) -> None:
    result = pytester.runpytest("--ssot", *QUIET, *args)
    assert ran(result) == EVERYTHING
    assert result.ret == pytest.ExitCode.TESTS_FAILED


def test_a_failed_lines_node_id_selects_that_contract(
    pytester: pytest.Pytester, project: Path
) -> None:
    result = pytester.runpytest("--ssot", *QUIET, "contracts/ssot.toml::no-legacy")
    assert ran(result) == {"contracts/ssot.toml::no-legacy": "FAILED"}
    result.assert_outcomes(failed=1)
    passing = pytester.runpytest("--ssot", *QUIET, "contracts/ssot.toml::legacy-alone")
    assert passing.ret == pytest.ExitCode.OK
    assert ran(passing) == {"contracts/ssot.toml::legacy-alone": "PASSED"}
    # A contract of the project's own config, by its node id.
    own = pytester.runpytest("--ssot", *QUIET, "pyproject.toml::core-alone")
    assert ran(own) == {"pyproject.toml::core-alone": "PASSED"}
    # An id that does not exist: pytest's own "not found", exit 4.
    missing = pytester.runpytest("--ssot", *QUIET, "contracts/ssot.toml::no-such-id")
    assert missing.ret == pytest.ExitCode.USAGE_ERROR
    missing.stderr.fnmatch_lines(["*not found*contracts/ssot.toml::no-such-id*"])


def test_a_contract_file_selects_its_contracts(pytester: pytest.Pytester, project: Path) -> None:
    result = pytester.runpytest("--ssot", *QUIET, "contracts/ssot.toml")
    assert ran(result) == {
        "contracts/ssot.toml::no-legacy": "FAILED",
        "contracts/ssot.toml::legacy-alone": "PASSED",
    }
    only = pytester.runpytest("--ssot", "--ssot-only", *QUIET, "contracts/ssot.toml::no-legacy")
    assert ran(only) == {"contracts/ssot.toml::no-legacy": "FAILED"}


def test_contracts_and_tests_named_together(pytester: pytest.Pytester, project: Path) -> None:
    result = pytester.runpytest(
        "--ssot", *QUIET, "tests/test_api.py::test_one", "contracts/ssot.toml::legacy-alone"
    )
    assert ran(result) == {
        "contracts/ssot.toml::legacy-alone": "PASSED",
        "tests/test_api.py::test_one": "PASSED",
    }
    assert result.ret == pytest.ExitCode.OK


@pytest.mark.parametrize("how", ["option", "ini"])
def test_only_tests_named_deselects_the_contracts_visibly(
    pytester: pytest.Pytester, project: Path, how: str
) -> None:
    args: tuple[str, ...] = ("--ssot",) if how == "option" else ("-o", "ssot=true")
    result = pytester.runpytest(*args, *QUIET, "tests/test_api.py::test_one")
    assert ran(result) == {"tests/test_api.py::test_one": "PASSED"}
    assert result.ret == pytest.ExitCode.OK
    result.assert_outcomes(passed=1, deselected=3)
    result.stdout.fnmatch_lines(
        [
            "pytest-ssot: 3 contracts deselected: only the tests named on the command line run "
            "(name a folder, a contract file or no path to check the contracts)",
        ]
    )
    whole_file = pytester.runpytest(*args, *QUIET, "tests/test_api.py")
    whole_file.assert_outcomes(passed=2, deselected=3)


def test_node_ids_under_xdist(pytester: pytest.Pytester, project: Path) -> None:
    result = pytester.runpytest_subprocess(
        "--ssot", *QUIET, "-n", "2", "contracts/ssot.toml::no-legacy", "tests/test_api.py"
    )
    assert ran(result) == {
        "contracts/ssot.toml::no-legacy": "FAILED",
        "tests/test_api.py::test_one": "PASSED",
        "tests/test_api.py::test_two": "PASSED",
    }
    deselected = pytester.runpytest_subprocess("--ssot", *QUIET, "-n", "2", "tests/test_api.py")
    deselected.assert_outcomes(passed=2)
    deselected.stdout.fnmatch_lines(["pytest-ssot: 3 contracts deselected: only the tests named*"])


def test_last_failed_reruns_the_broken_contract(pytester: pytest.Pytester, project: Path) -> None:
    assert pytester.runpytest("--ssot", *QUIET).ret == pytest.ExitCode.TESTS_FAILED
    again = pytester.runpytest("--ssot", *QUIET, "--lf")
    assert ran(again) == {"contracts/ssot.toml::no-legacy": "FAILED"}
    again.stdout.fnmatch_lines(["run-last-failure: rerun previous 1 failure*"])
    (pytester.path / "pkg/app.py").write_text("")
    fixed = pytester.runpytest("--ssot", *QUIET, "--lf")
    assert ran(fixed) == {"contracts/ssot.toml::no-legacy": "PASSED"}
    assert fixed.ret == pytest.ExitCode.OK


def test_stepwise_stops_at_the_broken_contract_and_resumes_there(
    pytester: pytest.Pytester, project: Path
) -> None:
    first = pytester.runpytest("--ssot", *QUIET, "--sw")
    assert ran(first) == {
        "pyproject.toml::core-alone": "PASSED",
        "contracts/ssot.toml::no-legacy": "FAILED",
    }
    (pytester.path / "pkg/app.py").write_text("")
    resumed = pytester.runpytest("--ssot", *QUIET, "--sw")
    assert ran(resumed) == {
        "contracts/ssot.toml::no-legacy": "PASSED",
        "contracts/ssot.toml::legacy-alone": "PASSED",
        "tests/test_api.py::test_one": "PASSED",
        "tests/test_api.py::test_two": "PASSED",
    }
    assert resumed.ret == pytest.ExitCode.OK


# -- the rules, on their own -------------------------------------------------------


def test_decide(tmp_path: Path) -> None:
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests/test_a.py").write_text("")
    (tmp_path / "contracts").mkdir()
    source = tmp_path / "contracts/ssot.toml"
    source.write_text("")
    project = tmp_path / "pyproject.toml"
    project.write_text("")
    sources = [project, source]

    def mode(*args: str, explicit: bool = True, pyargs: bool = False) -> tuple[str, set[str]]:
        chosen = decide(
            args, explicit=explicit, invocation_dir=tmp_path, sources=sources, pyargs=pyargs
        )
        return chosen.mode, {p.name for p in chosen.named}

    assert mode("tests", explicit=False) == (ALL, set())  # testpaths
    assert mode() == (ALL, set())
    assert mode("tests") == (ALL, set())
    assert mode("tests/test_a.py") == (NONE, set())
    assert mode("tests/test_a.py::test_x[1]") == (NONE, set())
    assert mode("contracts/ssot.toml::some-id") == (NAMED, {"ssot.toml"})
    assert mode("pyproject.toml::x", "tests/test_a.py") == (NAMED, {"pyproject.toml"})
    assert mode("contracts/ssot.toml", "tests") == (ALL, {"ssot.toml"})
    assert mode("some.package", pyargs=True) == (ALL, set())
    assert decide(
        ["tests/test_a.py::t"], explicit=True, invocation_dir=tmp_path, sources=sources
    ).given == ("tests/test_a.py::t",)
