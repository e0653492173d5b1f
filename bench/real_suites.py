"""The runtime checks on two real projects' own test suites (issue 13, "Done when").

    python bench/real_suites.py [--only jinja2,socketio] [--runs 1] [--keep-venv]

For each project: download its sdist from the package registry (``pip download
--no-binary :all: --no-deps``), unpack it under ``bench/.work/real/``, write a
contract file with manager declarations and import contracts (``CONTRACTS``
below), and run the project's own tests four times, each with JUnit XML:

- ``plain``: ``pytest`` (the plugin installed, ``--ssot`` off);
- ``ssot``: ``pytest --ssot`` with the declarations, the runtime-import checks on;
- ``plain -n 2`` and ``ssot -n 2``: the same under pytest-xdist.

It then compares the outcome of every test (passed / failed / error / skipped)
between the runs, lists the runtime findings of the ``--ssot`` runs (from their
``--ssot-report`` JSON), and prints the wall-clock overhead ratio ssot / plain.
Results go to ``bench/.work/real/results.json``. Only the package registry is
needed (the first time): the venv, the sdists and the unpacked trees are kept.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import textwrap
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
WORK = REPO / "bench" / ".work" / "real"

# The test runner and the projects' test dependencies, pinned.
RUNNER = ["pytest==9.2.0", "pytest-xdist==3.8.0"]


@dataclass(frozen=True)
class Project:
    name: str
    requirement: str
    """What ``pip download`` fetches: the sdist holds the tests."""
    folder: str
    """The unpacked sdist's folder."""
    deps: tuple[str, ...]
    """Everything its tests need, the project itself excepted (it runs from ``src``)."""
    contracts: str
    pytest_args: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)


JINJA2_CONTRACTS = """
# The core must not need the optional modules; the Node tree is tracked to load the
# counting (7,000 live nodes in one test), the environments to catch a leak.
[tool.importlinter]
root_packages = ["jinja2"]
exclude_type_checking_imports = true

[[tool.importlinter.contracts]]
id = "core-without-optional-modules"
name = "The template core does not load the sandbox, the extensions or native types"
type = "forbidden"
source_modules = [
    "jinja2.environment", "jinja2.compiler", "jinja2.parser", "jinja2.lexer",
    "jinja2.runtime", "jinja2.loaders", "jinja2.filters",
]
forbidden_modules = ["jinja2.sandbox", "jinja2.ext", "jinja2.nativetypes"]

[[tool.ssot.managers]]
name = "environments"
classes = ["jinja2.environment:Environment"]
scope = "process"
max = 200

[[tool.ssot.managers]]
name = "ast-nodes"
classes = ["jinja2.nodes:Node"]
scope = "test"
max = 1_000_000
"""

SOCKETIO_CONTRACTS = """
# The synchronous server and client must not load the asyncio side; one client manager per
# server; servers and clients must not pile up in the process.
[tool.importlinter]
root_packages = ["socketio"]
exclude_type_checking_imports = true

[[tool.importlinter.contracts]]
id = "sync-without-asyncio"
name = "The synchronous server and client do not load the asyncio modules"
type = "forbidden"
allow_indirect_imports = "true"  # socketio/__init__.py imports both sides
source_modules = [
    "socketio.server", "socketio.client", "socketio.simple_client", "socketio.manager",
    "socketio.pubsub_manager", "socketio.middleware", "socketio.namespace",
]
forbidden_modules = [
    "socketio.async_server", "socketio.async_client", "socketio.async_manager",
    "socketio.async_pubsub_manager", "socketio.async_namespace", "socketio.asgi",
]

[[tool.ssot.managers]]
name = "client-managers"
classes = ["socketio.base_manager:BaseManager"]
scope = "process"
max = 200

[[tool.ssot.managers]]
name = "servers"
classes = ["socketio.base_server:BaseServer", "socketio.base_client:BaseClient"]
scope = "test"
max = 10
"""

PROJECTS = {
    "jinja2": Project(
        name="jinja2",
        requirement="jinja2==3.1.6",
        folder="jinja2-3.1.6",
        deps=("markupsafe", "trio"),
        contracts=JINJA2_CONTRACTS,
    ),
    "socketio": Project(
        name="socketio",
        requirement="python-socketio==5.13.0",
        folder="python_socketio-5.13.0",
        deps=(
            "bidict",
            "python-engineio",
            "simple-websocket",
            "requests",
            "websocket-client",
            "aiohttp",
            "msgpack",
            "pytest-asyncio",
            "pytest-timeout",
            "uvicorn",
        ),
        contracts=SOCKETIO_CONTRACTS,
        pytest_args=("-p", "no:logging", "--timeout=60"),
    ),
}

RUNS = {
    "plain": (),
    "ssot": ("--ssot",),
    "plain -n 2": ("-n", "2"),
    "ssot -n 2": ("--ssot", "-n", "2"),
}


def sh(cmd: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, text=True, capture_output=True, check=False, **kwargs)


def clean_env() -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PYTEST_", "PYTHON")) and k != "VIRTUAL_ENV"
    }
    return env


def venv_python(project: Project) -> Path:
    """A venv per project (their test plugins differ): this checkout (editable), the runner
    and the project's test dependencies."""
    venv = WORK / f"venv-{project.name}"
    python = venv / "bin" / "python"
    wanted = sorted({*RUNNER, *project.deps})
    stamp = venv / "ssot-real-suites.json"
    if python.exists() and stamp.exists() and json.loads(stamp.read_text()) == wanted:
        return python
    shutil.rmtree(venv, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    subprocess.run([*pip, "-e", str(REPO), *wanted], check=True)
    stamp.write_text(json.dumps(wanted))
    return python


def unpack(python: Path, project: Project) -> Path:
    """The project's sdist, downloaded once and unpacked afresh (no state from a last run)."""
    sdists = WORK / "sdists"
    sdists.mkdir(parents=True, exist_ok=True)
    found = [p for p in sdists.glob("*.tar.gz") if p.name.startswith(project.folder)]
    if not found:
        done = sh(
            [
                str(python),
                "-m",
                "pip",
                "download",
                "-q",
                "--no-binary",
                ":all:",
                "--no-deps",
                "-d",
                str(sdists),
                project.requirement,
            ]
        )
        if done.returncode != 0:
            raise SystemExit(f"pip download {project.requirement} failed:\n{done.stderr}")
        found = [p for p in sdists.glob("*.tar.gz") if p.name.startswith(project.folder)]
    target = WORK / project.name
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    with tarfile.open(found[0]) as archive:
        archive.extractall(target, filter="data")
    tree = target / project.folder
    (tree / "ssot-contracts.toml").write_text(textwrap.dedent(project.contracts).lstrip())
    return tree


def outcomes(junit: Path) -> dict[str, str]:
    """{classname::name: passed|failed|error|skipped} from a JUnit XML file."""
    found: dict[str, str] = {}
    for case in ET.parse(junit).getroot().iter("testcase"):
        key = f"{case.get('classname')}::{case.get('name')}"
        outcome = "passed"
        for child in case:
            if child.tag in ("failure", "error", "skipped"):
                # A teardown error after a failure: the failure decides.
                outcome = {"failure": "failed", "error": "error", "skipped": "skipped"}[child.tag]
                break
        # xdist may report a test twice (call failure + teardown error): keep the worst.
        if found.get(key) in ("failed", "error"):
            continue
        found[key] = outcome
    return found


def run(
    python: Path, tree: Path, project: Project, label: str, extra: tuple[str, ...]
) -> dict[str, Any]:
    tag = label.replace(" ", "")
    junit = WORK / f"{project.name}-{tag}.xml"
    report = WORK / f"{project.name}-{tag}-report.json"
    cmd = [
        str(python),
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "-o",
        "pythonpath=src",
        "-o",
        "ssot_contracts=ssot-contracts.toml",
        f"--junitxml={junit}",
        *project.pytest_args,
        *extra,
    ]
    if "--ssot" in extra:
        cmd.append(f"--ssot-report={report}")
    report.unlink(missing_ok=True)
    started = time.perf_counter()
    done = sh(cmd, cwd=tree, env={**clean_env(), **project.env})
    seconds = time.perf_counter() - started
    tail = done.stdout.strip().splitlines()[-1:] if done.stdout.strip() else []
    found = outcomes(junit) if junit.exists() else {}
    findings = []
    if report.exists():
        data = json.loads(report.read_text())
        findings = data.get("runtime", [])
    lines = done.stdout.splitlines()
    starts = [i for i, line in enumerate(lines) if line.startswith("=") and "pytest-ssot" in line]
    ends = [i for i, line in enumerate(lines) if "short test summary" in line] + [len(lines)]
    summary = lines[starts[0] : ends[0]] if starts else []
    return {
        "label": label,
        "summary": summary,
        "cmd": cmd,
        "exit": done.returncode,
        "seconds": seconds,
        "last_line": tail[0] if tail else "",
        "outcomes": found,
        "findings": findings,
        "stderr_tail": done.stderr.strip().splitlines()[-5:],
    }


OURS = ("ssot-contracts.toml::", "pytest-ssot::")
"""JUnit entries of pytest-ssot itself: contract items and run-level failures."""


def compare(base: dict[str, str], other: dict[str, str]) -> list[str]:
    """The project's tests whose outcome differs (pytest-ssot's own items left out)."""
    diffs = []
    for key in sorted(set(base) | set(other)):
        if key.startswith(OURS):
            continue
        if base.get(key) != other.get(key):
            diffs.append(f"{key}: {base.get(key)} -> {other.get(key)}")
    return diffs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=",".join(PROJECTS), help="comma-separated projects")
    parser.add_argument(
        "--runs", type=int, default=1, help="timings of plain and ssot (median for the ratio)"
    )
    args = parser.parse_args(argv)
    projects = [PROJECTS[name] for name in args.only.split(",")]
    WORK.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {}
    status = 0
    for project in projects:
        python = venv_python(project)
        tree = unpack(python, project)
        runs = {label: run(python, tree, project, label, extra) for label, extra in RUNS.items()}
        plain_times = [runs["plain"]["seconds"]]
        ssot_times = [runs["ssot"]["seconds"]]
        for _ in range(args.runs - 1):
            plain_times.append(run(python, tree, project, "plain", ())["seconds"])
            ssot_times.append(run(python, tree, project, "ssot", ("--ssot",))["seconds"])
        base = runs["plain"]["outcomes"]
        summary: dict[str, Any] = {
            "tests": len(base),
            "outcomes": {
                o: sum(1 for v in base.values() if v == o) for o in sorted(set(base.values()))
            },
            "runs": {
                label: {k: v for k, v in data.items() if k != "outcomes"}
                for label, data in runs.items()
            },
            "differences": {
                **{
                    f"{label} vs plain": compare(base, data["outcomes"])
                    for label, data in runs.items()
                    if label != "plain"
                },
                # xdist changes some projects' outcomes by itself: what --ssot adds under it.
                "ssot -n 2 vs plain -n 2": compare(
                    runs["plain -n 2"]["outcomes"], runs["ssot -n 2"]["outcomes"]
                ),
            },
            "plain_seconds": plain_times,
            "ssot_seconds": ssot_times,
            "overhead": statistics.median(ssot_times) / statistics.median(plain_times),
            "installed": sh([str(python), "-m", "pip", "freeze"]).stdout.splitlines(),
        }
        results[project.name] = summary
        print(f"== {project.requirement}: {summary['tests']} tests {summary['outcomes']}")
        for label, data in runs.items():
            print(
                f"  {label:11} exit {data['exit']}  {data['seconds']:6.1f} s  {data['last_line']}"
            )
        for label, diffs in summary["differences"].items():
            print(f"  outcomes {label}: {'same' if not diffs else f'{len(diffs)} differ'}")
            for diff in diffs[:20]:
                print(f"    {diff}")
        for label in ("ssot", "ssot -n 2"):
            ours = {k: v for k, v in runs[label]["outcomes"].items() if k.startswith(OURS)}
            print(f"  pytest-ssot items ({label}): {ours}")
            findings = runs[label]["findings"]
            for line in runs[label]["summary"]:
                if line.startswith(("  created", "  peak", "  violations", "runtime imports")):
                    print(f"    {line.strip()}")
            print(f"  findings ({label}): {len(findings)}")
            for finding in findings[:20]:
                print(f"    [{finding.get('check')}] {finding.get('summary')}")
        print(
            f"  overhead ssot/plain: {summary['overhead']:.2f}x "
            f"(median of {len(plain_times)}: {statistics.median(plain_times):.1f} s -> "
            f"{statistics.median(ssot_times):.1f} s)"
        )
        if (
            summary["differences"]["ssot vs plain"]
            or summary["differences"]["ssot -n 2 vs plain -n 2"]
        ):
            status = 1
    path = WORK / "results.json"
    previous = json.loads(path.read_text()) if path.exists() else {}
    path.write_text(json.dumps({**previous, **results}, indent=2, sort_keys=True))
    print(f"results: {WORK / 'results.json'}")
    return status


if __name__ == "__main__":
    raise SystemExit(main())
