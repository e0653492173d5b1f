"""End to end: duplicate managers detected while the tests run (docs/runtime-managers.md)."""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import WriteFiles

pytestmark = pytest.mark.library_surface

pytest_plugins = ["pytester"]

APP = {
    "app/__init__.py": "",
    "app/context.py": """
        from dataclasses import dataclass


        @dataclass(frozen=True)
        class Ctx:
            user_id: str | None
    """,
    "app/managers.py": """
        import threading


        class Manager:
            def __init__(self, user_context=None, label="m"):
                self.user_context = user_context
                self.label = label


        class Canonical(Manager):
            '''The "canonical" subclass under another public name.'''


        Legacy = Manager

        _managers = {}
        _lock = threading.Lock()


        def get_manager(user_context):
            key = user_context.user_id if user_context else None
            with _lock:
                if key not in _managers:
                    _managers[key] = Manager(user_context)
                return _managers[key]


        async def get_manager_async(user_context):
            return get_manager(user_context)


        def reset():
            _managers.clear()
    """,
    "app/routes.py": """
        from app.context import Ctx
        from app.managers import Manager, get_manager


        def open_chat(user_id):
            return get_manager(Ctx(user_id))


        def send(user_id, event):
            manager = Manager(Ctx(user_id))
            return manager
    """,
    "app/legacy.py": """
        from app.context import Ctx
        from app.managers import Legacy


        def broadcast(user_id):
            return Legacy(Ctx(user_id))
    """,
    "tests/conftest.py": """
        import pytest


        @pytest.fixture(autouse=True)
        def _empty_registry():
            from app.managers import reset

            reset()
            yield
            reset()
    """,
}

MANAGER = """
[tool.pytest.ini_options]
pythonpath = ["."]

[[tool.ssot.managers]]
name = "manager"
classes = ["app.managers:Manager", "app.managers:Canonical", "app.managers:Legacy"]
{extra}
"""

PER_KEY = 'key = "user_context.user_id"'
WITH_FACTORIES = (
    'key = "user_context.user_id"\n'
    'factories = ["app.managers:get_manager", "app.managers:get_manager_async"]'
)


def declare(extra: str = PER_KEY) -> str:
    return MANAGER.format(extra=extra)


@pytest.fixture
def app(write: WriteFiles) -> Callable[..., Path]:
    """Write the sample app plus the given files; the pyproject declares one manager."""

    def _app(files: dict[str, str], extra: str = PER_KEY) -> Path:
        return write({**APP, "pyproject.toml": declare(extra), **files})

    return _app


# Without these, each in-process run re-imports hypothesis (pytester restores sys.modules).
QUICK = ("-p", "no:cacheprovider", "-p", "no:hypothesispytest", "-p", "no:xdist")


def run(pytester: pytest.Pytester, *args: str, plugins: Sequence[object] = ()) -> pytest.RunResult:
    return pytester.runpytest("--ssot", *QUICK, *args, plugins=list(plugins))


def outcomes(result: pytest.RunResult) -> dict[str, str]:
    """{test name: PASSED/FAILED/ERROR/SKIPPED} from -rA output."""
    found = {}
    for line in result.stdout.lines:
        match = re.match(r"^(PASSED|FAILED|ERROR|SKIPPED|XFAIL|XPASS) (\S+?)(?: - .*)?$", line)
        if match:
            found[match.group(2).split("::")[-1]] = match.group(1)
    return found


# ---------------------------------------------------------------------------
# The rule


def test_direct_construction_next_to_the_registry_fails_with_both_sites(
    pytester: pytest.Pytester, app: Callable[..., Path]
) -> None:
    app(
        {
            "tests/test_chat.py": """
                from app.routes import open_chat, send


                def test_registry_twice():
                    assert open_chat("alice") is open_chat("alice")
                    open_chat("bob")


                def test_send_to_connected_user():
                    manager = open_chat("alice")
                    send("alice", "typing")
                    assert manager
            """
        }
    )
    result = run(pytester, "-rA")
    assert outcomes(result) == {
        "test_registry_twice": "PASSED",
        "test_send_to_connected_user": "FAILED",
    }
    result.stdout.fnmatch_lines(
        [
            "[[]duplicate-instance] manager: 2 live instances for user_context.user_id='alice', "
            "at most 1 allowed",
            "rule: at most 1 live instance per user_context.user_id in each test "
            "(manager 'manager', pyproject.toml:4)",
            "",
            "instance 1 of 2: Manager, key 'alice', created during call of "
            "tests/test_chat.py::test_send_to_connected_user",
            "    app/managers.py:24 in get_manager",
            "        _managers[key] = Manager(user_context)",
            "    app/routes.py:6 in open_chat",
            "    tests/test_chat.py:10 in test_send_to_connected_user",
            "instance 2 of 2 (this one): Manager, key 'alice', created during call of "
            "tests/test_chat.py::test_send_to_connected_user",
            "    app/routes.py:10 in send",
            "        manager = Manager(Ctx(user_id))",
            "    tests/test_chat.py:11 in test_send_to_connected_user",
            "",
            "What to do: reuse the live instance instead of creating another one.",
        ]
    )
    assert result.ret == pytest.ExitCode.TESTS_FAILED


def test_subclass_and_legacy_alias_count_as_the_same_manager(
    pytester: pytest.Pytester, app: Callable[..., Path]
) -> None:
    app(
        {
            "tests/test_alias.py": """
                from app.context import Ctx
                from app.legacy import broadcast
                from app.managers import Canonical
                from app.routes import open_chat


                def test_legacy_alias():
                    keep = open_chat("alice")
                    broadcast("alice")


                def test_canonical_subclass():
                    keep = open_chat("alice")
                    other = Canonical(Ctx("alice"))


                def test_other_users_are_fine():
                    keep = open_chat("alice")
                    broadcast("bob")
                    other = Canonical(Ctx("carol"))
            """
        }
    )
    result = run(pytester, "-rA")
    assert outcomes(result) == {
        "test_legacy_alias": "FAILED",
        "test_canonical_subclass": "FAILED",
        "test_other_users_are_fine": "PASSED",
    }
    result.stdout.fnmatch_lines(
        [
            "instance 2 of 2 (this one): Manager, key 'alice', *test_legacy_alias",
            "    app/legacy.py:6 in broadcast",
            "        return Legacy(Ctx(user_id))",
        ]
    )
    result.stdout.fnmatch_lines(
        ["instance 2 of 2 (this one): Canonical, key 'alice', *test_canonical_subclass"]
    )


def test_a_none_key_is_its_own_case_and_says_why(
    pytester: pytest.Pytester, app: Callable[..., Path]
) -> None:
    app(
        {
            "tests/test_none.py": """
                from app.context import Ctx
                from app.managers import Manager


                def test_two_without_context():
                    a, b = Manager(None), Manager()


                def test_two_without_user_id():
                    a, b = Manager(Ctx(None)), Manager(user_context=Ctx(None))


                def test_none_and_a_user_do_not_collide():
                    a, b = Manager(None), Manager(Ctx("alice"))
            """
        }
    )
    result = run(pytester, "-rA")
    assert outcomes(result) == {
        "test_two_without_context": "FAILED",
        "test_two_without_user_id": "FAILED",
        "test_none_and_a_user_do_not_collide": "PASSED",
    }
    result.stdout.fnmatch_lines(
        [
            "*2 live instances for user_context.user_id=None (user_context is None), "
            "at most 1 allowed"
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "*2 live instances for user_context.user_id=None (user_context.user_id is None), "
            "at most 1 allowed"
        ]
    )


@pytest.mark.parametrize(
    ("scope", "second_test"),
    [("test", "PASSED"), ("process", "FAILED")],
)
def test_per_test_state_resets_unless_the_scope_is_process(
    pytester: pytest.Pytester, app: Callable[..., Path], scope: str, second_test: str
) -> None:
    app(
        {
            "tests/test_scope.py": """
                from app.managers import Manager

                KEPT = []


                def test_first():
                    KEPT.append(Manager())


                def test_second():
                    KEPT.append(Manager())
            """
        },
        extra=f'scope = "{scope}"',
    )
    result = run(pytester, "-rA")
    assert outcomes(result) == {"test_first": "PASSED", "test_second": second_test}
    if scope == "process":
        result.stdout.fnmatch_lines(
            [
                "*manager: 2 live instances in the process, at most 1 allowed",
                "instance 1 of 2: Manager, created during call of tests/test_scope.py::test_first",
                "    tests/test_scope.py:7 in test_first",
            ]
        )


def test_max_allows_that_many_live_and_collected_ones_do_not_count(
    pytester: pytest.Pytester, app: Callable[..., Path]
) -> None:
    app(
        {
            "tests/test_max.py": """
                import gc

                from app.context import Ctx
                from app.managers import Manager


                def test_two_allowed():
                    a, b = Manager(Ctx("u")), Manager(Ctx("u"))


                def test_third_fails():
                    a, b, c = Manager(Ctx("u")), Manager(Ctx("u")), Manager(Ctx("u"))


                def test_collected_ones_are_not_live():
                    for _ in range(5):
                        Manager(Ctx("u"))
                    a = Manager(Ctx("u"))
                    del a
                    gc.collect()
                    b, c = Manager(Ctx("u")), Manager(Ctx("u"))
            """
        },
        extra=f"{PER_KEY}\nmax = 2",
    )
    result = run(pytester, "-rA")
    assert outcomes(result) == {
        "test_two_allowed": "PASSED",
        "test_third_fails": "FAILED",
        "test_collected_ones_are_not_live": "PASSED",
    }
    result.stdout.fnmatch_lines(
        [
            "*manager: 3 live instances for user_context.user_id='u', at most 2 allowed",
            "rule: at most 2 live instances per user_context.user_id in each test *",
        ]
    )


# ---------------------------------------------------------------------------
# Factories


def test_factories_sync_and_async_pass_direct_construction_in_app_code_fails(
    pytester: pytest.Pytester, app: Callable[..., Path]
) -> None:
    app(
        {
            "tests/test_factories.py": """
                import asyncio

                from app.context import Ctx
                from app.managers import Manager, get_manager_async
                from app.routes import open_chat, send


                def test_sync_factory():
                    open_chat("alice")


                def test_async_factory():
                    asyncio.run(get_manager_async(Ctx("alice")))


                def test_direct_in_app_code():
                    send("bob", "ping")


                def test_direct_in_test_code_is_allowed():
                    Manager(Ctx("carol"))
            """
        },
        extra=WITH_FACTORIES,
    )
    result = run(pytester, "-rA")
    assert outcomes(result) == {
        "test_sync_factory": "PASSED",
        "test_async_factory": "PASSED",
        "test_direct_in_app_code": "FAILED",
        "test_direct_in_test_code_is_allowed": "PASSED",
    }
    result.stdout.fnmatch_lines(
        [
            "[[]factory-bypass] manager: Manager constructed directly in send, bypassing "
            "app.managers:get_manager or app.managers:get_manager_async",
            "rule: at most 1 live instance per user_context.user_id in each test, created only "
            "by app.managers:get_manager or app.managers:get_manager_async "
            "(manager 'manager', pyproject.toml:4)",
            "",
            "instance: Manager, key 'bob', created during call of "
            "tests/test_factories.py::test_direct_in_app_code",
            "    app/routes.py:10 in send",
            "        manager = Manager(Ctx(user_id))",
            "    tests/test_factories.py:17 in test_direct_in_app_code",
            "",
            "What to do: call app.managers:get_manager() or app.managers:get_manager_async() "
            "instead of constructing Manager.",
        ]
    )


def test_test_code_may_be_refused_direct_construction_too(
    pytester: pytest.Pytester, app: Callable[..., Path]
) -> None:
    app(
        {
            "tests/test_strict.py": """
                from app.context import Ctx
                from app.managers import Manager


                def test_direct():
                    Manager(Ctx("carol"))
            """
        },
        extra=f"{WITH_FACTORIES}\nallow_direct_in_tests = false",
    )
    result = run(pytester, "-rA")
    assert outcomes(result) == {"test_direct": "FAILED"}
    result.stdout.fnmatch_lines(["*Manager constructed directly in test_direct, bypassing *"])


# ---------------------------------------------------------------------------
# Opting out, and the fixture


def test_opt_out_marker(pytester: pytest.Pytester, app: Callable[..., Path]) -> None:
    app(
        {
            "tests/test_marker.py": """
                import pytest

                from app.routes import open_chat, send


                @pytest.mark.pytest_ssot_allow_duplicates("manager")
                def test_named():
                    keep = open_chat("alice")
                    send("alice", "x")


                @pytest.mark.pytest_ssot_allow_duplicates
                def test_all():
                    keep = open_chat("alice")
                    send("alice", "x")


                @pytest.mark.pytest_ssot_allow_duplicates("nope")
                def test_unknown_manager():
                    pass


                def test_not_marked():
                    keep = open_chat("alice")
                    send("alice", "x")
            """
        },
        extra=WITH_FACTORIES,
    )
    result = run(pytester, "-rA", "--strict-markers")
    assert outcomes(result) == {
        "test_named": "PASSED",
        "test_all": "PASSED",
        "test_unknown_manager": "ERROR",
        "test_not_marked": "FAILED",
    }
    result.stdout.fnmatch_lines(
        [
            "*@pytest.mark.pytest_ssot_allow_duplicates: no manager named 'nope' is declared "
            "(declared: 'manager')"
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "*= pytest-ssot managers =*",
            "manager: at most 1 live instance per user_context.user_id in each test, created "
            "only by app.managers:get_manager or app.managers:get_manager_async",
            "  created 6 (Manager: 6)",
            "  peak live per user_context.user_id: 'alice': 2",
            "  violations: 3 duplicate (2 allowed by @pytest_ssot_allow_duplicates), "
            "3 bypassing the factories (2 allowed by @pytest_ssot_allow_duplicates)",
        ]
    )


def test_marker_is_registered_without_ssot(pytester: pytest.Pytester, write: WriteFiles) -> None:
    write(
        {
            "test_plain.py": """
                import pytest


                @pytest.mark.pytest_ssot_allow_duplicates
                def test_x(ssot_instances):
                    pass
            """
        }
    )
    result = pytester.runpytest("--strict-markers", "-rs", *QUICK)
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(
        ["*the ssot_instances fixture needs *runtime checks: run with --ssot"]
    )


def test_fixture_counts_what_a_call_created(
    pytester: pytest.Pytester, app: Callable[..., Path]
) -> None:
    app(
        {
            "tests/test_fixture.py": """
                import pytest

                from app.context import Ctx
                from app.managers import Manager
                from app.routes import open_chat, send


                @pytest.fixture
                def existing():
                    return Manager(Ctx("zed"))


                def test_counts(existing, ssot_instances):
                    with ssot_instances.watch() as made:
                        first = open_chat("alice")
                        open_chat("alice")
                        open_chat("bob")
                    assert made.count("manager", key="alice") == 1
                    assert made.count("manager") == 2
                    assert made.keys("manager") == ["alice", "bob"]
                    assert made.live("manager", key="alice") == [first]
                    # The whole test, including the fixture's setup:
                    assert ssot_instances.count() == 3
                    [record] = ssot_instances.records("manager", key="zed")
                    assert record.phase.fixture == "existing"
                    assert record.site.render() == "tests/test_fixture.py:10 in existing"
                    assert ssot_instances.findings == []


                def test_findings_visible(ssot_instances):
                    keep = open_chat("alice")
                    send("alice", "x")
                    [finding] = ssot_instances.findings
                    assert finding.check == "duplicate-instance"
                    assert finding.fingerprint == (
                        "duplicate-instance: manager key='alice' at app/routes.py::send"
                    )


                def test_unknown_manager(ssot_instances):
                    with pytest.raises(ValueError, match="no manager named 'other'"):
                        ssot_instances.count("other")
            """
        }
    )
    result = run(pytester, "-rA")
    assert outcomes(result) == {
        "test_counts": "PASSED",
        "test_findings_visible": "FAILED",
        "test_unknown_manager": "PASSED",
    }
    # test_findings_visible's own asserts passed: it fails only because of the duplicate.
    assert "AssertionError" not in result.stdout.str()
    result.stdout.fnmatch_lines(["[[]duplicate-instance] manager: 2 live instances *"])


# ---------------------------------------------------------------------------
# Threads, asyncio, attribution


def test_threads_and_asyncio_tasks_are_attributed_to_the_running_test(
    pytester: pytest.Pytester, app: Callable[..., Path]
) -> None:
    app(
        {
            "tests/test_concurrency.py": """
                import asyncio
                import threading

                from app.context import Ctx
                from app.managers import Manager, get_manager, get_manager_async


                def test_many_threads_distinct_users(ssot_instances):
                    kept = []

                    def work(n):
                        for i in range(50):
                            kept.append(Manager(Ctx(f"{n}-{i}")))

                    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
                    for t in threads:
                        t.start()
                    for t in threads:
                        t.join()
                    assert ssot_instances.count("manager") == 400
                    assert len(ssot_instances.keys("manager")) == 400


                def test_threads_sharing_the_registry(ssot_instances):
                    threads = [
                        threading.Thread(target=get_manager, args=(Ctx("alice"),))
                        for _ in range(8)
                    ]
                    for t in threads:
                        t.start()
                    for t in threads:
                        t.join()
                    assert ssot_instances.count("manager", key="alice") == 1


                def test_two_threads_same_user():
                    kept = []
                    threads = [
                        threading.Thread(target=lambda: kept.append(Manager(Ctx("alice"))))
                        for _ in range(2)
                    ]
                    for t in threads:
                        t.start()
                    for t in threads:
                        t.join()


                def test_async_tasks_through_the_factory(ssot_instances):
                    async def main():
                        await asyncio.gather(*(get_manager_async(Ctx("alice")) for _ in range(5)))

                    asyncio.run(main())
                    assert ssot_instances.count("manager", key="alice") == 1


                def test_async_tasks_constructing_directly():
                    async def make():
                        await asyncio.sleep(0)
                        return Manager(Ctx("alice"))

                    async def main():
                        return await asyncio.gather(make(), make())

                    kept = asyncio.run(main())
            """
        }
    )
    result = run(pytester, "-rA")
    assert outcomes(result) == {
        "test_many_threads_distinct_users": "PASSED",
        "test_threads_sharing_the_registry": "PASSED",
        "test_two_threads_same_user": "FAILED",
        "test_async_tasks_through_the_factory": "PASSED",
        "test_async_tasks_constructing_directly": "FAILED",
    }
    result.stdout.fnmatch_lines(
        [
            "instance 1 of 2: Manager, key 'alice', created during call of "
            "tests/test_concurrency.py::test_two_threads_same_user",
            "    tests/test_concurrency.py:39 in <lambda>",
            "*",
            "instance 2 of 2 (this one): Manager, key 'alice', created during call of "
            "tests/test_concurrency.py::test_two_threads_same_user",
            "    tests/test_concurrency.py:39 in <lambda>",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "instance 2 of 2 (this one): Manager, key 'alice', created during call of "
            "tests/test_concurrency.py::test_async_tasks_constructing_directly",
            "    tests/test_concurrency.py:59 in make",
        ]
    )


def test_import_time_and_wider_fixtures_are_attributed_to_what_created_them(
    pytester: pytest.Pytester, app: Callable[..., Path]
) -> None:
    app(
        {
            "tests/test_attribution.py": """
                import pytest

                from app.context import Ctx
                from app.managers import Manager

                AT_IMPORT = Manager(Ctx("imported"))


                @pytest.fixture(scope="session")
                def first():
                    return Manager(Ctx("shared"))


                @pytest.fixture(scope="session")
                def second(first):
                    return Manager(Ctx("shared"))


                def test_uses_import_time_user():
                    Manager(Ctx("imported"))


                def test_session_fixtures(second):
                    pass


                def test_other_user_is_fine():
                    Manager(Ctx("someone"))
            """
        }
    )
    result = run(pytester, "-rA")
    assert outcomes(result) == {
        "test_uses_import_time_user": "FAILED",
        "test_session_fixtures": "ERROR",
        "test_other_user_is_fine": "PASSED",
    }
    result.stdout.fnmatch_lines(
        [
            "instance 1 of 2: Manager, key 'imported', created during collection of "
            "tests/test_attribution.py",
            "    tests/test_attribution.py:6 in <module>",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "instance 1 of 2: Manager, key 'shared', created during setup of fixture 'first' "
            "(session scope) for tests/test_attribution.py::test_session_fixtures",
            "    tests/test_attribution.py:11 in first",
            "instance 2 of 2 (this one): Manager, key 'shared', created during setup of "
            "fixture 'second' (session scope) for tests/test_attribution.py::test_session_fixtures",
            "    tests/test_attribution.py:16 in second",
        ]
    )


def test_duplicate_outside_any_test_fails_the_session(
    pytester: pytest.Pytester, app: Callable[..., Path]
) -> None:
    app(
        {
            "tests/test_module_level.py": """
                from app.managers import Manager

                A = Manager()
                B = Manager()


                def test_nothing():
                    pass
            """
        },
        extra='scope = "process"',
    )
    result = run(pytester)
    result.assert_outcomes(passed=1, failed=1)  # the run-level failure pytest-ssot::...
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        [
            "*_ pytest-ssot::duplicate-instance _*",
            "during collection of tests/test_module_level.py:",
            "  [[]duplicate-instance] manager: 2 live instances in the process, at most 1 allowed",
        ]
    )
    result.stdout.fnmatch_lines(
        ["FAILED pytest-ssot::duplicate-instance - manager: 2 live instances in the pro*"]
    )


# ---------------------------------------------------------------------------
# Class kinds

KINDS = {
    "app/kinds.py": """
        import abc
        import copy
        import pickle
        from dataclasses import dataclass
        from typing import Generic, TypeVar

        T = TypeVar("T")


        class Slotted:
            __slots__ = ("user_id", "__weakref__")

            def __init__(self, user_id):
                self.user_id = user_id


        class NoWeakref:
            __slots__ = ("user_id",)

            def __init__(self, user_id):
                self.user_id = user_id


        class Plugin:
            registered = []

            def __init_subclass__(cls, **kwargs):
                super().__init_subclass__(**kwargs)
                Plugin.registered.append(cls.__name__)

            def __init__(self, user_id):
                self.user_id = user_id


        class Abstract(abc.ABC):
            def __init__(self, user_id):
                self.user_id = user_id

            @abc.abstractmethod
            def run(self): ...


        class Concrete(Abstract):
            def run(self):
                return self.user_id


        class Box(Generic[T]):
            def __init__(self, user_id):
                self.user_id = user_id


        @dataclass(frozen=True)
        class Frozen:
            user_id: str


        class NewOnly:
            def __new__(cls, user_id):
                self = super().__new__(cls)
                self.user_id = user_id
                return self


        class Base:
            def __init__(self, user_id):
                self.user_id = user_id


        class Child(Base):
            def __init__(self, user_id, extra=1):
                super().__init__(user_id)
                self.extra = extra


        class SlotBase:
            __slots__ = ("user_id",)

            def __init__(self, user_id):
                self.user_id = user_id


        class SlotChild(SlotBase):
            __slots__ = ("extra",)

            def __init__(self, user_id):
                super().__init__(user_id)
                self.extra = 1


        class Singleton:
            _instance = None

            def __new__(cls, user_id):
                if cls._instance is None:
                    cls._instance = super().__new__(cls)
                return cls._instance

            def __init__(self, user_id):
                self.user_id = user_id
    """,
}

KIND_MANAGERS = {
    "slotted": ["Slotted"],
    "noweakref": ["NoWeakref"],
    "plugin": ["Plugin"],
    "abstract": ["Abstract"],
    "box": ["Box"],
    "frozen": ["Frozen"],
    "newonly": ["NewOnly"],
    "child": ["Base", "Child"],
    "slotchain": ["SlotBase", "SlotChild"],
    "singleton": ["Singleton"],
}


def kinds_config() -> str:
    tables = [
        f'[[tool.ssot.managers]]\nname = "{name}"\n'
        f"classes = {[f'app.kinds:{c}' for c in classes]!r}\n".replace("'", '"')
        + 'key = "user_id"\n'
        for name, classes in KIND_MANAGERS.items()
    ]
    return '[tool.pytest.ini_options]\npythonpath = ["."]\n\n' + "\n".join(tables)


def test_class_kinds_count_once_and_keep_working(
    pytester: pytest.Pytester, write: WriteFiles
) -> None:
    write(
        {
            **KINDS,
            "app/__init__.py": "",
            "pyproject.toml": kinds_config(),
            "tests/test_kinds.py": """
                import copy
                import gc
                import inspect
                import pickle

                import pytest

                from app import kinds


                def test_slots_with_weakref(ssot_instances):
                    a = kinds.Slotted("u")
                    assert ssot_instances.count("slotted") == 1
                    assert ssot_instances.records("slotted")[0].counted_by_construction is False


                def test_slots_without_weakref_count_by_construction(ssot_instances):
                    kinds.NoWeakref("u")
                    gc.collect()
                    [record] = ssot_instances.records("noweakref")
                    assert record.counted_by_construction and record.instance() is None
                    kinds.NoWeakref("u")  # the first is gone, but cannot be known to be: fails


                def test_init_subclass_and_later_subclasses(ssot_instances):
                    class Late(kinds.Plugin):
                        pass

                    assert "Late" in kinds.Plugin.registered
                    a = Late("u")
                    b = kinds.Plugin("v")
                    assert [r.cls.__name__ for r in ssot_instances.records("plugin")] == [
                        "Late",
                        "Plugin",
                    ]


                def test_abc(ssot_instances):
                    with pytest.raises(TypeError):
                        kinds.Abstract("u")
                    c = kinds.Concrete("u")
                    assert c.run() == "u"
                    assert ssot_instances.count("abstract") == 1
                    assert isinstance(c, kinds.Abstract)


                def test_generic(ssot_instances):
                    box = kinds.Box[int]("u")
                    assert box.__orig_class__ == kinds.Box[int]
                    [record] = ssot_instances.records("box")
                    assert record.site.function == "test_generic"


                def test_frozen_dataclass(ssot_instances):
                    f, g = kinds.Frozen("u"), kinds.Frozen("v")
                    assert f != g
                    assert ssot_instances.keys("frozen") == ["u", "v"]
                    with pytest.raises(Exception):
                        f.user_id = "x"


                def test_new_only(ssot_instances):
                    n = kinds.NewOnly("u")
                    assert n.user_id == "u"
                    assert ssot_instances.count("newonly", key="u") == 1


                def test_wrapped_constructors_keep_their_signature():
                    assert str(inspect.signature(kinds.Child)) == "(user_id, extra=1)"
                    assert str(inspect.signature(kinds.NewOnly)) == "(user_id)"
                    assert str(inspect.signature(kinds.Frozen)) == "(user_id: str) -> None"
                    assert kinds.Child.__init__.__name__ == "__init__"


                def test_super_init_chain_counts_once(ssot_instances):
                    child = kinds.Child("u", extra=2)
                    base = kinds.Base("v")
                    assert ssot_instances.count("child") == 2
                    [record] = ssot_instances.records("child", key="u")
                    assert record.site.function == "test_super_init_chain_counts_once"


                def test_super_init_chain_without_weakrefs_counts_once(ssot_instances):
                    child, base = kinds.SlotChild("u"), kinds.SlotBase("v")
                    assert ssot_instances.keys("slotchain") == ["u", "v"]
                    assert ssot_instances.count("slotchain") == 2


                def test_singleton_initialised_twice_counts_once(ssot_instances):
                    assert kinds.Singleton("u") is kinds.Singleton("u")
                    assert ssot_instances.count("singleton") == 1


                def test_pickle_and_copy_keep_working(ssot_instances):
                    slotted, frozen, child = kinds.Slotted("u"), kinds.Frozen("u"), kinds.Child("u")
                    for obj in (slotted, frozen, child):
                        assert copy.copy(obj).user_id == "u"
                        assert copy.deepcopy(obj).user_id == "u"
                        assert pickle.loads(pickle.dumps(obj)).user_id == "u"
                    # Copies and unpickled objects do not go through __init__: not counted.
                    assert ssot_instances.count() == 3


                def test_duplicates_are_seen_for_every_kind():
                    kept = [kinds.Slotted("d"), kinds.Slotted("d")]
            """,
        }
    )
    result = run(pytester, "-rA")
    assert outcomes(result) == {
        "test_slots_with_weakref": "PASSED",
        "test_slots_without_weakref_count_by_construction": "FAILED",
        "test_init_subclass_and_later_subclasses": "PASSED",
        "test_abc": "PASSED",
        "test_generic": "PASSED",
        "test_frozen_dataclass": "PASSED",
        "test_new_only": "PASSED",
        "test_wrapped_constructors_keep_their_signature": "PASSED",
        "test_super_init_chain_counts_once": "PASSED",
        "test_super_init_chain_without_weakrefs_counts_once": "PASSED",
        "test_singleton_initialised_twice_counts_once": "PASSED",
        "test_pickle_and_copy_keep_working": "PASSED",
        "test_duplicates_are_seen_for_every_kind": "FAILED",
    }
    result.stdout.fnmatch_lines(
        [
            "*noweakref: 2 live instances for user_id='u', at most 1 allowed",
            "*(app.kinds:NoWeakref does not support weak references: its instances are counted "
            "by construction, garbage collected or not)",
        ]
    )
    result.stdout.fnmatch_lines(
        ["  app.kinds:NoWeakref does not support weak references: counted by construction"]
    )


# ---------------------------------------------------------------------------
# Instrumentation: when, and putting everything back


class Grab:
    """A plugin for in-process runs: reads the managed class during and after the session."""

    def __init__(self, module: str = "app.managers", name: str = "Manager") -> None:
        self.module, self.name = module, name
        self.cls: Any = None
        self.during: Any = None
        self.after: Any = None
        self.meta_path_during: list[object] = []
        self.meta_path_after: list[object] = []

    def pytest_sessionfinish(self) -> None:
        self.cls = getattr(sys.modules.get(self.module), self.name, None)
        self.during = self.cls.__dict__.get("__init__") if self.cls else None
        self.meta_path_during = list(sys.meta_path)

    @pytest.hookimpl(trylast=True)
    def pytest_unconfigure(self) -> None:
        self.after = self.cls.__dict__.get("__init__") if self.cls else None
        self.meta_path_after = list(sys.meta_path)


def watchers(meta_path: list[object]) -> int:
    return sum(1 for finder in meta_path if type(finder).__name__ == "DeclaredModuleFinder")


@pytest.mark.parametrize("imported", ["before the session", "during the tests"])
def test_classes_are_wrapped_when_imported_and_restored_at_the_end(
    pytester: pytest.Pytester, app: Callable[..., Path], imported: str
) -> None:
    files = {
        "tests/test_late.py": """
            def test_import_inside():
                from app.routes import open_chat, send

                keep = open_chat("alice")
                send("alice", "x")
        """
    }
    if imported == "before the session":
        files["conftest.py"] = "import app.managers\n"
    app(files)
    grab = Grab()
    meta_path_before = list(sys.meta_path)
    result = pytester.runpytest("--ssot", *QUICK, plugins=[grab])
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*2 live instances for user_context.user_id='alice'*"])
    assert grab.during.__code__.co_filename.endswith("patching.py")
    assert grab.after.__code__.co_filename.endswith("managers.py")
    assert grab.after is grab.cls.__dict__["__init__"]
    assert watchers(grab.meta_path_during) == 1
    assert watchers(grab.meta_path_after) == 0
    assert sys.meta_path == meta_path_before
    assert sys.getprofile() is None


@pytest.mark.parametrize("how", ["ctrl-c", "internal error"])
def test_originals_restored_after_interrupt_and_internal_error(
    pytester: pytest.Pytester, app: Callable[..., Path], how: str
) -> None:
    files = {
        "tests/test_stop.py": """
            from app.managers import Manager


            def test_stop():
                Manager()
                raise KeyboardInterrupt
        """
    }
    if how == "internal error":
        files["tests/test_stop.py"] = (
            "from app.managers import Manager\n\ndef test_x():\n    pass\n"
        )
        files["tests/conftest.py"] = (
            "def pytest_collection_modifyitems(items):\n    raise RuntimeError('boom')\n"
        )
    app(files, extra='scope = "process"')
    grab = Grab()
    meta_path_before = list(sys.meta_path)
    recorder = pytester.inline_run("--ssot", *QUICK, plugins=[grab], no_reraise_ctrlc=True)
    expected = pytest.ExitCode.INTERRUPTED if how == "ctrl-c" else pytest.ExitCode.INTERNAL_ERROR
    assert recorder.ret == expected
    assert grab.cls is not None
    assert grab.during.__code__.co_filename.endswith("patching.py")
    assert grab.after.__code__.co_filename.endswith("managers.py")
    assert grab.after is grab.cls.__dict__["__init__"]
    assert watchers(grab.meta_path_during) == 1
    assert watchers(grab.meta_path_after) == 0
    assert sys.meta_path == meta_path_before


def test_a_declared_subclass_that_inherits_init_is_wrapped_itself_and_restored(
    pytester: pytest.Pytester, write: WriteFiles
) -> None:
    write(
        {
            **APP,
            "pyproject.toml": """
                [tool.pytest.ini_options]
                pythonpath = ["."]

                [[tool.ssot.managers]]
                name = "canonical"
                classes = ["app.managers:Canonical"]
                scope = "test"
            """,
            "tests/test_sub.py": """
                from app.managers import Canonical, Manager


                def test_the_base_class_is_not_counted(ssot_instances):
                    a, b = Manager(), Manager()
                    assert ssot_instances.count() == 0


                def test_the_subclass_is(ssot_instances):
                    a = Canonical()
                    assert ssot_instances.count("canonical") == 1
            """,
        }
    )
    grab = Grab(name="Canonical")
    run(pytester, plugins=[grab]).assert_outcomes(passed=2)
    assert grab.during is not None  # wrapped on the subclass itself while the tests ran
    assert grab.after is None  # and removed again: Canonical inherits Manager.__init__
    assert "__init__" not in grab.cls.__dict__


# ---------------------------------------------------------------------------
# Declaration mistakes


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            'scop = "test"',
            "pyproject.toml:4: manager 'manager': unknown key 'scop' (known keys: name, classes, "
            "scope, key, max, factories, allow_direct_in_tests, guidance, shared_state, "
            "shared_depth, shared_ok, must_not_outlive)",
        ),
        (
            'scope = "session"',
            "pyproject.toml:4: manager 'manager': scope 'session' is not one of 'process', "
            "'test', 'key'",
        ),
        ("max = 0", "pyproject.toml:4: manager 'manager': 'max' must be a whole number *"),
        (
            'factories = ["app.managers.get_manager"]',
            "pyproject.toml:4: manager 'manager': factories: 'app.managers.get_manager' must "
            "look like 'package.module:Name' (with a colon)",
        ),
    ],
)
def test_declaration_errors_stop_the_run_naming_file_and_manager(
    pytester: pytest.Pytester, app: Callable[..., Path], extra: str, message: str
) -> None:
    app({"tests/test_x.py": "def test_x():\n    pass\n"}, extra=extra)
    result = run(pytester)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"ERROR: pytest-ssot: {message}"])
    assert "INTERNALERROR" not in result.stdout.str() + result.stderr.str()


def test_duplicate_manager_names_across_files(
    pytester: pytest.Pytester, app: Callable[..., Path]
) -> None:
    app(
        {
            "contracts/more.toml": '[[tool.ssot.managers]]\nname = "manager"\n'
            'classes = ["app.managers:Manager"]\n',
            "tests/test_x.py": "def test_x():\n    pass\n",
        }
    )
    result = run(pytester, "-o", "ssot_contracts=contracts/more.toml")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "ERROR: pytest-ssot: contracts/more.toml:1: manager 'manager' is declared twice "
            "(also at pyproject.toml:4); manager names must be unique"
        ]
    )


def test_problems_found_when_the_module_is_imported(
    pytester: pytest.Pytester, write: WriteFiles
) -> None:
    write(
        {
            **APP,
            "pyproject.toml": """
                [tool.pytest.ini_options]
                pythonpath = ["."]

                [[tool.ssot.managers]]
                name = "missing-class"
                classes = ["app.managers:Nope"]

                [[tool.ssot.managers]]
                name = "bad-key"
                classes = ["app.managers:Manager"]
                key = "ctx.user_id"

                [[tool.ssot.managers]]
                name = "missing-module"
                classes = ["app.no_such_module:Manager"]
            """,
            "tests/conftest.py": "",
            "tests/test_x.py": """
                def test_imports_it():
                    import app.managers


                def test_later():
                    pass
            """,
        }
    )
    result = run(pytester, "-rA")
    assert outcomes(result) == {
        "test_imports_it": "FAILED",
        "test_later": "PASSED",
        "manager-declaration": "FAILED",  # the missing module, found at session end
    }
    result.stdout.fnmatch_lines(
        [
            "[[]manager-declaration] manager 'missing-class' (pyproject.toml:4): "
            "app.managers:Nope: module app.managers has no 'Nope'",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "[[]manager-declaration] manager 'bad-key' (pyproject.toml:8): key 'ctx.user_id': "
            "names no parameter of the constructor (self, user_context=None, label='m'); "
            "app.managers:Manager is not watched",
        ]
    )
    # A module that does not exist at all is found at the end, and fails the run.
    result.stdout.fnmatch_lines(
        [
            "*_ pytest-ssot::manager-declaration _*",
            "during session end:",
            "  [[]manager-declaration] manager 'missing-module' (pyproject.toml:13): "
            "app.no_such_module:Manager: there is no module named 'app.no_such_module'",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "missing-class: at most 1 live instance in the process",
            "  created 0",
            "  violations: 1 declaration problem",
            "  not watched (see the declaration findings): app.managers:Nope",
            "bad-key: *",
            "  created 0",
            "  violations: 1 declaration problem",
            "  not watched (see the declaration findings): app.managers:Manager",
            "missing-module: *",
            "  created 0",
            "  violations: 1 declaration problem",
            "  not imported in this run: app.no_such_module:Manager",
        ]
    )
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    assert "INTERNALERROR" not in result.stdout.str()


def test_a_contract_file_with_only_managers_is_a_valid_source(
    pytester: pytest.Pytester, write: WriteFiles
) -> None:
    write(
        {
            **APP,
            "pyproject.toml": """
                [tool.pytest.ini_options]
                pythonpath = ["."]
                ssot_contracts = ["contracts"]

                [tool.importlinter]
                root_package = "app"

                [[tool.importlinter.contracts]]
                name = "routes do not import legacy"
                type = "forbidden"
                source_modules = ["app.routes"]
                forbidden_modules = ["app.legacy"]
            """,
            "contracts/managers.toml": """
                [[tool.ssot.managers]]
                name = "manager"
                classes = ["app.managers:Manager"]
                key = "user_context.user_id"
            """,
            "tests/test_x.py": """
                from app.routes import open_chat, send


                def test_dup():
                    keep = open_chat("a")
                    send("a", "x")
            """,
        }
    )
    result = run(pytester, "-rA")
    assert outcomes(result) == {"routes-do-not-import-legacy": "PASSED", "test_dup": "FAILED"}
    result.stdout.fnmatch_lines(["*rule: *(manager 'manager', contracts/managers.toml:1)"])


def test_no_managers_declared_changes_nothing(pytester: pytest.Pytester, write: WriteFiles) -> None:
    write(
        {
            "pyproject.toml": '[tool.importlinter]\nroot_package = "pkg"\n\n'
            '[[tool.importlinter.contracts]]\nname = "x"\ntype = "forbidden"\n'
            'source_modules = ["pkg.a"]\nforbidden_modules = ["pkg.b"]\n',
            "pkg/__init__.py": "",
            "pkg/a.py": "",
            "pkg/b.py": "",
            "tests/test_x.py": "def test_x():\n    pass\n",
        }
    )
    meta_path_before = list(sys.meta_path)
    result = run(pytester)
    result.assert_outcomes(passed=2)
    assert "pytest-ssot managers" not in result.stdout.str()
    assert sys.meta_path == meta_path_before


# ---------------------------------------------------------------------------
# The bundled example


def test_example_fails_exactly_the_duplicate_tests(
    pytester: pytest.Pytester, example: Path
) -> None:
    result = run(pytester, "-rA", "tests/test_managers.py")
    found = {k: v for k, v in outcomes(result).items() if k.startswith("test_")}
    assert found == {
        "test_registry_makes_one_manager_per_user": "PASSED",
        "test_event_for_a_connected_user": "FAILED",
        "test_admin_broadcast_to_a_connected_user": "FAILED",
        "test_two_managers_on_purpose": "PASSED",
    }
    result.stdout.fnmatch_lines(
        [
            "[[]duplicate-instance] websocket-manager: 2 live instances for "
            "user_context.user_id='alice', at most 1 allowed",
            "*",
            "",
            "instance 1 of 2: _UnifiedWebSocketManagerImplementation, key 'alice', created during "
            "call of tests/test_managers.py::test_admin_broadcast_to_a_connected_user",
            "    wsapp/websocket_core/registry.py:28 in get_websocket_manager",
            "        manager = _UnifiedWebSocketManagerImplementation(user_context)",
            "    wsapp/routes/chat.py:9 in open_chat",
            "    tests/test_managers.py:41 in test_admin_broadcast_to_a_connected_user",
            "instance 2 of 2 (this one): _UnifiedWebSocketManagerImplementation, key 'alice', "
            "created during call of "
            "tests/test_managers.py::test_admin_broadcast_to_a_connected_user",
            "    wsapp/routes/admin.py:11 in broadcast",
            "        manager = ConnectionManager(UserExecutionContext(user_id=user_id))",
            "    tests/test_managers.py:42 in test_admin_broadcast_to_a_connected_user",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "[[]factory-bypass] websocket-manager: _UnifiedWebSocketManagerImplementation "
            "constructed directly in emit, bypassing "
            "wsapp.websocket_core.registry:get_websocket_manager or "
            "wsapp.websocket_core.registry:get_websocket_manager_async",
        ]
    )
