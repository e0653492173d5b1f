"""What the shared-state check adds to each test (docs/runtime-isolation.md, "Cost").

A standalone script, not a test:

    python bench/bench_isolation.py [--number 200] [--repeat 15]

It declares one keyed manager, installs the tracker as ``pytest --ssot`` would, and
keeps 100 instances alive across 10 keys, each with 50 attributes (numbers, strings,
None, tuples, a frozen context, a lock, a logger, per-instance dicts, lists and sets
with a few items, a per-instance project object holding a dict). Then it times the
check that runs after each test's call (``IsolationChecks.check_shared``): the
median time per test, for

- ``no sharing``: nothing shared between keys (the common case: every test pays it);
- ``class-level dict``: one class attribute shared by every key (45 pairs of keys,
  each reported once: the later tests pay the walk and the path search, not the
  report);
- ``one key live``: the 100 instances all of one key (nothing is walked).

The issue's budget: at most 1 ms added per test for the first case. Printed: the
fastest and the median wall time per test, the median CPU time of this thread per
test (less disturbed by other processes on a busy machine), and a reference loop
timed in the same run, to compare runs made under different loads.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import textwrap
import time
import timeit
import tomllib
from pathlib import Path
from typing import Any

from pytest_ssot.managers import parse_managers
from pytest_ssot.model import Finding, Phase
from pytest_ssot.paths import ProjectFiles
from pytest_ssot.runtime.hooks.isolation_checks import IsolationChecks
from pytest_ssot.runtime.hooks.phase import PhaseTracker
from pytest_ssot.runtime.instances.tracker import InstanceTracker

MODULE = "bench_isolation_classes"
SOURCE = """
import logging
import threading
from dataclasses import dataclass

LOCK = threading.Lock()
LOG = logging.getLogger("bench")


@dataclass(frozen=True)
class Context:
    user_id: str


class Outbox:
    def __init__(self):
        self.pending = {"a": 1}
        self.sent = 0


class Manager:
    def __init__(self, user_context, index):
        self.user_context = user_context
        self.lock = LOCK
        self.log = LOG
        self.outbox = Outbox()
        self.connections = {"c1": index, "c2": index + 1}
        self.queue = [1, 2, 3]
        self.rooms = {"general"}
        self.history = []
        self.by_id = {}
        self.flags = set()
        self.limits = (10, 20, 30)
        for n in range(39):
            setattr(self, f"a{n}", n if n % 3 else (f"s{n}" if n % 2 else None))


class Leaky(Manager):
    shared = {}
"""

DECLARATIONS = f"""
[[tool.ssot.managers]]
name = "manager"
classes = ["{MODULE}:Manager", "{MODULE}:Leaky"]
key = "user_context.user_id"
max = 1_000_000
"""

KEYS = 10
INSTANCES = 100


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--number", type=int, default=200, help="checks per timing")
    parser.add_argument("--repeat", type=int, default=15, help="timings per case (median)")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / f"{MODULE}.py").write_text(textwrap.dedent(SOURCE), encoding="utf-8")
        sys.path.insert(0, str(folder))
        specs = parse_managers(tomllib.loads(DECLARATIONS), "bench.toml", DECLARATIONS)
        phases = PhaseTracker()
        found: list[Finding] = []
        tracker = InstanceTracker(specs, phases, found.append, ProjectFiles(folder))
        tracker.install()
        try:
            module: Any = __import__(MODULE)
            assert len(vars(module.Manager(module.Context("x"), 0))) == 50
            phases.current = Phase("call", "bench.py::test")
            rows = []
            for label, cls, keys in (
                ("no sharing", module.Manager, KEYS),
                ("class-level dict", module.Leaky, KEYS),
                ("one key live", module.Manager, 1),
            ):
                live = [cls(module.Context(f"user-{i % keys}"), i) for i in range(INSTANCES)]
                checks = IsolationChecks(
                    None,  # type: ignore[arg-type]  # the config is not read by the check
                    phases,
                    _Findings(found),  # type: ignore[arg-type]
                    tracker,
                    lambda session: True,
                )
                times = timeit.repeat(checks.check_shared, number=args.number, repeat=args.repeat)
                per_test = [t / args.number for t in times]
                cpu = timeit.Timer(checks.check_shared, timer=time.thread_time).repeat(
                    number=args.number, repeat=args.repeat
                )
                cpu_per_test = statistics.median(t / args.number for t in cpu)
                rows.append(
                    (label, min(per_test), statistics.median(per_test), cpu_per_test, len(found))
                )
                found.clear()
                del live
            print(
                f"{INSTANCES} live instances, {KEYS} keys, 50 attributes each; "
                f"{args.repeat} x {args.number} checks"
            )
            print(f"{'case':<18} {'min/test':>10} {'median/test':>12} {'cpu/test':>10}  findings")
            for label, best, median, cpu_time, findings in rows:
                print(
                    f"{label:<18} {best * 1e3:>7.3f} ms {median * 1e3:>9.3f} ms "
                    f"{cpu_time * 1e3:>7.3f} ms  {findings}"
                )
            # The same machine's speed at this moment, to compare runs made under other loads.
            reference = min(
                timeit.repeat(
                    "[v for v in d.values() if type(v) not in plain]",
                    setup="d = {f'a{i}': i for i in range(50)}; plain = {int, str}",
                    number=20000,
                    repeat=args.repeat,
                )
            )
            print(f"reference: filtering one 50-item dict takes {reference / 20000 * 1e6:.2f} us")
        finally:
            tracker.uninstall()
            sys.path.remove(str(folder))
    return 0


class _Findings:
    """The part of FindingsReporter the check uses: ``record``."""

    def __init__(self, found: list[Finding]) -> None:
        self.record = found.append


if __name__ == "__main__":
    raise SystemExit(main())
