"""Files we write: regular files only, symlinks kept, write failures reported, locked updates.

See docs/promises.md. Each test runs the plugin end to end on a small project
with two broken contracts (``a`` and ``b``).
"""

from __future__ import annotations

import errno
import json
import os
import socket
import stat
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import WriteFiles

PROJECT = {
    "pkg/__init__.py": "",
    "pkg/a.py": "import pkg.b\n",
    "pkg/b.py": "import pkg.c\n",
    "pkg/c.py": "",
    "pyproject.toml": """
        [tool.importlinter]
        root_package = "pkg"

        [[tool.importlinter.contracts]]
        id = "a"
        name = "a may not import b"
        type = "forbidden"
        source_modules = ["pkg.a"]
        forbidden_modules = ["pkg.b"]

        [[tool.importlinter.contracts]]
        id = "b"
        name = "b may not import c"
        type = "forbidden"
        source_modules = ["pkg.b"]
        forbidden_modules = ["pkg.c"]
        """,
}
ARGS = ("--ssot", "--ssot-only", "-p", "no:cacheprovider")
BASELINE = "--ssot-baseline=.ssot-baseline.json"
HISTORY = ("-o", "ssot_history=.ssot-history.jsonl")
REPORTS = ("--ssot-report=ssot-report.json", "--ssot-html=ssot-report.html", *HISTORY)


@pytest.fixture
def project(pytester: pytest.Pytester, write: WriteFiles) -> Path:
    return write(PROJECT)


def clean(result: pytest.RunResult) -> str:
    """All the run printed, checked for what must never be there."""
    text = result.stdout.str() + result.stderr.str()
    assert "INTERNALERROR" not in text
    assert "Traceback" not in text
    return text


def baseline_entries(path: Path = Path(".ssot-baseline.json")) -> dict[str, list[str]]:
    data: dict[str, list[str]] = json.loads(path.read_text(encoding="utf-8"))["violations"]
    return data


# -- only regular files ---------------------------------------------------------------


def make_fifo(path: Path) -> None:
    os.mkfifo(path)


def make_socket(path: Path) -> None:
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(os.path.relpath(path))  # relative: a socket path is limited to about 100 bytes
    sock.close()


def make_directory(path: Path) -> None:
    path.mkdir()


def make_device(path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("creating a device node needs root")
    os.mknod(path, 0o666 | stat.S_IFCHR, os.makedev(1, 7))  # like /dev/full


KINDS: dict[str, tuple[Callable[[Path], None], str]] = {
    "fifo": (make_fifo, "a FIFO (named pipe)"),
    "socket": (make_socket, "a socket"),
    "directory": (make_directory, "a directory"),
    "device": (make_device, "a character device"),
}
OUTPUTS = {
    "--ssot-report": ("--ssot-report=out",),
    "--ssot-html": ("--ssot-html=out",),
    "ssot_history": ("-o", "ssot_history=out"),
    "--ssot-baseline": ("--ssot-baseline=out", "--ssot-baseline-update"),
}


CASES = [("--ssot-report", kind) for kind in sorted(KINDS)]
CASES += [(option, "fifo") for option in sorted(OUTPUTS) if option != "--ssot-report"]


@pytest.mark.parametrize(("option", "kind"), CASES)
def test_an_output_that_is_not_a_regular_file_is_refused_before_the_run(
    pytester: pytest.Pytester, project: Path, kind: str, option: str
) -> None:
    make, words = KINDS[kind]
    out = project / "out"
    make(out)
    before = out.lstat()
    result = pytester.runpytest_subprocess(*ARGS, *OUTPUTS[option], timeout=60)
    text = clean(result)
    assert result.ret == pytest.ExitCode.USAGE_ERROR, text
    result.stderr.fnmatch_lines(
        [f"*pytest-ssot: {option}: cannot write out: it is {words}, not a regular file*"]
    )
    after = out.lstat()
    assert (after.st_ino, after.st_mode) == (before.st_ino, before.st_mode)  # not replaced
    assert "collected" not in result.stdout.str()  # refused before the run


def test_an_output_under_a_file_is_refused_before_the_run(
    pytester: pytest.Pytester, project: Path
) -> None:
    (project / "notes.txt").write_text("hello\n")
    result = pytester.runpytest(*ARGS, "--ssot-report=notes.txt/report.json")
    clean(result)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["*--ssot-report: cannot write notes.txt/report.json: notes.txt is a file, not a dir*"]
    )
    assert (project / "notes.txt").read_text() == "hello\n"


# -- symlinks stay symlinks -------------------------------------------------------------


def test_symlinked_outputs_stay_symlinks_and_their_targets_are_written(
    pytester: pytest.Pytester, project: Path
) -> None:
    shared = project / "shared"
    shared.mkdir()
    names = (".ssot-baseline.json", "ssot-report.json", "ssot-report.html", ".ssot-history.jsonl")
    for name in names:
        (project / name).symlink_to(Path("shared") / name)
    result = pytester.runpytest(*ARGS, BASELINE, "--ssot-baseline-update", *REPORTS)
    clean(result)
    assert result.ret == pytest.ExitCode.OK
    result = pytester.runpytest(*ARGS, BASELINE, *REPORTS)
    assert result.ret == pytest.ExitCode.OK
    for name in names:
        assert (project / name).is_symlink(), name
        assert (shared / name).is_file(), name
    assert sorted(baseline_entries(shared / ".ssot-baseline.json")) == ["a", "b"]
    assert len((shared / ".ssot-history.jsonl").read_text().splitlines()) == 2
    assert json.loads((shared / "ssot-report.json").read_text())["summary"]["frozen"] == 2
    assert not list(project.glob(".*.tmp")) and not list(shared.glob(".*.tmp"))


# -- write failures -------------------------------------------------------------------------


@pytest.fixture
def fail_replace(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str, int], None]]:
    """Make the atomic rename onto files of one name fail with an OSError (a fault injection)."""
    real = os.replace
    failing: dict[str, int] = {}

    def replace(src: str | os.PathLike[str], dst: str | os.PathLike[str], **kw: object) -> None:
        code = failing.get(Path(dst).name)
        if code is not None:
            raise OSError(code, os.strerror(code), str(dst))
        real(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    yield lambda name, code: failing.__setitem__(name, code)


@pytest.mark.parametrize(
    ("name", "what", "code"),
    [
        ("ssot-report.json", "the JSON report ssot-report.json", errno.ENOSPC),
        ("ssot-report.json", "the JSON report ssot-report.json", errno.EROFS),
        ("ssot-report.html", "the HTML report ssot-report.html", errno.ENOSPC),
        (".ssot-history.jsonl", "the history file .ssot-history.jsonl", errno.ENOSPC),
        (".ssot-baseline.json", "the baseline .ssot-baseline.json", errno.ENOSPC),
    ],
)
def test_a_failed_write_is_named_at_the_end_and_the_other_files_are_written(
    pytester: pytest.Pytester,
    project: Path,
    fail_replace: Callable[[str, int], None],
    name: str,
    what: str,
    code: int,
) -> None:
    pytester.runpytest(*ARGS, BASELINE, "--ssot-baseline-update")
    frozen = (project / ".ssot-baseline.json").read_text()
    (project / "pkg/b.py").write_text("")  # contract b is fixed: the update would shrink it
    fail_replace(name, code)
    result = pytester.runpytest(*ARGS, BASELINE, "--ssot-baseline-update", *REPORTS)
    text = clean(result)
    assert result.ret == pytest.ExitCode.TESTS_FAILED, text
    lines = text.splitlines()
    message = f"pytest-ssot: cannot write {what}: {os.strerror(code)}"
    if "history" in what:
        message = f"pytest-ssot: cannot update {what}: {os.strerror(code)}"
    assert any(line.startswith(message) for line in lines), text
    # A run-level failure: in the short summary and pytest's final line.
    result.stdout.fnmatch_lines(["FAILED pytest-ssot::write-output - cannot *"])
    assert "1 failed, 2 passed" in lines[-1]
    assert not list(project.glob(".*.tmp"))
    for other in {"ssot-report.json", "ssot-report.html", ".ssot-history.jsonl"} - {name}:
        assert (project / other).is_file(), other
    if name == ".ssot-baseline.json":
        assert (project / ".ssot-baseline.json").read_text() == frozen
        assert "it was left as it was" in text
    else:
        assert sorted(baseline_entries()) == ["a"]


def test_the_report_says_the_run_failed_when_another_file_could_not_be_written(
    pytester: pytest.Pytester, project: Path, fail_replace: Callable[[str, int], None]
) -> None:
    """Every contract kept, but the HTML report cannot be written: pytest exits 1, and the
    JSON report, written after the others, says 1 too (it said 0)."""
    (project / "pkg/a.py").write_text("")
    (project / "pkg/b.py").write_text("")
    kept = pytester.runpytest(*ARGS, "--ssot-report=ssot-report.json")
    assert kept.ret == pytest.ExitCode.OK
    assert json.loads((project / "ssot-report.json").read_text())["exit_status"] == 0
    fail_replace("ssot-report.html", errno.ENOSPC)
    result = pytester.runpytest(*ARGS, *REPORTS)
    clean(result)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["FAILED pytest-ssot::write-output - cannot *"])
    report = json.loads((project / "ssot-report.json").read_text())
    assert report["exit_status"] == int(pytest.ExitCode.TESTS_FAILED)


def test_pytest_main_does_not_raise_when_a_write_fails(
    project: Path, monkeypatch: pytest.MonkeyPatch, fail_replace: Callable[[str, int], None]
) -> None:
    fail_replace("ssot-report.json", errno.ENOSPC)
    monkeypatch.chdir(project)
    code = pytest.main([*ARGS, "--ssot-report=ssot-report.json", str(project)])
    assert code == pytest.ExitCode.TESTS_FAILED  # a and b are broken, and the report failed


# -- concurrent runs ------------------------------------------------------------------------


def spawn(project: Path, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("PYTEST_XDIST_WORKER", None)
    return subprocess.Popen(
        [sys.executable, "-m", "pytest", *ARGS, "-p", "no:xdist", *args],
        cwd=project,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def finish(processes: list[subprocess.Popen[str]]) -> list[tuple[int, str]]:
    return [(p.wait(timeout=240), p.communicate()[0]) for p in processes]


def test_concurrent_baseline_updates_keep_each_others_entries(project: Path) -> None:
    runs = finish(
        [spawn(project, BASELINE, "--ssot-baseline-update", "-k", key) for key in ("a", "b")]
    )
    for code, output in runs:
        assert code == 0, output
        assert "baseline written" in output
    assert baseline_entries(project / ".ssot-baseline.json") == {
        "a": ["import: pkg.a -> pkg.b"],
        "b": ["import: pkg.b -> pkg.c"],
    }


def test_concurrent_runs_each_append_their_history_line(project: Path) -> None:
    runs = finish([spawn(project, *HISTORY) for _ in range(8)])
    assert all(code == pytest.ExitCode.TESTS_FAILED for code, _ in runs), runs
    lines = (project / ".ssot-history.jsonl").read_text().splitlines()
    assert len(lines) == 8
    assert all(json.loads(line)["totals"]["broken"] == 2 for line in lines)


# -- bounded reads ----------------------------------------------------------------------------


def write_deep(path: Path) -> None:
    path.write_text("[" * 200_000 + "]" * 200_000, encoding="utf-8")


def write_huge(path: Path) -> None:
    with path.open("wb") as handle:
        handle.truncate(65 * 1024 * 1024)  # sparse: costs no disk


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (write_deep, "its JSON is nested more than 64 levels deep"),
        (write_huge, "it is larger than 64 MiB, the most we read"),
        (make_fifo, "it is a FIFO (named pipe), not a regular file"),
    ],
)
def test_a_baseline_too_big_too_deep_or_not_a_file_is_a_clear_error(
    pytester: pytest.Pytester, project: Path, make: Callable[[Path], None], reason: str
) -> None:
    make(project / ".ssot-baseline.json")
    result = pytester.runpytest_subprocess(*ARGS, BASELINE, timeout=60)
    clean(result)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*: cannot read baseline .ssot-baseline.json: {reason}"])


def test_a_history_of_future_records_only_is_kept_and_appended_to(
    pytester: pytest.Pytester, project: Path
) -> None:
    future = '{"format":"pytest-ssot-history","version":7,"created":"2031-01-01","x":1}'
    (project / ".ssot-history.jsonl").write_text(future + "\n")
    result = pytester.runpytest(*ARGS, *HISTORY)
    clean(result)
    assert result.ret == pytest.ExitCode.TESTS_FAILED  # a and b are broken; nothing else
    lines = (project / ".ssot-history.jsonl").read_text().splitlines()
    assert lines[0] == future and len(lines) == 2
    result.stdout.fnmatch_lines(["history: 1 runs in .ssot-history.jsonl"])


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("a = " + "[" * 200_000 + "]" * 200_000 + "\n", "nested too deep to read"),
        (None, "larger than 64 MiB, the most we read"),
    ],
)
def test_a_contract_file_too_deep_or_too_big_is_a_clear_error(
    pytester: pytest.Pytester, project: Path, content: str | None, reason: str
) -> None:
    contracts = project / "contracts"
    contracts.mkdir()
    path = contracts / "team.toml"
    if content is None:
        write_huge(path)
    else:
        path.write_text(content, encoding="utf-8")
    with (project / "pyproject.toml").open("a") as handle:
        handle.write('\n[tool.pytest.ini_options]\nssot_contracts = ["contracts/team.toml"]\n')
    result = pytester.runpytest_subprocess(*ARGS, timeout=120)
    text = clean(result)
    assert "RecursionError" not in text
    assert result.ret not in (pytest.ExitCode.OK, pytest.ExitCode.INTERNAL_ERROR), text
    assert reason in text, text


def test_a_report_to_standard_output_is_refused_and_the_log_it_goes_to_kept(
    pytester: pytest.Pytester, project: Path
) -> None:
    """`--ssot-report=/dev/stdout >> ci.log` followed /dev/stdout to the log and renamed a
    new file over it: the log's earlier lines and pytest's own output were lost."""
    log = project / "ci.log"
    log.write_text("EARLIER LINES\n")
    with log.open("a") as out:
        completed = subprocess.run(
            [sys.executable, "-m", "pytest", *ARGS, "--ssot-report=/dev/stdout"],
            cwd=project,
            stdout=out,
            stderr=subprocess.STDOUT,
            timeout=120,
            check=False,
        )
    assert completed.returncode == pytest.ExitCode.USAGE_ERROR
    text = log.read_text()
    assert text.startswith("EARLIER LINES\n")
    assert "--ssot-report: cannot write /dev/stdout: it leads to /dev/stdout, a stream" in text
