"""What planning and applying ``--ssot-fix`` costs (docs/fixing.md).

A standalone script, not a test:

    python bench/bench_fix.py [--files 500] [--repeat 5]

It writes a package ``fixapp`` into a temporary folder: 20 canonical modules defining 25
classes each, a package ``fixapp.core`` re-exporting them, 20 legacy shims that only
re-export them, and ``--files`` modules in ``fixapp.web`` that each import two names from
two shims (one ``from`` import with an alias, one plain), so 2 x files violations of one
``forbidden`` contract, each a direct import. Then, ``--repeat`` times each, the median of:

- ``lint-imports``: the same contract checked by import-linter's CLI (for the ratio);
- ``plan, pure``: reading the importers, finding every name's homes, building the plan
  (the ``Planner``, no contract asked);
- ``plan, full``: ``Fixer.plan()`` as ``--ssot-fix`` runs it: the contracts checked (graph
  built, no cache), every candidate import checked against every contract, then the
  chosen ones once more;
- ``apply``: libcst rewriting every planned file, compiling it and writing it atomically
  (on a fresh copy of the package each time).

Target (issue 16): under 2 s for planning and under 2 s for applying, on 2 cores.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

CANONICAL = 20
CLASSES = 25
CONTRACT = """
[importlinter]
root_packages = fixapp

[importlinter:contract:no-legacy]
name = Web code imports the canonical modules
type = forbidden
source_modules = fixapp.web
forbidden_modules = fixapp.legacy
"""


def generate(root: Path, files: int) -> None:
    package = root / "fixapp"
    for folder in ("core", "legacy", "web"):
        (package / folder).mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "legacy" / "__init__.py").write_text("")
    (package / "web" / "__init__.py").write_text("")
    exports = []
    for k in range(CANONICAL):
        names = [f"Thing{k}_{i}" for i in range(CLASSES)]
        exports += [(k, n) for n in names]
        body = "\n\n".join(f"class {n}:\n    pass\n" for n in names)
        (package / "core" / f"impl{k}.py").write_text(f'"""Canonical module {k}."""\n\n\n{body}')
        (package / "legacy" / f"shim{k}.py").write_text(
            f'"""Shim {k}."""\n\nfrom fixapp.core.impl{k} import {", ".join(names)}\n'
        )
    core_lines = [
        f"from fixapp.core.impl{k} import " + ", ".join(n for kk, n in exports if kk == k)
        for k in range(CANONICAL)
    ]
    (package / "core" / "__init__.py").write_text("\n".join(core_lines) + "\n")
    for f in range(files):
        a, b = f % CANONICAL, (f + 7) % CANONICAL
        name_a, name_b = f"Thing{a}_{f % CLASSES}", f"Thing{b}_{(f + 3) % CLASSES}"
        (package / "web" / f"view{f}.py").write_text(
            f'"""View {f}."""\n\n'
            "import os\n"
            f"from fixapp.legacy.shim{a} import {name_a} as First  # the first\n"
            f"from fixapp.legacy.shim{b} import (\n    {name_b},\n)\n\n\n"
            f"def handler():\n    return os, First, {name_b}\n"
        )
    (root / "contracts.ini").write_text(CONTRACT)


def median_ms(samples: list[float]) -> str:
    return f"{statistics.median(samples) * 1000:8.0f} ms  (min {min(samples) * 1000:.0f})"


def timed(
    action: Callable[[], object], repeat: int, setup: Callable[[], None] = lambda: None
) -> list[float]:
    samples = []
    for _ in range(repeat):
        setup()
        started = time.perf_counter()
        action()
        samples.append(time.perf_counter() - started)
    return samples


def main() -> int:  # noqa: PLR0915  a benchmark script read top to bottom: setup, timings, table
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    from pytest_ssot.checking import StaticChecker
    from pytest_ssot.contract_types._source_index import Resolver, SourceCache, SourceIndex
    from pytest_ssot.fixing.apply import FileOutcome, fix_files
    from pytest_ssot.fixing.homes import HomeFinder
    from pytest_ssot.fixing.plan import FixPlan, Planner
    from pytest_ssot.fixing.runner import Fixer
    from pytest_ssot.sources import load_sources

    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        pristine = base / "pristine"
        work = base / "work"
        generate(pristine, args.files)
        shutil.copytree(pristine, work)
        os.chdir(work)
        sys.path.insert(0, str(work))

        exe = Path(sys.executable).with_name("lint-imports")
        lint = timed(
            lambda: subprocess.run(
                [str(exe), "--config", "contracts.ini", "--no-cache"],
                cwd=work,
                capture_output=True,
                check=False,
            ),
            args.repeat,
        )

        (loaded,) = load_sources(work, ("contracts.ini",), None)
        assert loaded.source is not None
        specs = list(loaded.source.contracts)

        def full_plan() -> FixPlan:
            checker = StaticChecker(work, None, specs)
            fixer = Fixer(lambda: checker, specs, work)
            plan = fixer.plan()
            assert plan is not None, fixer.error
            return plan

        full = timed(full_plan, args.repeat)
        checker = StaticChecker(work, None, specs)
        edges = {
            (v.hops[-1].importer, v.hops[-1].imported) for v in checker.check(specs[0]).violations
        }

        def pure_plan() -> object:
            index = SourceIndex(["fixapp"], SourceCache())
            modules = list(index.unpackaged_modules(set()))
            planner = Planner(HomeFinder(Resolver(index), modules), index.module_file, str)
            requests = planner.collect(edges)
            planner.candidate_imports(requests)
            return planner.finish(requests, {})

        pure = timed(pure_plan, args.repeat)
        plan = full_plan()
        edits = plan.file_edits()

        def reset() -> None:
            shutil.rmtree(work / "fixapp")
            shutil.copytree(pristine / "fixapp", work / "fixapp")

        outcomes: list[Sequence[FileOutcome]] = []
        apply = timed(
            lambda: outcomes.append(fix_files(edits, work, write=True)), args.repeat, reset
        )
        written = sum(1 for o in outcomes[-1] if o.written)
        fixable = sum(1 for e in plan.edges.values() if e.fixable)

    print(f"fixapp: {args.files} importer files, {len(edges)} violations (direct imports)")
    print(f"  lint-imports (same contract) {median_ms(lint)}")
    print(f"  plan, pure                   {median_ms(pure)}")
    print(
        f"  plan, full (--ssot-fix)      {median_ms(full)}  "
        f"{statistics.median(full) / statistics.median(lint):.2f}x lint-imports"
    )
    print(f"  apply ({written} files)         {median_ms(apply)}")
    print(f"  fixable: {fixable} of {len(edges)}; target: plan < 2 s, apply < 2 s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
