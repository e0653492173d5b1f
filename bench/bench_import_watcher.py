"""What the runtime import watcher costs a module that is not watched.

Generates 1,000 small modules in a temporary folder, then imports all of them
in a fresh interpreter, with and without pytest-ssot's ``ImportWatcher`` at
``sys.meta_path[0]``, several times, and prints the medians and their ratio.

Two layouts are measured:

- ``other-package``: the modules live in a package no contract names (the
  common case: the standard library, third-party packages, most of the app);
- ``same-root``: the modules live in the contracts' root package, next to the
  watched legacy package, so every name passes the first (top-level) test and
  is checked segment by segment.

Run: ``python bench/bench_import_watcher.py [--modules 1000] [--runs 9]``.
Byte code is compiled once before measuring, so every run imports from .pyc
files, which makes the import itself as cheap as it gets (the worst case for
the ratio).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

MODULE = '''\
"""Generated module {i}."""

import os

VALUE = {i}


class Thing{i}:
    def __init__(self) -> None:
        self.value = VALUE

    def path(self) -> str:
        return os.path.join("a", str(self.value))


def make() -> Thing{i}:
    return Thing{i}()
'''

CHILD = textwrap.dedent(
    """
    import importlib, json, sys, time
    from pathlib import Path

    root, package, count, watch = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4] == "1"
    sys.path.insert(0, root)
    watcher = None
    if watch:
        from pytest_ssot.model import ContractSpec, SessionOptions
        from pytest_ssot.runtime.hooks.import_checks import (  # noqa: F401 (real cost)
            RuntimeImportChecks,
        )
        from pytest_ssot.runtime.imports import ImportWatcher
        from pytest_ssot.layout import ProjectLayout
        from pytest_ssot.runtime.rules import build_rules

        session = SessionOptions(raw={"root_packages": ["app"]}, root_packages=("app",))

        def spec(cid, options):
            return ContractSpec(cid, cid, options["type"], options, Path("c.toml"), "c.toml", 1,
                                session)

        book = build_rules(
            [
                spec("no-legacy", {"type": "forbidden", "source_modules": ["app.routes"],
                                   "forbidden_modules": ["app.legacy"]}),
                spec("protected", {"type": "protected", "protected_modules": ["app.core.*"],
                                   "allowed_importers": ["app.api"]}),
            ],
            watch=["app.old_api"],
        )
        name_filter = book.name_filter()
        layout = ProjectLayout(Path(root), {"app": [str(Path(root) / "app")]})
        watcher = ImportWatcher(name_filter, layout, lambda event: None, roots=name_filter.roots)
        watcher.install()
    names = [f"{package}.m{i:04d}" for i in range(count)]
    importlib.import_module(package)
    started = time.perf_counter()
    for name in names:
        importlib.import_module(name)
    elapsed = time.perf_counter() - started
    per_call = None
    if watcher is not None:
        calls = 200_000
        t0 = time.perf_counter()
        for _ in range(calls):
            watcher.find_spec(names[0])
        per_call = (time.perf_counter() - t0) / calls
    print(json.dumps({"seconds": elapsed, "find_spec": per_call}))
    """
)


def generate(root: Path, package: str, count: int) -> None:
    folder = root.joinpath(*package.split("."))
    folder.mkdir(parents=True)
    for parent in [root.joinpath(*package.split(".")[: n + 1]) for n in range(package.count("."))]:
        (parent / "__init__.py").write_text("")
    (folder / "__init__.py").write_text("")
    for i in range(count):
        (folder / f"m{i:04d}.py").write_text(MODULE.format(i=i))
    legacy = root / "app" / "legacy"
    legacy.mkdir(parents=True, exist_ok=True)
    (root / "app" / "__init__.py").write_text("")
    (legacy / "__init__.py").write_text("")


def run_child(root: Path, package: str, count: int, watch: bool) -> dict[str, float | None]:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(root), package, str(count), "1" if watch else "0"],
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, float | None] = json.loads(out.stdout)
    return result


def measure(package: str, count: int, runs: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        generate(root, package, count)
        run_child(root, package, count, watch=False)  # compile the .pyc files once
        plain: list[float] = []
        watched: list[float] = []
        per_call: list[float] = []
        # Interleaved, and each one first in every other pair, so drift in the machine's
        # load and warm caches hit both alike.
        for run in range(runs):
            for watch in (False, True) if run % 2 == 0 else (True, False):
                result = run_child(root, package, count, watch=watch)
                if watch:
                    watched.append(float(result["seconds"] or 0))
                    per_call.append(float(result["find_spec"] or 0))
                else:
                    plain.append(float(result["seconds"] or 0))
    without, with_ = statistics.median(plain), statistics.median(watched)
    call = statistics.median(per_call)
    return {
        "without_ms": without * 1000,
        "with_ms": with_ * 1000,
        "ratio": with_ / without,
        "find_spec_ns": call * 1e9,
        # The finder is asked once per module loaded: its share of the import time,
        # free of the run-to-run noise of a busy machine.
        "share": call * count / without,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--modules", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    print(f"importing {args.modules} generated modules, median of {args.runs} runs each")
    for label, package in (("other-package", "benchpkg"), ("same-root", "app.plain")):
        r = measure(package, args.modules, args.runs)
        print(
            f"  {label:<14} without watcher {r['without_ms']:7.1f} ms   "
            f"with watcher {r['with_ms']:7.1f} ms   ratio {r['ratio']:.3f}"
        )
        print(
            f"  {'':<14} find_spec on an unwatched name: {r['find_spec_ns']:.0f} ns, "
            f"{args.modules} calls = {r['share']:.2%} of the import time"
        )


if __name__ == "__main__":
    main()
