"""The isolation findings, written for the user, and their baseline fingerprints."""

from __future__ import annotations

import dataclasses
import inspect
import re
import sys
from collections.abc import Hashable, Sequence
from dataclasses import dataclass

from pytest_ssot.managers import ManagerSpec
from pytest_ssot.model import Finding, Phase
from pytest_ssot.paths import ProjectFiles, display_path
from pytest_ssot.runtime.instances.records import InstanceRecord
from pytest_ssot.runtime.instances.report import render_record
from pytest_ssot.runtime.isolation.referrers import Chain
from pytest_ssot.runtime.isolation.walk import Reach

SHARED = "shared-state"
OUTLIVED = "outlived-test"
UNMATCHED_SHARED_OK = "shared-ok-unmatched"
CHECKS = (SHARED, OUTLIVED, UNMATCHED_SHARED_OK)


@dataclass(frozen=True)
class Where:
    """Where a shared object comes from, as far as it is known."""

    text: str
    file: str | None = None
    """As shown (relative to the rootdir when inside it)."""
    line: int | None = None


@dataclass(frozen=True)
class SharedPair:
    """One mutable object that the instances of two keys both reach."""

    manager: str
    type_name: str
    where: Where
    key_a: Hashable
    key_b: Hashable
    reach_a: Reach
    reach_b: Reach
    record_a: InstanceRecord
    record_b: InstanceRecord
    nested: tuple[tuple[str, str], ...] = ()
    """Shared objects reached through this one: (path from the first instance, type)."""
    obj_type: type = object
    is_object: bool = False
    """An object of a project class (not a container)."""

    def holds(self, other: SharedPair) -> bool:
        """``other`` is reached through this object from both instances (same keys)."""
        return (
            {repr(self.key_a), repr(self.key_b)} == {repr(other.key_a), repr(other.key_b)}
            and other is not self
            and _below(other.reach_a.path, self.reach_a.path)
            and _below(other.reach_b.path, self.reach_b.path)
        ) or (
            other is not self
            and repr(self.key_a) == repr(other.key_b)
            and repr(self.key_b) == repr(other.key_a)
            and _below(other.reach_b.path, self.reach_a.path)
            and _below(other.reach_a.path, self.reach_b.path)
        )

    @property
    def identity(self) -> tuple[str, str, str, str, str]:
        """Reported once per run per pair of keys and pair of paths."""
        a, b = sorted((repr(self.key_a), repr(self.key_b)))
        return (self.manager, a, b, self.reach_a.path, self.reach_b.path)

    @property
    def paths(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys((self.reach_a.path, self.reach_b.path)))


class SharedOk:
    """A manager's ``shared_ok`` patterns: '._registry' also covers '._registry._queues'."""

    def __init__(self, patterns: Sequence[str]) -> None:
        self.patterns = tuple(patterns)
        self._compiled = [(p, _compile(p)) for p in self.patterns]

    def match(self, path: str) -> str | None:
        """The first pattern that covers ``path``, or None."""
        for text, regex in self._compiled:
            if regex.match(path):
                return text
        return None


def _below(path: str, parent: str) -> bool:
    return path.startswith(parent) and path[len(parent) : len(parent) + 1] in (".", "[")


def fold_nested(pairs: Sequence[SharedPair]) -> list[SharedPair]:
    """One finding per outermost shared object: the shared objects it holds are listed in it."""
    ordered = sorted(pairs, key=lambda p: (len(p.reach_a.path), p.reach_a.path))
    kept: list[SharedPair] = []
    for pair in ordered:
        for index, outer in enumerate(kept):
            if outer.holds(pair):
                path = (
                    pair.reach_a.path
                    if repr(pair.key_a) == repr(outer.key_a)
                    else (pair.reach_b.path)
                )
                kept[index] = dataclasses.replace(
                    outer, nested=(*outer.nested, (path, pair.type_name))
                )
                break
        else:
            kept.append(pair)
    return kept


def _compile(pattern: str) -> re.Pattern[str]:
    body = "".join(r"[^.\[\]]*" if c == "*" else re.escape(c) for c in pattern.strip())
    return re.compile(body + r"(?:$|[.\[])")


def class_site(cls: type, files: ProjectFiles, attribute: str = "") -> Where:
    """The file and line of a class (or of one of its attributes), if the source is there."""
    module = sys.modules.get(cls.__module__)
    filename = getattr(module, "__file__", None)
    if not isinstance(filename, str):
        return Where(f"{_qualified(cls)}")
    line: int | None = None
    try:
        lines, start = inspect.getsourcelines(cls)
    except (OSError, TypeError):
        lines, start = [], 0
    if lines:
        line = start
        if attribute:
            assign = re.compile(rf"^\s+{re.escape(attribute)}\s*(?::[^=]*)?=")
            for offset, text in enumerate(lines):
                if assign.match(text):
                    line = start + offset
                    break
    shown = display_path(filename, files.rootdir, outside="as-given")
    return Where(f"{shown}:{line}" if line else shown, shown, line)


def describe_where(obj_type: type, reach: Reach, files: ProjectFiles, kinds_object: bool) -> Where:
    if reach.class_attribute_of is not None:
        site = class_site(reach.class_attribute_of, files, reach.attribute)
        return Where(
            f"a class attribute of {_qualified(reach.class_attribute_of)}, defined at {site.text}",
            site.file,
            site.line,
        )
    if kinds_object:
        site = class_site(obj_type, files)
        return Where(
            f"an instance of {_qualified(obj_type)} (class defined at {site.text})",
            site.file,
            site.line,
        )
    return Where("its creation site is not recorded (a container is not tracked)")


def _qualified(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _rule_line(spec: ManagerSpec, text: str) -> str:
    return f"rule: {text} (manager {spec.name!r}, {spec.where})"


def shared_fingerprint(spec: ManagerSpec, paths: Sequence[str]) -> str:
    return f"{SHARED}: {spec.name} {' '.join(sorted(paths))}"


def shared_finding(spec: ManagerSpec, pair: SharedPair, phase: Phase) -> Finding:
    key_text = spec.key.text if spec.key else "key"
    paths = pair.paths
    at = paths[0] if len(paths) == 1 else f"{paths[0]} and {paths[1]}"
    summary = (
        f"{spec.name}: the instances for {key_text}={pair.key_a!r} and {key_text}="
        f"{pair.key_b!r} share one {pair.type_name} at {at}"
    )
    lines = [
        _rule_line(spec, f"instances with different {key_text} share no mutable state"),
        "",
        f"shared object: {pair.type_name}, {pair.where.text}",
    ]
    for record, reach, key in (
        (pair.record_a, pair.reach_a, pair.key_a),
        (pair.record_b, pair.reach_b, pair.key_b),
    ):
        lines.append(f"  reached from the instance for {key!r} as {reach.path}")
        lines.extend(
            "  " + line
            for line in render_record(record, record.kind.qualname, 1, 1, False, numbered=False)
        )
    if pair.nested:
        lines.append("  shared with it, through it:")
        lines.extend(f"    {path} ({type_name})" for path, type_name in pair.nested)
    if pair.reach_a.class_attribute_of is not None:
        todo = (
            f"give each instance its own {pair.type_name}: assign it in __init__ "
            f"(self.{pair.reach_a.attribute} = ...) instead of on the class"
        )
    else:
        todo = f"give each {key_text} its own {pair.type_name}, or key it by {key_text}"
    todo += (
        f"; if sharing it is intended, add {pair.reach_a.path!r} to shared_ok of manager "
        f"{spec.name!r}"
    )
    lines.extend(["", f"What to do: {todo}."])
    second = pair.record_b.site
    file, line = pair.where.file, pair.where.line
    if file is None and second is not None:
        file, line = second.file, second.line
    return Finding(
        check=SHARED,
        rule=spec.name,
        summary=summary,
        details="\n".join(lines),
        phase=phase,
        fingerprint=shared_fingerprint(spec, paths),
        file=file,
        line=line,
    )


def outlived_fingerprint(spec: ManagerSpec, chain: Chain) -> str:
    # Keys in the chain ("['alice']") name the test's users: not part of the identity.
    path = _SUBSCRIPT.sub("[]", chain.path)
    return f"{OUTLIVED}: {spec.name} {path}"


_SUBSCRIPT = re.compile(r"\[[^\]]*\]")


def outlived_finding(
    spec: ManagerSpec, record: InstanceRecord, chain: Chain, phase: Phase
) -> Finding:
    key = f" for {record.describe_key(spec.key.text)}" if spec.key else ""
    summary = (
        f"{spec.name}: an instance{key} created in this test is still alive after its "
        f"teardown, held by {chain.path}"
    )
    lines = [
        _rule_line(spec, "an instance created in a test is gone after the test's teardown"),
        "",
        *render_record(record, record.kind.qualname, 1, 1, False, numbered=False),
        "",
        f"kept alive by {chain.root}:",
        f"  {chain.path}",
    ]
    for link in chain.links:
        if link.text:
            lines.append(f"    {link.text}  (in a {link.holder})")
    lines.extend(
        [
            "",
            "What to do: drop the reference when the test (or the request) ends, for example "
            "by clearing the registry in a fixture's teardown, or hold the instances by weak "
            "reference (weakref.WeakValueDictionary).",
        ]
    )
    site = record.site
    return Finding(
        check=OUTLIVED,
        rule=spec.name,
        summary=summary,
        details="\n".join(lines),
        phase=phase,
        fingerprint=outlived_fingerprint(spec, chain),
        file=site.file if site else None,
        line=site.line if site else None,
    )


def unmatched_finding(spec: ManagerSpec, patterns: Sequence[str], phase: Phase) -> Finding:
    names = ", ".join(repr(p) for p in patterns)
    plural = "entry" if len(patterns) == 1 else "entries"
    return Finding(
        check=UNMATCHED_SHARED_OK,
        rule=spec.name,
        summary=f"{spec.name}: shared_ok {plural} {names} matched nothing",
        details=(
            f"manager {spec.name!r} ({spec.where}) excuses shared state at {names}, but no "
            "object shared between two keys was reached through it in this run.\n\n"
            "What to do: remove the entries (the sharing they excused is gone), or fix the "
            "path if the attributes were renamed."
        ),
        phase=phase,
        fingerprint=f"{UNMATCHED_SHARED_OK}: {spec.name} {' '.join(patterns)}",
        file=spec.source,
        line=spec.line,
    )
