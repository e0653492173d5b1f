"""--ssot-fix and --ssot-diff end to end: sample projects written by pytester, fixed for real."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.conftest import WriteFiles

pytestmark = pytest.mark.library_surface

pytest.importorskip("libcst")

CONFIG = """
[tool.pytest.ini_options]
pythonpath = ["."]

[tool.importlinter]
root_packages = ["app"]

[[tool.importlinter.contracts]]
id = "no-legacy"
name = "Web code does not import the legacy package"
type = "forbidden"
source_modules = ["app.web"]
forbidden_modules = ["app.legacy"]
"""

LIBRARY = {
    "app/__init__.py": "",
    "app/core/__init__.py": """
        from app.core.impl import Manager, Other, helper

        __all__ = ["Manager", "Other", "helper"]
    """,
    "app/core/impl.py": """
        class Manager:
            pass


        class Other:
            pass


        def helper():
            return 42
    """,
    "app/legacy/__init__.py": "",
    "app/legacy/shim.py": """
        from app.core.impl import Manager, Other, helper


        def shim_only():
            return "mine"
    """,
    "app/legacy/fallback.py": """
        try:
            from app.core.impl import Manager
        except ImportError:
            class Manager:
                pass
    """,
    "app/legacy/own.py": """
        class Own:
            pass
    """,
    "app/web/__init__.py": "",
}


def project(write: WriteFiles, files: dict[str, str], config: str = CONFIG) -> Path:
    return write({"pyproject.toml": config, **LIBRARY, **files})


def read(root: Path, name: str) -> str:
    return (root / name).read_text(encoding="utf-8")


def test_fix_rewrites_each_kind_of_import(pytester: pytest.Pytester, write: WriteFiles) -> None:
    root = project(
        write,
        {
            "app/web/alias.py": """
                from app.legacy.shim import Manager as M  # the manager

                VALUE = M
            """,
            "app/web/split.py": """
                from app.legacy.shim import (
                    Manager,  # moves
                    shim_only,  # stays: the shim defines it
                )
            """,
            "app/web/merge.py": """
                import os
                from app.core import helper
                from app.legacy.shim import Manager, Other

                USED = (os, helper, Manager, Other)
            """,
            "app/web/rel.py": """
                from ..legacy.shim import helper
            """,
            "app/web/module_as.py": """
                import app.legacy.shim as m


                def make():
                    return m.Manager(), m.helper()
            """,
            "app/web/dotted.py": """
                import app.legacy.shim


                def make():
                    return app.legacy.shim.helper()
            """,
        },
    )
    result = pytester.runpytest("--ssot", "--ssot-only", "--ssot-fix", "-p", "no:cacheprovider")
    assert read(root, "app/web/alias.py") == (
        "from app.core import Manager as M  # the manager\n\nVALUE = M\n"
    )
    assert read(root, "app/web/split.py") == (
        "from app.legacy.shim import (\n"
        "    shim_only,  # stays: the shim defines it\n"
        ")\n"
        "from app.core import Manager\n"
    )
    assert read(root, "app/web/merge.py") == (
        "import os\nfrom app.core import helper, Manager, Other\n\n"
        "USED = (os, helper, Manager, Other)\n"
    )
    assert read(root, "app/web/rel.py") == "from ..core import helper\n"
    assert read(root, "app/web/module_as.py").startswith("import app.core as m\n")
    assert "return m.Manager(), m.helper()" in read(root, "app/web/module_as.py")
    dotted = read(root, "app/web/dotted.py")
    assert dotted.startswith("import app.core\n")
    assert "return app.core.helper()" in dotted
    result.stdout.fnmatch_lines(
        [
            "*pytest-ssot fix*",
            "fixed 6 imports in 6 files; 1 violation needs a human:",
            "  rewrote app/web/alias.py",
            "*app/web/split.py: app.web.split -> app.legacy.shim: shim_only: app.legacy.shim "
            "defines shim_only itself: there is no other home to import it from (move the "
            "definition first)",
        ]
    )
    # The contract is checked on the fixed tree: only the name a human must move is left.
    result.stdout.fnmatch_lines(["*BROKEN pyproject.toml::no-legacy (1 violation)*"])
    # Every rewritten file binds the same objects as before.
    check = (
        "import app.web.alias, app.web.merge, app.web.module_as, app.web.dotted, app.core.impl\n"
        "from app.web import split\n"
        "assert app.web.alias.VALUE is app.core.impl.Manager\n"
        "assert split.Manager is app.core.impl.Manager\n"
        "assert app.web.merge.Other is app.core.impl.Other\n"
        "assert app.web.module_as.make()[1] == 42 and app.web.dotted.make() == 42\n"
    )
    subprocess.run([sys.executable, "-c", check], cwd=root, check=True, timeout=60)
    # Idempotent: a second run changes nothing.
    before = {p: p.read_bytes() for p in (root / "app").rglob("*.py")}
    again = pytester.runpytest("--ssot", "--ssot-only", "--ssot-fix", "-p", "no:cacheprovider")
    again.stdout.fnmatch_lines(["fixed 0 imports in 0 files; 1 violation needs a human:"])
    assert {p: p.read_bytes() for p in (root / "app").rglob("*.py")} == before


def test_unfixable_imports_say_why(pytester: pytest.Pytester, write: WriteFiles) -> None:
    root = project(
        write,
        {
            "app/web/fallback_user.py": "from app.legacy.fallback import Manager\n",
            "app/web/own_user.py": "from app.legacy.own import Own\n",
            "app/web/star_user.py": "from app.legacy.shim import *  # noqa: F403\n",
            "app/web/module_user.py": (
                "import app.legacy.shim as m\n\nTHE_MODULE = m\nX = m.helper\n"
            ),
        },
    )
    before = {p: p.read_bytes() for p in (root / "app").rglob("*.py")}
    result = pytester.runpytest("--ssot", "--ssot-only", "-p", "no:cacheprovider")
    result.stdout.fnmatch_lines(
        [
            "*app.web.fallback_user -> app.legacy.fallback",
            "*from app.legacy.fallback import Manager",
            "      not fixable: Manager: app.legacy.fallback binds Manager conditionally (an if, "
            "or a try/except ImportError fallback): which object it is cannot be proven",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "*app.web.module_user -> app.legacy.shim",
            "*import app.legacy.shim as m",
            "      not fixable: m is used as a module object, not only m.<name>",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "*app.web.own_user -> app.legacy.own",
            "*from app.legacy.own import Own",
            "      not fixable: Own: app.legacy.own defines Own itself: there is no other home to "
            "import it from (move the definition first)",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "*app.web.star_user -> app.legacy.shim",
            "*from app.legacy.shim import *",
            "      not fixable: a star import: the names it takes cannot be listed statically; "
            "import them by name",
        ]
    )
    fixed = pytester.runpytest("--ssot", "--ssot-only", "--ssot-fix", "-p", "no:cacheprovider")
    fixed.stdout.fnmatch_lines(["fixed 0 imports in 0 files; 4 violations need a human:"])
    assert {p: p.read_bytes() for p in (root / "app").rglob("*.py")} == before


def test_a_fix_that_would_break_another_contract_is_not_offered(
    pytester: pytest.Pytester, write: WriteFiles
) -> None:
    config = (
        CONFIG
        + """
[[tool.importlinter.contracts]]
id = "strict-web"
name = "The strict module does not import the core either"
type = "forbidden"
source_modules = ["app.web.strict"]
forbidden_modules = ["app.core"]
allow_indirect_imports = true
"""
    )
    root = project(
        write,
        {"app/web/strict.py": "from app.legacy.shim import Manager\n"},
        config,
    )
    result = pytester.runpytest("--ssot", "--ssot-only", "--ssot-fix", "-p", "no:cacheprovider")
    result.stdout.fnmatch_lines(
        [
            "fixed 0 imports in 0 files; 1 violation needs a human:",
            "  app/web/strict.py: app.web.strict -> app.legacy.shim: Manager: no allowed home: "
            "importing it from app.core would break contract 'strict-web'",
        ]
    )
    assert read(root, "app/web/strict.py") == "from app.legacy.shim import Manager\n"
    result.assert_outcomes(failed=1, passed=1)


def test_diff_shows_the_fix_and_changes_nothing(
    pytester: pytest.Pytester, write: WriteFiles
) -> None:
    root = project(write, {"app/web/user.py": "from app.legacy.shim import Manager\n"})
    result = pytester.runpytest(
        "--ssot", "--ssot-only", "--ssot-diff", "-p", "no:cacheprovider", "--ssot-report=r.json"
    )
    result.stdout.fnmatch_lines(
        [
            "--- a/app/web/user.py",
            "+++ b/app/web/user.py",
            "-from app.legacy.shim import Manager",
            "+from app.core import Manager",
            "would fix 1 import in 1 file",
            "after the fix, app.legacy has no importers left: it can be deleted",
        ]
    )
    assert read(root, "app/web/user.py") == "from app.legacy.shim import Manager\n"
    result.assert_outcomes(failed=1)
    report = json.loads((root / "r.json").read_text(encoding="utf-8"))
    (contract,) = report["contracts"]
    assert contract["fixes"] == {"fixable": 1, "not_fixable": 0}
    (violation,) = contract["violations"]
    assert violation["fix"]["fixable"] is True
    assert violation["fix"]["statements"] == [
        {
            "line": 1,
            "old": "from app.legacy.shim import Manager",
            "new": ["from app.core import Manager"],
            "problems": [],
        }
    ]


def test_crlf_and_bom_survive(pytester: pytest.Pytester, write: WriteFiles) -> None:
    root = project(write, {})
    source = "\ufeff# a comment\r\nfrom app.legacy.shim import Manager, shim_only\r\n\r\nX = 1\r\n"
    (root / "app/web/windows.py").write_bytes(source.encode("utf-8"))
    pytester.runpytest("--ssot", "--ssot-only", "--ssot-fix", "-p", "no:cacheprovider")
    data = (root / "app/web/windows.py").read_bytes()
    assert data == (
        b"\xef\xbb\xbf# a comment\r\nfrom app.legacy.shim import shim_only\r\n"
        b"from app.core import Manager\r\n\r\nX = 1\r\n"
    )


def test_files_with_conflict_markers_or_outside_the_rootdir_are_left_alone(
    pytester: pytest.Pytester, write: WriteFiles
) -> None:
    marked = textwrap.dedent(
        '''
        """Half-merged.

        <<<<<<< HEAD
        =======
        >>>>>>> theirs
        """
        from app.legacy.shim import Manager
        '''
    ).lstrip()
    root = project(write, {"app/web/marked.py": marked})
    result = pytester.runpytest("--ssot", "--ssot-only", "--ssot-fix", "-p", "no:cacheprovider")
    result.stdout.fnmatch_lines(
        ["  left alone: app/web/marked.py: holds merge-conflict markers: resolve them first"]
    )
    assert read(root, "app/web/marked.py") == marked


def test_a_file_that_does_not_parse_is_left_alone_and_reported(
    pytester: pytest.Pytester, write: WriteFiles
) -> None:
    root = project(
        write,
        {
            "app/web/fine.py": "from app.legacy.shim import Manager\n",
            "app/web/broken.py": "from app.legacy.shim import Manager\nprint('a' +)\n",
        },
    )
    result = pytester.runpytest("--ssot", "--ssot-only", "--ssot-fix", "-p", "no:cacheprovider")
    result.stdout.fnmatch_lines(
        ["nothing fixed: the fixes cannot be planned: *does not parse (app/web/broken.py:2*"]
    )
    assert read(root, "app/web/fine.py") == "from app.legacy.shim import Manager\n"
    assert read(root, "app/web/broken.py").endswith("print('a' +)\n")
    assert result.ret != 0


def test_fix_runs_on_the_xdist_controller_before_the_workers(
    pytester: pytest.Pytester, write: WriteFiles
) -> None:
    root = project(
        write,
        {
            "app/web/user.py": "from app.legacy.shim import Manager\n",
            "tests/test_user.py": """
                import app.web.user


                def test_user_sees_the_fixed_file():
                    source = open(app.web.user.__file__).read()
                    assert source == "from app.core import Manager\\n"
            """,
        },
    )
    result = pytester.runpytest_subprocess(
        "--ssot", "--ssot-fix", "-n", "2", "-p", "no:randomly", "-p", "no:cacheprovider"
    )
    result.assert_outcomes(passed=2)
    assert read(root, "app/web/user.py") == "from app.core import Manager\n"
    assert result.stdout.str().count("rewrote app/web/user.py") == 1


def test_fixed_baseline_entries_are_reported_and_pruned(
    pytester: pytest.Pytester, write: WriteFiles
) -> None:
    root = project(write, {"app/web/user.py": "from app.legacy.shim import Manager\n"})
    pytester.runpytest(
        "--ssot", "--ssot-only", "--ssot-baseline=b.json", "--ssot-baseline-update"
    ).assert_outcomes(passed=1)
    result = pytester.runpytest(
        "--ssot",
        "--ssot-only",
        "--ssot-fix",
        "--ssot-baseline=b.json",
        "--ssot-baseline-prune",
        "-p",
        "no:cacheprovider",
    )
    # The fixed violation's entry is reported as fixed, and the prune drops it.
    result.stdout.fnmatch_lines(
        [
            "  contract   frozen  fixed    new",
            "  no-legacy       0      1      0",
            "*import: app.web.user -> app.legacy.shim",
            "  baseline written: b.json now holds 0 entries",
        ]
    )
    baseline = json.loads((root / "b.json").read_text(encoding="utf-8"))
    assert not any(baseline.get("contracts", {}).values())


def test_fix_and_diff_need_ssot_and_libcst(pytester: pytest.Pytester, write: WriteFiles) -> None:
    project(write, {})
    result = pytester.runpytest("--ssot-fix")
    result.stderr.fnmatch_lines(["*--ssot-fix needs --ssot*"])
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    both = pytester.runpytest("--ssot", "--ssot-fix", "--ssot-diff")
    both.stderr.fnmatch_lines(["*use one of them, not both*"])
    pytester.makeconftest("import sys\nsys.modules['libcst'] = None\n")
    missing = pytester.runpytest_subprocess("--ssot", "--ssot-diff")
    missing.stderr.fnmatch_lines(
        [
            "*--ssot-diff shows the rewrites with libcst, which is not installed: "
            "pip install 'pytest-ssot?fix?'"
        ]
    )
    assert missing.ret == pytest.ExitCode.USAGE_ERROR


BINDINGS = """
import importlib, json, sys, types
sys.path.insert(0, ".")
out = {}
for name in sys.argv[1:]:
    module = importlib.import_module(name)
    for attr, value in sorted(vars(module).items()):
        if isinstance(value, type | types.FunctionType):
            out[f"{name}.{attr}"] = [value.__module__, value.__qualname__]
print(json.dumps(out))
"""
REWRITTEN = ["wsapp.routes.admin", "wsapp.routes.status", "wsapp.services.notifier"]


def bindings(root: Path) -> dict[str, list[str]]:
    proc = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", BINDINGS, *REWRITTEN],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    found: dict[str, list[str]] = json.loads(proc.stdout)
    return found


def outcomes(result: pytest.RunResult) -> dict[str, str]:
    found = {}
    for line in result.stdout.lines:
        if line.startswith("tests/") and " " in line:
            nodeid, _, outcome = line.partition(" ")
            found[nodeid] = outcome.split()[0]
    return found


def test_the_example_migration_is_finished_by_the_fixer(
    pytester: pytest.Pytester, example: Path
) -> None:
    """On a copy of examples/websocket_migration: diff, fix, same test outcomes, idempotent."""
    args = ("--ssot", "-v", "-p", "no:randomly", "-p", "no:cacheprovider")
    source = {p: p.read_bytes() for p in (example / "wsapp").rglob("*.py")}
    before = pytester.runpytest(*args)
    bound_before = bindings(example)

    diff = pytester.runpytest("--ssot", "--ssot-only", "--ssot-diff", "-p", "no:cacheprovider")
    diff.stdout.fnmatch_lines(
        [
            "      fix: from wsapp.websocket_core.manager import WebSocketManager  ->  "
            "from wsapp.websocket_core import WebSocketManager",
        ]
    )
    diff.stdout.fnmatch_lines(
        [
            "--- a/wsapp/routes/status.py",
            "+++ b/wsapp/routes/status.py",
            "-from wsapp.websocket_core.manager import WebSocketManager",
            "+from wsapp.websocket_core import WebSocketManager",
            "would fix 3 imports in 3 files; 1 violation needs a human:",
        ]
    )
    assert {p: p.read_bytes() for p in (example / "wsapp").rglob("*.py")} == source

    fixed = pytester.runpytest(*args, "--ssot-fix")
    fixed.stdout.fnmatch_lines(
        [
            "fixed 3 imports in 3 files; 1 violation needs a human:",
            "  rewrote wsapp/routes/admin.py",
            "  rewrote wsapp/routes/status.py",
            "  rewrote wsapp/services/notifier.py",
            "*wsapp/routes/chat.py: wsapp.routes.chat -> wsapp.websocket.connection_handler: "
            "ConnectionHandler: wsapp.websocket.connection_handler defines ConnectionHandler "
            "itself*",
            "wsapp.websocket_core.manager has no importers left: it can be deleted",
        ]
    )
    verdicts = {
        line.split()[1].split("::")[1]: line.split()[0]
        for line in fixed.stdout.lines
        if line.startswith(("  KEPT ", "  BROKEN ")) and "::" in line
    }
    assert verdicts["no-shims-in-app"] == "KEPT"
    assert verdicts["no-legacy-websocket"] == "BROKEN"  # ConnectionHandler needs a human
    # The example's own tests: the same outcomes as before the fix.
    tests_before, tests_after = outcomes(before), outcomes(fixed)
    assert tests_before and tests_after == tests_before
    # Each rewritten module binds the very same classes and functions as before.
    assert bindings(example) == bound_before

    changed = {p: p.read_bytes() for p in (example / "wsapp").rglob("*.py")}
    again = pytester.runpytest("--ssot", "--ssot-only", "--ssot-fix", "-p", "no:cacheprovider")
    again.stdout.fnmatch_lines(["fixed 0 imports in 0 files; 1 violation needs a human:"])
    assert {p: p.read_bytes() for p in (example / "wsapp").rglob("*.py")} == changed


def test_a_module_loaded_at_run_time_is_not_called_deletable(
    pytester: pytest.Pytester, write: WriteFiles
) -> None:
    """No static importer is left after the fix, but app code still loads the legacy
    module by name while the tests run: it must not be called deletable."""
    files = {
        "app/web/user.py": "from app.legacy.shim import Manager\n",
        "app/web/plugins.py": """
            import importlib


            def load():
                return importlib.import_module("app.legacy.shim")
        """,
        "tests/test_plugins.py": """
            from app.web.plugins import load


            def test_load():
                assert load().Manager
        """,
    }
    project(write, files)
    args = ("--ssot", "--ssot-diff", "-p", "no:cacheprovider", "-o", "ssot_runtime_imports=warn")
    result = pytester.runpytest(*args)
    result.stdout.fnmatch_lines(["would fix 1 import in 1 file"])
    text = result.stdout.str()
    assert "app.legacy.shim has no importers left" not in text
    assert "app.legacy has no importers left" not in text
    # Its siblings nobody loads are still named.
    result.stdout.fnmatch_lines(["after the fix, app.legacy.own has no importers left: *"])

    # The same tree without the test that loads it: nothing uses app.legacy any more.
    (pytester.path / "tests" / "test_plugins.py").unlink()
    result = pytester.runpytest(*args)
    result.stdout.fnmatch_lines(
        ["after the fix, app.legacy has no importers left: it can be deleted"]
    )
