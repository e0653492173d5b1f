"""Runtime checks a real suite can leave on: no false positive, no changed outcome (issue 13).

End to end with pytester, on the sample app of tests/test_runtime_managers.py.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.test_runtime_managers import QUICK, app, outcomes, run

__all__ = ["app"]  # the fixture, imported for the tests below

pytest_plugins = ["pytester"]

PASS_THROUGH = """
    from app.managers import Manager


    class Unified(Manager):
        '''A "canonical" subclass that passes everything on, as real code does.'''

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
"""


def declared(*classes: str, extra: str = 'key = "user_context.user_id"') -> str:
    listed = ", ".join(f'"{c}"' for c in classes)
    return f"""
[tool.pytest.ini_options]
pythonpath = ["."]

[[tool.ssot.managers]]
name = "manager"
classes = [{listed}]
{extra}
"""


# ---------------------------------------------------------------------------
# Keys through pass-through subclasses


def test_keys_are_read_through_a_pass_through_subclass(
    pytester: pytest.Pytester, app: Callable[..., Path]
) -> None:
    app(
        {
            "app/unified.py": PASS_THROUGH,
            "pyproject.toml": declared("app.managers:Manager", "app.unified:Unified"),
            "tests/test_unified.py": """
                from app.context import Ctx
                from app.unified import Unified


                def test_no_arguments_uses_the_base_default():
                    assert Unified().user_context is None


                def test_two_users_positionally():
                    alice, bob = Unified(Ctx("alice")), Unified(Ctx("bob"))
                    assert alice is not bob


                def test_two_users_by_keyword():
                    alice = Unified(user_context=Ctx("alice"))
                    bob = Unified(user_context=Ctx("bob"))
                    assert alice is not bob


                def test_the_same_user_twice():
                    first, second = Unified(Ctx("alice")), Unified(Ctx("alice"), "x")
                    assert first is not second
            """,
        }
    )
    result = run(pytester, "-rA")
    assert outcomes(result) == {
        "test_no_arguments_uses_the_base_default": "PASSED",
        "test_two_users_positionally": "PASSED",
        "test_two_users_by_keyword": "PASSED",
        "test_the_same_user_twice": "FAILED",
    }
    result.stdout.fnmatch_lines(
        ["*manager: 2 live instances for user_context.user_id='alice', at most 1 allowed"]
    )
    assert "manager-declaration" not in result.stdout.str()


def test_unreadable_keys_are_never_counted_together(
    pytester: pytest.Pytester, app: Callable[..., Path]
) -> None:
    app(
        {
            "tests/test_unreadable.py": """
                from app.managers import Manager


                class NoUser:
                    '''A context without user_id: the key cannot be read.'''


                def test_two_contexts_without_user_id():
                    first, second = Manager(NoUser()), Manager(NoUser())
                    assert first is not second
            """,
        }
    )
    result = run(pytester, "-rA")
    text = result.stdout.str()
    # The declaration problem is reported (once); no duplicate is made up from it.
    assert "[manager-declaration]" in text
    assert "user_context.user_id could not be read" in text
    assert "duplicate-instance" not in text


# ---------------------------------------------------------------------------
# Nothing kept alive


def test_tracked_objects_and_runtime_classes_are_collected(
    pytester: pytest.Pytester, app: Callable[..., Path]
) -> None:
    app(
        {
            "pyproject.toml": declared(
                "app.managers:Manager", "unittest.mock:MagicMock", "unittest.mock:Mock", extra=""
            )
            + "max = 100\n",
            "tests/test_collected.py": """
                import gc
                import weakref
                from unittest.mock import MagicMock, Mock

                from app.managers import Manager


                def collected(make):
                    obj = make()
                    ref, cls_ref = weakref.ref(obj), weakref.ref(type(obj))
                    del obj
                    gc.collect()
                    return ref() is None, cls_ref() is None


                def test_magic_mock_is_collected_with_its_class():
                    assert collected(MagicMock) == (True, True)


                def test_mock_is_collected_with_its_class():
                    assert collected(Mock) == (True, True)


                def test_a_subclass_made_at_run_time_is_collected():
                    assert collected(lambda: type("Made", (Manager,), {})()) == (True, True)


                def test_a_manager_is_collected():
                    assert collected(Manager)[0]
            """,
        }
    )
    result = run(pytester, "-rA")
    assert set(outcomes(result).values()) == {"PASSED"}, result.stdout.str()
    result.stdout.fnmatch_lines(["*created 4 *"])


# ---------------------------------------------------------------------------
# No plugin frames in a user's traceback

FAILING = {
    "app/broken.py": """
        class Broken:
            def __init__(self, user_context=None):
                raise ValueError("cannot build")


        class Sub(Broken):
            pass
    """,
    "app/boom.py": """
        raise ImportError("this module cannot be imported")


        class Thing:
            pass
    """,
    "tests/test_tb.py": """
        import pytest

        from app.broken import Broken, Sub


        def test_constructor_raises():
            Broken()


        def test_inherited_constructor_raises():
            Sub()


        def test_plain_failure():
            assert 1 == 2


        @pytest.fixture
        def breaks_in_teardown():
            yield
            raise RuntimeError("teardown broke")


        def test_teardown_fails(breaks_in_teardown):
            pass


        @pytest.fixture
        def breaks_in_setup():
            raise RuntimeError("setup broke")


        def test_setup_fails(breaks_in_setup):
            pass


        def test_declared_module_fails_to_import():
            import app.boom
    """,
}


def _failure_sections(text: str) -> str:
    """The ERRORS and FAILURES sections, up to the next section of the terminal summary."""
    kept: list[str] = []
    inside = False
    for line in text.splitlines():
        header = re.fullmatch(r"=+ (.+?) =+", line)
        if header:
            inside = header.group(1) in ("ERRORS", "FAILURES")
        if inside:
            kept.append(line)
    assert kept, text
    return re.sub(r"0x[0-9a-f]+", "0x?", "\n".join(kept))


@pytest.mark.parametrize("style", ["long", "auto", "short"])
def test_a_failing_test_shows_the_same_traceback_with_and_without_ssot(
    pytester: pytest.Pytester, app: Callable[..., Path], style: str
) -> None:
    app(
        {
            **FAILING,
            "pyproject.toml": declared("app.broken:Broken", "app.boom:Thing", extra="max = 5"),
        }
    )
    plain = pytester.runpytest(*QUICK, "-rA", f"--tb={style}")
    ssot = run(pytester, "-rA", f"--tb={style}")
    assert outcomes(plain) == outcomes(ssot)
    assert "pytest_ssot" not in _failure_sections(ssot.stdout.str())
    assert _failure_sections(plain.stdout.str()) == _failure_sections(ssot.stdout.str())


# ---------------------------------------------------------------------------
# Counts and names


def test_counts_are_kept_per_class_and_colliding_names_are_qualified(
    pytester: pytest.Pytester, app: Callable[..., Path]
) -> None:
    app(
        {
            "app/a.py": "class Manager:\n    pass\n",
            "app/b.py": "class Manager:\n    pass\n",
            "pyproject.toml": declared(
                "app.a:Manager", "app.b:Manager", "unittest.mock:MagicMock", extra='scope = "test"'
            )
            + "max = 100\n",
            "tests/test_names.py": """
                from unittest.mock import MagicMock

                import app.a
                import app.b


                def test_both():
                    keep = [app.a.Manager(), app.b.Manager(), app.b.Manager()]
                    mocks = [MagicMock(), MagicMock(), MagicMock()]
                    assert keep and mocks
            """,
        }
    )
    result = run(pytester, "-rA")
    result.stdout.fnmatch_lines(["  created 6 (MagicMock: 3, app.a:Manager: 1, app.b:Manager: 2)"])


def test_factories_are_named_as_class_method_or_module_function(
    pytester: pytest.Pytester, app: Callable[..., Path]
) -> None:
    app(
        {
            "app/registry.py": """
                from app.managers import Manager


                class Registry:
                    def get(self, user_context):
                        return Manager(user_context)


                class Pool:
                    def get(self, user_context):
                        return Manager(user_context)


                def make(user_context):
                    return Manager(user_context)
            """,
            "pyproject.toml": declared(
                "app.managers:Manager",
                extra='key = "user_context.user_id"\nallow_direct_in_tests = false\n'
                'factories = ["app.registry:Registry.get", "app.registry:Pool.get", '
                '"app.registry:make"]',
            ),
            "tests/test_bypass.py": """
                from app.context import Ctx
                from app.managers import Manager


                def test_direct():
                    Manager(Ctx("alice"))
            """,
        }
    )
    result = run(pytester, "-rA")
    result.stdout.fnmatch_lines(
        [
            "[[]factory-bypass] manager: Manager constructed directly in test_direct, bypassing "
            "Registry.get or Pool.get or app.registry:make",
            "*What to do: call Registry.get() or Pool.get() or app.registry:make() instead of "
            "constructing Manager.",
        ]
    )


XDIST_PROJECT = {
    "pyproject.toml": """
        [tool.pytest.ini_options]
        pythonpath = ["."]

        [tool.importlinter]
        root_package = "pkg"

        [[tool.importlinter.contracts]]
        id = "no-legacy"
        name = "App code does not use the legacy package"
        type = "forbidden"
        source_modules = ["pkg.app"]
        forbidden_modules = ["pkg.legacy"]

        [[tool.ssot.managers]]
        name = "manager"
        classes = ["pkg.app.managers:Manager"]
        scope = "test"
        max = 100
    """,
    "pkg/__init__.py": "",
    "pkg/app/__init__.py": "",
    "pkg/app/managers.py": """
        class Manager:
            pass


        AT_IMPORT = Manager()
    """,
    "pkg/app/startup.py": """
        import importlib

        LEGACY = importlib.import_module("pkg.legacy.at_import")


        def later():
            return importlib.import_module("pkg.legacy.during")
    """,
    "pkg/legacy/__init__.py": "",
    "pkg/legacy/at_import.py": "",
    "pkg/legacy/during.py": "",
    "tests/conftest.py": """
        import pytest

        from pkg.app.managers import Manager


        @pytest.fixture(scope="session")
        def shared():
            return Manager()


        @pytest.fixture(scope="module")
        def per_module():
            return Manager()
    """,
    **{
        f"tests/test_{name}.py": f"""
            from pkg.app import startup
            from pkg.app.managers import Manager


            def test_{name}_1(shared, per_module):
                Manager()


            def test_{name}_2(shared, per_module):
                Manager()
                {"startup.later()" if name == "a" else ""}


            def test_{name}_3(per_module):
                Manager()
        """
        for name in ("a", "b", "c", "d")
    },
}


def test_xdist_counts_match_the_serial_run(pytester: pytest.Pytester, write: Any) -> None:
    write(XDIST_PROJECT)

    def summary(*extra: str) -> list[str]:
        result = pytester.runpytest_subprocess("--ssot", "-p", "no:randomly", "-rA", *extra)
        return [
            line
            for line in result.stdout.lines
            if line.startswith(("  created", "runtime imports:"))
            or "FAILED" in line
            or "ERROR" in line
        ]

    serial = summary()
    # 12 in tests, 1 session fixture, 4 module fixtures (the one made when conftest.py
    # imports the module is made before the tracker is installed: a documented limitation).
    assert "  created 17 (Manager: 17)" in serial
    assert "runtime imports: 2 forbidden loads (2 failing, 0 warned, 0 in the baseline)" in serial
    assert sorted(summary("-n", "2")) == sorted(serial)


def test_a_worker_that_sends_nothing_fails_the_run(pytester: pytest.Pytester, write: Any) -> None:
    # A worker finishing normally without pytest-ssot's payload once gave a run with
    # a third of the managers counted, no contract summary and exit 0 (a silent pass).
    write(XDIST_PROJECT)
    pytester.makeconftest(
        """
        import pytest

        @pytest.hookimpl(trylast=True)
        def pytest_sessionfinish(session):
            output = getattr(session.config, "workeroutput", None)
            if output is not None and session.config.workerinput["workerid"] == "gw1":
                output.pop("pytest_ssot", None)
        """
    )
    result = pytester.runpytest_subprocess("--ssot", "-p", "no:randomly", "-n", "2")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        [
            "FAILED pytest-ssot::xdist-worker - pytest-xdist worker gw1 finished*",
        ]
    )
    text = result.stdout.str()
    assert "worker gw1 finished its tests but sent no pytest-ssot results" in text
    assert "What to do: check that every worker loads the same pytest-ssot" in text


# ---------------------------------------------------------------------------
# Test code beside the package: a source of the contracts that are named for it

OPTIONAL_PROJECT = {
    "pkg/__init__.py": "",
    "pkg/core.py": "X = 1\n",
    "pkg/sandbox.py": "Y = 2\n",
    "pkg/legacy/__init__.py": "",
    "pkg/legacy/old.py": "Z = 3\n",
    "tests/test_own_modules.py": """
        import importlib


        def test_imports_the_optional_module_it_tests():
            assert importlib.import_module("pkg.sandbox").Y == 2


        def test_loads_the_legacy_package():
            assert importlib.import_module("pkg.legacy.old").Z == 3
    """,
}

OPTIONAL_CONFIG = """
[tool.pytest.ini_options]
pythonpath = ["."]
{ini}

[tool.importlinter]
root_package = "pkg"

[[tool.importlinter.contracts]]
id = "core-without-sandbox"
name = "The core does not need the sandbox"
type = "forbidden"
source_modules = ["pkg.core"]
forbidden_modules = ["pkg.sandbox"]

[[tool.importlinter.contracts]]
id = "no-legacy"
name = "Nobody uses the legacy package"
type = "forbidden"
source_modules = ["pkg.core", "pkg.sandbox"]
forbidden_modules = ["pkg.legacy"]
"""


@pytest.mark.parametrize(
    ("ini", "expected"),
    [
        ("", {"sandbox": "PASSED", "legacy": "PASSED"}),
        ('ssot_runtime_outside_code = "no-legacy"', {"sandbox": "PASSED", "legacy": "FAILED"}),
        ('ssot_runtime_outside_code = "source"', {"sandbox": "FAILED", "legacy": "FAILED"}),
        ('ssot_runtime_outside_code = "ignore"', {"sandbox": "PASSED", "legacy": "PASSED"}),
    ],
)
def test_test_code_is_a_source_only_of_the_contracts_named_for_it(
    pytester: pytest.Pytester, write: Any, ini: str, expected: dict[str, str]
) -> None:
    write({**OPTIONAL_PROJECT, "pyproject.toml": OPTIONAL_CONFIG.format(ini=ini)})
    result = pytester.runpytest("--ssot", *QUICK, "-rA")
    found = outcomes(result)
    assert {
        "sandbox": found["test_imports_the_optional_module_it_tests"],
        "legacy": found["test_loads_the_legacy_package"],
    } == expected
    if expected["legacy"] == "FAILED":
        result.stdout.fnmatch_lines(
            [
                "[[]dynamic-import[]] tests.test_own_modules loaded pkg.legacy.old, which "
                "contract*'no-legacy'*forbid*",
            ]
        )


def test_an_unknown_contract_id_for_test_code_is_a_usage_error(
    pytester: pytest.Pytester, write: Any
) -> None:
    ini = 'ssot_runtime_outside_code = "no-legacy, no-lagecy"'
    write({**OPTIONAL_PROJECT, "pyproject.toml": OPTIONAL_CONFIG.format(ini=ini)})
    result = pytester.runpytest("--ssot", *QUICK)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["*ssot_runtime_outside_code names unknown contract ids: no-lagecy (known: *"]
    )


# ---------------------------------------------------------------------------
# Findings are capped like contract chains


@pytest.mark.parametrize("verbose", [False, True])
def test_many_findings_in_one_test_are_capped_unless_verbose(
    pytester: pytest.Pytester, app: Callable[..., Path], verbose: bool
) -> None:
    app(
        {
            "tests/test_many.py": """
                from app.managers import Manager


                def test_three_hundred_managers():
                    keep = [Manager() for _ in range(300)]
                    assert keep
            """,
        }
    )
    (pytester.path / "pyproject.toml").write_text(
        declared("app.managers:Manager", extra='scope = "test"').replace(
            'pythonpath = ["."]', 'pythonpath = ["."]\nssot_max_chains = 4'
        )
    )
    result = run(pytester, "-rA", *(["-v"] if verbose else []))
    text = result.stdout.str()
    assert outcomes(result) == {"test_three_hundred_managers": "FAILED"}
    rendered = sum(1 for line in result.stdout.lines if line.startswith("[duplicate-instance]"))
    if verbose:
        assert rendered == 299
        assert "more findings not shown" not in text
    else:
        assert rendered == 4
        result.stdout.fnmatch_lines(
            [
                "... and 295 more findings not shown: 295 duplicate-instance (manager). -v shows "
                "all (at most ssot_max_chains = 4 are shown); the --ssot-report JSON lists "
                "every one."
            ]
        )
    # Each finding shows the two oldest, the two newest others and this one, whatever the count.
    if not verbose:
        return
    result.stdout.fnmatch_lines(
        [
            "*manager: 300 live instances in this test, at most 1 allowed",
            "*",
            "instance 1 of 300: Manager, created during call of *",
            "*",
            "instance 2 of 300: Manager, *",
            "*",
            "instance 298 of 300: Manager, *",
            "*",
            "instance 299 of 300: Manager, *",
            "*",
            "instance 300 of 300 (this one): Manager, *",
            "*",
            "  ... and 295 more",
        ]
    )


# ---------------------------------------------------------------------------
# Forked children


def test_a_forked_child_never_hangs_and_leaves_the_parent_alone(
    pytester: pytest.Pytester, app: Callable[..., Path]
) -> None:
    app(
        {
            "tests/test_fork.py": """
                import os
                import threading
                import time

                from app.context import Ctx
                from app.managers import Manager


                def fork_and_wait(request, child):
                    '''Fork while another thread holds the tracker's lock; the child runs
                    child() and exits 0, or 1 if it raised; 2 if it hangs.'''
                    plugin = request.config.pluginmanager.get_plugin("ssot-managers")
                    lock = plugin.tracker._lock if plugin else threading.RLock()
                    held, release = threading.Event(), threading.Event()

                    def hold():
                        with lock:
                            held.set()
                            release.wait()

                    thread = threading.Thread(target=hold)
                    thread.start()
                    held.wait()
                    pid = os.fork()
                    if pid == 0:
                        try:
                            child()
                        except BaseException:
                            os._exit(1)
                        os._exit(0)
                    release.set()
                    thread.join()
                    deadline = time.monotonic() + 20
                    while time.monotonic() < deadline:
                        done, status = os.waitpid(pid, os.WNOHANG)
                        if done:
                            return os.waitstatus_to_exitcode(status)
                        time.sleep(0.05)
                    os.kill(pid, 9)
                    os.waitpid(pid, 0)
                    return 2


                def test_the_child_builds_managers(request):
                    def child():
                        keep = [Manager(Ctx("alice")), Manager(Ctx("alice"))]
                        import app.legacy  # a watched import in the child
                        assert keep and app.legacy

                    assert fork_and_wait(request, child) == 0
                    one = Manager(Ctx("alice"))  # the parent still counts its own
                    assert one
            """,
        }
    )
    result = run(pytester, "-rA")
    assert outcomes(result) == {"test_the_child_builds_managers": "PASSED"}, result.stdout.str()
    result.stdout.fnmatch_lines(["  created 1 (Manager: 1)"])
