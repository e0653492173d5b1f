"""A test module that uses the libraries' API directly runs at the lower bound too.

.ci/run runs the tests marked ``library_surface`` again on the lowest import-linter,
grimp, pytest and libcst we support. A test module that imports one of those libraries
(or our adapter, the one module that uses their private API) must carry the marker, or a
break at the lower bound would go unseen. Tests that reach the libraries only through a
pytester run opt in by hand: this check cannot tell them apart.
"""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent.parent
LIBRARIES = ("importlinter", "grimp", "libcst", "pytest_ssot.adapter")
MARKER = "library_surface"


def library_imports(tree: ast.Module) -> list[str]:
    """``line N: name`` for each import (or importorskip) of one of LIBRARIES."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "importorskip"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            names = [node.args[0].value]
        else:
            continue
        hits = [n for n in names if any(n == lib or n.startswith(f"{lib}.") for lib in LIBRARIES)]
        if hits:
            found.append(f"line {node.lineno}: {hits[0]}")
    return found


def is_marked(tree: ast.Module) -> bool:
    """Whether ``pytest.mark.library_surface`` appears (as ``pytestmark`` or a decorator)."""
    return any(
        isinstance(node, ast.Attribute)
        and node.attr == MARKER
        and ast.unparse(node.value) == "pytest.mark"
        for node in ast.walk(tree)
    )


def test_modules_that_import_the_libraries_are_marked() -> None:
    unmarked = {}
    for path in sorted(TESTS.rglob("test_*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imports = library_imports(tree)
        if imports and not is_marked(tree):
            unmarked[path.relative_to(TESTS.parent).as_posix()] = imports
    assert unmarked == {}, (
        "these test modules use import-linter, grimp, libcst or pytest_ssot.adapter directly: "
        f"add `pytestmark = pytest.mark.{MARKER}` so .ci/run runs them at the lower bound"
    )


def test_the_check_sees_each_kind_of_import() -> None:
    source = """
import grimp
from importlinter.domain.contract import InvalidContractOptions
from pytest_ssot import adapter
import pytest_ssot.adapter as a

def test_x():
    pytest.importorskip("libcst")
    import os
    from pytest_ssot import model
"""
    tree = ast.parse(source)
    assert library_imports(tree) == [
        "line 2: grimp",
        "line 3: importlinter.domain.contract",
        "line 4: pytest_ssot.adapter",
        "line 5: pytest_ssot.adapter",
        "line 8: libcst",
    ]
    assert not is_marked(tree)
    assert is_marked(ast.parse(f"import pytest\npytestmark = pytest.mark.{MARKER}\n"))
    assert is_marked(ast.parse(f"import pytest\n@pytest.mark.{MARKER}\ndef test_x(): ...\n"))
    assert not is_marked(ast.parse("import pytest\npytestmark = pytest.mark.slow\n"))
