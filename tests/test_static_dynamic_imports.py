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
