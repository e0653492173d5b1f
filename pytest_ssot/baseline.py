"""The migration ratchet: a file of today's violations that may only shrink.

Static violations are kept under their contract id; runtime findings under
``runtime:<rule>`` (a contract id, a manager name, or a pseudo rule such as
``runtime:ssot:double-load``).

A violation is identified by its fingerprint (kind, importer, imported), never
by line numbers, so moving an import or editing unrelated code does not make a
frozen violation new. Entries are kept per contract id: a baseline never hides
a violation of a contract it does not name.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytest_ssot.fileio import FileError, loads, read_text, write_atomic
from pytest_ssot.model import Comparison, Fingerprint, SsotError, Violation

FORMAT = "pytest-ssot-baseline"
VERSION = 1


class BaselineError(SsotError):
    """The baseline file cannot be used; it is never overwritten in that state."""


@dataclass
class Baseline:
    """The violations one baseline file (``--ssot-baseline``) has frozen.

    Holds, per contract id or runtime rule key, the fingerprints of the frozen
    violations; ``exists`` tells an empty baseline from a missing file. Made by
    ``Baseline.load`` when the session starts and by ``updated`` when the ratchet
    writes the file again; ``compare`` turns one contract's violations into a
    ``Comparison`` (new, frozen, fixed).
    """

    path: Path
    entries: dict[str, set[str]] = field(default_factory=dict)
    """Contract id (or runtime rule key) -> fingerprints."""
    exists: bool = False

    # -- reading --------------------------------------------------------------

    @classmethod
    def load(cls, path: Path, display: str) -> Baseline:
        """Read ``path``; a missing file is an empty baseline, a broken one an error."""
        try:
            text = read_text(path)
        except FileError as exc:
            raise BaselineError(f"cannot read baseline {display}: {exc}") from None
        if text is None:
            return cls(path=path, exists=False)
        try:
            data = loads(text)
        except FileError as exc:
            raise BaselineError(f"cannot read baseline {display}: {exc}") from None
        except json.JSONDecodeError as exc:
            raise BaselineError(
                f"baseline {display} is not valid JSON (line {exc.lineno}, column {exc.colno}: "
                f"{exc.msg}). Restore it from version control, or delete it and run "
                "pytest --ssot --ssot-baseline-update to freeze today's violations again."
            ) from None
        return cls(path=path, entries=_parse(data, display), exists=True)

    def contains(self, key: str, fingerprint: str) -> bool:
        return fingerprint in self.entries.get(key, ())

    def compare(self, key: str, violations: Iterable[Violation]) -> Comparison:
        known = self.entries.get(key, set())
        new: list[Violation] = []
        frozen: list[Violation] = []
        seen: set[str] = set()
        for violation in violations:
            seen.add(violation.fingerprint)
            (frozen if violation.fingerprint in known else new).append(violation)
        fixed = tuple(Fingerprint.parse(text) for text in sorted(known - seen))
        return Comparison(tuple(new), tuple(frozen), fixed)

    def orphaned(self, known_keys: Iterable[str]) -> dict[str, set[str]]:
        """Entries whose contract no longer exists (renamed or deleted)."""
        keys = set(known_keys)
        return {k: v for k, v in sorted(self.entries.items()) if k not in keys and v}

    @property
    def size(self) -> int:
        return sum(len(v) for v in self.entries.values())

    # -- writing --------------------------------------------------------------

    def updated(
        self,
        current: Mapping[str, set[str]],
        *,
        checked: Iterable[str],
        known_keys: Iterable[str],
        allow_growth: bool,
        partial: Iterable[str] = (),
    ) -> tuple[Baseline, dict[str, set[str]]]:
        """The baseline after this run, and the entries it refused to add.

        ``checked`` are the keys whose violations this run knows completely; the
        others (deselected, or could not be checked) keep their entries. Keys
        that are no longer known are dropped. Fixed entries are always dropped;
        new ones are added only when ``allow_growth``. ``partial`` keys (runtime
        findings of a run that did not run every test) may gain entries but
        keep all they have.
        """
        checked = set(checked)
        partial = set(partial) - checked
        known = set(known_keys)
        entries: dict[str, set[str]] = {}
        refused: dict[str, set[str]] = {}
        for key in sorted(known | set(self.entries)):
            if key not in known:
                continue
            old = set(self.entries.get(key, set()))
            if key not in checked and key not in partial:
                if old:
                    entries[key] = old
                continue
            now = set(current.get(key, set()))
            kept = old if key in partial else old & now
            added = now - old
            if added and not allow_growth:
                refused[key] = added
                added = set()
            if kept | added:
                entries[key] = kept | added
        return Baseline(path=self.path, entries=entries, exists=True), refused

    def dumps(self) -> str:
        data: dict[str, Any] = {
            "format": FORMAT,
            "version": VERSION,
            "comment": (
                "Frozen SSOT violations. Only pytest --ssot --ssot-baseline-update or "
                "--ssot-baseline-prune should change this file; it may only shrink."
            ),
            "violations": {k: sorted(v) for k, v in sorted(self.entries.items()) if v},
        }
        return json.dumps(data, indent=2, sort_keys=False, ensure_ascii=False) + "\n"

    def save(self) -> None:
        write_atomic(self.path, self.dumps())


def _parse(data: Any, display: str) -> dict[str, set[str]]:
    def fail(what: str) -> BaselineError:
        return BaselineError(
            f"baseline {display} {what}. Restore it from version control, or delete it and run "
            "pytest --ssot --ssot-baseline-update to freeze today's violations again."
        )

    if not isinstance(data, dict):
        raise fail("is not a JSON object")
    if data.get("format") != FORMAT:
        raise fail(f"is not a pytest-ssot baseline (its 'format' is not {FORMAT!r})")
    version = data.get("version")
    if type(version) is not int or version != VERSION:  # not True, not 1.0
        raise BaselineError(
            f"baseline {display} has version {version!r}; this pytest-ssot reads version "
            f"{VERSION}. Upgrade pytest-ssot, or regenerate the file with "
            "pytest --ssot --ssot-baseline-update."
        )
    violations = data.get("violations")
    if not isinstance(violations, dict):
        raise fail("has no 'violations' object")
    entries: dict[str, set[str]] = {}
    for key, items in violations.items():
        if not isinstance(items, list) or not all(isinstance(i, str) and i for i in items):
            raise fail(f"has a malformed entry for {key!r} (expected a list of fingerprints)")
        entries[key] = set(items)
    return entries
