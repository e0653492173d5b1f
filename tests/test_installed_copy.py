"""The dynamic-import watcher is not blind to a project installed into site-packages.

tox (and many CI set-ups) install the project as a wheel and run the tests against
the installed copy. The watcher used to skip every file under a ``site-packages``
folder as "an installed library", so loads between the project's own modules were
no longer reported, and nothing said so. Installed copies are now matched by
module name. The site-packages folder here is a real folder of that name on
``sys.path`` (through the ``pythonpath`` ini option), holding a copy of the package
as a wheel install would.
"""

from __future__ import annotations

import sys

import pytest

from tests.conftest import WriteFiles

SITE = f"venv/lib/python{sys.version_info[0]}.{sys.version_info[1]}/site-packages"

PACKAGE = {
    "pkg/__init__.py": "",
    "pkg/legacy.py": "NAME = 'legacy'\n",
    "pkg/loader.py": (
        "import importlib\n\n\ndef load():\n    return importlib.import_module('pkg.legacy').NAME\n"
    ),
}

TEST = "from pkg.loader import load\n\n\ndef test_load():\n    assert load() == 'legacy'\n"

CONFIG = f"""
[tool.pytest.ini_options]
pythonpath = ["{SITE}"]

[tool.importlinter]
root_package = "pkg"

[[tool.importlinter.contracts]]
id = "no-legacy"
name = "The loader does not use the legacy module"
type = "forbidden"
source_modules = ["pkg.loader"]
forbidden_modules = ["pkg.legacy"]
"""


def check(result: pytest.RunResult) -> None:
    output = result.stdout.str() + result.stderr.str()
    assert "INTERNALERROR" not in output
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        [
            "FAILED tests/test_load.py::test_load - *",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "*[[]dynamic-import[]] pkg.loader loaded pkg.legacy, which contract 'no-legacy' "
            "forbids",
            f"*{SITE}/pkg/loader.py:5  return importlib.import_module('pkg.legacy').NAME",
        ]
    )


def test_only_an_installed_copy(pytester: pytest.Pytester, write: WriteFiles) -> None:
    """src layout: the source is not importable, the tests run against the installed copy."""
    write(
        {
            **{f"src/{name}": text for name, text in PACKAGE.items()},
            **{f"{SITE}/{name}": text for name, text in PACKAGE.items()},
            "tests/test_load.py": TEST,
            "pyproject.toml": CONFIG,
        }
    )
    check(pytester.runpytest("--ssot", "-p", "no:cacheprovider", "-rA"))


def test_source_in_rootdir_tests_run_against_the_installed_copy(
    pytester: pytest.Pytester, write: WriteFiles
) -> None:
    """The static check reads ./pkg; the tests import the installed copy (matched by name)."""
    write(
        {
            **PACKAGE,
            **{f"{SITE}/{name}": text for name, text in PACKAGE.items()},
            "tests/test_load.py": TEST,
            "pyproject.toml": CONFIG,
        }
    )
    result = pytester.runpytest("--ssot", "-p", "no:cacheprovider", "-rA")
    check(result)
