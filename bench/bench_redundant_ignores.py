"""What looking for ignore_imports entries that no longer matter costs, on sympy.

One forbidden contract (and one layers contract) with 50 ``ignore_imports`` entries,
picked from sympy's real imports so that some are needed and some are not. Prints
the time of one check of the contract and of ``find_redundant_ignores`` (medians of
``--runs``), in one process with the graph built once, as pytest-ssot does it.

    python bench/bench_redundant_ignores.py --sympy-path DIR   # a folder holding sympy
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

from pytest_ssot import adapter
from pytest_ssot.model import ContractSpec, GraphKey, SessionOptions

FORBIDDEN = ("sympy.geometry", "sympy.codegen")
"""sympy.core reaches these through 50 direct imports into them: ignoring those keeps it."""
BROKEN_FORBIDDEN = ("sympy.functions", "sympy.simplify", "sympy.polys", "sympy.matrices")
"""The worst case: a contract broken hundreds of times, whose every check is slow."""


def cut_ignores(graph: object, source: str, forbidden: tuple[str, ...]) -> list[str]:
    """Every direct import into ``forbidden`` from a module ``source`` reaches: the ignores
    of a contract kept by ignoring them (some of them are needed, some are not)."""
    g = graph.graph  # type: ignore[attr-defined]
    inside = {m for m in g.modules if m.startswith(source + ".") or m == source}
    reached = set(inside)
    for module in inside:
        reached |= g.find_upstream_modules(module)
    found = []
    for module in sorted(g.modules):
        if not module.startswith(forbidden):
            continue
        for importer in sorted(g.find_modules_that_directly_import(module)):
            if importer in reached and not importer.startswith(forbidden):
                found.append(f"{importer} -> {module}")
    return found


def broken_ignores(graph: object, count: int) -> list[str]:
    """``count`` real imports from sympy.core into BROKEN_FORBIDDEN."""
    g = graph.graph  # type: ignore[attr-defined]
    found = []
    for module in sorted(g.modules):
        if module.startswith("sympy.core."):
            for imported in sorted(g.find_modules_directly_imported_by(module)):
                if imported.startswith(BROKEN_FORBIDDEN):
                    found.append(f"{module} -> {imported}")
    return found[:count]


def spec(contract_type: str, options: dict[str, object]) -> ContractSpec:
    session = SessionOptions(raw={"root_packages": ["sympy"]}, root_packages=("sympy",))
    return ContractSpec(
        id=contract_type,
        name=f"{contract_type} with 50 ignores",
        type=contract_type,
        options=options,
        source_path=Path("bench.toml"),
        source_display="bench.toml",
        line=1,
        session=session,
    )


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sympy-path", required=True)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--worst-case", action="store_true", help="also a contract with 900 violations"
    )
    parser.add_argument(
        "--budget",
        type=float,
        default=None,
        help="seconds the search may take per contract (ssot_redundant_ignores_budget); "
        "default: no limit",
    )
    args = parser.parse_args()
    sys.path.insert(0, args.sympy_path)
    graph = adapter.build_graph(GraphKey(("sympy",)), None)
    print(f"sympy graph: {graph.modules} modules, {graph.imports} imports")
    kept = cut_ignores(graph, "sympy.core", FORBIDDEN)
    specs = [
        spec(
            "forbidden",
            {
                "source_modules": ["sympy.core"],
                "forbidden_modules": list(FORBIDDEN),
                "ignore_imports": kept,
            },
        ),
        spec(
            "layers",
            {
                "layers": ["sympy.geometry | sympy.codegen", "sympy.core"],
                "ignore_imports": kept,
            },
        ),
    ]
    if args.worst_case:
        specs.append(
            spec(
                "forbidden",
                {
                    "source_modules": ["sympy.core"],
                    "forbidden_modules": list(BROKEN_FORBIDDEN),
                    "ignore_imports": broken_ignores(graph, 50),
                },
            )
        )
    for one in specs:
        contract = adapter.instantiate(one)
        checks, searches, cpu = [], [], []
        raw = adapter.check(contract, graph)
        found: tuple[object, ...] = ()
        unchecked: tuple[str, ...] = ()
        for _ in range(args.runs):
            started = time.perf_counter()
            raw = adapter.check(contract, graph)
            checks.append(time.perf_counter() - started)
            started, started_cpu = time.perf_counter(), time.process_time()
            found, unchecked = adapter.find_redundant_ignores(
                one, contract, graph, raw, budget_s=args.budget
            )
            searches.append(time.perf_counter() - started)
            cpu.append(time.process_time() - started_cpu)
        ms = statistics.median(searches) * 1000
        print(
            f"{one.type}: {len(one.options['ignore_imports'])} ignores, "
            f"{len(raw.violations)} violations, {len(found)} no longer matter, "
            f"{len(unchecked)} not checked; "
            f"check {statistics.median(checks) * 1000:.0f} ms; search adds {ms:.0f} ms "
            f"(CPU {statistics.median(cpu) * 1000:.0f} ms; "
            f"min {min(searches) * 1000:.0f}, max {max(searches) * 1000:.0f} ms)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
