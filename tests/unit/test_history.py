"""The history file: one JSON line per run, appended atomically, bounded in length."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pytest_ssot.reporting.history import (
    FORMAT,
    HistoryError,
    append_history,
    entry_from_report,
    read_history,
    series,
)


def run(created: str, new: int, frozen: int, fixed: int = 0) -> dict[str, Any]:
    """A minimal report dict, as json_report.build_report makes it."""
    return {
        "created": created,
        "tool": {"pytest-ssot": "1.2.3"},
        "exit_status": 1 if new else 0,
        "summary": {
            "contracts": 2,
            "kept": 1,
            "broken": 1,
            "error": 0,
            "passed": 1 if not new else 0,
            "violations": new + frozen,
            "new": new,
            "frozen": frozen,
            "fixed": fixed,
            "runtime_findings": 2,
        },
        "contracts": [
            {
                "id": "no-legacy",
                "status": "broken",
                "passed": not new,
                "counts": {"new": new, "frozen": frozen, "fixed": fixed},
                "violations": [{}] * (new + frozen),
            },
            {
                "id": "layers",
                "status": "kept",
                "passed": True,
                "counts": {"new": 0, "frozen": 0, "fixed": 0},
                "violations": [],
            },
        ],
    }


def test_entry_is_a_small_summary_of_the_report() -> None:
    entry = entry_from_report(run("2026-01-01T00:00:00+00:00", new=1, frozen=7, fixed=2))
    assert entry == {
        "format": FORMAT,
        "version": 1,
        "created": "2026-01-01T00:00:00+00:00",
        "pytest_ssot": "1.2.3",
        "exit_status": 1,
        "totals": {
            "contracts": 2,
            "kept": 1,
            "broken": 1,
            "error": 0,
            "violations": 8,
            "new": 1,
            "frozen": 7,
            "fixed": 2,
            "runtime_findings": 2,
        },
        "contracts": {
            "no-legacy": {
                "status": "broken",
                "passed": False,
                "violations": 8,
                "new": 1,
                "frozen": 7,
                "fixed": 2,
            },
            "layers": {
                "status": "kept",
                "passed": True,
                "violations": 0,
                "new": 0,
                "frozen": 0,
                "fixed": 0,
            },
        },
    }


def test_each_append_adds_one_line(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "history.jsonl"
    assert read_history(path).entries == ()
    for day, new in enumerate([3, 2, 0], start=1):
        history = append_history(
            path, entry_from_report(run(f"2026-01-0{day}T00:00:00+00:00", new=new, frozen=5))
        )
        assert len(history.entries) == day
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 3
    assert [json.loads(line)["totals"]["new"] for line in lines] == [3, 2, 0]
    assert path.read_text(encoding="utf-8").endswith("}\n")
    assert series(read_history(path).entries, "violations") == [8, 7, 5]
    assert not list(tmp_path.glob("deep/.*.tmp"))  # the temporary file is gone


def test_history_keeps_the_newest_lines(tmp_path: Path) -> None:
    path = tmp_path / "h.jsonl"
    for index in range(7):
        entry = entry_from_report(run(f"2026-01-01T00:00:0{index}+00:00", new=index, frozen=0))
        append_history(path, entry, max_lines=5)
    entries = read_history(path).entries
    assert [e["totals"]["new"] for e in entries] == [2, 3, 4, 5, 6]


def test_foreign_lines_are_skipped_and_counted(tmp_path: Path) -> None:
    path = tmp_path / "h.jsonl"
    good = json.dumps(entry_from_report(run("2026-01-01T00:00:00+00:00", new=1, frozen=1)))
    path.write_text(f"{good}\n<<<<<<< HEAD\n\n[1, 2]\n{good}\n", encoding="utf-8")
    history = read_history(path)
    assert len(history.entries) == 2 and history.skipped == 2


@pytest.mark.parametrize(
    "content",
    [
        '{"format": "pytest-ssot-baseline", "version": 1, "violations": {}}\n',
        "not json at all\n",
    ],
)
def test_a_file_that_is_not_a_history_is_refused_and_kept(tmp_path: Path, content: str) -> None:
    path = tmp_path / "baseline.json"
    path.write_text(content, encoding="utf-8")
    entry = entry_from_report(run("2026-01-01T00:00:00+00:00", new=1, frozen=1))
    with pytest.raises(HistoryError, match="is not a pytest-ssot history file"):
        append_history(path, entry, display="baseline.json")
    assert path.read_text(encoding="utf-8") == content


def test_a_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(HistoryError, match="is a directory"):
        read_history(tmp_path)


FUTURE = '{"format":"pytest-ssot-history","version":2,"created":"2030-01-01","runs":[]}'


def test_lines_it_does_not_understand_are_kept_verbatim(tmp_path: Path) -> None:
    path = tmp_path / "h.jsonl"
    good = json.dumps(entry_from_report(run("2026-01-01T00:00:00+00:00", new=1, frozen=1)))
    hand_edit = "# reset after the big refactoring"
    odd = '{"format":"pytest-ssot-history","version":true,"created":"x","totals":{},"contracts":{}}'
    path.write_text(f"{FUTURE}\n{good}\n{hand_edit}\n{odd}\n", encoding="utf-8")
    history = append_history(path, entry_from_report(run("2026-01-02T00:00:00+00:00", 0, 1)))
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[:4] == [FUTURE, good, hand_edit, odd]
    assert len(lines) == 5 and json.loads(lines[4])["created"] == "2026-01-02T00:00:00+00:00"
    assert len(history.entries) == 2 and history.skipped == 3


def test_only_the_oldest_understood_runs_are_dropped(tmp_path: Path) -> None:
    path = tmp_path / "h.jsonl"
    path.write_text(f"{FUTURE}\n", encoding="utf-8")
    for index in range(4):
        entry = entry_from_report(run(f"2026-01-01T00:00:0{index}+00:00", new=index, frozen=0))
        append_history(path, entry, max_lines=2)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0] == FUTURE
    assert [json.loads(line)["totals"]["new"] for line in lines[1:]] == [2, 3]


def test_a_file_of_future_records_only_is_kept_and_appended_to(tmp_path: Path) -> None:
    path = tmp_path / "h.jsonl"
    path.write_text(f"{FUTURE}\n{FUTURE}\n", encoding="utf-8")
    assert read_history(path).entries == () and read_history(path).skipped == 2
    append_history(path, entry_from_report(run("2026-01-02T00:00:00+00:00", 0, 1)))
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[:2] == [FUTURE, FUTURE] and len(lines) == 3


@pytest.mark.parametrize("version", ["true", "1.0", '"1"'])
def test_a_record_whose_version_is_not_the_integer_1_is_not_read_as_one(
    tmp_path: Path, version: str
) -> None:
    path = tmp_path / "h.jsonl"
    record = entry_from_report(run("2026-01-01T00:00:00+00:00", new=1, frozen=1))
    path.write_text(json.dumps(record).replace('"version": 1', f'"version": {version}') + "\n")
    history = read_history(path)
    assert history.entries == () and history.skipped == 1


def test_deep_nesting_and_huge_files_are_refused_not_crashed(tmp_path: Path) -> None:
    deep = tmp_path / "deep.jsonl"
    deep.write_text("[" * 200_000 + "]" * 200_000 + "\n", encoding="utf-8")
    with pytest.raises(HistoryError, match="is not a pytest-ssot history file"):
        read_history(deep)
    huge = tmp_path / "huge.jsonl"
    with huge.open("wb") as handle:
        handle.truncate(65 * 1024 * 1024)
    with pytest.raises(HistoryError, match="larger than 64 MiB"):
        read_history(huge)
