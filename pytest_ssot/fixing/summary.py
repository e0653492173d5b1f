"""What ``--ssot-fix`` and ``--ssot-diff`` print at the end of the run."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from pytest_ssot.installed import module_exists

if TYPE_CHECKING:
    from pytest_ssot.fixing.runner import FixRun

FIX_EXTRA = "pip install 'pytest-ssot[fix]'"


def missing_fix_dependency(flag: str) -> str | None:
    """Why ``flag`` cannot work here (libcst is not installed), without importing libcst."""
    if module_exists("libcst"):
        return None
    what = "shows the rewrites" if flag == "--ssot-diff" else "rewrites source files"
    return f"{flag} {what} with libcst, which is not installed: {FIX_EXTRA}"


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def fix_summary_lines(run: FixRun, deletable: Sequence[str], *, diff: bool) -> list[str]:
    """The fix section: diffs or files changed, the count line, what needs a human."""
    if run.error is not None:
        return [f"nothing fixed: the fixes cannot be planned: {run.error}"]
    plan = run.plan
    assert plan is not None
    lines: list[str] = []
    if diff:
        for outcome in run.changed:
            lines.extend(outcome.diff.rstrip("\n").splitlines())
    written = {f.display for f in run.files if f.written}
    changed = [f for f in run.changed]
    shown = {f.display for f in changed}
    statements = sum(
        1
        for edge in plan.edges.values()
        for site in edge.sites
        if site.changes and (edge.file in shown)
    )
    human = sorted(
        (edge for edge in plan.edges.values() if not edge.fixable),
        key=lambda e: (e.file or "", e.importer, e.forbidden),
    )
    verb = "would fix" if diff else "fixed"
    head = f"{verb} {_plural(statements, 'import')} in {_plural(len(changed), 'file')}"
    if human:
        head += (
            f"; {_plural(len(human), 'violation')} need{'s' if len(human) == 1 else ''} a human:"
        )
    lines.append(head)
    if not diff:
        lines.extend(f"  rewrote {display}" for display in sorted(written))
    for edge in human:
        where = edge.file or edge.importer
        for problem in edge.lines():
            if problem.startswith("not fixable: "):
                lines.append(
                    f"  {where}: {edge.importer} -> {edge.forbidden}: "
                    f"{problem.removeprefix('not fixable: ')}"
                )
    for outcome in run.skipped:
        lines.append(f"  left alone: {outcome.display}: {outcome.skipped}")
    for module in deletable:
        prefix = "after the fix, " if diff else ""
        lines.append(f"{prefix}{module} has no importers left: it can be deleted")
    return lines
