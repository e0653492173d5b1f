"""fileio: regular files only, symlinks kept, bounded reads, a lock between processes."""

from __future__ import annotations

import json
import multiprocessing
import os
from pathlib import Path
from typing import Any

import pytest

from pytest_ssot.fileio import (
    MAX_JSON_DEPTH,
    FileError,
    loads,
    locked,
    output_problem,
    read_text,
    write_atomic,
)


def test_write_atomic_follows_a_symlink_and_keeps_it(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    link = tmp_path / "out.json"
    link.symlink_to("real/out.json")  # dangling: the target is created
    write_atomic(link, "one\n")
    write_atomic(link, "two\n")
    assert link.is_symlink() and (tmp_path / "real/out.json").read_text() == "two\n"
    assert not list((tmp_path / "real").glob(".*.tmp"))


def test_write_atomic_keeps_the_mode_of_the_file_it_replaces(tmp_path: Path) -> None:
    path = tmp_path / "out.json"
    path.write_text("old")
    path.chmod(0o600)
    write_atomic(path, "new")
    assert path.stat().st_mode & 0o777 == 0o600


def test_write_atomic_refuses_what_is_not_a_regular_file(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(FileError, match="it is a FIFO"):
        write_atomic(fifo, "x")
    assert not fifo.is_file() and fifo.exists()


def test_output_problem_names_a_folder_this_process_cannot_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found at start-up, not after the whole suite ran (root ignores modes: access is asked)."""
    locked = tmp_path / "locked"
    locked.mkdir()
    real_access = os.access

    def access(path: Any, mode: int, **kwargs: Any) -> bool:
        if Path(path) == locked and mode & os.W_OK:
            return False
        return real_access(path, mode, **kwargs)

    monkeypatch.setattr(os, "access", access)
    assert output_problem(locked / "report.json", lambda p: p.name) == (
        "permission denied: this process cannot create files in locked"
    )
    # a missing folder below it is created by the write: the nearest existing one counts
    assert output_problem(locked / "new" / "report.json", lambda p: p.name) == (
        "permission denied: this process cannot create files in locked"
    )
    assert output_problem(tmp_path / "report.json") is None


def test_output_problem_refuses_the_streams_of_the_process(tmp_path: Path) -> None:
    """--ssot-report=/dev/stdout with standard output sent to a log would replace the log
    (the atomic rename follows /dev/stdout to it); with a pipe it fails at the very end."""
    for given in ("/dev/stdout", "/dev/stderr", "/dev/fd/1", "/proc/self/fd/1"):
        problem = output_problem(Path(given))
        assert problem is not None and problem.startswith(f"it leads to {given}, a stream")
    link = tmp_path / "report.json"
    link.symlink_to("/dev/stdout")
    problem = output_problem(link)
    assert problem is not None and "/dev/stdout, a stream" in problem
    chained = tmp_path / "again.json"
    chained.symlink_to(link)
    assert output_problem(chained) == problem
    assert output_problem(tmp_path / "plain.json") is None


def test_output_problem_names_a_file_in_the_way(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("")
    assert output_problem(tmp_path / "f/g/h.json", lambda p: p.name) == (
        "f is a file, not a directory"
    )
    assert output_problem(tmp_path / "new/h.json") is None
    assert output_problem(tmp_path) == "it is a directory, not a regular file"


def test_read_text_is_bounded_and_never_blocks(tmp_path: Path) -> None:
    assert read_text(tmp_path / "missing") is None
    big = tmp_path / "big"
    big.write_bytes(b"x" * 101)
    with pytest.raises(FileError, match="larger than"):
        read_text(big, limit=100)
    assert read_text(big, limit=101) == "x" * 101
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(FileError, match="FIFO"):
        read_text(fifo)
    (tmp_path / "latin").write_bytes(b"caf\xe9")
    with pytest.raises(FileError, match="not UTF-8"):
        read_text(tmp_path / "latin")


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 1_000, 200_000])
def test_loads_refuses_deep_nesting(depth: int) -> None:
    with pytest.raises(FileError, match=f"nested more than {MAX_JSON_DEPTH} levels deep"):
        loads("[" * depth + "]" * depth)
    assert loads("[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH) is not None
    with pytest.raises(json.JSONDecodeError):
        loads("{")


def _add_one(path: str) -> None:
    target = Path(path)
    with locked(target):
        value = int(target.read_text()) if target.exists() else 0
        os.sched_yield()
        write_atomic(target, f"{value + 1}\n")


def test_locked_serialises_read_modify_write_between_processes(tmp_path: Path) -> None:
    counter = tmp_path / "counter"
    context = multiprocessing.get_context("spawn")
    with context.Pool(4) as pool:
        pool.map(_add_one, [str(counter)] * 40)
    assert counter.read_text() == "40\n"
    assert [p.name for p in tmp_path.iterdir()] == ["counter"]  # no lock file left behind
