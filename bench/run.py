"""pytest-ssot benchmarks: one command, every figure of issue 7 against its target.

    python bench/run.py [--quick] [--runs N] [--out bench/results/latest.json] [--only NAMES]

It creates its own virtual environment in ``bench/.work/venv`` (this project installed editable,
plus the pinned versions below), generates the 10,000-module package, runs everything and prints
one table (figure, value, target, PASS/MISS), and writes the same figures, with every raw sample,
as JSON. ``--quick``: two runs instead of five, no django, fewer start-up samples.
See bench/README.md for what each figure means and how it is measured.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
WORK = BENCH / ".work"
VENV = WORK / "venv"
PROJECTS = WORK / "projects"
GENERATED = WORK / "generated"
REPORTS = WORK / "reports"
DEFAULT_OUT = BENCH / "results" / "latest.json"

sys.path.insert(0, str(BENCH))
import generate  # noqa: E402  (bench/generate.py, next to this file)

# Pinned for reproducible numbers; the project itself is installed editable from this checkout.
PINS = {
    "sympy": "1.14.0",
    "django": "5.2.19",
    "pytest-xdist": "3.8.0",
    "pytest": "9.2.0",
    "import-linter": "2.17",
    "grimp": "3.20",
}
SECTIONS = (
    "sympy",
    "django",
    "bigapp",
    "ssot",
    "startup",
    "construction",
    "watcher",
    "xdist",
    "scale",
)
SCALE_SIZES = (2_000, 10_000, 50_000)  # the generator needs about 1,500 at least
COMMAND_TIMEOUT = 900  # seconds, per command

TARGETS = {
    "warm_ratio_sympy": 0.8,
    "cold_ratio": 1.1,
    "memory_ratio": 1.2,
    "warm_phase_bigapp_ms": 50.0,
    "startup_ms": 5.0,
    "construction_ns": 2000.0,
    "watcher_percent": 5.0,
    "ssot_ratio": 0.3,
}

SYMPY_CONTRACTS = """\
[importlinter]
root_packages =
    sympy

[importlinter:contract:core-no-frontends]
name = sympy.core does not import the front ends
type = forbidden
source_modules =
    sympy.core
forbidden_modules =
    sympy.plotting
    sympy.interactive
    sympy.parsing

[importlinter:contract:leaves-no-applications]
name = Leaf packages do not import the applications directly
type = forbidden
source_modules =
    sympy.crypto
    sympy.diffgeom
    sympy.geometry
forbidden_modules =
    sympy.physics
    sympy.stats
    sympy.plotting
allow_indirect_imports = True

[importlinter:contract:stats-layers]
name = stats over integrals over functions
type = layers
layers =
    sympy.stats
    sympy.integrals
    sympy.functions

[importlinter:contract:crypto-layers]
name = crypto over ntheory
type = layers
layers =
    sympy.crypto
    sympy.ntheory

[importlinter:contract:independent-leaves]
name = Leaf packages are independent
type = independence
modules =
    sympy.crypto
    sympy.diffgeom
    sympy.liealgebras
    sympy.stats
"""

DJANGO_CONTRACTS = """\
[importlinter]
root_packages =
    django

[importlinter:contract:framework-no-contrib]
name = The framework does not import contrib apps directly
type = forbidden
source_modules =
    django.core
    django.db
    django.utils
    django.dispatch
forbidden_modules =
    django.contrib
allow_indirect_imports = True

[importlinter:contract:http-no-db]
name = django.http does not reach the ORM
type = forbidden
source_modules =
    django.http
forbidden_modules =
    django.db

[importlinter:contract:layers]
name = contrib over db over utils
type = layers
layers =
    django.contrib
    django.db
    django.utils

[importlinter:contract:independent-contrib]
name = Small contrib apps are independent
type = independence
modules =
    django.contrib.humanize
    django.contrib.redirects
    django.contrib.syndication
"""


class BenchError(Exception):
    """Something the benchmark needs is missing or misbehaves; the message says what to do."""


# ---------------------------------------------------------------------------
# Environment


def venv_bin(name: str) -> Path:
    return VENV / ("Scripts" if os.name == "nt" else "bin") / name


def venv_python() -> Path:
    return venv_bin("python.exe" if os.name == "nt" else "python")


def requirements() -> list[str]:
    return [f"{name}=={version}" for name, version in PINS.items()]


def environment_stamp() -> str:
    digest = hashlib.sha256()
    digest.update(json.dumps(requirements()).encode())
    digest.update((REPO / "pyproject.toml").read_bytes())
    digest.update(sys.version.encode())
    return digest.hexdigest()


def ensure_venv(log: Callable[[str], None]) -> None:
    """Create bench/.work/venv and install what the benchmark runs, unless it is up to date."""
    stamp_file = VENV / "bench-stamp"
    stamp = environment_stamp()
    if stamp_file.is_file() and stamp_file.read_text() == stamp and venv_python().is_file():
        return
    log(f"setting up {VENV.relative_to(REPO)} (pip install; needs access to PyPI)")
    if VENV.exists():
        shutil.rmtree(VENV)
    run_checked([sys.executable, "-m", "venv", str(VENV)], "creating the virtual environment")
    run_checked(
        [str(venv_python()), "-m", "pip", "install", "-q", "-e", str(REPO), *requirements()],
        "installing pytest-ssot and the pinned packages",
    )
    stamp_file.write_text(stamp)


def run_checked(cmd: Sequence[str], what: str) -> None:
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=COMMAND_TIMEOUT)
    except FileNotFoundError as exc:
        raise BenchError(f"{what}: {exc}") from None
    except subprocess.TimeoutExpired:
        raise BenchError(f"{what} took more than {COMMAND_TIMEOUT} s") from None
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-20:])
        raise BenchError(f"{what} failed (exit {done.returncode}):\n{tail}")


def check_tools() -> None:
    for path in (venv_python(), venv_bin("lint-imports")):
        if not path.is_file():
            raise BenchError(
                f"{path} is missing: delete {VENV} and run again to reinstall the environment"
            )


def clean_env(pythonpath: Path | None = None) -> dict[str, str]:
    """The parent environment without anything that changes pytest or Python behaviour."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PYTEST_", "PYTHON", "VIRTUAL_ENV", "COV_"))
    }
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    return env


def checkout() -> dict[str, Any]:
    """The commit measured, and whether the working tree had changes (read-only git calls)."""
    info: dict[str, Any] = {"commit": None, "changed_files": None}
    try:
        head = subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "HEAD"], capture_output=True, text=True
        )
        status = subprocess.run(
            ["git", "--no-optional-locks", "-C", str(REPO), "status", "--porcelain", "-uno"],
            capture_output=True,
            text=True,
        )
    except OSError:
        return info
    if head.returncode == 0:
        info["commit"] = head.stdout.strip()
    if status.returncode == 0:
        info["changed_files"] = len(status.stdout.splitlines())
    return info


def package_versions() -> dict[str, str]:
    code = (
        "import importlib.metadata as m, json\n"
        "names = ['pytest-ssot', 'pytest', 'import-linter', 'grimp', 'sympy', 'django',"
        " 'pytest-xdist']\n"
        "print(json.dumps({n: m.version(n) for n in names}))"
    )
    done = subprocess.run(
        [str(venv_python()), "-c", code], capture_output=True, text=True, env=clean_env()
    )
    if done.returncode != 0:
        raise BenchError(f"cannot read the installed versions:\n{done.stderr}")
    versions: dict[str, str] = json.loads(done.stdout)
    return versions


# ---------------------------------------------------------------------------
# Running one command: wall time and peak memory


@dataclass
class Sample:
    wall_s: float
    max_rss_kb: int | None
    returncode: int
    stdout: str = field(repr=False)
    stderr: str = field(repr=False)


WRAPPER = """\
import json, resource, subprocess, sys, time
start = time.perf_counter()
code = subprocess.call(sys.argv[2:])
wall = time.perf_counter() - start
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
with open(sys.argv[1], "w") as out:
    json.dump({"wall": wall, "maxrss": usage.ru_maxrss}, out)
sys.exit(code)
"""


class Runner:
    """Runs a command under GNU time (or a small Python wrapper) for its peak RSS."""

    def __init__(self) -> None:
        self.time_bin = self._find_gnu_time()
        self.method = (
            f"{self.time_bin} -f %M" if self.time_bin else "getrusage(RUSAGE_CHILDREN) wrapper"
        )

    @staticmethod
    def _find_gnu_time() -> str | None:
        candidate = shutil.which("time") or "/usr/bin/time"
        if not Path(candidate).is_file():
            return None
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "rss"
            try:
                subprocess.run(
                    [candidate, "-f", "%M", "-o", str(out), sys.executable, "-c", "pass"],
                    capture_output=True,
                    timeout=60,
                )
                int(out.read_text().strip().splitlines()[-1])
            except (OSError, ValueError, IndexError, subprocess.SubprocessError):
                return None
        return candidate

    def run(
        self,
        cmd: Sequence[str],
        cwd: Path,
        env: Mapping[str, str],
        *,
        measure_memory: bool = True,
    ) -> Sample:
        with tempfile.TemporaryDirectory() as tmp:
            rss_file = Path(tmp) / "rss"
            if not measure_memory:
                full = list(cmd)
            elif self.time_bin:
                full = [self.time_bin, "-f", "%M", "-o", str(rss_file), *cmd]
            else:
                full = [sys.executable, "-c", WRAPPER, str(rss_file), *cmd]
            started = time.perf_counter()
            try:
                done = subprocess.run(
                    full,
                    cwd=cwd,
                    env=dict(env),
                    capture_output=True,
                    text=True,
                    timeout=COMMAND_TIMEOUT,
                )
            except FileNotFoundError as exc:
                raise BenchError(f"cannot run {cmd[0]}: {exc}") from None
            except subprocess.TimeoutExpired:
                raise BenchError(
                    f"{' '.join(cmd)} took more than {COMMAND_TIMEOUT} s (in {cwd})"
                ) from None
            wall = time.perf_counter() - started
            rss: int | None = None
            if measure_memory and rss_file.is_file():
                text = rss_file.read_text().strip()
                if self.time_bin:
                    rss = int(text.splitlines()[-1])
                else:
                    data = json.loads(text)
                    wall, rss = float(data["wall"]), int(data["maxrss"])
        return Sample(wall, rss, done.returncode, done.stdout, done.stderr)


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def rss_median(samples: Sequence[Sample]) -> float | None:
    values = [s.max_rss_kb for s in samples if s.max_rss_kb is not None]
    return median(values) if values else None


def tail(text: str, lines: int = 25) -> str:
    return "\n".join(text.rstrip().splitlines()[-lines:])


# ---------------------------------------------------------------------------
# Contracts: lint-imports against pytest --ssot, cold and warm


@dataclass(frozen=True)
class Target:
    name: str
    contracts: str
    pythonpath: Path | None = None
    edited: str = ""
    """A source file (relative to the folder holding the package) that the edit figures
    change: first a comment line on top (no import changes, every line moves), then an
    import added at the end. Restored after each run."""
    added_import: str = ""

    @property
    def project(self) -> Path:
        return PROJECTS / self.name


LINT_SUMMARY = re.compile(r"Contracts: (\d+) kept, (\d+) broken")
LINT_ANALYZED = re.compile(r"Analyzed (\d+) files, (\d+) dependencies")
LINT_CONTRACT_TIME = re.compile(r"\b(KEPT|BROKEN) \[(\d+(?:\.\d+)?)s\]")
LINT_BUILD_TIME = re.compile(r"contracts\.ini\s*│\s*(\d+(?:\.\d+)?)s")


@dataclass
class LintRun:
    sample: Sample
    kept: int
    broken: int
    modules: int
    imports: int
    phase_ms: float | None  # graph build + checks, from --show-timings
    ssot_ratio: float | None = None  # the contracts' check times over the graph build


@dataclass
class PytestRun:
    sample: Sample
    kept: int
    broken: int
    modules: int
    imports: int
    reused: bool
    build_ms: float | None = None  # from --ssot-report, on the runs that write one
    check_ms: float | None = None
    report: dict[str, Any] | None = None

    @property
    def phase_ms(self) -> float | None:
        """Graph build and checks, as the plugin measures them (runs with a report only).

        When the results are reused, build_ms is the time it took to decide so and to read
        them; the stored check_ms belong to the run that computed them, so they do not count.
        """
        if self.build_ms is None or self.check_ms is None:
            return None
        return self.build_ms if self.reused else self.build_ms + self.check_ms


PYTEST_SUMMARY = re.compile(r"contracts: (\d+) kept, (\d+) broken")
PYTEST_GRAPH = re.compile(r"^graph .*?: (\d+) modules, (\d+) imports, (.*)$", re.MULTILINE)


def pytest_command(report: Path | None = None) -> list[str]:
    cmd = [
        str(venv_python()),
        "-m",
        "pytest",
        "--ssot",
        "--ssot-only",
        "-p",
        "no:randomly",
        "-o",
        "ssot_contracts=contracts.ini",
    ]
    return [*cmd, f"--ssot-report={report}"] if report is not None else cmd


def lint_command() -> list[str]:
    return [str(venv_bin("lint-imports")), "--show-timings", "contracts.ini"]


def bare_pytest_command() -> list[str]:
    return [str(venv_python()), "-m", "pytest", "-p", "no:randomly", "-p", "no:ssot"]


def prepare_project(target: Target) -> None:
    target.project.mkdir(parents=True, exist_ok=True)
    (target.project / "pytest.ini").write_text("[pytest]\n")
    contracts = target.project / "contracts.ini"
    if not contracts.is_file() or contracts.read_text() != target.contracts:
        contracts.write_text(target.contracts)


def package_parent(target: Target) -> Path:
    """The folder holding the target's package: PYTHONPATH, or the venv's site-packages."""
    if target.pythonpath is not None:
        return target.pythonpath
    done = subprocess.run(
        [str(venv_python()), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise BenchError(f"cannot find the venv's site-packages: {done.stderr.strip()}")
    return Path(done.stdout.strip())


def edit_rounds(runner: Runner, target: Target, order: Sequence[str]) -> dict[str, Any]:
    """One file edited without an import change, then an import added to it, each tool after each.

    Both tools start warm (their caches hold the unedited sources), and each sees exactly
    the one edit since its previous run. The file is restored whatever happens.
    """
    one: dict[str, Any] = {}
    path = package_parent(target) / target.edited
    original = path.read_bytes()
    steps = (
        ("edit", b"# edited by bench/run.py\n" + original),
        (
            "import",
            b"# edited by bench/run.py\n"
            + original.rstrip(b"\n")
            + f"\nimport {target.added_import}  # added by bench/run.py\n".encode(),
        ),
    )
    try:
        for kind, text in steps:
            path.write_bytes(text)
            for tool in order:
                if tool == "lint":
                    one[f"lint_{kind}"] = run_lint(runner, target)
                else:
                    one[f"pytest_{kind}"] = run_pytest(runner, target)
            compare_verdicts(target, one[f"lint_{kind}"], one[f"pytest_{kind}"])
    finally:
        path.write_bytes(original)
    return one


def clear_caches(target: Target, tool: str) -> None:
    name = ".import_linter_cache" if tool == "lint" else ".pytest_cache"
    shutil.rmtree(target.project / name, ignore_errors=True)


def run_lint(runner: Runner, target: Target) -> LintRun:
    sample = runner.run(lint_command(), target.project, clean_env(target.pythonpath))
    text = sample.stdout
    summary = LINT_SUMMARY.search(text)
    analyzed = LINT_ANALYZED.search(text)
    if sample.returncode not in (0, 1) or summary is None or analyzed is None:
        raise BenchError(
            f"lint-imports failed on {target.name} (exit {sample.returncode}):\n"
            f"{tail(sample.stdout + sample.stderr)}"
        )
    build = LINT_BUILD_TIME.search(text)
    checks = [float(m.group(2)) for m in LINT_CONTRACT_TIME.finditer(text)]
    phase = (float(build.group(1)) + sum(checks)) * 1000 if build and checks else None
    built = float(build.group(1)) if build else 0.0
    return LintRun(
        sample,
        kept=int(summary.group(1)),
        broken=int(summary.group(2)),
        modules=int(analyzed.group(1)),
        imports=int(analyzed.group(2)),
        phase_ms=phase,
        ssot_ratio=sum(checks) / built if built and checks else None,
    )


def run_pytest(runner: Runner, target: Target, report_label: str | None = None) -> PytestRun:
    """One ``pytest --ssot --ssot-only`` run; with a label, it also writes and reads a report."""
    report_path: Path | None = None
    if report_label is not None:
        REPORTS.mkdir(parents=True, exist_ok=True)
        report_path = REPORTS / f"{target.name}-{report_label}.json"
        report_path.unlink(missing_ok=True)
    sample = runner.run(pytest_command(report_path), target.project, clean_env(target.pythonpath))
    summary = PYTEST_SUMMARY.search(sample.stdout)
    graphs = PYTEST_GRAPH.findall(sample.stdout)
    if sample.returncode not in (0, 1) or summary is None or not graphs:
        raise BenchError(
            f"pytest --ssot failed on {target.name} (exit {sample.returncode}), or its summary "
            f"has no 'contracts: N kept, M broken' and 'graph ...' lines:\n"
            f"{tail(sample.stdout + sample.stderr)}"
        )
    summary_line = sample.stdout[summary.start() :].partition("\n")[0]
    if "could not be checked" in summary_line:
        raise BenchError(
            f"pytest --ssot could not check some contracts on {target.name}:\n{tail(sample.stdout)}"
        )
    run = PytestRun(
        sample,
        kept=int(summary.group(1)),
        broken=int(summary.group(2)),
        modules=sum(int(g[0]) for g in graphs),
        imports=sum(int(g[1]) for g in graphs),
        reused=all("reused" in g[2] for g in graphs),
    )
    if report_path is not None:
        if not report_path.is_file():
            raise BenchError(f"pytest --ssot wrote no report to {report_path}")
        report = json.loads(report_path.read_text())
        run.report = report
        run.reused = all(bool(g.get("reused") or g.get("from_cache")) for g in report["graphs"])
        run.build_ms = sum(float(g["build_ms"]) for g in report["graphs"])
        run.check_ms = sum(float(c["check_ms"]) for c in report["contracts"])
    return run


def compare_verdicts(target: Target, lint: LintRun, ours: PytestRun) -> None:
    """Both tools must have checked the same graph and reached the same verdicts."""
    if (lint.modules, lint.imports) != (ours.modules, ours.imports):
        raise BenchError(
            f"{target.name}: lint-imports analysed {lint.modules} modules and {lint.imports} "
            f"imports, pytest --ssot {ours.modules} and {ours.imports}: they do not see the "
            "same packages, so the comparison would be meaningless"
        )
    if (lint.kept, lint.broken) != (ours.kept, ours.broken):
        raise BenchError(
            f"{target.name}: lint-imports says {lint.kept} kept / {lint.broken} broken, "
            f"pytest --ssot {ours.kept} kept / {ours.broken} broken"
        )


@dataclass
class ContractBench:
    target: str
    modules: int
    imports: int
    kept: int
    broken: int
    runs: dict[str, list[Any]] = field(default_factory=dict)

    def add(self, kind: str, run: Any) -> None:
        self.runs.setdefault(kind, []).append(run)

    def wall(self, kind: str) -> float:
        return median([r.sample.wall_s for r in self.runs[kind]])

    def rss(self, kind: str) -> float | None:
        return rss_median([r.sample for r in self.runs[kind]])

    def phase(self, kind: str) -> float | None:
        values = [r.phase_ms for r in self.runs[kind] if r.phase_ms is not None]
        return median(values) if values else None

    def edits(self, tool: str) -> dict[str, Any]:
        """The edit figures, medians and the paired ratios of each run (same run, same load)."""
        found: dict[str, Any] = {}
        for kind in ("edit", "import"):
            if f"{tool}_{kind}" in self.runs:
                found[f"{kind}_s"] = self.wall(f"{tool}_{kind}")
                if tool == "pytest":
                    pairs = zip(self.runs[f"pytest_{kind}"], self.runs[f"lint_{kind}"], strict=True)
                    found[f"{kind}_paired_ratios"] = [
                        round(p.sample.wall_s / q.sample.wall_s, 3) for p, q in pairs
                    ]
                    found[f"{kind}_reused"] = [r.reused for r in self.runs[f"pytest_{kind}"]]
        return found

    def summary(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "modules": self.modules,
            "imports": self.imports,
            "contracts": {"kept": self.kept, "broken": self.broken},
            "runs": len(self.runs["lint_cold"]),
            "lint_imports": {
                "cold_s": self.wall("lint_cold"),
                "warm_s": self.wall("lint_warm"),
                "cold_rss_kb": self.rss("lint_cold"),
                "warm_rss_kb": self.rss("lint_warm"),
                "cold_phase_ms": self.phase("lint_cold"),
                "warm_phase_ms": self.phase("lint_warm"),
                **self.edits("lint"),
            },
            "pytest_ssot": {
                "cold_s": self.wall("pytest_cold"),
                "warm_s": self.wall("pytest_warm"),
                "cold_rss_kb": self.rss("pytest_cold"),
                "warm_rss_kb": self.rss("pytest_warm"),
                "cold_phase_ms": self.phase("report_cold"),
                "warm_phase_ms": self.phase("report_warm"),
                "warm_results_reused": all(r.reused for r in self.runs["pytest_warm"]),
                "cold_with_report_s": self.wall("report_cold"),
                "warm_with_report_s": self.wall("report_warm"),
                **self.edits("pytest"),
            },
            "bare_pytest_s": self.wall("bare"),
            "samples": {
                kind: [
                    {
                        "wall_s": round(r.sample.wall_s, 4),
                        "max_rss_kb": r.sample.max_rss_kb,
                        **(
                            {"phase_ms": round(r.phase_ms, 2)}
                            if getattr(r, "phase_ms", None) is not None
                            else {}
                        ),
                        **({"reused": r.reused} if isinstance(r, PytestRun) else {}),
                    }
                    for r in runs
                ]
                for kind, runs in self.runs.items()
            },
        }


@dataclass
class BareRun:
    sample: Sample


ATTEMPTS = 3  # a run that fails (say, a source file caught half-edited) is tried again
RETRY_PAUSE = 30  # seconds


def contract_round(runner: Runner, target: Target, index: int) -> dict[str, Any]:
    """One run of every measurement of a target; nothing is kept unless all of it succeeds."""
    one: dict[str, Any] = {}
    # Alternate which tool goes first, so that neither always runs on a hotter machine.
    order = ("lint", "pytest") if index % 2 == 0 else ("pytest", "lint")
    for tool in order:
        clear_caches(target, tool)
        if tool == "lint":
            one["lint_cold"] = run_lint(runner, target)
            one["lint_warm"] = run_lint(runner, target)
        else:
            one["pytest_cold"] = run_pytest(runner, target)
            one["pytest_warm"] = run_pytest(runner, target)
    for kind in ("lint_warm", "pytest_cold", "pytest_warm"):
        compare_verdicts(target, one["lint_cold"], one[kind])
    clear_caches(target, "pytest")
    one["report_cold"] = run_pytest(runner, target, f"cold-{index}")
    one["report_warm"] = run_pytest(runner, target, f"warm-{index}")
    if target.edited:
        one.update(edit_rounds(runner, target, order))
    bare = runner.run(bare_pytest_command(), target.project, clean_env(target.pythonpath))
    if bare.returncode not in (0, 5):
        raise BenchError(f"bare pytest failed in {target.project}:\n{tail(bare.stdout)}")
    one["bare"] = BareRun(bare)
    return one


def bench_contracts(
    runner: Runner, target: Target, runs: int, log: Callable[[str], None]
) -> ContractBench:
    """Per run: each tool cold then warm, timed; then pytest cold and warm again with a report.

    The timed pytest runs write no report (it is not part of the command being compared);
    the contract phase comes from the report runs, which are timed too but only shown apart.
    """
    prepare_project(target)
    log(f"{target.name}: warm-up run of each tool (not counted)")
    clear_caches(target, "lint")
    clear_caches(target, "pytest")
    lint = run_lint(runner, target)
    ours = run_pytest(runner, target, "warmup")
    compare_verdicts(target, lint, ours)
    runner.run(bare_pytest_command(), target.project, clean_env(target.pythonpath))
    result = ContractBench(target.name, lint.modules, lint.imports, lint.kept, lint.broken)
    for index in range(runs):
        for attempt in range(1, ATTEMPTS + 1):
            try:
                one = contract_round(runner, target, index)
                break
            except BenchError as exc:
                if attempt == ATTEMPTS:
                    raise
                log(f"{target.name}: run {index + 1} failed, retrying in {RETRY_PAUSE} s: {exc}")
                time.sleep(RETRY_PAUSE)
        for kind, run in one.items():
            result.add(kind, run)
        log(
            f"{target.name}: run {index + 1}/{runs}: lint-imports "
            f"{one['lint_cold'].sample.wall_s:.2f}/{one['lint_warm'].sample.wall_s:.2f} s, "
            f"pytest --ssot {one['pytest_cold'].sample.wall_s:.2f}/"
            f"{one['pytest_warm'].sample.wall_s:.2f} s (cold/warm)"
        )
    return result


# ---------------------------------------------------------------------------
# Start-up cost with --ssot off


def bench_startup(runner: Runner, samples: int, log: Callable[[str], None]) -> dict[str, Any]:
    project = PROJECTS / "startup"
    project.mkdir(parents=True, exist_ok=True)
    (project / "pytest.ini").write_text("[pytest]\n")
    python = str(venv_python())
    base = [python, "-m", "pytest", "--co", "-q", "-p", "no:randomly"]
    env = clean_env()
    commands = {
        "installed": base,
        "blocked": [*base, "-p", "no:ssot"],
        "bare_session": [python, "-m", "pytest", "-q", "-p", "no:randomly", "-p", "no:ssot"],
    }
    for cmd in commands.values():  # warm-up: pyc files, page cache
        runner.run(cmd, project, env, measure_memory=False)
    walls: dict[str, list[float]] = {name: [] for name in commands}
    for index in range(samples):
        names = list(commands) if index % 2 == 0 else list(reversed(commands))
        for name in names:
            sample = runner.run(commands[name], project, env, measure_memory=False)
            if sample.returncode not in (0, 5):  # 5: no tests collected
                raise BenchError(
                    f"pytest start-up run failed (exit {sample.returncode}):\n"
                    f"{tail(sample.stdout + sample.stderr)}"
                )
            walls[name].append(sample.wall_s)
    installed, blocked = median(walls["installed"]), median(walls["blocked"])
    # Paired differences are less noisy than the difference of two medians.
    paired = [a - b for a, b in zip(walls["installed"], walls["blocked"], strict=True)]
    log(f"startup: {samples} samples each, median paired difference {median(paired) * 1000:.1f} ms")

    importtime = [plugin_importtime() for _ in range(max(5, samples // 2))]
    hooks = plugin_hooks_in_process(project, samples * 2)
    return {
        "hooks_in_process": hooks,
        "samples": samples,
        "installed_s": installed,
        "blocked_s": blocked,
        "added_ms_median_of_pairs": median(paired) * 1000,
        "added_ms_difference_of_medians": (installed - blocked) * 1000,
        "bare_pytest_session_s": median(walls["bare_session"]),
        "importtime_us": {
            key: median([sample[key] for sample in importtime]) for key in importtime[0]
        },
        "walls": {name: [round(w, 4) for w in values] for name, values in walls.items()},
    }


HOOKS_IN_PROCESS = """\
import contextlib, io, json, statistics, sys, time
import pytest
runs = int(sys.argv[1])
base = ["--co", "-q", "-p", "no:randomly"]
args = {"installed": base, "blocked": [*base, "-p", "no:ssot"]}
times = {"installed": [], "blocked": []}
for i in range(runs + 5):
    for name in (("installed", "blocked") if i % 2 == 0 else ("blocked", "installed")):
        started = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):
            pytest.main(args[name])
        if i >= 5:  # the first sessions warm up caches
            times[name].append(time.perf_counter() - started)
print(json.dumps({name: statistics.median(values) for name, values in times.items()}))
"""


def plugin_hooks_in_process(project: Path, runs: int) -> dict[str, float]:
    """What the plugin's hooks cost per session once everything is imported (noise-free part).

    ``pytest.main`` repeated in one process, with and without ``-p no:ssot``: the difference is
    what ``pytest_addoption`` and ``pytest_configure`` cost with ``--ssot`` off.
    """
    done = subprocess.run(
        [str(venv_python()), "-c", HOOKS_IN_PROCESS, str(runs)],
        cwd=project,
        capture_output=True,
        text=True,
        env=clean_env(),
        timeout=COMMAND_TIMEOUT,
    )
    if done.returncode != 0:
        raise BenchError(f"timing pytest.main in-process failed:\n{tail(done.stderr)}")
    medians = json.loads(done.stdout.strip().splitlines()[-1])
    return {
        "installed_ms": medians["installed"] * 1000,
        "blocked_ms": medians["blocked"] * 1000,
        "added_ms": (medians["installed"] - medians["blocked"]) * 1000,
    }


IMPORTTIME = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)")


def plugin_importtime() -> dict[str, float]:
    """What importing the entry module costs once pytest is already imported (as under pytest)."""
    done = subprocess.run(
        [str(venv_python()), "-X", "importtime", "-c", "import pytest; import pytest_ssot.plugin"],
        capture_output=True,
        text=True,
        env=clean_env(),
    )
    if done.returncode != 0:
        raise BenchError(f"importing pytest_ssot.plugin failed:\n{tail(done.stderr)}")
    found: dict[str, float] = {}
    seen_pytest = False
    after_pytest: list[tuple[str, int, int]] = []
    for line in done.stderr.splitlines():
        match = IMPORTTIME.match(line)
        if not match:
            continue
        self_us, cumulative_us, name = int(match.group(1)), int(match.group(2)), match.group(4)
        if seen_pytest:
            after_pytest.append((name, self_us, cumulative_us))
        if name == "pytest" and match.group(3) == " ":
            seen_pytest = True
        if name in ("pytest_ssot", "pytest_ssot.plugin"):
            found[f"{name} cumulative"] = float(cumulative_us)
    found["everything after pytest"] = float(sum(s for _, s, _ in after_pytest))
    return found


# ---------------------------------------------------------------------------
# The other engineers' micro-benchmarks, run as they are


def run_script(name: str, args: Sequence[str] = ()) -> tuple[str | None, str]:
    """Run bench/<name> in the benchmark's environment; (None, why) when it does not exist."""
    script = BENCH / name
    if not script.is_file():
        return None, f"bench/{name} does not exist yet"
    try:
        done = subprocess.run(
            [str(venv_python()), str(script), *args],
            cwd=REPO,
            capture_output=True,
            text=True,
            env=clean_env(),
            timeout=COMMAND_TIMEOUT,
        )
    except subprocess.TimeoutExpired:
        return None, f"bench/{name} took more than {COMMAND_TIMEOUT} s"
    if done.returncode != 0:
        return None, f"bench/{name} exited {done.returncode}: {tail(done.stdout + done.stderr, 8)}"
    return done.stdout, ""


CONSTRUCTION_ROW = re.compile(r"^(?P<case>\S.*?)\s+(-?\d+)\s+(-?\d+)\s+(-?\d+)\s+(-?\d+)\s*$")


def bench_construction() -> dict[str, Any]:
    out, why = run_script("bench_construction.py")
    if out is None:
        return {"available": False, "why": why}
    parsed = parse_json_output(out)
    if parsed is not None:
        return {"available": True, "json": parsed, "output": out}
    cases = []
    for line in out.splitlines():
        match = CONSTRUCTION_ROW.match(line)
        if match:
            untracked, untracked_after, tracked, added = (int(match.group(i)) for i in range(2, 6))
            cases.append(
                {
                    "case": match.group("case").strip(),
                    "untracked_ns": untracked,
                    "untracked_with_tracker_ns": untracked_after,
                    "tracked_ns": tracked,
                    "added_ns": added,
                }
            )
    if not cases:
        return {"available": False, "why": "could not read its output", "output": out}
    return {
        "available": True,
        "cases": cases,
        "worst_added_ns": max(c["added_ns"] for c in cases),
        "output": out,
    }


WATCHER_ROW = re.compile(
    r"^\s*(?P<layout>\S+)\s+without watcher\s+(?P<without>[\d.]+) ms\s+"
    r"with watcher\s+(?P<with>[\d.]+) ms\s+ratio\s+(?P<ratio>[\d.]+)",
    re.MULTILINE,
)


def bench_watcher() -> dict[str, Any]:
    out, why = run_script("bench_import_watcher.py")
    if out is None:
        return {"available": False, "why": why}
    layouts = [
        {
            "layout": m.group("layout"),
            "without_ms": float(m.group("without")),
            "with_ms": float(m.group("with")),
            "overhead_percent": (float(m.group("ratio")) - 1) * 100,
        }
        for m in WATCHER_ROW.finditer(out)
    ]
    if not layouts:
        return {"available": False, "why": "could not read its output", "output": out}
    return {
        "available": True,
        "layouts": layouts,
        "overhead_percent": max(x["overhead_percent"] for x in layouts),
        "output": out,
    }


def parse_json_output(out: str) -> Any:
    for candidate in (out.strip(), out.strip().splitlines()[-1] if out.strip() else ""):
        if candidate.startswith(("{", "[")):
            try:
                return json.loads(candidate)
            except ValueError:
                continue
    return None


# ---------------------------------------------------------------------------
# -n 2 against serial on the example suite


def bench_scale(
    runner: Runner, runs: int, log: Callable[[str], None], sizes: Sequence[int] = SCALE_SIZES
) -> dict[str, Any]:
    """Generated packages of 2k, 10k and 50k modules: each case against lint-imports.

    Per size and run, both tools on the same state, each after the other: cold, warm (nothing
    changed), one file edited without an import change, then one import added to it. The
    pytest runs write a report (for the contract phase). Each case's figure is the median of
    its per-run ratios (same run, same load).
    """
    found: dict[str, Any] = {}
    for size in sizes:
        folder = GENERATED.parent / f"generated-{size}"
        log(f"scale: generating (or reusing) {size:,} modules")
        generate.generate(folder, total_modules=size)
        target = Target(
            f"scale-{size}",
            generate.CONTRACTS,
            pythonpath=folder,
            edited=generate.EDITED_MODULE,
            added_import=generate.ADDED_IMPORT,
        )
        prepare_project(target)
        phases: dict[str, list[float]] = {}
        walls: dict[str, list[float]] = {}
        ratios: dict[str, list[float]] = {}
        reused: dict[str, list[bool]] = {}
        path = folder / target.edited
        original = path.read_bytes()
        states = (
            ("cold", None),
            ("warm", None),
            ("edit", b"# edited by bench/run.py\n" + original),
            (
                "import",
                b"# edited by bench/run.py\n"
                + original.rstrip(b"\n")
                + f"\nimport {target.added_import}  # added by bench/run.py\n".encode(),
            ),
        )
        for index in range(runs):
            clear_caches(target, "pytest")
            clear_caches(target, "lint")
            try:
                for kind, text in states:
                    if text is not None:
                        path.write_bytes(text)
                    lint = run_lint(runner, target)
                    ours = run_pytest(runner, target, f"scale-{kind}-{index}")
                    compare_verdicts(target, lint, ours)
                    walls.setdefault(f"lint_{kind}", []).append(lint.sample.wall_s)
                    walls.setdefault(kind, []).append(ours.sample.wall_s)
                    if ours.phase_ms is not None:
                        phases.setdefault(kind, []).append(ours.phase_ms)
                    if lint.phase_ms is not None:
                        phases.setdefault(f"lint_{kind}", []).append(lint.phase_ms)
                    ratios.setdefault(kind, []).append(ours.sample.wall_s / lint.sample.wall_s)
                    reused.setdefault(kind, []).append(ours.reused)
            finally:
                path.write_bytes(original)
            log(f"scale: {size:,} modules, run {index + 1}/{runs} done")
        found[str(size)] = {
            "ratio": {kind: median(values) for kind, values in ratios.items()},
            "phase_ms": {kind: median(values) for kind, values in phases.items()},
            "wall_s": {kind: median(values) for kind, values in walls.items()},
            "reused": {kind: all(values) for kind, values in reused.items()},
            "samples": {"phase_ms": phases, "wall_s": walls, "ratio": ratios},
        }
    return found


def ssot_phase(run: PytestRun) -> dict[str, float]:
    """The graph build and the SSOT contracts' own check times from a run's report."""
    assert run.report is not None
    build = sum(float(g["build_ms"]) for g in run.report["graphs"])
    checks = sum(float(c["check_ms"]) for c in run.report["contracts"])
    return {"build_ms": build, "check_ms": checks, "ratio": checks / build if build else 0.0}


def bench_ssot(runner: Runner, runs: int, log: Callable[[str], None]) -> dict[str, Any]:
    """The SSOT contract types on ``backend`` (bench/generate.py --ssot): about 4,000 modules
    and 60 MB, one ``single_source`` and one ``unique_definition`` contract.

    Per run: lint-imports cold, pytest-ssot cold, warm, then one file edited (a comment
    on top), lint-imports and pytest-ssot once more; the pytest runs with a report, for
    the graph build and the contracts' own check times.
    """
    folder = GENERATED.parent / "generated-ssot"
    log("ssot: generating (or reusing) backend, about 4,000 modules and 60 MB")
    manifest = generate.generate_ssot(folder)
    target = Target(
        "backend", generate.SSOT_CONTRACTS, pythonpath=folder, edited=generate.SSOT_EDITED_MODULE
    )
    prepare_project(target)
    samples: dict[str, list[Any]] = {}
    path = folder / target.edited
    original = path.read_bytes()
    for index in range(runs):
        clear_caches(target, "pytest")
        clear_caches(target, "lint")
        try:
            lint_cold = run_lint(runner, target)
            cold = run_pytest(runner, target, f"ssot-cold-{index}")
            compare_verdicts(target, lint_cold, cold)
            warm = run_pytest(runner, target, f"ssot-warm-{index}")
            path.write_bytes(b"# edited by bench/run.py\n" + original)
            lint_edit = run_lint(runner, target)
            edit = run_pytest(runner, target, f"ssot-edit-{index}")
        finally:
            path.write_bytes(original)
        cold_phase, edit_phase = ssot_phase(cold), ssot_phase(edit)
        one: dict[str, Any] = {
            "lint_cold_s": lint_cold.sample.wall_s,
            "lint_cold_phase_ms": lint_cold.phase_ms,
            "lint_cold_ratio": lint_cold.ssot_ratio,
            "cold_s": cold.sample.wall_s,
            "cold": cold_phase,
            "warm_s": warm.sample.wall_s,
            "warm_phase_ms": warm.phase_ms,
            "warm_reused": warm.reused,
            "lint_edit_s": lint_edit.sample.wall_s,
            "edit_s": edit.sample.wall_s,
            "edit": edit_phase,
        }
        for key, value in one.items():
            samples.setdefault(key, []).append(value)
        log(
            f"ssot: run {index + 1}/{runs}: contracts/graph cold {cold_phase['ratio']:.2f}x, "
            f"after an edit {edit_phase['ratio']:.2f}x"
        )

    def med(key: str, part: str | None = None) -> float:
        values = [v[part] if part else v for v in samples[key]]
        return median([float(v) for v in values if v is not None])

    return {
        "modules": manifest["modules"],
        "bytes": manifest["bytes"],
        "cold_ratio": med("cold", "ratio"),
        "cold_check_ms": med("cold", "check_ms"),
        "cold_build_ms": med("cold", "build_ms"),
        "lint_cold_ratio": med("lint_cold_ratio") if any(samples["lint_cold_ratio"]) else None,
        "cold_wall_ratio": median(
            [a / b for a, b in zip(samples["cold_s"], samples["lint_cold_s"], strict=True)]
        ),
        "cold_s": med("cold_s"),
        "lint_cold_s": med("lint_cold_s"),
        "warm_phase_ms": med("warm_phase_ms"),
        "warm_reused": all(samples["warm_reused"]),
        "edit_ratio": med("edit", "ratio"),
        "edit_check_ms": med("edit", "check_ms"),
        "edit_build_ms": med("edit", "build_ms"),
        "edit_wall_ratio": median(
            [a / b for a, b in zip(samples["edit_s"], samples["lint_edit_s"], strict=True)]
        ),
        "edit_s": med("edit_s"),
        "lint_edit_s": med("lint_edit_s"),
        "samples": samples,
    }


def ssot_figures(data: Mapping[str, Any]) -> list[Figure]:
    lint = data.get("lint_cold_ratio")
    size = f"{data['modules']:,} modules, {data['bytes'] / 1e6:.0f} MB"
    return [
        at_most(
            "backend: SSOT contracts / graph build, cold",
            data["cold_ratio"],
            "x",
            TARGETS["ssot_ratio"],
            f"{data['cold_check_ms']:.0f} ms vs {data['cold_build_ms']:.0f} ms ({size})"
            + (f"; lint-imports {lint:.2f}x" if lint is not None else ""),
        ),
        Figure(
            "backend: cold wall time / lint-imports",
            data["cold_wall_ratio"],
            "x",
            note=f"{data['cold_s']:.2f} s vs {data['lint_cold_s']:.2f} s",
        ),
        Figure(
            "backend: warm contract phase",
            data["warm_phase_ms"],
            "ms",
            note="results reused, no file parsed" if data["warm_reused"] else "checked again",
        ),
        Figure(
            "backend: one file edited: SSOT contracts / graph build",
            data["edit_ratio"],
            "x",
            note=f"{data['edit_check_ms']:.0f} ms vs {data['edit_build_ms']:.0f} ms "
            "(stored facts: only the edited file read)",
        ),
        Figure(
            "backend: one file edited / lint-imports",
            data["edit_wall_ratio"],
            "x",
            note=f"{data['edit_s']:.2f} s vs {data['lint_edit_s']:.2f} s",
        ),
    ]


def bench_xdist(runner: Runner, runs: int, log: Callable[[str], None]) -> dict[str, Any]:
    copy_root = WORK / "example-copy"
    shutil.rmtree(copy_root, ignore_errors=True)
    ignore = shutil.ignore_patterns(
        ".pytest_cache", "__pycache__", ".import_linter_cache", ".grimp_cache"
    )
    # The example refers to ../../contracts: keep that layout in the copy.
    shutil.copytree(
        REPO / "examples" / "websocket_migration", copy_root / "examples" / "ws", ignore=ignore
    )
    shutil.copytree(REPO / "contracts", copy_root / "contracts", ignore=ignore)
    project = copy_root / "examples" / "ws"
    base = [str(venv_python()), "-m", "pytest", "--ssot", "-p", "no:randomly"]
    commands = {"serial": base, "n2": [*base, "-n", "2"]}
    env = clean_env()
    for cmd in commands.values():
        runner.run(cmd, project, env)  # warm-up: caches, pyc files
    samples: dict[str, list[Sample]] = {name: [] for name in commands}
    for index in range(runs):
        names = list(commands) if index % 2 == 0 else list(reversed(commands))
        for name in names:
            sample = runner.run(commands[name], project, env)
            if sample.returncode not in (0, 1):
                raise BenchError(
                    f"the example suite ({name}) exited {sample.returncode}:\n"
                    f"{tail(sample.stdout + sample.stderr)}"
                )
            samples[name].append(sample)
    serial = median([s.wall_s for s in samples["serial"]])
    parallel = median([s.wall_s for s in samples["n2"]])
    log(f"xdist: serial {serial:.2f} s, -n 2 {parallel:.2f} s")
    last = samples["serial"][-1].stdout.strip().splitlines()
    return {
        "runs": runs,
        "serial_s": serial,
        "n2_s": parallel,
        "ratio": parallel / serial,
        "serial_rss_kb": rss_median(samples["serial"]),
        "n2_rss_kb": rss_median(samples["n2"]),
        "outcome": last[-1] if last else "",
    }


# ---------------------------------------------------------------------------
# The table


@dataclass
class Figure:
    name: str
    value: float | None
    unit: str
    target: str = ""
    passed: bool | None = None  # None: no target, or not measured
    note: str = ""
    section: str = ""
    load: str = ""
    """The 1-minute load average before and after its section ran."""

    @property
    def status(self) -> str:
        if self.value is None:
            return "n/a"
        if self.passed is None:
            return "info"
        return "PASS" if self.passed else "MISS"

    def shown_value(self) -> str:
        if self.value is None:
            return "not available"
        if self.unit == "x":
            return f"{self.value:.3g}x"
        if self.unit == "%":
            return f"{self.value:+.1f} %"
        if self.unit in ("ms", "ns", "us"):
            return f"{self.value:.1f} {self.unit}"
        return f"{self.value:.2f} {self.unit}"


def at_most(
    name: str, value: float | None, unit: str, limit: float, note: str = "", below: bool = False
) -> Figure:
    shown = f"< {limit:g}" if below else f"<= {limit:g}"
    if value is None:
        return Figure(name, None, unit, shown + (" x" if unit == "x" else f" {unit}"), None, note)
    passed = value < limit if below else value <= limit
    target = shown + ("x" if unit == "x" else f" {unit}")
    return Figure(name, value, unit, target, passed, note)


def ratio(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or b == 0:
        return None
    return a / b


def contract_figures(data: Mapping[str, Any]) -> list[Figure]:
    name = data["target"]
    lint, ours = data["lint_imports"], data["pytest_ssot"]
    figures = []
    for state, limit, limited in (
        ("warm", TARGETS["warm_ratio_sympy"], name == "sympy"),
        ("cold", TARGETS["cold_ratio"], name in ("sympy", "bigapp")),
    ):
        value = ratio(ours[f"{state}_s"], lint[f"{state}_s"])
        label = f"{name}: {state} wall time / lint-imports"
        note = f"{ours[f'{state}_s']:.3f} s vs {lint[f'{state}_s']:.3f} s"
        figures.append(
            at_most(label, value, "x", limit, note)
            if limited
            else Figure(label, value, "x", note=note)
        )
    for state in ("cold", "warm"):
        ours_rss, lint_rss = ours[f"{state}_rss_kb"], lint[f"{state}_rss_kb"]
        note = (
            f"{ours_rss / 1024:.0f} MB vs {lint_rss / 1024:.0f} MB" if ours_rss and lint_rss else ""
        )
        figures.append(
            at_most(
                f"{name}: {state} peak memory / lint-imports",
                ratio(ours_rss, lint_rss),
                "x",
                TARGETS["memory_ratio"],
                note,
            )
        )
    for state in ("warm", "cold"):
        notes = []
        if state == "warm" and ours["warm_results_reused"]:
            notes.append("results reused")
        if lint[f"{state}_phase_ms"] is not None:
            notes.append(f"lint-imports {lint[f'{state}_phase_ms']:.0f} ms (--show-timings)")
        label = f"{name}: {state} contract phase"
        value = ours[f"{state}_phase_ms"]
        if name == "bigapp" and state == "warm":
            limit = TARGETS["warm_phase_bigapp_ms"]
            figures.append(at_most(label, value, "ms", limit, "; ".join(notes), below=True))
        else:
            figures.append(Figure(label, value, "ms", note="; ".join(notes)))
    for kind, label, limits in (
        ("edit", "one file edited, no import change", {"sympy": 0.5, "django": 0.5, "bigapp": 0.5}),
        ("import", "one import added", {"django": 1.2, "bigapp": 1.0}),
    ):
        if f"{kind}_s" not in ours:
            continue
        paired = ours[f"{kind}_paired_ratios"]
        value = median(paired)
        note = (
            f"{ours[f'{kind}_s']:.3f} s vs {lint[f'{kind}_s']:.3f} s; median of paired ratios "
            f"{min(paired):.2f}-{max(paired):.2f}"
            + ("; results reused" if all(ours[f"{kind}_reused"]) else "")
        )
        full = f"{name}: {label} / lint-imports"
        kind_limit = limits.get(name)
        figures.append(
            at_most(full, value, "x", kind_limit, note)
            if kind_limit is not None
            else Figure(full, value, "x", note=note)
        )
    added = (ours["warm_s"] - data["bare_pytest_s"]) * 1000
    figures.append(
        Figure(
            f"{name}: warm, --ssot over a bare pytest run",
            added,
            "ms",
            note=f"bare pytest (no tests, -p no:ssot) {data['bare_pytest_s']:.3f} s",
        )
    )
    return figures


SCALE_CASES = {
    "cold": "cold",
    "warm": "warm, nothing changed",
    "edit": "one file edited, no import change",
    "import": "one import added",
}


def scale_figures(size: int, data: Mapping[str, Any]) -> list[Figure]:
    """Per case: the median of the per-run wall time ratios, with the contract phase."""
    figures = []
    phase, wall = data["phase_ms"], data["wall_s"]
    for kind, label in SCALE_CASES.items():
        if kind not in data.get("ratio", {}):
            continue
        notes = [f"{wall[kind]:.2f} s vs {wall[f'lint_{kind}']:.2f} s"]
        if kind in phase:
            notes.append(f"contract phase {phase[kind]:.0f} ms")
        if f"lint_{kind}" in phase:
            notes.append(f"lint-imports {phase[f'lint_{kind}']:.0f} ms (--show-timings)")
        if data["reused"].get(kind):
            notes.append("results reused")
        figures.append(
            Figure(
                f"scale {size:,} modules: {label} / lint-imports",
                data["ratio"][kind],
                "x",
                note="; ".join(notes),
            )
        )
    return figures


def all_figures(results: Mapping[str, Any]) -> list[Figure]:
    """Every section's figures, each carrying its section and the load while it ran."""
    figures: list[Figure] = []
    for name in SECTIONS:
        if name not in results:
            continue
        load = results[name].get(LOAD_KEY)
        for figure in section_figures({name: results[name]}):
            figure.section = name
            figure.load = load_text(load) if load else ""
            figures.append(figure)
    return figures


def section_figures(results: Mapping[str, Any]) -> list[Figure]:
    figures: list[Figure] = []
    for name in ("sympy", "django", "bigapp"):
        if name in results:
            figures += contract_figures(results[name])
    if "ssot" in results:
        figures += ssot_figures(results["ssot"])
    for size, data in results.get("scale", {}).items():
        if size == LOAD_KEY:
            continue
        figures += scale_figures(int(size), data)
    if "startup" in results:
        startup = results["startup"]
        figures.append(
            at_most(
                "--ssot off: added to pytest start-up",
                startup["added_ms_median_of_pairs"],
                "ms",
                TARGETS["startup_ms"],
                f"{startup['samples']} pairs; difference of medians "
                f"{startup['added_ms_difference_of_medians']:.1f} ms",
                below=True,
            )
        )
        imports = startup["importtime_us"]
        figures.append(
            Figure(
                "import pytest_ssot.plugin (after pytest)",
                imports.get("everything after pytest", 0.0) / 1000,
                "ms",
                note="python -X importtime, median",
            )
        )
        hooks = startup["hooks_in_process"]
        figures.append(
            Figure(
                "--ssot off: the plugin's hooks per session",
                hooks["added_ms"],
                "ms",
                note=f"pytest.main in one process, {hooks['installed_ms']:.1f} vs "
                f"{hooks['blocked_ms']:.1f} ms",
            )
        )
    if "construction" in results:
        data = results["construction"]
        value = data.get("worst_added_ns") if data.get("available") else None
        note = (
            "worst case of " + ", ".join(f"{c['case']}: {c['added_ns']}" for c in data["cases"])
            if value is not None
            else data.get("why", "")
        )
        figures.append(
            at_most("tracked construction, added", value, "ns", TARGETS["construction_ns"], note)
        )
    if "watcher" in results:
        data = results["watcher"]
        value = data.get("overhead_percent") if data.get("available") else None
        note = (
            "worst of "
            + ", ".join(
                f"{x['layout']}: {x['with_ms']:.0f} vs {x['without_ms']:.0f} ms"
                for x in data["layouts"]
            )
            if value is not None
            else data.get("why", "")
        )
        figures.append(
            at_most(
                "import watcher, 1,000 modules, added", value, "%", TARGETS["watcher_percent"], note
            )
        )
    if "xdist" in results:
        data = results["xdist"]
        figures.append(
            Figure(
                "example suite: -n 2 / serial",
                data["ratio"],
                "x",
                note=f"{data['n2_s']:.2f} s vs {data['serial_s']:.2f} s",
            )
        )
    return figures


def render_table(figures: Sequence[Figure]) -> str:
    rows = [("figure", "value", "target", "status", "load", "note")]
    rows += [(f.name, f.shown_value(), f.target, f.status, f.load, f.note) for f in figures]
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    lines = []
    for index, row in enumerate(rows):
        cells = [row[i].ljust(widths[i]) for i in range(5)]
        lines.append("  ".join(cells) + ("  " + row[5] if row[5] else ""))
        if index == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


# ---------------------------------------------------------------------------
# Main


BUSY_LOAD = 0.7
LOAD_KEY = "load_average"
"""Each section's result holds the machine's load average before and after it ran."""


def load_average() -> float:
    return load_averages()[0]


def load_averages() -> list[float]:
    """The 1, 5 and 15-minute load averages, as ``uptime`` shows them."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except (OSError, AttributeError):  # not available on this platform
        return [0.0, 0.0, 0.0]


def load_text(load: Mapping[str, Sequence[float]]) -> str:
    """'2.2->2.9': the 1-minute load average before and after a section."""
    return f"{load['before'][0]:.1f}->{load['after'][0]:.1f}"


def wait_for_idle(limit_s: float, log: Callable[[str], None]) -> float:
    """Wait up to ``limit_s`` for a quiet machine; return the load average we start with."""
    deadline = time.monotonic() + limit_s
    load = load_average()
    if limit_s > 0 and load >= 0.5:
        log(f"waiting up to {limit_s:.0f} s for the load average ({load:.2f}) to drop below 0.5")
    while limit_s > 0 and load >= 0.5 and time.monotonic() < deadline:
        time.sleep(10)
        load = load_average()
    return load


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Benchmark pytest --ssot against lint-imports (see bench/README.md)."
    )
    parser.add_argument("--quick", action="store_true", help="2 runs, no django, fewer samples")
    parser.add_argument("--runs", type=int, default=None, help="runs per figure (default 5)")
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help=f"JSON output (default {DEFAULT_OUT})"
    )
    parser.add_argument(
        "--only",
        default="",
        help=f"comma-separated subset of: {', '.join(SECTIONS)}",
    )
    parser.add_argument(
        "--startup-samples", type=int, default=None, help="start-up pairs (default 30)"
    )
    parser.add_argument(
        "--scale-sizes",
        default=",".join(str(s) for s in SCALE_SIZES),
        metavar="N,N,...",
        help="module counts of the scale section (default %(default)s; at least 1500 each)",
    )
    parser.add_argument(
        "--wait-idle",
        type=float,
        default=0,
        metavar="SECONDS",
        help="first wait up to this long for the 1-minute load average to drop below 0.5",
    )
    args = parser.parse_args(argv)
    args.runs = args.runs or (2 if args.quick else 5)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    args.startup_samples = args.startup_samples or (10 if args.quick else 30)
    try:
        args.scale_sizes = [int(s.replace("_", "")) for s in args.scale_sizes.split(",") if s]
    except ValueError:
        parser.error(f"--scale-sizes: not a list of numbers: {args.scale_sizes!r}")
    if not args.scale_sizes or min(args.scale_sizes) < 1500:
        parser.error("--scale-sizes: each size must be at least 1500 (the generator's minimum)")
    chosen = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = [s for s in chosen if s not in SECTIONS]
    if unknown:
        parser.error(f"--only: unknown section(s) {', '.join(unknown)}")
    # The scale section (up to 50,000 modules, several minutes) runs only when asked for.
    sections = chosen or [
        s for s in SECTIONS if s != "scale" and not (args.quick and s == "django")
    ]
    args.sections = sections
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()

    def log(message: str) -> None:
        print(f"[{time.perf_counter() - started:6.1f}s] {message}", file=sys.stderr, flush=True)

    load_before = wait_for_idle(args.wait_idle, log)
    try:
        ensure_venv(log)
        check_tools()
        runner = Runner()
        versions = package_versions()
    except BenchError as exc:
        print(f"bench/run.py: {exc}", file=sys.stderr)
        return 2
    log(f"peak memory via {runner.method}; versions {versions}")
    targets = {
        "sympy": Target(
            "sympy", SYMPY_CONTRACTS, edited="sympy/codegen/ast.py", added_import="sympy.abc"
        ),
        "django": Target(
            "django",
            DJANGO_CONTRACTS,
            edited="django/utils/text.py",
            added_import="django.utils.log",
        ),
        "bigapp": Target(
            "bigapp",
            generate.CONTRACTS,
            pythonpath=GENERATED,
            edited=generate.EDITED_MODULE,
            added_import=generate.ADDED_IMPORT,
        ),
    }

    def bigapp() -> dict[str, Any]:
        log("bigapp: generating (or reusing) the 10,000-module package")
        manifest = generate.generate(GENERATED)
        log(f"bigapp: {manifest['modules']} modules, {manifest['imports']} imports")
        return bench_contracts(runner, targets["bigapp"], args.runs, log).summary()

    sections: dict[str, Callable[[], dict[str, Any]]] = {
        "sympy": lambda: bench_contracts(runner, targets["sympy"], args.runs, log).summary(),
        "django": lambda: bench_contracts(runner, targets["django"], args.runs, log).summary(),
        "bigapp": bigapp,
        "startup": lambda: bench_startup(runner, args.startup_samples, log),
        "construction": bench_construction,
        "watcher": bench_watcher,
        "xdist": lambda: bench_xdist(runner, args.runs, log),
        "scale": lambda: bench_scale(runner, args.runs, log, args.scale_sizes),
        "ssot": lambda: bench_ssot(runner, args.runs, log),
    }
    results: dict[str, Any] = {}
    failed: dict[str, str] = {}
    for name in SECTIONS:
        if name not in args.sections:
            continue
        if name in ("construction", "watcher"):
            log(f"{name}: running its script")
        before = load_averages()
        try:
            results[name] = sections[name]()
        except BenchError as exc:
            # One broken section does not lose the others' numbers.
            failed[name] = str(exc)
            log(f"{name}: FAILED: {exc}")
            continue
        results[name][LOAD_KEY] = {"before": before, "after": load_averages()}
        log(f"{name}: load average {load_text(results[name][LOAD_KEY])} (1 minute, before->after)")

    load_after = load_average()
    figures = all_figures(results)
    print()
    print(render_table(figures))
    for name, message in failed.items():
        print(f"\n{name}: not measured, the section failed:\n  {message.splitlines()[0]}")
    busiest = max(load_before, load_after)
    if busiest > BUSY_LOAD:
        print(
            f"\nwarning: the machine was busy (1-minute load average {load_before:.2f} before, "
            f"{load_after:.2f} after, on {os.cpu_count()} CPUs): the numbers are noisy; "
            "run again on a quiet machine (--wait-idle 300 waits for one)"
        )
    document = {
        "created": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "command": " ".join(["python", "bench/run.py", *(argv or sys.argv[1:])]),
        "machine": {
            "python": sys.version.split()[0],
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "memory_method": runner.method,
            "load_average_before": load_before,
            "load_average_after": load_after,
        },
        "versions": versions,
        "checkout": checkout(),
        "runs": args.runs,
        "targets": TARGETS,
        "figures": [asdict(f) | {"status": f.status} for f in figures],
        "results": results,
        "failed_sections": failed,
        "duration_s": round(time.perf_counter() - started, 1),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(document, indent=2) + "\n")
    print(f"\nwritten to {args.out} in {document['duration_s']} s")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
