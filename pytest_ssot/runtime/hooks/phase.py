"""Which part of the run is executing: collection, a fixture's setup, a test's call.

Runtime findings are attributed to the phase in which they happen. The phase
is process-wide (not per thread) on purpose: threads and asyncio tasks that a
test starts belong to that test.
"""

from __future__ import annotations

import threading
from collections.abc import Generator
from typing import TypeVar

import pytest

from pytest_ssot.model import Phase

T = TypeVar("T")

STARTUP = Phase("startup")


class PhaseTracker:
    """A pytest hook object that keeps ``current`` up to date.

    ``current`` is the ``Phase`` now running (collection of a node, a fixture's setup,
    a test's call, ...). Made by ``RuntimeChecks`` (runtime/hooks/wiring.py); the
    instance tracker and the import checks read it so every finding can say when it
    happened.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.current = STARTUP
        """Read on every tracked construction: a plain attribute, not a property."""

    def _set(self, phase: Phase) -> Phase:
        with self._lock:
            previous, self.current = self.current, phase
        return previous

    def _during(self, phase: Phase) -> Generator[None, T, T]:
        """The body of every hook wrapper below: ``phase`` while pytest's hook runs."""
        previous = self._set(phase)
        __tracebackhide__ = True  # a failing test's traceback is the same without --ssot
        try:
            return (yield)
        finally:
            self._set(previous)

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_make_collect_report(
        self, collector: pytest.Collector
    ) -> Generator[None, object, object]:
        __tracebackhide__ = True  # a failing test's traceback is the same without --ssot
        return (yield from self._during(Phase("collection", collector.nodeid)))

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> Generator[None, None, None]:
        __tracebackhide__ = True  # a failing test's traceback is the same without --ssot
        yield from self._during(Phase("setup", item.nodeid))

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_fixture_setup(
        self, fixturedef: pytest.FixtureDef[object], request: pytest.FixtureRequest
    ) -> Generator[None, object, object]:
        # A fixture is set up for the test being set up, whatever its scope
        # (request.node of a session fixture is the session itself).
        nodeid = self.current.nodeid
        if not nodeid:
            node = getattr(request, "node", None)
            nodeid = node.nodeid if node is not None else ""
        __tracebackhide__ = True  # a failing test's traceback is the same without --ssot
        phase = Phase("setup", nodeid, fixturedef.argname, fixturedef.scope)
        return (yield from self._during(phase))

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Generator[None, None, None]:
        __tracebackhide__ = True  # a failing test's traceback is the same without --ssot
        yield from self._during(Phase("call", item.nodeid))

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_runtest_teardown(
        self, item: pytest.Item, nextitem: pytest.Item | None
    ) -> Generator[None, None, None]:
        __tracebackhide__ = True  # a failing test's traceback is the same without --ssot
        yield from self._during(Phase("teardown", item.nodeid))

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_sessionfinish(self) -> Generator[None, None, None]:
        # A wrapper: the phase is "finish" before any plain sessionfinish hook runs.
        self._set(Phase("finish"))
        return (yield)
