"""Dynamic imports seen statically (ssot_static_dynamic_imports)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import WriteFiles
from tests.sarif_check import read_sarif

pytestmark = pytest.mark.library_surface

CONTRACT = """
[tool.importlinter]
root_package = "app"
[[tool.importlinter.contracts]]
id = "no-legacy"
name = "Plugins do not load the legacy websocket package"
type = "forbidden"
source_modules = ["app.plugins"]
forbidden_modules = ["app.websocket"]
"""


def project(write: WriteFiles, plugins: str, ini: str = "") -> Path:
    return write(
        {
            "pyproject.toml": f'[tool.pytest.ini_options]\npythonpath = ["."]\n{ini}\n{CONTRACT}',
            "app/__init__.py": "",
            "app/plugins.py": plugins,
            "app/websocket/__init__.py": "",
            "app/websocket/x.py": "class Handler:\n    pass\n",
            "app/websocket_core.py": "",
        }
    )


ON = "ssot_static_dynamic_imports = true"
LITERAL = """
import importlib


def load():
    return importlib.import_module("app.websocket.x")
"""


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest("--ssot", "--ssot-only", "-p", "no:cacheprovider", *args)


def test_literal_import_module_breaks_the_contract_only_with_the_option(
    pytester: pytest.Pytester, write: WriteFiles
) -> None:
    project(write, LITERAL)
    assert run(pytester).ret == pytest.ExitCode.OK
    project(write, LITERAL, ON)
    result = run(pytester)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        [
            "*app.plugins -> app.websocket.x (importlib.import_module, line 5)*",
            '*app/plugins.py:5 * return importlib.import_module("app.websocket.x")',
        ]
    )
    result.stdout.fnmatch_lines(["*dynamic imports seen statically*1 added*"])


def test_fstring_with_a_literal_package_part(pytester: pytest.Pytester, write: WriteFiles) -> None:
    project(
        write,
        """
        from importlib import import_module as load_by_name


        def load(name):
            return load_by_name(f"app.websocket.{name}")
        """,
        ON,
    )
    result = run(pytester)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        ["*app.plugins -> app.websocket (importlib.import_module, line 5)*"]
    )


def test_other_loaders_and_relative_names(pytester: pytest.Pytester, write: WriteFiles) -> None:
    project(
        write,
        """
        import importlib
        import pkgutil


        def a():
            return importlib.import_module(".websocket.x", package=__package__)


        def b():
            return pkgutil.resolve_name("app.websocket.x:Handler")


        def c():
            return __import__("app.websocket")
        """,
        ON,
    )
    result = run(pytester, "--ssot-report=r.json")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    report = json.loads(Path("r.json").read_text())
    vias = {
        (hop["importer"], hop["imported"]): hop.get("via")
        for violation in report["contracts"][0]["violations"]
        for hop in violation["chain"]
    }
    assert vias[("app.plugins", "app.websocket.x")] == (
        "importlib.import_module, line 6; pkgutil.resolve_name, line 10"
    )
    assert vias[("app.plugins", "app.websocket")] == "__import__, line 14"
    graph = report["graphs"][0]
    assert graph["dynamic_imports"] == 3 and graph["unresolved"] == []


@pytest.mark.parametrize("workers", [(), ("-n", "2")], ids=["serial", "xdist"])
def test_computed_names_are_reported_as_unresolved(
    pytester: pytest.Pytester, write: WriteFiles, workers: tuple[str, ...]
) -> None:
    if workers:
        pytest.importorskip("xdist")
    project(
        write,
        """
        import importlib

        PLUGINS = {"chat": "app.websocket_core"}


        def load(kind):
            return importlib.import_module(PLUGINS[kind])
        """,
        ON,
    )
    if workers:  # the controller prints what the worker found
        result = pytester.runpytest_subprocess(
            "--ssot", "--ssot-only", "-p", "no:randomly", *workers
        )
    else:
        result = run(pytester)
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(
        [
            "*dynamic imports seen statically in app: 0 added to the graph, 1 not resolved*",
            "  app/plugins.py:7: importlib.import_module(PLUGINS[[]kind[]])",
        ]
    )


def test_per_contract_and_sarif_show_the_dynamic_hop(
    pytester: pytest.Pytester, write: WriteFiles
) -> None:
    project(write, LITERAL, 'ssot_static_dynamic_imports_per_contract = ["no-legacy: true"]')
    result = run(pytester, "--ssot-sarif=s.sarif")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    log = read_sarif("s.sarif")
    steps = log["runs"][0]["results"][0]["codeFlows"][0]["threadFlows"][0]["locations"]
    assert steps[0]["location"]["message"]["text"] == (
        "app.plugins imports app.websocket.x (line 5) [importlib.import_module, line 5]"
    )
    project(write, LITERAL, 'ssot_static_dynamic_imports_per_contract = ["nope: true"]')
    result = run(pytester)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*ssot_static_dynamic_imports_per_contract names unknown*nope*"])


def test_results_are_reused_with_the_dynamic_hop(
    pytester: pytest.Pytester, write: WriteFiles
) -> None:
    project(write, LITERAL, ON)
    first = pytester.runpytest("--ssot", "--ssot-only")
    second = pytester.runpytest("--ssot", "--ssot-only")
    assert "results reused" in second.stdout.str()
    for result in (first, second):
        result.stdout.fnmatch_lines(
            [
                "*app.plugins -> app.websocket.x (importlib.import_module, line 5)*",
                "*dynamic imports seen statically in app: 1 added to the graph, 0 not resolved",
            ]
        )
    verbose = pytester.runpytest("--ssot", "--ssot-only", "-v")
    verbose.stdout.fnmatch_lines(
        [
            "*dynamic imports seen statically in app: 1 added to the graph, 0 not resolved",
            "  added:",
            "    app/plugins.py:5: app.plugins -> app.websocket.x (importlib.import_module)",
        ]
    )
    # Turning the option off is a different configuration: checked again, kept.
    project(write, LITERAL)
    third = pytester.runpytest("--ssot", "--ssot-only")
    assert third.ret == pytest.ExitCode.OK
    assert "dynamic imports seen statically" not in third.stdout.str()


def scanned(source: str, exclude_type_checking: bool = False) -> tuple[set[str], list[str]]:
    """What scan_tree finds in app/plugins.py: the names loaded, and the unresolved calls."""
    import ast
    import textwrap

    from pytest_ssot.dynamic_imports import scan_tree

    text = textwrap.dedent(source)
    found, unresolved = scan_tree(
        ast.parse(text), "app.plugins", False, text, exclude_type_checking
    )
    return {name for name, *_ in found}, [u.call for u in unresolved]


def test_names_are_resolved_scope_by_scope() -> None:
    """A name means what Python would look it up as where the call is: the function's own
    names first, then enclosing functions (not class bodies), the module, the builtins."""
    found, unresolved = scanned(
        """
        import importlib
        from importlib import import_module as im

        _load = importlib.import_module  # an alias by assignment
        il = importlib


        def aliases():
            im("app.by_import_alias")
            _load("app.by_assigned_alias")
            il.util.find_spec("app.by_module_alias")


        def imported_here():
            from importlib import import_module as local_im

            return local_im("app.by_local_import")


        def not_imported_here():
            return local_im("app.unbound")  # local_im is another function's name


        def parameter(importlib, im):
            importlib.import_module("app.parameter")  # not the module: a parameter
            im("app.parameter_too")


        def assigned():
            im = make_loader()
            return im("app.local_assignment")


        def declared_global():
            global il
            return il.import_module("app.through_global")


        def outer(importlib=None):
            def inner():
                return importlib.import_module("app.closure_over_parameter")


        class Plugins:
            load = importlib.import_module
            first = load("app.class_body")

            def method(self):
                return load("app.method")  # class names are not visible in methods


        def builtin(__import__):
            return __import__("app.shadowed_builtin")


        __import__("app.builtin")
        """
    )
    assert found == {
        "app.by_import_alias",
        "app.by_assigned_alias",
        "app.by_module_alias",
        "app.by_local_import",
        "app.through_global",
        "app.class_body",
        "app.builtin",
    }
    assert unresolved == []


def test_a_name_bound_to_a_loader_and_to_something_else_is_reported() -> None:
    found, unresolved = scanned(
        """
        try:
            from importlib import import_module
        except ImportError:
            import_module = None

        import_module("app.maybe")
        """
    )
    assert found == set()
    assert unresolved == [
        'import_module("app.maybe") (its name is bound to a loader and to something else '
        "in the same scope)"
    ]


def test_type_checking_blocks_follow_the_graph() -> None:
    """Calls under `if TYPE_CHECKING:` never run: they count only when the graph counts the
    imports there too (exclude_type_checking_imports off, grimp's default)."""
    source = """
        from typing import TYPE_CHECKING
        import importlib
        import typing

        if TYPE_CHECKING:
            importlib.import_module("app.checking_only")
        else:
            importlib.import_module("app.at_run_time")
        if typing.TYPE_CHECKING:
            def f():
                importlib.import_module("app.nested_checking_only")
        """
    assert scanned(source, exclude_type_checking=True)[0] == {"app.at_run_time"}
    assert scanned(source)[0] == {
        "app.checking_only",
        "app.at_run_time",
        "app.nested_checking_only",
    }


def test_scope_aware_scan_end_to_end(pytester: pytest.Pytester, write: WriteFiles) -> None:
    """A shadowed loader adds no import; an alias in a function and a call under
    TYPE_CHECKING do as the graph's exclude_type_checking_imports says."""
    project(
        write,
        """
        from typing import TYPE_CHECKING


        def load(importlib):
            return importlib.import_module("app.websocket.x")  # a parameter, not importlib


        def lazy():
            from importlib import import_module as by_name

            return by_name("app.websocket_core")


        if TYPE_CHECKING:
            import importlib

            importlib.import_module("app.websocket")
        """,
        ON,
    )
    result = run(pytester, "--ssot-report=r.json")
    # The call under TYPE_CHECKING counts (as an import there would): the contract breaks.
    assert result.ret == pytest.ExitCode.TESTS_FAILED, result.stdout.str()
    result.stdout.fnmatch_lines(
        ["*app.plugins -> app.websocket (importlib.import_module, line 17)*"]
    )
    assert "app.websocket.x" not in result.stdout.str()
    added = json.loads(Path("r.json").read_text())["graphs"][0]["dynamic_added"]
    assert [a.split(": ", 1)[1] for a in added] == [
        "app.plugins -> app.websocket_core (importlib.import_module)",
        "app.plugins -> app.websocket (importlib.import_module)",
    ]
    pyproject = Path("pyproject.toml")
    pyproject.write_text(
        pyproject.read_text().replace(
            'root_package = "app"', 'root_package = "app"\nexclude_type_checking_imports = true'
        )
    )
    result = run(pytester, "--ssot-report=r.json")
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    added = json.loads(Path("r.json").read_text())["graphs"][0]["dynamic_added"]
    assert [a.split(": ", 1)[1] for a in added] == [
        "app.plugins -> app.websocket_core (importlib.import_module)"
    ]
