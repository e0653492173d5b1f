"""Problems found while checking: one short message on the item or run they belong to.

Issue 12, "Clear errors instead of tracebacks": symlink loops in a root package
(the graph build would never end), a ``.py`` link to itself, a custom contract
type whose ``check()`` returns the wrong thing, and a ``warn`` finding under
``-W error``.
"""

from __future__ import annotations

import sys

import pytest

from tests.conftest import WriteFiles

# The graph errors are read from grimp and import-linter: run at both ends of the range.
pytestmark = pytest.mark.library_surface

PACKAGE = {
    "pkg/__init__.py": "",
    "pkg/a.py": "import pkg.b\n",
    "pkg/b.py": "",
    "pkg/sub/__init__.py": "",
}

CONFIG = """
[tool.pytest.ini_options]
pythonpath = ["."]
{ini}

[tool.importlinter]
root_package = "pkg"
{session}

[[tool.importlinter.contracts]]
id = "kept"
name = "b does not import a"
type = "forbidden"
source_modules = ["pkg.b"]
forbidden_modules = ["pkg.a"]
{contracts}
"""


def config(ini: str = "", session: str = "", contracts: str = "") -> str:
    return CONFIG.format(ini=ini, session=session, contracts=contracts)


def no_traceback(result: pytest.RunResult) -> None:
    output = result.stdout.str() + result.stderr.str()
    assert "INTERNALERROR" not in output
    assert "Traceback" not in output


# ---------------------------------------------------------------------------
# Symlinks in a root package


def run_bounded(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    """In a child process with a timeout: before the fix the graph build never ends."""
    result = pytester.run(
        sys.executable, "-m", "pytest", "--ssot", "-p", "no:cacheprovider", "-rA", *args,
        timeout=120,
    )  # fmt: skip
    no_traceback(result)
    return result


def test_symlink_loop_in_root_package_fails_with_its_path(
    pytester: pytest.Pytester, write: WriteFiles
) -> None:
    root = write({**PACKAGE, "pyproject.toml": config()})
    (root / "pkg" / "sub" / "back").symlink_to("..", target_is_directory=True)
    result = run_bounded(pytester, "--ssot-only")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        [
            "cannot build the import graph for pkg: pkg/sub/back is a symlink loop: it points "
            "to .., a folder that contains the link, so the package never ends; remove the link.",
            "FAILED pyproject.toml::kept*",
        ]
    )


def test_py_symlink_to_itself_is_one_line(pytester: pytest.Pytester, write: WriteFiles) -> None:
    root = write({**PACKAGE, "pyproject.toml": config()})
    (root / "pkg" / "self.py").symlink_to("self.py")
    result = run_bounded(pytester, "--ssot-only")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        [
            "cannot build the import graph for pkg: pkg/self.py is a symlink loop (it points to "
            "self.py, which leads back to the link itself); remove or re-point the link.",
        ]
    )
    assert len(result.stdout.lines) < 40


def test_dangling_py_symlink_in_root_package(pytester: pytest.Pytester, write: WriteFiles) -> None:
    root = write({**PACKAGE, "pyproject.toml": config()})
    (root / "pkg" / "gone.py").symlink_to("moved.py")
    result = run_bounded(pytester, "--ssot-only")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        ["*: pkg/gone.py is a dangling symlink (it points to moved.py, which does not exist)*"]
    )


def test_symlinked_subpackage_without_a_loop_is_checked(
    pytester: pytest.Pytester, write: WriteFiles
) -> None:
    """The loop check does not refuse ordinary links: a linked subpackage's import counts."""
    root = write(
        {
            **PACKAGE,
            "elsewhere/linked/__init__.py": "",
            "elsewhere/linked/uses_a.py": "import pkg.a\n",
            "pyproject.toml": config(
                contracts='[[tool.importlinter.contracts]]\nid = "linked"\nname = "linked"\n'
                'type = "forbidden"\nsource_modules = ["pkg.linked"]\n'
                'forbidden_modules = ["pkg.a"]\n'
            ),
        }
    )
    (root / "pkg" / "linked").symlink_to(root / "elsewhere" / "linked", target_is_directory=True)
    result = run_bounded(pytester, "--ssot-only")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["PASSED pyproject.toml::kept", "FAILED pyproject.toml::linked*"])


# ---------------------------------------------------------------------------
# Custom contract types that misbehave

CUSTOM = """
from importlinter import Contract, ContractCheck


class WrongType(Contract):
    def check(self, graph, verbose):
        return "all good"

    def render_broken_contract(self, check):
        pass


class BadWarnings(Contract):
    def check(self, graph, verbose):
        return ContractCheck(kept=True, warnings=5)

    def render_broken_contract(self, check):
        pass
"""


def test_custom_type_returning_the_wrong_type_fails_only_its_item(
    pytester: pytest.Pytester, write: WriteFiles
) -> None:
    write(
        {
            **PACKAGE,
            "custom.py": CUSTOM,
            "pyproject.toml": config(
                session='contract_types = ["wrong: custom.WrongType", "badw: custom.BadWarnings"]',
                contracts='[[tool.importlinter.contracts]]\nid = "wrong"\nname = "wrong"\n'
                'type = "wrong"\n'
                '[[tool.importlinter.contracts]]\nid = "badw"\nname = "badw"\ntype = "badw"\n',
            ),
        }
    )
    result = pytester.runpytest("--ssot", "-p", "no:cacheprovider", "-rA", "--ssot-only")
    no_traceback(result)
    result.assert_outcomes(passed=1, failed=2)
    result.stdout.fnmatch_lines(
        [
            "the contract type custom.WrongType: check() returned str 'all good', not an "
            "importlinter.ContractCheck",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "the contract type custom.BadWarnings: check() returned a ContractCheck that cannot "
            "be read: TypeError: *",
        ]
    )
    result.stdout.fnmatch_lines(["PASSED pyproject.toml::kept"])
    assert len(result.stdout.lines) < 80


# ---------------------------------------------------------------------------
# -W error with a warn mode

DOUBLE = {
    **PACKAGE,
    "tests/test_x.py": "import pkg.b\nimport b\n\n\ndef test_x():\n    pass\n",
}


def test_double_load_warning_made_an_error_fails_the_run(
    pytester: pytest.Pytester, write: WriteFiles
) -> None:
    write(
        {
            **DOUBLE,
            "pyproject.toml": config(ini='ssot_double_load = "warn"').replace(
                'pythonpath = ["."]', 'pythonpath = [".", "pkg"]'
            ),
        }
    )
    result = pytester.runpytest("--ssot", "-p", "no:cacheprovider", "-W", "error")
    no_traceback(result)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        [
            "*[[]double-load[]] pkg/b.py is loaded as 2 modules: b, pkg.b",
            "*(Configured to warn; the warning filters (-W error, filterwarnings) turn this "
            "warning into an error.)",
        ]
    )
    result.stdout.fnmatch_lines(["*1 failed, 2 passed*"])


def test_double_load_warning_stays_a_warning_without_w_error(
    pytester: pytest.Pytester, write: WriteFiles
) -> None:
    write(
        {
            **DOUBLE,
            "pyproject.toml": config(ini='ssot_double_load = "warn"').replace(
                'pythonpath = ["."]', 'pythonpath = [".", "pkg"]'
            ),
        }
    )
    result = pytester.runpytest("--ssot", "-p", "no:cacheprovider", "-W", "default")
    no_traceback(result)
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["*PytestSsotRuntimeWarning*pkg/b.py is loaded as 2 modules*"])


def test_dynamic_import_warning_made_an_error_fails_the_test_not_the_import(
    pytester: pytest.Pytester, write: WriteFiles
) -> None:
    write(
        {
            **PACKAGE,
            "pkg/legacy.py": "NAME = 'legacy'\n",
            "pkg/loader.py": (
                "import importlib\n\n\ndef load():\n"
                "    return importlib.import_module('pkg.legacy').NAME\n"
            ),
            "tests/test_load.py": (
                "from pkg.loader import load\n\n\ndef test_load():\n    assert load() == 'legacy'\n"
            ),
            "pyproject.toml": config(
                ini='ssot_runtime_imports = "warn"',
                contracts='[[tool.importlinter.contracts]]\nid = "no-legacy"\nname = "n"\n'
                'type = "forbidden"\nsource_modules = ["pkg.loader"]\n'
                'forbidden_modules = ["pkg.legacy"]\n',
            ),
        }
    )
    result = pytester.runpytest("--ssot", "-p", "no:cacheprovider", "-rA", "-W", "error")
    no_traceback(result)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["FAILED tests/test_load.py::test_load*"])
    result.stdout.fnmatch_lines(
        ["*[[]dynamic-import[]] pkg.loader loaded pkg.legacy, which contract 'no-legacy' forbids*"]
    )
    # The import went on: the failure is ours, not a PytestSsotRuntimeWarning raised in it.
    # (Before: the warning was raised inside the import, a traceback through our frames.)
    assert "pytest_ssot/runtime" not in result.stdout.str()
    assert "<frozen importlib" not in result.stdout.str()


def test_contract_warning_made_an_error_is_a_short_failure(
    pytester: pytest.Pytester, write: WriteFiles
) -> None:
    write(
        {
            **PACKAGE,
            "pyproject.toml": config(
                contracts='[[tool.importlinter.contracts]]\nid = "loose"\nname = "loose"\n'
                'type = "forbidden"\nsource_modules = ["pkg.b"]\nforbidden_modules = ["pkg.a"]\n'
                'ignore_imports = ["pkg.b -> pkg.a"]\n'
                'unmatched_ignore_imports_alerting = "warn"\n'
            ),
        }
    )
    result = pytester.runpytest("--ssot", "--ssot-only", "-p", "no:cacheprovider", "-W", "error")
    no_traceback(result)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        [
            "contract 'loose': No matches for ignored import pkg.b -> pkg.a.",
            "(A warning of this contract, made an error by the warning filters: -W error or "
            "filterwarnings. Fix what it says, or change the filter.)",
        ]
    )
    assert "_pytest/nodes.py" not in result.stdout.str()
