"""What the manager checks cost per construction (docs/runtime-managers.md, "Speed").

A standalone script, not a test:

    python bench/bench_construction.py [--number 20000] [--repeat 15]

It builds the same small class several times, declares some of them as
managers, installs the tracker as ``pytest --ssot`` would, and prints the
median time per construction of each, and the added cost against the same
class untracked. Each instance is dropped at once, so it is garbage collected
before the next one is made: no rule is broken and no finding is rendered;
this is the cost every construction pays.

A second table keeps N instances of one key alive in the test (N = 1, 2,000,
8,000, 16,000) and times constructions next to them: counting must not depend
on how many instances are alive (issue 13: at most 2x at 16,000 what 1 costs).
"""

from __future__ import annotations

import argparse
import functools
import statistics
import sys
import tempfile
import textwrap
import timeit
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from pytest_ssot.managers import ManagerSpec, parse_managers
from pytest_ssot.model import Finding, Phase
from pytest_ssot.paths import ProjectFiles
from pytest_ssot.runtime.hooks.phase import PhaseTracker
from pytest_ssot.runtime.instances.tracker import InstanceTracker

MODULE = "bench_managed_classes"
SOURCE = """
from dataclasses import dataclass


@dataclass(frozen=True)
class Context:
    user_id: str


class Untracked:
    def __init__(self, user_context, name="m"):
        self.user_context = user_context
        self.name = name


class Tracked(Untracked):
    def __init__(self, user_context, name="m"):
        self.user_context = user_context
        self.name = name


class TrackedKeyless(Untracked):
    def __init__(self, user_context, name="m"):
        self.user_context = user_context
        self.name = name


class TrackedFactory(Untracked):
    def __init__(self, user_context, name="m"):
        self.user_context = user_context
        self.name = name


class Base:
    def __init__(self, user_context, name="m"):
        self.user_context = user_context
        self.name = name


class UntrackedChild(Base):
    def __init__(self, user_context):
        super().__init__(user_context, "child")


class TrackedBase(Base):
    pass


class TrackedChild(TrackedBase):
    def __init__(self, user_context):
        super().__init__(user_context, "child")


class TrackedMany(Untracked):
    def __init__(self, user_context, name="m"):
        self.user_context = user_context
        self.name = name


class UntrackedSlots:
    __slots__ = ("user_context",)

    def __init__(self, user_context):
        self.user_context = user_context


class TrackedSlots(UntrackedSlots):
    __slots__ = ()

    def __init__(self, user_context):
        self.user_context = user_context


def get_manager(user_context):
    return TrackedFactory(user_context)


def get_untracked(user_context):
    return Untracked(user_context)
"""

DECLARATIONS = f"""
[[tool.ssot.managers]]
name = "per-key"
classes = ["{MODULE}:Tracked", "{MODULE}:TrackedBase"]
key = "user_context.user_id"

[[tool.ssot.managers]]
name = "by-construction"
classes = ["{MODULE}:TrackedSlots"]
scope = "test"
max = 1_000_000_000

[[tool.ssot.managers]]
name = "per-test"
classes = ["{MODULE}:TrackedKeyless"]
scope = "test"

[[tool.ssot.managers]]
name = "many-live"
classes = ["{MODULE}:TrackedMany"]
key = "user_context.user_id"
max = 1_000_000_000

[[tool.ssot.managers]]
name = "with-factory"
classes = ["{MODULE}:TrackedFactory"]
key = "user_context.user_id"
factories = ["{MODULE}:get_manager"]
"""


def _load_module(folder: Path) -> ModuleType:
    (folder / f"{MODULE}.py").write_text(textwrap.dedent(SOURCE), encoding="utf-8")
    sys.path.insert(0, str(folder))
    module = __import__(MODULE)
    return module


def _specs() -> list[ManagerSpec]:
    import tomllib

    return parse_managers(tomllib.loads(DECLARATIONS), "bench.toml", DECLARATIONS)


def _per_call(func: Callable[[], Any], number: int, repeat: int) -> float:
    """Median seconds per call over ``repeat`` timings of ``number`` calls."""
    times = timeit.repeat(func, number=number, repeat=repeat)
    return statistics.median(t / number for t in times)


def _at_depth(depth: int, func: Callable[[], float]) -> float:
    # pytest runs a test some 40 frames deep: measure there too.
    if depth <= 0:
        return func()
    return _at_depth(depth - 1, func)


def main(argv: list[str] | None = None) -> int:  # noqa: PLR0915  a benchmark script read top to bottom: setup, timings, table
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--number", type=int, default=20000, help="constructions per timing")
    parser.add_argument("--repeat", type=int, default=15, help="timings per case (median)")
    parser.add_argument("--depth", type=int, default=40, help="stack depth of the constructions")
    parser.add_argument(
        "--live",
        default="1,2000,8000,16000",
        help="comma-separated numbers of live instances of one key for the second table",
    )
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        module = _load_module(Path(tmp))
        ctx = module.Context("alice")
        m: Any = module

        def measure(func: Callable[[], Any]) -> float:
            return _at_depth(args.depth, lambda: _per_call(func, args.number, args.repeat))

        cases: list[tuple[str, Callable[[], Any], Callable[[], Any]]] = [
            ("keyed __init__ (scope key)", lambda: m.Untracked(ctx), lambda: m.Tracked(ctx)),
            ("no key (scope test)", lambda: m.Untracked(ctx), lambda: m.TrackedKeyless(ctx)),
            (
                "keyed, inside its factory",
                lambda: m.get_untracked(ctx),
                lambda: m.get_manager(ctx),
            ),
            (
                "subclass __init__ -> super().__init__",
                lambda: m.UntrackedChild(ctx),
                lambda: m.TrackedChild(ctx),
            ),
            (
                "__slots__, no weakref (by construction)",
                lambda: m.UntrackedSlots(ctx),
                lambda: m.TrackedSlots(ctx),
            ),
        ]

        before = {name: measure(untracked) for name, untracked, _ in cases}

        phases = PhaseTracker()
        phases._set(Phase("call", "bench.py::test_bench"))
        findings: list[Finding] = []
        tracker = InstanceTracker(_specs(), phases, findings.append, ProjectFiles(Path(tmp)))
        tracker.install()
        try:
            assert tracker.is_wrapped(m.Tracked) and not tracker.is_wrapped(m.Untracked)
            rows = []
            for name, untracked, tracked in cases:
                # Interleaved, so that a busy machine slows both alike.
                plain_times, tracked_times = [], []
                for _ in range(args.repeat):
                    plain_times.append(
                        _at_depth(
                            args.depth, functools.partial(_per_call, untracked, args.number, 1)
                        )
                    )
                    tracked_times.append(
                        _at_depth(args.depth, functools.partial(_per_call, tracked, args.number, 1))
                    )
                    # A new test window for each timing, as the plugin resets it between tests.
                    tracker.end_test("bench.py::test_bench")
                added = statistics.median(
                    t - p for t, p in zip(tracked_times, plain_times, strict=True)
                )
                rows.append(
                    (
                        name,
                        before[name],
                        statistics.median(plain_times),
                        statistics.median(tracked_times),
                        added,
                    )
                )
            live_rows = []
            for count in (int(n) for n in args.live.split(",")):
                keep = [m.TrackedMany(ctx) for _ in range(count)]  # alive during the timings
                started = timeit.default_timer()
                more = [m.TrackedMany(ctx) for _ in range(count)]  # building them, kept alive
                build = (timeit.default_timer() - started) / count
                del more
                per = measure(lambda: m.TrackedMany(ctx))
                live_rows.append((count, per, build))
                del keep
                tracker.end_test("bench.py::test_bench")
        finally:
            tracker.uninstall()
        problems = [f.summary for f in findings]

    print(f"python {sys.version.split()[0]}, {args.number} constructions x {args.repeat} timings,")
    print(f"{args.depth} frames deep; median ns per construction")
    header = f"{'case':42} {'untracked':>10} {'untracked*':>11} {'tracked':>8} {'added':>7}"
    print(header)
    for name, plain, plain_after, tracked_time, added in rows:
        print(
            f"{name:42} {plain * 1e9:10.0f} {plain_after * 1e9:11.0f} "
            f"{tracked_time * 1e9:8.0f} {added * 1e9:7.0f}"
        )
    print("untracked*: the same untracked class with the tracker installed (should not move)")
    print("added: median of the paired differences tracked - untracked*")
    print()
    print("live instances of one key, kept alive in the test: ns per construction")
    base = live_rows[0][1]
    for count, per, build in live_rows:
        print(
            f"  {count:>6} live: next to them {per * 1e9:7.0f} ns ({per / base:.2f}x of "
            f"{live_rows[0][0]} live), building them {build * 1e9:7.0f} ns each"
        )
    worst = max(per for _, per, _ in live_rows) / base
    verdict = "PASS" if worst <= 2.0 else "MISS"
    print(f"  worst ratio {worst:.2f}x (target: at most 2x) {verdict}")
    if problems:
        print("unexpected findings:", *problems[:3], sep="\n  ")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
