"""The manager findings: a broken rule or an unusable declaration, written for the user."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from pytest_ssot.managers import PROCESS, declaration_finding, declaration_fingerprint
from pytest_ssot.model import Finding
from pytest_ssot.runtime.instances.counting import ManagerRule, PhaseSource, class_names
from pytest_ssot.runtime.instances.records import InstanceRecord

DUPLICATE = "duplicate-instance"
BYPASS = "factory-bypass"


@dataclass(frozen=True)
class ManagerBreach:
    """What the tracker found on a construction, turned into a Finding outside its lock."""

    check: str
    rule: ManagerRule
    record: InstanceRecord
    others: tuple[InstanceRecord, ...] = ()
    """The other live instances shown: all, or the two oldest and the two newest."""
    total: int = 1
    """How many live instances count together, this one included."""


class DeclarationProblems:
    """Declarations that cannot be applied: each reported once, as an error finding."""

    def __init__(self, phases: PhaseSource, report: Callable[[Finding], None]) -> None:
        self.phases = phases
        self.report = report
        self._reported: set[str] = set()
        self._lock = threading.Lock()

    def __call__(
        self, rule: ManagerRule, problem: str, fingerprint_detail: str | None = None
    ) -> None:
        spec = rule.spec
        fingerprint = declaration_fingerprint(spec, fingerprint_detail or problem)
        with self._lock:
            if fingerprint in self._reported:
                return
            self._reported.add(fingerprint)
        self.report(declaration_finding(spec, problem, self.phases.current, fingerprint))

    def forked(self) -> None:
        """In a forked child: a fresh lock (another thread may have held this one)."""
        self._lock = threading.Lock()


def breach_finding(breach: ManagerBreach) -> Finding:
    rule, record = breach.rule, breach.record
    spec = rule.spec
    site = record.site
    where = f"{site.file}::{site.function}" if site else "?"
    key_text = spec.key.text if spec.key else None
    rule_line = f"rule: {spec.describe_rule()} (manager {spec.name!r}, {spec.where})"
    everyone = [*breach.others, record]
    names = class_names(
        {*rule.created_in_tests, *(path for _, path in rule.created_outside)}
        | {r.kind.path for r in everyone}
    )
    cls_name = names[record.kind.path]
    if breach.check == DUPLICATE:
        total = max(breach.total, len(everyone))
        if key_text is not None:
            summary = (
                f"{spec.name}: {total} live instances for {record.describe_key(key_text)}, "
                f"at most {spec.max} allowed"
            )
            fingerprint = f"{DUPLICATE}: {spec.name} key={record.key!r} at {where}"
        else:
            if spec.scope == PROCESS:
                window = "in the process"
            elif record.window[0] == "test":
                window = "in this test"
            else:
                window = "outside the tests (shared by all of them)"
            summary = f"{spec.name}: {total} live instances {window}, at most {spec.max} allowed"
            fingerprint = f"{DUPLICATE}: {spec.name} at {where}"
        lines = [rule_line, ""]
        if len(everyone) == total:
            shown = list(enumerate(everyone, start=1))
        else:  # the two oldest, the two newest others, this one
            indexes = [1, 2, total - 2, total - 1, total]
            shown = list(zip(indexes, everyone, strict=True))
        for index, record_shown in shown:
            name = names[record_shown.kind.path]
            lines.extend(render_record(record_shown, name, index, total, record_shown is record))
        if len(shown) < total:
            lines.append(f"  ... and {total - len(shown)} more")  # between the shown ones
        if rule.untrackable and any(r.counted_by_construction for r in everyone):
            lines.append(
                f"  ({', '.join(sorted(rule.untrackable))} does not support "
                "weak references: "
                "its instances are counted by construction, garbage collected or not)"
            )
        todo = spec.guidance or (
            "get the instance from "
            + " or ".join(f"{name}()" for name in spec.factory_names)
            + " instead of constructing another one"
            if spec.factories
            else "reuse the live instance instead of creating another one"
        )
    else:
        bypassed = " or ".join(spec.factory_names)
        calls = " or ".join(f"{name}()" for name in spec.factory_names)
        function = site.function if site else "?"
        summary = (
            f"{spec.name}: {cls_name} constructed directly in {function}, bypassing {bypassed}"
        )
        fingerprint = f"{BYPASS}: {spec.name} at {where}"
        lines = [rule_line, "", *render_record(record, cls_name, 1, 1, True, numbered=False)]
        todo = spec.guidance or f"call {calls} instead of constructing {cls_name}"
    lines.extend(["", f"What to do: {todo}."])
    return Finding(
        check=breach.check,
        rule=spec.name,
        summary=summary,
        details="\n".join(lines),
        phase=record.phase,
        fingerprint=fingerprint,
        file=site.file if site else None,
        line=site.line if site else None,
    )


def render_record(
    record: InstanceRecord,
    name: str,
    index: int,
    total: int,
    this: bool,
    *,
    numbered: bool = True,
) -> list[str]:
    label = f"instance {index} of {total}" if numbered else "instance"
    if this and numbered:
        label += " (this one)"
    key = ""
    if record.key is not None or record.key_note:
        key = f", key {record.key!r}" + (f" ({record.key_note})" if record.key_note else "")
    lines = [
        f"{label}: {name}{key}, created during {record.phase.describe()}",
    ]
    stack = record.stack()
    for position, site in enumerate(stack):
        lines.append(f"    {site.render()}")
        if position == 0:
            source = site.source()
            if source:
                lines.append(f"        {source}")
    if not stack:
        lines.append("    (no Python frame: created by the interpreter)")
    return lines
