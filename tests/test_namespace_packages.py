"""Namespace packages: file:line for their violations, no false hidden folders, the header line."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from tests.conftest import WriteFiles

SPREAD = {
    # nsroot has no __init__.py and two portions, src1/nsroot and src2/nsroot.
    "src1/nsroot/a/__init__.py": "",
    "src1/nsroot/a/mod.py": "import nsroot.b.legacy\n",
    "src2/nsroot/b/__init__.py": "",
    "src2/nsroot/b/legacy.py": "",
    # A namespace package inside the namespace root: grimp's graph has it.
    "src2/nsroot/ns/c.py": '"""A module of a namespace subpackage."""\n\nimport nsroot.b.legacy\n',
    "tests/test_ok.py": "def test_ok():\n    pass\n",
    "pyproject.toml": """
        [tool.pytest.ini_options]
        pythonpath = ["src1", "src2"]
        ssot_hidden_folders = "fail"

        [tool.importlinter]
        root_package = "nsroot"

        [[tool.importlinter.contracts]]
        id = "no-legacy"
        name = "no legacy"
        type = "forbidden"
        source_modules = ["nsroot.a", "nsroot.ns"]
        forbidden_modules = ["nsroot.b.legacy"]
    """,
}


def test_violations_in_a_namespace_package_have_their_file_and_line(
    pytester: pytest.Pytester, write: WriteFiles
) -> None:
    write(SPREAD)
    result = pytester.runpytest("--ssot", "-p", "no:randomly", "--ssot-report=r.json")
    # Only the contract fails: no folder of the namespace root is reported as hidden.
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "  1. nsroot.a.mod -> nsroot.b.legacy",
            "      src1/nsroot/a/mod.py:1  import nsroot.b.legacy",
            "*",
            "  1. nsroot.ns.c -> nsroot.b.legacy",
            # In the second portion, and in a namespace subpackage.
            "      src2/nsroot/ns/c.py:3  import nsroot.b.legacy",
        ]
    )
    assert "hidden" not in result.stdout.str()
    report = json.loads((pytester.path / "r.json").read_text())
    [contract] = report["contracts"]
    sites = {(v["file"], v["line"]) for v in contract["violations"]}
    assert sites == {("src1/nsroot/a/mod.py", 1), ("src2/nsroot/ns/c.py", 3)}


def test_a_folder_inside_a_regular_package_is_still_hidden(
    pytester: pytest.Pytester, write: WriteFiles
) -> None:
    write({**SPREAD, "src1/nsroot/a/helpers/util.py": "", "src2/nsroot/b/legacy.py": ""})
    result = pytester.runpytest("--ssot", "-p", "no:randomly")
    result.stdout.fnmatch_lines(
        ["FAILED pytest-ssot::hidden-folder - src1/nsroot/a/helpers/ holds 1 .py file*"]
    )
    # Reported once, and the namespace folder ns/ is not.
    assert "nsroot/ns/ holds" not in result.stdout.str()
    assert result.stdout.str().count("[hidden-folder]") == 1


DOTTED = {
    # nestednamespace is a namespace package; foo, the root package, a regular one.
    "nestednamespace/foo/__init__.py": "",
    "nestednamespace/foo/alpha.py": "from nestednamespace.foo import beta\n",
    "nestednamespace/foo/beta.py": "",
    "pyproject.toml": """
        [tool.pytest.ini_options]
        pythonpath = ["."]
        ssot_hidden_folders = "fail"

        [tool.importlinter]
        root_package = "nestednamespace.foo"

        [[tool.importlinter.contracts]]
        id = "alpha-alone"
        name = "alpha does not use beta"
        type = "forbidden"
        source_modules = ["nestednamespace.foo.alpha"]
        forbidden_modules = ["nestednamespace.foo.beta"]
    """,
}


def test_a_dotted_root_package_is_located(pytester: pytest.Pytester, write: WriteFiles) -> None:
    write(DOTTED)
    result = pytester.runpytest("--ssot", "--ssot-only", "-p", "no:randomly")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "  1. nestednamespace.foo.alpha -> nestednamespace.foo.beta",
            "      nestednamespace/foo/alpha.py:1  from nestednamespace.foo import beta",
        ]
    )


MORE = """
[[tool.importlinter.contracts]]
id = "more"
name = "beta does not use alpha"
type = "forbidden"
source_modules = ["nestednamespace.foo.beta"]
forbidden_modules = ["nestednamespace.foo.alpha"]
"""


def test_the_header_names_the_files_loaded(pytester: pytest.Pytester, write: WriteFiles) -> None:
    write(
        {
            **DOTTED,
            "pyproject.toml": DOTTED["pyproject.toml"].replace(
                'ssot_hidden_folders = "fail"', 'ssot_contracts = ["contracts/more.toml"]'
            ),
            "contracts/more.toml": MORE,
            # A subfolder with a config of its own: lint-imports run there would read it.
            "sub/.importlinter": "[importlinter]\nroot_package = other\n",
            "sub/test_sub.py": "def test_sub():\n    pass\n",
        }
    )
    result = pytester.runpytest("--ssot", "--ssot-only", "-p", "no:randomly")
    result.stdout.fnmatch_lines(
        [
            "pytest-ssot: import-linter config pyproject.toml; contract files contracts/more.toml",
            "rootdir: *",
        ]
    )
    # Run from the subfolder, pytest-ssot still reads the rootdir's config, and says so.
    inner = pytester.runpytest_subprocess("--ssot", "-p", "no:randomly", str(pytester.path / "sub"))
    inner.stdout.fnmatch_lines(["pytest-ssot: import-linter config pyproject.toml; *"])


SHADOWED = {
    "src/app/__init__.py": "",
    "src/app/core/__init__.py": "",
    "src/app/core/a.py": "X = 2\n",
    "src/app/legacy/__init__.py": "",
    "src/app/legacy/old.py": "X = 1\n",
    # A stray copy at the rootdir, where lint-imports looks first.
    "app/__init__.py": "",
    "app/core/__init__.py": "",
    "app/core/a.py": "import app.legacy.old\n",
    "app/legacy/__init__.py": "",
    "app/legacy/old.py": "X = 1\n",
    "tests/test_a.py": "import app.core.a\n\n\ndef test_a():\n    assert app.core.a.X == 2\n",
    "pyproject.toml": """
        [tool.pytest.ini_options]
        pythonpath = ["src"]

        [tool.importlinter]
        root_package = "app"

        [[tool.importlinter.contracts]]
        id = "no-legacy"
        name = "core does not import legacy"
        type = "forbidden"
        source_modules = ["app.core"]
        forbidden_modules = ["app.legacy"]
    """,
}


@pytest.mark.parametrize("selection", [(), ("--ssot-only",), ("pyproject.toml",), ("-n", "2")])
def test_every_mode_checks_the_same_copy_of_a_shadowed_package(
    pytester: pytest.Pytester, write: WriteFiles, selection: tuple[str, ...]
) -> None:
    """The tests import app from src/ (pythonpath); a stray app/ sits at the rootdir. A
    full run checked the copy the tests had imported (find_spec answers from sys.modules),
    --ssot-only the rootdir's: opposite verdicts on the same code. Every mode now checks
    the one lint-imports checks, found on sys.path with the rootdir first."""
    write(SHADOWED)
    script = Path(sys.executable).with_name("pytest")  # not -m: the rootdir not on sys.path
    result = pytester.run(str(script), "--ssot", "-p", "no:cacheprovider", *selection)
    assert result.ret == pytest.ExitCode.TESTS_FAILED, result.stdout.str()
    result.stdout.fnmatch_lines(["*app/core/a.py:1*import app.legacy.old*"])
    result.stdout.fnmatch_lines(["graph app: 5 modules, 1 imports*"])
