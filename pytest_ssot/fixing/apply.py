"""Applying planned rewrites to files, or showing them as a diff, under the safety rules.

A file is left alone, and the reason reported, when it is outside the rootdir or in
site-packages, when it holds merge-conflict markers, when it does not parse, or when
the rewritten text would not compile. Everything else is written atomically, in its
own encoding (a UTF-8 byte-order mark stays), with its own line endings (CRLF stays
CRLF), and through a symlink to the file it points to.
"""

from __future__ import annotations

import difflib
import io
import re
import tokenize
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from pytest_ssot.fileio import FileError, write_atomic_batch, write_atomic_bytes
from pytest_ssot.fixing.plan import FileEdits

CONFLICT_MARKER = re.compile(r"^(<{7}|>{7}|={7}|\|{7})(?: |$)", re.MULTILINE)
PACKAGE_FOLDERS = frozenset({"site-packages", "dist-packages"})


@dataclass(frozen=True)
class FileOutcome:
    """What happened to one file: its diff (empty when nothing changes), or why it was skipped."""

    display: str
    diff: str = ""
    written: bool = False
    skipped: str | None = None


def refusal(path: Path, rootdir: Path) -> str | None:
    """Why ``path`` must not be rewritten, before it is even read; None when it may."""
    real = path.resolve()
    root = rootdir.resolve()
    if not real.is_relative_to(root):
        return f"outside the rootdir {root}: not ours to change"
    if PACKAGE_FOLDERS & set(real.parts):
        return "an installed package (site-packages): not ours to change"
    if not real.is_file():
        return "not a regular file"
    return None


def decode(data: bytes) -> tuple[str, str]:
    """The text of a source file and the encoding to write it back in (``utf-8-sig`` for a BOM)."""
    encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    return data.decode(encoding), encoding


def unified_diff(old: str, new: str, display: str) -> str:
    lines = difflib.unified_diff(
        old.splitlines(keepends=True),
        new.splitlines(keepends=True),
        fromfile=f"a/{display}",
        tofile=f"b/{display}",
    )
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def fix_file(edits: FileEdits, rootdir: Path, *, write: bool) -> FileOutcome:
    """Rewrite one file (or only diff it), following every safety rule."""
    outcome, data = _rewritten(edits, rootdir)
    if not write or data is None:
        return outcome
    try:
        write_atomic_bytes(edits.path, data)
    except FileError as exc:
        return replace(outcome, skipped=f"cannot be written: {exc}")
    except OSError as exc:
        return replace(outcome, skipped=f"cannot be written: {exc.strerror}")
    return replace(outcome, written=True)


def _rewritten(edits: FileEdits, rootdir: Path) -> tuple[FileOutcome, bytes | None]:
    """The outcome of rewriting one file in memory, and the bytes to write (None: nothing)."""
    from pytest_ssot.fixing.rewrite import RewriteError, rewrite_source

    display = edits.display
    why = refusal(edits.path, rootdir)
    if why is not None:
        return FileOutcome(display, skipped=why), None
    try:
        data = edits.path.read_bytes()
        old, encoding = decode(data)
    except (OSError, SyntaxError, UnicodeDecodeError, LookupError) as exc:
        return FileOutcome(display, skipped=f"cannot be read: {exc}"), None
    if CONFLICT_MARKER.search(old):
        return FileOutcome(
            display, skipped="holds merge-conflict markers: resolve them first"
        ), None
    try:
        new = rewrite_source(old, edits)
    except RewriteError as exc:
        return FileOutcome(display, skipped=str(exc)), None
    if new == old:
        return FileOutcome(display), None
    try:
        compile(new, str(edits.path), "exec", flags=1024, dont_inherit=True)  # PyCF_ONLY_AST
    except (SyntaxError, ValueError) as exc:  # pragma: no cover - a bug of ours, never written
        why = f"the rewrite would not compile ({exc}): left alone"
        return FileOutcome(display, skipped=why), None
    return FileOutcome(display, diff=unified_diff(old, new, display)), new.encode(encoding)


def fix_files(edits: Iterable[FileEdits], rootdir: Path, *, write: bool) -> Sequence[FileOutcome]:
    """Rewrite (or diff) every file; the rewritten ones are written together at the end."""
    planned = [(e, _rewritten(e, rootdir)) for e in edits]
    if not write:
        return [outcome for _, (outcome, _) in planned]
    failed = write_atomic_batch([(e.path, data) for e, (_, data) in planned if data is not None])
    results = []
    for e, (outcome, data) in planned:
        if data is None:
            results.append(outcome)
        elif e.path in failed:
            results.append(replace(outcome, skipped=f"cannot be written: {failed[e.path]}"))
        else:
            results.append(replace(outcome, written=True))
    return results
