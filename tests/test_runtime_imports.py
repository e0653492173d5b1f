"""End to end: the runtime checks for what the static import graph cannot see.

Dynamic imports of forbidden modules, one file loaded as two modules, and
folders without ``__init__.py`` (docs/runtime-imports.md). Each sample project
is written by pytester and run in-process: pytester restores ``sys.modules``
and ``sys.path`` after each run, and the watcher removes itself from
``sys.meta_path`` (tested below).
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest

from pytest_ssot.expressions import ModuleExpression
from pytest_ssot.layout import ProjectLayout
from pytest_ssot.runtime.imports import ImportWatcher, LoadEvent
from pytest_ssot.runtime.rules import NameFilter
from tests.conftest import WriteFiles

pytestmark = pytest.mark.library_surface

pytest_plugins = ["pytester"]

CONFIG = """
[tool.pytest.ini_options]
pythonpath = ["."]
{ini}

[tool.importlinter]
root_package = "pkg"

[[tool.importlinter.contracts]]
id = "no-legacy"
name = "App code does not use the legacy package"
type = "forbidden"
source_modules = [{sources}]
forbidden_modules = ["pkg.legacy"]
{extra}
"""

LEGACY = [
    "visible",
    "dynamic_app",
    "hidden",
    "by_import_module",
    "by_dunder",
    "by_exec",
    "by_patch",
    "lazy_helper",
    "probe",
    "at_collection",
    "by_fixture",
    "shim_b",
    "bridged",
    "for_tests",
    "frozen",
    "other",
]

PACKAGE = {
    "pkg/__init__.py": "",
    "pkg/app/__init__.py": "",
    "pkg/app/core.py": (
        "import importlib\n"
        "\n"
        "\n"
        "def lazy():\n"
        "    import pkg.legacy.visible\n"
        "\n"
        "    return pkg.legacy.visible.NAME\n"
        "\n"
        "\n"
        "def dynamic():\n"
        '    return importlib.import_module("pkg.legacy.dynamic_app").NAME\n'
    ),
    "pkg/app/bridge.py": (
        "import importlib\n"
        "\n"
        "\n"
        "def load():\n"
        '    return importlib.import_module("pkg.legacy.bridged").NAME\n'
    ),
    # No __init__.py: grimp never reads this folder.
    "pkg/app/plugins/loader.py": (
        "def load():\n    import pkg.legacy.hidden\n\n    return pkg.legacy.hidden.NAME\n"
    ),
    "pkg/legacy/__init__.py": "",
    "pkg/legacy/shim_a.py": (
        "import importlib\n"
        "\n"
        "\n"
        "def sibling():\n"
        '    return importlib.import_module("pkg.legacy.shim_b").NAME\n'
    ),
    **{f"pkg/legacy/{name}.py": f"NAME = {name!r}\n" for name in LEGACY},
}


def config(ini: str = "", sources: str = '"pkg.app"', extra: str = "") -> str:
    if "ssot_runtime_outside_code" not in ini:
        # These tests hold the test files to every contract (the default holds them to none).
        ini = f'ssot_runtime_outside_code = "source"\n{ini}'
    return CONFIG.format(ini=ini, sources=sources, extra=extra)


@pytest.fixture
def project(write: WriteFiles) -> WriteFiles:
    write({**PACKAGE, "pyproject.toml": config()})
    return write


def outcomes(result: pytest.RunResult) -> dict[str, str]:
    """{test name: PASSED|FAILED|ERROR} from -rA lines."""
    found = {}
    for line in result.stdout.lines:
        word, _, rest = line.partition(" ")
        if word in ("PASSED", "FAILED", "ERROR") and "::" in rest:
            found[rest.split(" - ")[0].split("::")[-1]] = word
    return found


# ---------------------------------------------------------------------------
# Dynamic imports


MECHANISMS = """
import importlib
import importlib.util
import sys
from unittest import mock

import pytest


def test_the_watcher_is_the_first_finder():
    assert type(sys.meta_path[0]).__name__ == "ImportWatcher"


def test_import_module():
    importlib.import_module("pkg.legacy.by_import_module")


def test_dunder_import():
    __import__("pkg.legacy.by_dunder")


def test_exec_of_an_import_string():
    exec("import pkg.legacy.by_exec")


def test_patch_target():
    with mock.patch("pkg.legacy.by_patch.NAME", "patched"):
        pass


def test_lazy_import_in_the_test_file():
    def helper():
        from pkg.legacy import lazy_helper

        return lazy_helper.NAME

    assert helper() == "lazy_helper"


def test_app_code_loads_dynamically():
    from pkg.app import core

    assert core.dynamic() == "dynamic_app"


def test_lazy_import_in_a_hidden_folder():
    from pkg.app.plugins import loader

    assert loader.load() == "hidden"


def test_visible_lazy_import_is_left_to_the_contract_item():
    from pkg.app import core

    assert core.lazy() == "visible"


def test_probes_and_missing_modules_are_not_loads():
    assert importlib.util.find_spec("pkg.legacy.probe") is not None
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("pkg.legacy.missing")
"""


def test_dynamic_loads_fail_the_test_with_the_importing_line(
    pytester: pytest.Pytester, project: WriteFiles
) -> None:
    project({"tests/test_dyn.py": MECHANISMS})
    before = list(sys.meta_path)
    result = pytester.runpytest("--ssot", "-rA")
    assert sys.meta_path == before  # the watcher is gone again
    assert outcomes(result) == {
        "no-legacy": "FAILED",  # the static item: pkg.app.core's lazy import statement
        "test_the_watcher_is_the_first_finder": "PASSED",
        "test_import_module": "FAILED",
        "test_dunder_import": "FAILED",
        "test_exec_of_an_import_string": "FAILED",
        "test_patch_target": "FAILED",
        "test_lazy_import_in_the_test_file": "FAILED",
        "test_app_code_loads_dynamically": "FAILED",
        "test_lazy_import_in_a_hidden_folder": "FAILED",
        "test_visible_lazy_import_is_left_to_the_contract_item": "PASSED",
        "test_probes_and_missing_modules_are_not_loads": "PASSED",
    }
    result.stdout.fnmatch_lines(
        [
            "[[]dynamic-import[]] tests.test_dyn loaded pkg.legacy.by_import_module, which "
            "contract 'no-legacy' forbids",
            '  tests/test_dyn.py:14  importlib.import_module("pkg.legacy.by_import_module")',
            "  During call of tests/test_dyn.py::test_import_module.",
            "  Contract 'no-legacy' (forbidden, pyproject.toml:*): App code does not use the "
            "legacy package",
            "    pkg.legacy is forbidden by this contract, and code outside the root packages "
            "counts as one of its source modules at runtime.",
            "    What to do: *",
            "  Not seen by the static check: a dynamic import (importlib.import_module, "
            "__import__, exec of an import string, a mock.patch target...); import-linter "
            "reads only import statements.",
        ]
    )
    text = result.stdout.str()
    for expected in (
        '  tests/test_dyn.py:18  __import__("pkg.legacy.by_dunder")',
        '  tests/test_dyn.py:22  exec("import pkg.legacy.by_exec")',
        '  tests/test_dyn.py:26  with mock.patch("pkg.legacy.by_patch.NAME", "patched"):',
        "  tests/test_dyn.py:32  from pkg.legacy import lazy_helper",
        "[dynamic-import] tests.test_dyn loaded pkg.legacy.lazy_helper, which contract "
        "'no-legacy' forbids",
    ):
        assert expected in text
    # App code: judged by the contract's own sources, and the line is the app's.
    result.stdout.fnmatch_lines(
        [
            "[[]dynamic-import[]] pkg.app.core loaded pkg.legacy.dynamic_app, which contract "
            "'no-legacy' forbids",
            '  pkg/app/core.py:11  return importlib.import_module("pkg.legacy.dynamic_app").NAME',
            "  During call of tests/test_dyn.py::test_app_code_loads_dynamically.",
            "  Contract 'no-legacy' *",
            "    pkg.app is not allowed to import pkg.legacy.",
        ]
    )
    # An import statement the graph cannot see, because its folder has no __init__.py.
    result.stdout.fnmatch_lines(
        [
            "[[]dynamic-import[]] pkg.app.plugins.loader loaded pkg.legacy.hidden, *",
            "  pkg/app/plugins/loader.py:2  import pkg.legacy.hidden",
            "*",
            "*",
            "*",
            "*",
            "  Not seen by the static check: pkg/app/plugins/loader.py is inside "
            "pkg/app/plugins/, a folder without __init__.py that the import graph skips.",
        ]
    )
    # Each load is reported once, by the module asked for (never its parent package).
    assert "loaded pkg.legacy," not in text
    assert "loaded pkg.legacy.visible" not in text
    result.stdout.fnmatch_lines(["runtime imports: 7 forbidden loads (7 failing, 0 warned, *"])


PHASES = """
import importlib

import pytest

importlib.import_module("pkg.legacy.at_collection")


@pytest.fixture
def legacy():
    return importlib.import_module("pkg.legacy.by_fixture")


def test_uses_the_fixture(legacy):
    assert legacy.NAME == "by_fixture"


def test_plain():
    pass
"""


def test_loads_are_attributed_to_collection_and_fixtures(
    pytester: pytest.Pytester, project: WriteFiles
) -> None:
    project({"tests/test_phases.py": PHASES, "pkg/app/core.py": ""})
    result = pytester.runpytest("--ssot", "-rA")
    assert outcomes(result) == {
        "no-legacy": "PASSED",
        "test_uses_the_fixture": "ERROR",
        "test_plain": "PASSED",
        "dynamic-import": "FAILED",  # the load during collection, a run-level failure
    }
    result.stdout.fnmatch_lines(
        [
            "*ERROR at setup of test_uses_the_fixture*",
            "[[]dynamic-import[]] tests.test_phases loaded pkg.legacy.by_fixture, *",
            '  tests/test_phases.py:10  return importlib.import_module("pkg.legacy.by_fixture")',
            "  During setup of fixture 'legacy' (function scope) for "
            "tests/test_phases.py::test_uses_the_fixture.",
        ]
    )
    # A load during collection belongs to no test: it fails the session.
    result.stdout.fnmatch_lines(
        [
            "*_ pytest-ssot::dynamic-import _*",
            "during collection of tests/test_phases.py:",
            "  [[]dynamic-import[]] tests.test_phases loaded pkg.legacy.at_collection, which "
            "contract 'no-legacy' forbids",
            '    tests/test_phases.py:5  importlib.import_module("pkg.legacy.at_collection")',
        ]
    )
    assert result.ret == pytest.ExitCode.TESTS_FAILED


ALLOWED = """
def test_shim_loads_its_sibling():
    from pkg.legacy import shim_a

    assert shim_a.sibling() == "shim_b"


def test_ignored_by_the_contract():
    from pkg.app import bridge

    assert bridge.load() == "bridged"


def test_ignored_by_the_ini_option():
    import importlib

    assert importlib.import_module("pkg.legacy.for_tests").NAME == "for_tests"


def test_still_forbidden():
    from pkg.app import core

    assert core.dynamic() == "dynamic_app"
"""


def test_the_contracts_own_exceptions_hold_at_runtime(
    pytester: pytest.Pytester, write: WriteFiles
) -> None:
    # "pkg.*" matches pkg.legacy too: import-linter skips a module's imports of
    # itself, so the legacy package's shims may load each other.
    write(
        {
            **PACKAGE,
            "pkg/app/core.py": PACKAGE["pkg/app/core.py"].replace("import pkg.legacy.visible", ""),
            "tests/test_allowed.py": ALLOWED,
            "pyproject.toml": config(
                ini="ssot_runtime_imports_ignore = ["
                '"tests.test_allowed -> pkg.legacy.for_tests", '
                '"tests.test_allowed -> pkg.legacy.shim_a"]',
                sources='"pkg.*"',
                extra='ignore_imports = ["pkg.app.bridge -> pkg.legacy.bridged"]\n'
                'unmatched_ignore_imports_alerting = "none"',
            ),
        }
    )
    result = pytester.runpytest("--ssot", "-rA")
    assert outcomes(result) == {
        "no-legacy": "PASSED",
        "test_shim_loads_its_sibling": "PASSED",
        "test_ignored_by_the_contract": "PASSED",
        "test_ignored_by_the_ini_option": "PASSED",
        "test_still_forbidden": "FAILED",
    }
    result.stdout.fnmatch_lines(["    pkg.app is not allowed to import pkg.legacy."])


BASELINED = """
import importlib


def test_frozen():
    importlib.import_module("pkg.legacy.frozen")


def test_new():
    importlib.import_module("pkg.legacy.other")
"""

INJECT_BASELINE = """
import pytest


@pytest.hookimpl(trylast=True)
def pytest_configure(config):
    checks = config.pluginmanager.get_plugin("ssot-runtime-imports")
    frozen = {("no-legacy", "import: tests.test_baselined -> pkg.legacy.frozen")}
    checks.is_frozen = lambda contract, fingerprint: (contract, fingerprint) in frozen
"""


def test_a_baselined_import_passes(pytester: pytest.Pytester, project: WriteFiles) -> None:
    project(
        {
            "pkg/app/core.py": "",
            "tests/test_baselined.py": BASELINED,
            "conftest.py": INJECT_BASELINE,
        }
    )
    result = pytester.runpytest("--ssot", "-rA")
    assert outcomes(result) == {
        "no-legacy": "PASSED",
        "test_frozen": "PASSED",
        "test_new": "FAILED",
    }
    result.stdout.fnmatch_lines(
        ["runtime imports: 2 forbidden loads (1 failing, 0 warned, 1 in the baseline)"]
    )


MODES_CONFIG = """
[tool.pytest.ini_options]
pythonpath = ["."]
ssot_runtime_imports = "warn"
ssot_runtime_imports_per_contract = ["strict: fail", "quiet: off"]
ssot_runtime_outside_code = "source"

[tool.importlinter]
root_package = "pkg"
{contracts}
"""

MODES = """
import importlib


def test_warned():
    importlib.import_module("pkg.legacy.by_import_module")


def test_failed():
    importlib.import_module("pkg.legacy.by_dunder")


def test_silent():
    importlib.import_module("pkg.legacy.by_exec")
"""


def test_fail_warn_and_off_per_contract(pytester: pytest.Pytester, project: WriteFiles) -> None:
    contracts = "".join(
        f"""
[[tool.importlinter.contracts]]
id = "{cid}"
name = "{cid}"
type = "forbidden"
source_modules = ["pkg.app"]
forbidden_modules = ["pkg.legacy.{module}"]
"""
        for cid, module in (
            ("loose", "by_import_module"),
            ("strict", "by_dunder"),
            ("quiet", "by_exec"),
        )
    )
    project(
        {
            "pkg/app/core.py": "",
            "tests/test_modes.py": MODES,
            "pyproject.toml": MODES_CONFIG.format(contracts=contracts),
        }
    )
    result = pytester.runpytest("--ssot", "-rA", "-W", "default")
    tests = {k: v for k, v in outcomes(result).items() if k.startswith("test_")}
    assert tests == {"test_warned": "PASSED", "test_failed": "FAILED", "test_silent": "PASSED"}
    text = result.stdout.str()
    assert text.count("PytestSsotRuntimeWarning: [dynamic-import]") == 1
    assert "PytestSsotRuntimeWarning: [dynamic-import] tests.test_modes loaded " in text
    assert "pkg.legacy.by_import_module, which contract 'loose' forbids" in text
    assert "by_exec" not in text
    result.stdout.fnmatch_lines(
        ["runtime imports: 2 forbidden loads (1 failing, 1 warned, 0 in the baseline)"]
    )


OUTSIDE = """
import importlib


def test_loads_legacy_from_a_test_file():
    importlib.import_module("pkg.legacy.by_import_module")


def test_app_code_loads_legacy():
    from pkg.app import core

    assert core.dynamic() == "dynamic_app"


def test_app_code_loads_a_watched_module():
    import pkg.app.uses_old
"""


def test_outside_code_ignored_and_watch_modules(
    pytester: pytest.Pytester, project: WriteFiles
) -> None:
    ini = 'ssot_runtime_outside_code = "ignore"\nssot_watch_modules = ["pkg.old_api"]'
    project(
        {
            "pkg/app/core.py": PACKAGE["pkg/app/core.py"].replace("import pkg.legacy.visible", ""),
            "pkg/old_api.py": "X = 1\n",
            "pkg/app/uses_old.py": "from pkg.old_api import X\n",
            "tests/test_outside.py": OUTSIDE,
            "pyproject.toml": config(ini=ini),
        }
    )
    result = pytester.runpytest("--ssot", "-rA")
    tests = {k: v for k, v in outcomes(result).items() if k.startswith("test_")}
    assert tests == {
        "test_loads_legacy_from_a_test_file": "PASSED",
        "test_app_code_loads_legacy": "FAILED",
        "test_app_code_loads_a_watched_module": "FAILED",
    }
    # ssot_watch_modules: every load by project code counts, import statements included.
    result.stdout.fnmatch_lines(
        [
            "[[]dynamic-import[]] pkg.app.uses_old loaded pkg.old_api, which ssot_watch_modules "
            "forbids",
            "  pkg/app/uses_old.py:1  from pkg.old_api import X",
            "*",
            "  pkg.old_api is listed in ssot_watch_modules: project code may not load it.",
        ]
    )


# ---------------------------------------------------------------------------
# The watcher comes and goes


@pytest.mark.parametrize(
    ("files", "status"),
    [
        (
            {"tests/test_stop.py": "def test_stop():\n    raise KeyboardInterrupt\n"},
            pytest.ExitCode.INTERRUPTED,
        ),
        (
            {
                "tests/test_ok.py": "def test_ok():\n    pass\n",
                "conftest.py": "def pytest_collection_modifyitems(items):\n"
                "    raise RuntimeError('boom')\n",
            },
            pytest.ExitCode.INTERNAL_ERROR,
        ),
    ],
    ids=["ctrl-c", "internal-error"],
)
def test_sys_meta_path_is_restored(
    pytester: pytest.Pytester,
    project: WriteFiles,
    files: dict[str, str],
    status: pytest.ExitCode,
) -> None:
    project({"pkg/app/core.py": "", **files})
    before = list(sys.meta_path)
    result = pytester.runpytest("--ssot", no_reraise_ctrlc=True)
    assert result.ret == status
    assert sys.meta_path == before
    # (An outer `pytest --ssot` run has its own watcher: only the inner one must go.)
    watchers = [f for f in sys.meta_path if isinstance(f, ImportWatcher)]
    assert watchers == [f for f in before if isinstance(f, ImportWatcher)]


# ---------------------------------------------------------------------------
# One file, two modules


DOUBLE = {
    "app/__init__.py": "",
    "app/other.py": "",
    "app/websocket_core/__init__.py": "",
    "app/websocket_core/manager.py": "class WebSocketManager:\n    pass\n",
    "app/websocket_core/registry.py": "",
}

DOUBLE_CONFIG = """
[tool.pytest.ini_options]
pythonpath = [".", "app"]
{ini}

[tool.importlinter]
root_package = "app"

[[tool.importlinter.contracts]]
id = "core-is-standalone"
name = "The core does not import the rest of the app"
type = "forbidden"
source_modules = ["app.websocket_core"]
forbidden_modules = ["app.other"]
"""

AT_IMPORT = """
import sys

import app.websocket_core.manager as one
import websocket_core.manager as two

sys.modules["manager_alias"] = one  # an alias is one module object: not a double load


def test_two_class_objects():
    assert one.WebSocketManager is not two.WebSocketManager


def test_late():
    import app.websocket_core.registry
    import websocket_core.registry
"""


def test_one_file_loaded_as_two_modules(pytester: pytest.Pytester, write: WriteFiles) -> None:
    write(
        {
            **DOUBLE,
            "tests/test_double.py": AT_IMPORT,
            "pyproject.toml": DOUBLE_CONFIG.format(ini=""),
        }
    )
    result = pytester.runpytest("--ssot", "-rA")
    assert outcomes(result) == {
        "core-is-standalone": "PASSED",
        "test_two_class_objects": "PASSED",
        "test_late": "PASSED",
        # Found outside any test: one run-level failure for the check, in the final line.
        "double-load": "FAILED",
    }
    result.assert_outcomes(passed=3, failed=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        [
            "during collection:",
            "  [[]double-load[]] app/websocket_core/__init__.py is loaded as 2 modules: "
            "app.websocket_core, websocket_core",
            "*",
            "*",
            "*",
            "*",
            "during collection:",
            # An alias (one module object, two names) is listed, never counted.
            "  [[]double-load[]] app/websocket_core/manager.py is loaded as 2 modules: "
            "app.websocket_core.manager (also manager_alias), websocket_core.manager",
            "    app.websocket_core.manager (also manager_alias)  through sys.path entry the "
            "rootdir",
            "    websocket_core.manager                           through sys.path entry app",
            "    Each name is a separate module object, *",
            "*",
            # Loaded during a test: found by the scan at the end of the session.
            "during session end:",
            "  [[]double-load[]] app/websocket_core/registry.py is loaded as 2 modules: "
            "app.websocket_core.registry, websocket_core.registry",
        ]
    )


def test_double_load_allowlist(pytester: pytest.Pytester, write: WriteFiles) -> None:
    ini = 'ssot_double_load_allow = ["websocket_core", "websocket_core.**"]'
    write(
        {
            **DOUBLE,
            "tests/test_double.py": AT_IMPORT,
            "pyproject.toml": DOUBLE_CONFIG.format(ini=ini),
        }
    )
    result = pytester.runpytest("--ssot")
    result.assert_outcomes(passed=3)
    assert result.ret == pytest.ExitCode.OK
    assert "double-load" not in result.stdout.str()


# ---------------------------------------------------------------------------
# Folders the graph cannot see


HIDDEN = {
    "pkg/app/core.py": "",
    "pkg/app/plugins/nested/__init__.py": "",
    "pkg/app/plugins/nested/deep.py": "",
    "pkg/app/templates/page.html": "<p>not code</p>\n",
    "pkg/app/__pycache__/stale.py": "",
    "pkg/tools/scripts/run.py": "",
    "pkg/tools/__init__.py": "",
    "tests/test_ok.py": "def test_ok():\n    pass\n",
}


def test_hidden_folders_are_reported(pytester: pytest.Pytester, write: WriteFiles) -> None:
    write({**PACKAGE, **HIDDEN, "pyproject.toml": config()})
    result = pytester.runpytest("--ssot")
    result.assert_outcomes(passed=2)
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(
        [
            "*= pytest-ssot runtime =*",
            "hidden folders: 2 folders inside the root packages hold .py files but no "
            "__init__.py; the import graph cannot see 4 .py files:",
            "  pkg/app/plugins/ (3 .py files)",
            "  pkg/tools/scripts/ (1 .py file)",
            "  Add an __init__.py to each *",
        ]
    )
    assert "templates" not in result.stdout.str()
    assert "__pycache__" not in result.stdout.str()


def test_hidden_folders_fail_under_the_option(pytester: pytest.Pytester, write: WriteFiles) -> None:
    ini = 'ssot_hidden_folders = "fail"\nssot_hidden_folders_allow = ["pkg/tools/*"]'
    write({**PACKAGE, **HIDDEN, "pyproject.toml": config(ini=ini)})
    result = pytester.runpytest("--ssot")
    result.assert_outcomes(passed=2, failed=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        [
            "*_ pytest-ssot::hidden-folder _*",
            "during the scan of the root packages:",
            "  [[]hidden-folder[]] pkg/app/plugins/ holds 3 .py files but no __init__.py: "
            "no contract sees their imports",
        ]
    )
    assert "pkg/tools/scripts" not in result.stdout.str()


def test_ssot_only_scans_folders_but_installs_no_import_watcher(
    pytester: pytest.Pytester, write: WriteFiles
) -> None:
    # --ssot-only imports no test module and runs no test: the watcher would see nothing,
    # so neither it nor its rules are loaded; the folder scan is about the sources and stays.
    probe = """
import sys

def pytest_collection_finish(session):
    watchers = [type(f).__name__ for f in sys.meta_path if "pytest_ssot" in type(f).__module__]
    loaded = sorted(m for m in ("pytest_ssot.runtime.rules", "pytest_ssot.runtime.imports")
                    if m in sys.modules)
    print(f"PROBE watchers={watchers} loaded={loaded}")
"""
    write({**PACKAGE, **HIDDEN, "pyproject.toml": config(), "conftest.py": probe})
    only = pytester.runpytest_subprocess("--ssot", "--ssot-only", "-s")
    only.stdout.fnmatch_lines(
        [
            "PROBE watchers=[[][]] loaded=[[][]]",
            "hidden folders: 2 folders inside the root packages hold .py files but no *",
        ]
    )
    full = pytester.runpytest_subprocess("--ssot", "-s")
    full.stdout.fnmatch_lines(
        [
            "PROBE watchers=[[]'ImportWatcher'[]] loaded=[[]"
            "'pytest_ssot.runtime.imports', 'pytest_ssot.runtime.rules'[]]",
        ]
    )


# ---------------------------------------------------------------------------
# The bundled example


def test_example_dynamic_import_and_hidden_folder(pytester: pytest.Pytester, example: Path) -> None:
    result = pytester.runpytest(
        "--ssot",
        "-rA",
        "-p",
        "no:cacheprovider",
        "tests/test_dynamic_legacy.py",
        "tests/test_routes.py",
    )
    tests = {k: v for k, v in outcomes(result).items() if k.startswith("test_")}
    assert tests == {
        "test_legacy_connection_manager_is_the_unified_manager": "FAILED",
        "test_app_has_every_route": "PASSED",
        "test_chat_opens_a_handler": "PASSED",
        "test_status_names_the_manager": "PASSED",
    }
    result.stdout.fnmatch_lines(
        [
            "[[]dynamic-import[]] tests.test_dynamic_legacy loaded "
            "wsapp.websocket.connection_manager, which contract 'no-legacy-websocket' forbids",
            '  tests/test_dynamic_legacy.py:12  legacy = importlib.import_module("wsapp.websocket.'
            'connection_manager")',
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "runtime imports: 1 forbidden load (1 failing, 0 warned, 0 in the baseline)",
            "hidden folders: 1 folder inside the root packages holds .py files but no "
            "__init__.py; the import graph cannot see 2 .py files:",
            "  wsapp/websocket_core/handlers/ (2 .py files)",
        ]
    )


# ---------------------------------------------------------------------------
# The watcher on its own


DRIVER = """
import importlib
import importlib.util


def from_submodule():
    from ssot_sample.legacy import sub


def from_attribute():
    from ssot_sample.legacy2 import NAME


def dotted():
    import ssot_sample.legacy3.sub


def probe():
    return importlib.util.find_spec("ssot_sample.legacy4")


def by_exec():
    exec("import ssot_sample.legacy5")


def missing():
    importlib.import_module("ssot_sample.nope")
"""


def test_the_watcher_reports_loads_as_import_linter_records_imports(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "ssot_sample"
    files = {
        "__init__.py": "",
        "driver.py": DRIVER,
        "legacy/__init__.py": "",
        "legacy/sub.py": "",
        "legacy2/__init__.py": "NAME = 1\n",
        "legacy3/__init__.py": "",
        "legacy3/sub.py": "",
        "legacy4.py": "",
        "legacy5.py": "",
    }
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    monkeypatch.syspath_prepend(str(tmp_path))
    events: list[LoadEvent] = []
    watcher = ImportWatcher(
        NameFilter([ModuleExpression.parse("ssot_sample.**")]),
        ProjectLayout(tmp_path, {"ssot_sample": [str(root)]}),
        events.append,
    )
    watcher.install()
    try:
        driver = importlib.import_module("ssot_sample.driver")  # no project frame: not judged
        assert events == []
        for step in ("from_submodule", "from_attribute", "dotted", "probe", "by_exec"):
            getattr(driver, step)()
        with pytest.raises(ModuleNotFoundError):
            driver.missing()
    finally:
        watcher.uninstall()
        for name in [n for n in sys.modules if n.split(".")[0] == "ssot_sample"]:
            del sys.modules[name]
    seen = [
        (e.module, e.line, e.import_statement, e.fromlist, e.superseded(), e.confirm())
        for e in events
    ]
    assert seen == [
        # from package import submodule: the package's load stands aside for the submodule's.
        ("ssot_sample.legacy", 7, True, ("sub",), True, True),
        ("ssot_sample.legacy.sub", 7, True, (), False, True),
        # from package import attribute: the package is what is imported.
        ("ssot_sample.legacy2", 11, True, ("NAME",), False, True),
        # import a.b.c: only the module asked for, not its parent.
        ("ssot_sample.legacy3.sub", 15, True, (), False, True),
        # find_spec only looks (no event); exec reports the line that calls exec.
        ("ssot_sample.legacy5", 23, False, (), False, True),
        ("ssot_sample.nope", 27, False, (), False, False),
    ]
    assert all(e.importer.module == "ssot_sample.driver" for e in events)
    assert watcher.errors == []
    assert watcher not in sys.meta_path
