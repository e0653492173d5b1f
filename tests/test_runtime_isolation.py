"""End to end: user isolation at run time (docs/runtime-isolation.md).

Instances of a keyed manager for different keys must not share mutable state, and
with ``must_not_outlive = "test"`` must not survive their test.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import pytest_ssot
from tests.conftest import WriteFiles

pytest_plugins = ["pytester"]

QUICK = ("-p", "no:cacheprovider", "-p", "no:hypothesispytest", "-p", "no:xdist")

APP = {
    "iso/__init__.py": "",
    "iso/ctx.py": """
        from dataclasses import dataclass


        @dataclass(frozen=True)
        class Ctx:
            user_id: str
    """,
    "iso/managers.py": """
        import logging
        import threading
        from dataclasses import dataclass


        class Registry:
            def __init__(self):
                self._queues = {}


        class View:
            '''A per-manager object around a dict that is not per manager.'''

            def __init__(self, queues):
                self._queues = queues


        _registry = Registry()
        _all_queues = {}
        _leaked = {}


        @dataclass(frozen=True)
        class Settings:
            retries: int = 3


        SETTINGS = Settings()
        LOCK = threading.Lock()


        class ClassDict:
            connections = {}

            def __init__(self, user_context):
                self.user_context = user_context


        class InstanceDict:
            def __init__(self, user_context):
                self.user_context = user_context
                self.connections = {}


        class Nested:
            def __init__(self, user_context):
                self.user_context = user_context
                self._registry = _registry


        class TwoHops:
            def __init__(self, user_context):
                self.user_context = user_context
                self._view = View(_all_queues)


        class Slotted:
            __slots__ = ("user_context", "_queue", "__weakref__")

            def __init__(self, user_context, queue):
                self.user_context = user_context
                self._queue = queue


        class Safe:
            def __init__(self, user_context):
                self.user_context = user_context
                self.settings = SETTINGS
                self.lock = LOCK
                self.event = threading.Event()
                self.log = logging.getLogger("iso")
                self.name = "safe"
                self.retries = (1, 2, 3)


        class Leaky:
            def __init__(self, user_context):
                self.user_context = user_context


        def remember(manager):
            _leaked[manager.user_context.user_id] = manager
            return manager
    """,
    "tests/conftest.py": """
        import pytest

        HELD = []


        @pytest.fixture
        def keep():
            '''Keeps instances alive until the test's teardown, as an application would.'''
            yield HELD.extend
            HELD.clear()
    """,
}

TEMPLATE = """
[tool.pytest.ini_options]
pythonpath = ["."]

[[tool.ssot.managers]]
name = "{name}"
classes = ["iso.managers:{cls}"]
key = "user_context.user_id"
{extra}
"""


def sample(write: WriteFiles, cls: str, test: str, extra: str = "", name: str = "m") -> Path:
    return write(
        {
            **APP,
            "pyproject.toml": TEMPLATE.format(name=name, cls=cls, extra=extra),
            "tests/test_it.py": "from iso.ctx import Ctx\nfrom iso import managers as m\n\n" + test,
        }
    )


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest("--ssot", *QUICK, "-rA", *args)


def outcomes(result: pytest.RunResult) -> dict[str, str]:
    found: dict[str, str] = {}
    for line in result.stdout.lines:
        match = re.match(r"^(PASSED|FAILED|ERROR) (\S+?)(?: - .*)?$", line)
        if match:
            name = match.group(2).split("::")[-1]
            if found.get(name) in (None, "PASSED"):  # an error at teardown wins
                found[name] = match.group(1)
    return found


def headers(result: pytest.RunResult, check: str) -> int:
    """How many findings of ``check`` the failures show (not the short summary lines)."""
    return sum(1 for line in result.stdout.lines if line.startswith(f"[{check}]"))


TWO_USERS = """
def test_two_users(keep):
    keep([m.{cls}(Ctx("alice")), m.{cls}(Ctx("bob"))])
"""


def two_users(cls: str) -> str:
    return TWO_USERS.format(cls=cls)


# ---------------------------------------------------------------------------
# What is shared, and what is not


def test_class_attribute_shared_fails_with_both_paths_and_the_class_line(
    pytester: pytest.Pytester, write: WriteFiles
) -> None:
    sample(write, "ClassDict", two_users("ClassDict"))
    result = run(pytester)
    assert outcomes(result) == {"test_two_users": "FAILED"}
    result.stdout.fnmatch_lines(
        [
            "[[]shared-state] m: the instances for user_context.user_id='alice' and "
            "user_context.user_id='bob' share one dict at .connections",
            "rule: instances with different user_context.user_id share no mutable state "
            "(manager 'm', pyproject.toml:4)",
            "",
            "shared object: dict, a class attribute of iso.managers.ClassDict, defined at "
            "iso/managers.py:33",
            "  reached from the instance for 'alice' as .connections",
            "  instance: ClassDict, key 'alice', created during call of "
            "tests/test_it.py::test_two_users",
            "      tests/test_it.py:6 in test_two_users",
            "*",
            "  reached from the instance for 'bob' as .connections",
            "*",
            "What to do: give each instance its own dict: assign it in __init__ "
            "(self.connections = ...) instead of on the class; if sharing it is intended, "
            "add '.connections' to shared_ok of manager 'm'.",
        ]
    )
    result.stdout.fnmatch_lines(["  violations: 1 shared between keys"])
    assert result.ret == pytest.ExitCode.TESTS_FAILED


def test_instance_dicts_two_users_pass(pytester: pytest.Pytester, write: WriteFiles) -> None:
    sample(write, "InstanceDict", two_users("InstanceDict"))
    result = run(pytester)
    assert outcomes(result) == {"test_two_users": "PASSED"}
    result.stdout.fnmatch_lines(["  violations: none"])
    assert result.ret == pytest.ExitCode.OK


def test_nested_registry_shared_is_one_finding_naming_what_it_holds(
    pytester: pytest.Pytester, write: WriteFiles
) -> None:
    sample(write, "Nested", two_users("Nested"))
    result = run(pytester)
    assert outcomes(result) == {"test_two_users": "FAILED"}
    result.stdout.fnmatch_lines(
        [
            "[[]shared-state] m: * share one iso.managers.Registry at ._registry",
            "*",
            "shared object: iso.managers.Registry, an instance of iso.managers.Registry "
            "(class defined at iso/managers.py:6)",
            "*",
            "  shared with it, through it:",
            "    ._registry._queues (dict)",
        ]
    )
    assert headers(result, "shared-state") == 1


def test_registry_two_hops_away_is_found(pytester: pytest.Pytester, write: WriteFiles) -> None:
    # Each manager has its own View; the dict inside is the same: manager._view._queues.
    sample(write, "TwoHops", two_users("TwoHops"))
    result = run(pytester)
    assert outcomes(result) == {"test_two_users": "FAILED"}
    result.stdout.fnmatch_lines(["[[]shared-state] m: * share one dict at ._view._queues"])


def test_depth_one_does_not_follow_two_hops(pytester: pytest.Pytester, write: WriteFiles) -> None:
    sample(write, "TwoHops", two_users("TwoHops"), extra="shared_depth = 1")
    result = run(pytester)
    assert outcomes(result) == {"test_two_users": "PASSED"}


def test_slots_are_followed(pytester: pytest.Pytester, write: WriteFiles) -> None:
    sample(
        write,
        "Slotted",
        """
def test_two_users(keep):
    queue = []
    keep([m.Slotted(Ctx("alice"), queue), m.Slotted(Ctx("bob"), queue)])
""",
    )
    result = run(pytester)
    assert outcomes(result) == {"test_two_users": "FAILED"}
    result.stdout.fnmatch_lines(["[[]shared-state] m: * share one list at ._queue"])


def test_frozen_dataclass_lock_event_logger_and_tuple_are_not_state(
    pytester: pytest.Pytester, write: WriteFiles
) -> None:
    sample(write, "Safe", two_users("Safe"))
    result = run(pytester)
    assert outcomes(result) == {"test_two_users": "PASSED"}
    assert "[shared-state]" not in result.stdout.str()


def test_same_user_twice_shares_freely(pytester: pytest.Pytester, write: WriteFiles) -> None:
    sample(
        write,
        "ClassDict",
        """
def test_one_user(keep):
    keep([m.ClassDict(Ctx("alice"))])
""",
        extra="max = 2",
    )
    result = run(pytester)
    assert outcomes(result) == {"test_one_user": "PASSED"}


def test_reported_once_per_pair_of_keys(pytester: pytest.Pytester, write: WriteFiles) -> None:
    sample(
        write,
        "ClassDict",
        """
import pytest

SESSION = []


@pytest.fixture(scope="module")
def users():
    SESSION.extend([m.ClassDict(Ctx("alice")), m.ClassDict(Ctx("bob"))])
    yield
    SESSION.clear()


def test_first(users):
    pass


def test_second(users):
    pass


def test_third_user(users, keep):
    keep([m.ClassDict(Ctx("carol"))])
""",
    )
    result = run(pytester)
    assert outcomes(result) == {
        "test_first": "FAILED",
        "test_second": "PASSED",
        "test_third_user": "FAILED",
    }
    text = result.stdout.str()
    assert headers(result, "shared-state") == 3  # alice/bob, then alice/carol and bob/carol
    assert "user_context.user_id='alice' and user_context.user_id='carol'" in text
    assert "user_context.user_id='bob' and user_context.user_id='carol'" in text


# ---------------------------------------------------------------------------
# Declared exceptions, the baseline and the marker


def test_shared_ok_matched_passes(pytester: pytest.Pytester, write: WriteFiles) -> None:
    sample(write, "Nested", two_users("Nested"), extra='shared_ok = ["._registry"]')
    result = run(pytester)
    assert outcomes(result) == {"test_two_users": "PASSED"}
    assert result.ret == pytest.ExitCode.OK


def test_shared_ok_covers_only_its_path(pytester: pytest.Pytester, write: WriteFiles) -> None:
    sample(write, "Nested", two_users("Nested"), extra='shared_ok = ["._registry._queues"]')
    result = run(pytester)
    # The registry object itself is still shared: only what is inside it is excused.
    assert outcomes(result) == {"test_two_users": "FAILED"}
    result.stdout.fnmatch_lines(["[[]shared-state] m: * at ._registry"])


def test_shared_ok_unmatched_entry_fails_the_run(
    pytester: pytest.Pytester, write: WriteFiles
) -> None:
    sample(write, "Nested", two_users("Nested"), extra='shared_ok = ["._registry", "._config"]')
    result = run(pytester)
    assert outcomes(result) == {"test_two_users": "PASSED", "shared-ok-unmatched": "FAILED"}
    result.stdout.fnmatch_lines(
        [
            "*pytest-ssot::shared-ok-unmatched*",
            "during session end:",
            "  [[]shared-ok-unmatched] m: shared_ok entry '._config' matched nothing",
            "  manager 'm' (pyproject.toml:4) excuses shared state at '._config', but no object "
            "shared between two keys was reached through it in this run.",
        ]
    )
    result.stdout.fnmatch_lines(["*1 failed, 1 passed*"])
    assert result.ret == pytest.ExitCode.TESTS_FAILED


def test_shared_ok_not_judged_on_a_partial_run(
    pytester: pytest.Pytester, write: WriteFiles
) -> None:
    sample(
        write,
        "Nested",
        two_users("Nested") + "\n\ndef test_other():\n    pass\n",
        extra='shared_ok = ["._registry", "._config"]',
    )
    result = run(pytester, "-k", "two_users")
    assert result.ret == pytest.ExitCode.OK
    assert "shared-ok-unmatched" not in result.stdout.str()


def test_shared_ok_must_be_an_attribute_path(pytester: pytest.Pytester, write: WriteFiles) -> None:
    sample(write, "Nested", two_users("Nested"), extra='shared_ok = ["_registry"]')
    result = run(pytester)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["*manager 'm': shared_ok: '_registry' is not an attribute path*starting with a dot*"]
    )


def test_baseline_freezes_existing_sharing(pytester: pytest.Pytester, write: WriteFiles) -> None:
    sample(write, "ClassDict", two_users("ClassDict"))
    first = run(pytester, "--ssot-baseline=base.json", "--ssot-baseline-update")
    assert first.ret == pytest.ExitCode.OK  # the update freezes it: nothing new fails this run
    saved = json.loads(Path("base.json").read_text())
    assert saved["violations"]["runtime:m"] == ["shared-state: m .connections"]
    again = run(pytester, "--ssot-baseline=base.json")
    assert outcomes(again) == {"test_two_users": "PASSED"}
    assert again.ret == pytest.ExitCode.OK


def test_marker_allows_it_and_the_summary_counts_it(
    pytester: pytest.Pytester, write: WriteFiles
) -> None:
    sample(
        write,
        "ClassDict",
        """
import pytest


@pytest.mark.pytest_ssot_allow_shared_state("m")
def test_two_users(keep):
    keep([m.ClassDict(Ctx("alice")), m.ClassDict(Ctx("bob"))])
""",
    )
    result = run(pytester)
    assert outcomes(result) == {"test_two_users": "PASSED"}
    result.stdout.fnmatch_lines(
        ["  violations: 1 shared between keys (1 allowed by @pytest_ssot_allow_shared_state)"]
    )
    assert result.ret == pytest.ExitCode.OK


def test_marker_naming_an_unknown_manager_fails(
    pytester: pytest.Pytester, write: WriteFiles
) -> None:
    sample(
        write,
        "ClassDict",
        """
import pytest


@pytest.mark.pytest_ssot_allow_shared_state("nope")
def test_it():
    pass
""",
    )
    result = run(pytester)
    result.stdout.fnmatch_lines(["*pytest_ssot_allow_shared_state: no manager named 'nope'*"])
    assert result.ret == pytest.ExitCode.TESTS_FAILED


# ---------------------------------------------------------------------------
# The ssot_instances fixture


def test_fixture_asserts_on_shared_state_now(pytester: pytest.Pytester, write: WriteFiles) -> None:
    sample(
        write,
        "ClassDict",
        """
def test_locals_are_checked_on_demand(ssot_instances):
    a, b = m.ClassDict(Ctx("alice")), m.ClassDict(Ctx("bob"))
    [pair] = ssot_instances.shared_state("m")
    assert (pair.key_a, pair.key_b, pair.paths, pair.type_name) == (
        "alice", "bob", (".connections",), "dict"
    )


def test_no_sharing_between_fixed_managers(ssot_instances):
    a, b = m.InstanceDict(Ctx("alice")), m.InstanceDict(Ctx("bob"))
    assert ssot_instances.shared_state() == []
""",
    )
    result = run(pytester)
    # Instances held only by the test's locals are gone when the call ends: the
    # automatic check sees nothing, the on-demand one did.
    assert outcomes(result) == {
        "test_locals_are_checked_on_demand": "PASSED",
        "test_no_sharing_between_fixed_managers": "PASSED",
    }


# ---------------------------------------------------------------------------
# Outliving the test


def test_must_not_outlive_shows_the_referrer_chain(
    pytester: pytest.Pytester, write: WriteFiles
) -> None:
    sample(
        write,
        "Leaky",
        """
def test_leaks():
    m.remember(m.Leaky(Ctx("alice")))


def test_does_not_leak():
    m.Leaky(Ctx("bob"))
""",
        extra='must_not_outlive = "test"',
    )
    result = run(pytester)
    assert outcomes(result) == {"test_leaks": "ERROR", "test_does_not_leak": "PASSED"}
    result.stdout.fnmatch_lines(
        [
            "*ERROR at teardown of test_leaks*",
            "[[]outlived-test] m: an instance for user_context.user_id='alice' created in this "
            "test is still alive after its teardown, held by iso.managers._leaked[[]'alice']",
            "rule: an instance created in a test is gone after the test's teardown "
            "(manager 'm', pyproject.toml:4)",
            "",
            "instance: Leaky, key 'alice', created during call of tests/test_it.py::test_leaks",
            "    tests/test_it.py:6 in test_leaks",
            "*",
            "kept alive by module iso.managers:",
            "  iso.managers._leaked[[]'alice']",
            "    ._leaked  (in a module)",
            "    [[]'alice']  (in a dict)",
        ]
    )
    result.stdout.fnmatch_lines(["  violations: 1 outliving its test"])


def test_must_not_outlive_ignores_what_the_fixtures_held(
    pytester: pytest.Pytester, write: WriteFiles
) -> None:
    sample(
        write,
        "Leaky",
        """
import pytest


@pytest.fixture
def manager():
    return m.Leaky(Ctx("alice"))


@pytest.fixture(scope="module")
def shared():
    return m.Leaky(Ctx("bob"))


def test_fixtures(manager, shared):
    assert manager and shared
""",
        extra='must_not_outlive = "test"',
    )
    result = run(pytester)
    assert outcomes(result) == {"test_fixtures": "PASSED"}


def test_must_not_outlive_class_attribute_and_closure(
    pytester: pytest.Pytester, write: WriteFiles
) -> None:
    sample(
        write,
        "Leaky",
        """
class Cache:
    managers = []


def make_handler(manager):
    def handler():
        return manager
    return handler


HANDLERS = []


def test_class_attribute():
    Cache.managers.append(m.Leaky(Ctx("alice")))


def test_closure():
    HANDLERS.append(make_handler(m.Leaky(Ctx("bob"))))
""",
        extra='must_not_outlive = "test"',
    )
    result = run(pytester)
    assert outcomes(result) == {"test_class_attribute": "ERROR", "test_closure": "ERROR"}
    result.stdout.fnmatch_lines(
        ["*held by Cache.managers[[]0]", "kept alive by class *Cache (*test_it.py:5):"]
    )
    result.stdout.fnmatch_lines(
        [
            "*held by <closure of make_handler.<locals>.handler>.manager",
            "kept alive by closure variable 'manager' of make_handler.<locals>.handler*",
        ]
    )


# ---------------------------------------------------------------------------
# Reports


def test_json_junit_and_github_output(
    pytester: pytest.Pytester, write: WriteFiles, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    sample(write, "ClassDict", two_users("ClassDict"))
    with Path("pyproject.toml").open("a") as toml:  # annotations come with the contracts' summary
        toml.write(
            '\n[tool.importlinter]\nroot_package = "iso"\n\n[[tool.importlinter.contracts]]\n'
            'id = "ctx-alone"\nname = "ctx imports no manager"\ntype = "forbidden"\n'
            'source_modules = ["iso.ctx"]\nforbidden_modules = ["iso.managers"]\n'
        )
    pytest.importorskip("networkx")  # for --ssot-html
    result = run(
        pytester,
        "--ssot-report=r.json",
        "--junitxml=j.xml",
        "--ssot-html=r.html",
        "-o",
        "ssot_runtime_outside_code=ignore",
    )
    page = Path("r.html").read_text(encoding="utf-8")
    assert "State shared between users (keys)" in page
    assert "share one dict at .connections" in page
    report = json.loads(Path("r.json").read_text())
    [finding] = [f for f in report["runtime"] if f["check"] == "shared-state"]
    assert finding["fingerprint"] == "shared-state: m .connections"
    assert finding["nodeid"] == "tests/test_it.py::test_two_users"
    assert (finding["file"], finding["line"]) == ("iso/managers.py", 33)
    assert report["summary"]["runtime_findings"] == len(report["runtime"])
    junit = ET.parse("j.xml").getroot()
    [failure] = junit.iter("failure")
    assert "[shared-state] m:" in (failure.get("message") or "") + (failure.text or "")
    result.stdout.fnmatch_lines(
        [
            "::error file=iso/managers.py,line=33,title=pytest-ssot%3A shared-state (m)::"
            "m: the instances for user_context.user_id='alice' and *"
        ]
    )


def test_report_schema_accepts_isolation_findings(
    pytester: pytest.Pytester, write: WriteFiles
) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    sample(
        write,
        "Leaky",
        "def test_leaks():\n    m.remember(m.Leaky(Ctx('alice')))\n",
        extra='must_not_outlive = "test"',
    )
    run(pytester, "--ssot-report=r.json")
    schema_path = Path(pytest_ssot.__file__).parent / "reporting/report.schema.json"
    report = json.loads(Path("r.json").read_text())
    jsonschema.validate(report, json.loads(schema_path.read_text()))
    assert [f["check"] for f in report["runtime"]] == ["outlived-test"]


def test_xdist_aggregates_findings_and_shared_ok_matches(
    pytester: pytest.Pytester, write: WriteFiles
) -> None:
    pytest.importorskip("xdist")
    sample(
        write,
        "Nested",
        two_users("Nested")
        + """

def test_class_dict(keep):
    keep([m.ClassDict(Ctx("alice")), m.ClassDict(Ctx("bob"))])
""",
        extra='shared_ok = ["._registry"]\n\n'
        '[[tool.ssot.managers]]\nname = "cd"\nclasses = ["iso.managers:ClassDict"]\n'
        'key = "user_context.user_id"',
    )
    result = pytester.runpytest(
        "--ssot", "-p", "no:cacheprovider", "-n", "2", "--ssot-report=r.json"
    )
    report = json.loads(Path("r.json").read_text())
    assert [f["check"] for f in report["runtime"]] == ["shared-state"]
    assert "shared-ok-unmatched" not in result.stdout.str()  # matched in one worker
    result.assert_outcomes(passed=1, failed=1)


# ---------------------------------------------------------------------------
# The bundled example


def test_example_class_level_dict_fails_and_its_fix_passes(
    pytester: pytest.Pytester, example: Path
) -> None:
    result = run(pytester, "tests/test_sessions.py")
    assert {k: v for k, v in outcomes(result).items() if k.startswith("test_")} == {
        "test_two_users_join_rooms": "FAILED",
        "test_two_users_join_rooms_isolated": "PASSED",
    }
    result.stdout.fnmatch_lines(
        [
            "[[]shared-state] chat-sessions: the instances for user_context.user_id='alice' and "
            "user_context.user_id='bob' share one dict at .rooms",
            "rule: instances with different user_context.user_id share no mutable state "
            "(manager 'chat-sessions', ../../contracts/websocket_managers.toml:31)",
            "",
            "shared object: dict, a class attribute of wsapp.services.chat_sessions.ChatSessions, "
            "defined at wsapp/services/chat_sessions.py:19",
            "  reached from the instance for 'alice' as .rooms",
            "  instance: ChatSessions, key 'alice', created during call of "
            "tests/test_sessions.py::test_two_users_join_rooms",
            "      wsapp/services/chat_sessions.py:47 in open_sessions",
            "          found = _sessions[user_context.user_id] = ChatSessions(user_context)",
            "      tests/test_sessions.py:22 in test_two_users_join_rooms",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "chat-sessions: at most 1 live instance per user_context.user_id in each test, "
            "created only by wsapp.services.chat_sessions:open_sessions or "
            "wsapp.services.chat_sessions:open_isolated_sessions",
            "*",
            "*",
            "  violations: 1 shared between keys",
        ]
    )
    # Without --ssot nothing is checked: each test looks at one user at a time and passes.
    plain = pytester.runpytest(*QUICK, "tests/test_sessions.py")
    plain.assert_outcomes(passed=2)
