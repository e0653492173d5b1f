"""The history file (ini key ``ssot_history``): one JSON line per run, for the progress chart.

Each line is a small summary of one run's report: when it ran, the totals and,
per contract, its status and new / frozen / fixed counts. The file is rewritten
atomically on every append (read, add one line, keep the last ``MAX_LINES``,
write through a temporary file), so a reader never sees half a line, and it
stays small enough to check in or keep as a CI artifact.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pytest_ssot.fileio import write_atomic
from pytest_ssot.model import SsotError

FORMAT = "pytest-ssot-history"
VERSION = 1
MAX_LINES = 500
TOTAL_KEYS = (
    "contracts",
    "kept",
    "broken",
    "error",
    "violations",
    "new",
    "frozen",
    "fixed",
    "runtime_findings",
)
COUNT_KEYS = ("violations", "new", "frozen", "fixed")


class HistoryError(SsotError):
    """The history file cannot be used; it is never overwritten in that state."""


@dataclass(frozen=True)
class History:
    entries: tuple[dict[str, Any], ...]
    """The runs that could be read, oldest first."""
    skipped: int = 0
    """Lines that are not pytest-ssot history records (hand edits, merge leftovers)."""


def entry_from_report(report: Mapping[str, Any]) -> dict[str, Any]:
    """The history line for one run, made from its JSON report (the single source of truth)."""
    summary = report.get("summary", {})
    contracts: dict[str, dict[str, Any]] = {}
    for contract in report.get("contracts", []):
        counts = contract.get("counts", {})
        contracts[str(contract["id"])] = {
            "status": contract.get("status"),
            "passed": contract.get("passed"),
            "violations": len(contract.get("violations", [])),
            "new": int(counts.get("new", 0)),
            "frozen": int(counts.get("frozen", 0)),
            "fixed": int(counts.get("fixed", 0)),
        }
    return {
        "format": FORMAT,
        "version": VERSION,
        "created": report.get("created"),
        "pytest_ssot": report.get("tool", {}).get("pytest-ssot"),
        "exit_status": report.get("exit_status"),
        "totals": {key: int(summary.get(key, 0)) for key in TOTAL_KEYS},
        "contracts": contracts,
    }


def parse_line(line: str) -> dict[str, Any] | None:
    """One record, or None when the line is not one of ours."""
    try:
        data = json.loads(line)
    except json.JSONDecodeError:
        return None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        return None
    if not isinstance(data.get("created"), str) or not isinstance(data.get("totals"), dict):
        return None
    if not isinstance(data.get("contracts"), dict):
        return None
    return data


def read_history(path: Path, display: str | None = None) -> History:
    """Read ``path``; a missing or empty file is an empty history.

    Unreadable lines are skipped and counted. A non-empty file none of whose lines
    is a pytest-ssot record is an error: it is most likely the wrong file (a
    baseline, a report), and appending to it would damage it.
    """
    shown = display or str(path)
    if not path.exists():
        return History(())
    if path.is_dir():
        raise HistoryError(f"history file {shown} is a directory")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise HistoryError(f"history file {shown} is not UTF-8 text: {exc.reason}") from None
    except OSError as exc:
        raise HistoryError(f"cannot read history file {shown}: {exc.strerror}") from None
    lines = [line for line in text.splitlines() if line.strip()]
    entries = [entry for entry in map(parse_line, lines) if entry is not None]
    if lines and not entries:
        raise HistoryError(
            f"{shown} is not a pytest-ssot history file (no line is a {FORMAT!r} record); "
            "point the ini key 'ssot_history' at a new file, for example .ssot-history.jsonl"
        )
    return History(tuple(entries), skipped=len(lines) - len(entries))


def append_history(
    path: Path, entry: Mapping[str, Any], *, max_lines: int = MAX_LINES, display: str | None = None
) -> History:
    """Add one run to the file, keep the newest ``max_lines`` runs, and return the result."""
    if max_lines < 1:
        raise ValueError("max_lines must be positive")
    old = read_history(path, display)
    entries = (*old.entries, dict(entry))[-max_lines:]
    write_atomic(path, "".join(dumps_line(e) for e in entries))
    return History(entries)


def dumps_line(entry: Mapping[str, Any]) -> str:
    return json.dumps(entry, ensure_ascii=False, separators=(",", ":"), sort_keys=False) + "\n"


def series(entries: Sequence[Mapping[str, Any]], key: str) -> list[int]:
    """One total (``violations``, ``new``, ...) for every run, oldest first."""
    return [int(e.get("totals", {}).get(key, 0)) for e in entries]
