"""The history file (ini key ``ssot_history``): one JSON line per run, for the progress chart.

Each line is a small summary of one run's report: when it ran, the totals and,
per contract, its status and new / frozen / fixed counts. The file is rewritten
atomically on every append (under a lock: read, add one line, keep the last
``MAX_LINES`` runs, write through a temporary file), so a reader never sees half
a line, concurrent runs each add theirs, and it stays small enough to check in
or keep as a CI artifact. Lines it does not understand (a newer version's
records, hand edits) are kept verbatim.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pytest_ssot.fileio import FileError, loads, locked, read_text, write_atomic
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
    """Lines that are not records of this version (a newer pytest-ssot's, hand edits)."""
    lines: tuple[tuple[str, dict[str, Any] | None], ...] = ()
    """Every non-empty line in file order, with its record (None: kept verbatim, not charted)."""


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


def _load_object(line: str) -> dict[str, Any] | None:
    try:
        data = loads(line)
    except (json.JSONDecodeError, FileError):
        return None
    return data if isinstance(data, dict) else None


def is_ours(line: str) -> bool:
    """Whether the line is a pytest-ssot history record of any version (ours or a newer one's)."""
    data = _load_object(line)
    return data is not None and data.get("format") == FORMAT


def parse_line(line: str) -> dict[str, Any] | None:
    """One record this version understands, or None (a newer version's, a hand edit)."""
    data = _load_object(line)
    if data is None or data.get("format") != FORMAT:
        return None
    version = data.get("version")
    if type(version) is not int or version != VERSION:
        return None
    if not isinstance(data.get("created"), str) or not isinstance(data.get("totals"), dict):
        return None
    if not isinstance(data.get("contracts"), dict):
        return None
    if not all(type(v) is int for v in data["totals"].values()):
        return None
    for counts in data["contracts"].values():
        if not isinstance(counts, dict):
            return None
        if not all(type(counts.get(key, 0)) is int for key in COUNT_KEYS):
            return None
    return data


def read_history(path: Path, display: str | None = None) -> History:
    """Read ``path``; a missing or empty file is an empty history.

    Lines this version does not understand are kept (and written back verbatim
    on the next append) but not charted. A non-empty file none of whose lines
    is a pytest-ssot record of any version is an error: it is most likely the
    wrong file (a baseline, a report), and appending to it would damage it.
    """
    shown = display or str(path)
    try:
        text = read_text(path)
    except FileError as exc:
        raise HistoryError(f"cannot read the history file {shown}: {exc}") from None
    if text is None:
        return History(())
    lines = [line for line in text.splitlines() if line.strip()]
    parsed = [(line, parse_line(line)) for line in lines]
    entries = [entry for _, entry in parsed if entry is not None]
    if lines and not entries and not any(map(is_ours, lines)):
        raise HistoryError(
            f"{shown} is not a pytest-ssot history file (no line is a {FORMAT!r} record); "
            "point the ini key 'ssot_history' at a new file, for example .ssot-history.jsonl"
        )
    return History(tuple(entries), skipped=len(lines) - len(entries), lines=tuple(parsed))


def append_history(
    path: Path, entry: Mapping[str, Any], *, max_lines: int = MAX_LINES, display: str | None = None
) -> History:
    """Add one run to the file, keep the newest ``max_lines`` runs, and return the result.

    The read and the write happen under a lock, so concurrent runs each add
    their line. Lines this version does not understand stay as they are.
    """
    if max_lines < 1:
        raise ValueError("max_lines must be positive")
    with locked(path):
        old = read_history(path, display)
        lines = [*old.lines, (dumps_line(entry).rstrip("\n"), dict(entry))]
        surplus = sum(1 for _, e in lines if e is not None) - max_lines
        kept: list[tuple[str, dict[str, Any] | None]] = []
        for line, record in lines:
            if record is not None and surplus > 0:
                surplus -= 1
                continue
            kept.append((line, record))
        write_atomic(path, "".join(line + "\n" for line, _ in kept))
    entries = tuple(e for _, e in kept if e is not None)
    return History(entries, skipped=len(kept) - len(entries), lines=tuple(kept))


def dumps_line(entry: Mapping[str, Any]) -> str:
    return json.dumps(entry, ensure_ascii=False, separators=(",", ":"), sort_keys=False) + "\n"


def series(entries: Sequence[Mapping[str, Any]], key: str) -> list[int]:
    """One total (``violations``, ``new``, ...) for every run, oldest first."""
    return [int(e.get("totals", {}).get(key, 0)) for e in entries]
