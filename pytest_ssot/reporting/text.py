"""Failure text and the terminal summary, as people read them in a pytest run.

Pure functions of model objects; the only I/O is reading source lines to quote.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

from pytest_ssot.model import Comparison, ContractResult, GraphStats, Hop, Violation
from pytest_ssot.settings import DEFAULT_MAX_CHAINS

DEFAULT_GUIDANCE = (
    "Remove the offending imports. If an import is allowed for now, freeze it in the "
    "baseline (--ssot-baseline-update) or list it in the contract's ignore_imports."
)
_FREEZE = "freeze it in the baseline (--ssot-baseline-update)"
ADVICE: Mapping[str, str] = {
    # import-linter's own types
    "import": DEFAULT_GUIDANCE,
    "undeclared": "Give each module its place in one of the contract's layers (the contract is "
    "exhaustive), or list it in its exhaustive_ignores.",
    "cycle": "Break the cycle: remove the listed import, or move what both modules need into a "
    "module below them. If it is allowed for now, " + _FREEZE + " or list it in the contract's "
    "ignore_imports.",
    # single_source
    "legacy-import": "Import from the canonical modules instead of the legacy ones. If an import "
    "is allowed for now, " + _FREEZE + " or list it in the contract's ignore_imports.",
    "shim-import": "A legacy module may only forward to the canonical modules: import what it "
    "re-exports from them. If the import is allowed for now, " + _FREEZE + " or list it in the "
    "contract's ignore_imports.",
    "canonical-imports-legacy": "Canonical code must not depend on the legacy side: move what it "
    "needs into the canonical modules. If the import is allowed for now, " + _FREEZE + " or list "
    "it in the contract's ignore_imports.",
    "shim-definition": "Move the definition into the canonical modules and re-export it here "
    "(from <canonical module> import Name). If it must stay for now, " + _FREEZE + " or list it "
    "in the contract's ignore_definitions.",
    "shadow-subclass": "Use the canonical class under its own name, or give the subclass a name "
    "of its own. If it must stay for now, " + _FREEZE + " or list it in the contract's "
    "ignore_definitions.",
    # unique_definition
    "duplicate-definition": "Keep one definition: delete the others and import the name from the "
    "single source (declare it with canonical_modules). If a copy must stay for now, "
    + _FREEZE
    + " or list it in the contract's ignore_definitions.",
    "parse-error": "Fix the file so it parses: what it defines was not checked.",
}
"""The default "What to do" per finding kind, when the contract sets no broken_contract_guidance."""


def advice(violations: Iterable[Violation]) -> str:
    """The "What to do" for these findings: each kind's own advice, in order of appearance."""
    kinds = list(dict.fromkeys(v.kind for v in violations))
    texts = list(dict.fromkeys(ADVICE.get(kind, DEFAULT_GUIDANCE) for kind in kinds))
    if not texts:
        return DEFAULT_GUIDANCE
    if len(texts) == 1:
        return texts[0]
    return "\n" + "\n".join(f"  - {text}" for text in texts)


SourceReader = Callable[[str, int], str]


class SourceLines:
    """Reads (and caches) the source line an import is on, for quoting it."""

    def __init__(self, rootdir: Path) -> None:
        self.rootdir = rootdir
        self._files: dict[str, list[str]] = {}

    def __call__(self, path: str, line: int) -> str:
        lines = self._files.get(path)
        if lines is None:
            try:
                text = (self.rootdir / path).read_text(encoding="utf-8", errors="replace")
                lines = text.splitlines()
            except OSError:
                lines = []
            self._files[path] = lines
        if 1 <= line <= len(lines):
            return lines[line - 1].strip()
        return ""


def _hop_rows(hop: Hop, read: SourceReader) -> list[tuple[str, str]]:
    where = hop.importer_file or hop.importer
    if not hop.line_numbers:
        return [(f"{where}", f"{hop.importer} -> {hop.imported}")]
    rows = []
    for number in hop.line_numbers:
        text = read(hop.importer_file, number) if hop.importer_file else ""
        rows.append((f"{where}:{number}", text or f"{hop.importer} -> {hop.imported}"))
    return rows


def render_violation(
    violation: Violation, read: SourceReader, label: str = "", mark: str = ""
) -> list[str]:
    prefix = f"{mark} " if mark else ""
    if not violation.hops:
        text = violation.message or violation.fingerprint
        lines = [f"  {prefix}{label}{text}"]
        if violation.file:
            where = f"{violation.file}:{violation.line}" if violation.line else violation.file
            quoted = read(violation.file, violation.line) if violation.line else ""
            lines.append(f"      {where}  {quoted}".rstrip())
        return lines
    lines = [f"  {prefix}{label}{violation.chain_text}"]
    rows = [row for hop in violation.hops for row in _hop_rows(hop, read)]
    width = max(len(where) for where, _ in rows)
    lines.extend(f"      {where.ljust(width)}  {text}" for where, text in rows)
    return lines


def render_failure(
    result: ContractResult,
    read: SourceReader,
    *,
    verbose: bool = False,
    max_chains: int = DEFAULT_MAX_CHAINS,
    marks: Mapping[str, str] | None = None,
    shown: Sequence[Violation] | None = None,
    notes: Iterable[str] = (),
    fixes: Mapping[str, Sequence[str]] | None = None,
) -> str:
    """The failure section of one contract item.

    ``shown`` limits the listed violations (the baseline shows only new ones);
    ``marks`` puts a word such as NEW in front of a violation by fingerprint;
    ``fixes`` adds lines under a violation (the fix, or why there is none).
    """
    spec = result.spec
    out = [
        f"Contract {spec.id!r} {'could not be checked' if result.error else 'is BROKEN'}: "
        f"{spec.name}",
        f"  type {spec.type}, defined at {spec.location}",
        "",
    ]
    if result.error is not None:
        out.append(result.error)
        out.append("")
        out.append("Fix the contract or the configuration it names, then run again.")
        return "\n".join(out)

    violations = list(result.violations if shown is None else shown)
    if not violations and result.fallback_text:
        out.append(result.fallback_text)
    limit = len(violations) if verbose else max(max_chains, 1)
    listed, rest = violations[:limit], violations[limit:]
    heading = None
    counts = Counter(v.heading for v in violations)
    chains = {v.heading for v in violations if v.hops}
    numbers: Counter[str] = Counter()
    for violation in listed:
        if violation.heading != heading:
            heading = violation.heading
            if heading:
                n = counts[heading]
                noun = "chain" if heading in chains else "finding"
                out.append(f"{heading} ({n} {noun}{'' if n == 1 else 's'}):")
        numbers[violation.heading] += 1
        mark = (marks or {}).get(violation.fingerprint, "")
        label = f"{numbers[violation.heading]}. "
        out.extend(render_violation(violation, read, label=label, mark=mark))
        out.extend(f"      {line}" for line in (fixes or {}).get(violation.fingerprint, ()))
        out.append("")
    if rest:
        out.append(
            f"... and {len(rest)} more of {len(violations)} violations, not shown "
            f"(run pytest with -v to see every chain). By importing package:"
        )
        for package, count in Counter(v.package for v in rest).most_common():
            out.append(f"    {package:<50} {count}")
        out.append("")
    out.extend(notes)
    if result.ignored_import_count:
        out.append(f"({_ignored(result.ignored_import_count)} by ignore_imports.)")
    out.append(f"What to do: {spec.guidance or advice(violations)}")
    return "\n".join(out)


def _ignored(count: int) -> str:
    return f"{count} import{'s' if count != 1 else ''} ignored"


def status_label(result: ContractResult, comparison: Comparison | None) -> str:
    """KEPT, BROKEN, ERROR, or FROZEN: broken only by violations the baseline freezes."""
    if result.status == "broken" and comparison is not None and not comparison.new:
        return "FROZEN"
    return result.status.upper()


def result_line(result: ContractResult, comparison: Comparison | None = None) -> str:
    notes = []
    if result.status == "broken":
        count = len(result.violations)
        notes.append(f"{count} violation{'s' if count != 1 else ''}")
    if result.ignored_import_count:
        notes.append(_ignored(result.ignored_import_count))
    if comparison is not None:
        for word, items in (
            ("frozen", comparison.frozen),
            ("fixed", comparison.fixed),
            ("NEW", comparison.new),
        ):
            if items:
                notes.append(f"{len(items)} {word}")
    tail = f" ({', '.join(notes)})" if notes else ""
    return f"{status_label(result, comparison):<6} {result.spec.nodeid}{tail}"


def summary_lines(
    results: Sequence[ContractResult],
    graphs: Sequence[GraphStats],
    *,
    verbose: bool = False,
    comparisons: Mapping[str, Comparison] | None = None,
) -> list[str]:
    comparisons = comparisons or {}
    labels = Counter(status_label(r, comparisons.get(r.spec.id)) for r in results)
    parts = [f"{labels['KEPT']} kept", f"{labels['BROKEN']} broken"]
    if labels["FROZEN"]:
        parts.append(f"{labels['FROZEN']} broken only by frozen violations")
    if labels["ERROR"]:
        parts.append(f"{labels['ERROR']} could not be checked")
    lines = [f"contracts: {', '.join(parts)}"]
    for graph in graphs:
        if graph.from_cache and graph.changed_files:
            edited = f"{graph.changed_files} edited file{'s' if graph.changed_files > 1 else ''}"
            how = (
                f"results reused, {edited} import the same modules as before, "
                f"line numbers re-read ({graph.build_ms:.0f} ms)"
            )
        elif graph.from_cache:
            how = f"results reused, nothing changed since the last run ({graph.build_ms:.0f} ms)"
        else:
            how = f"built in {graph.build_ms:.0f} ms"
        lines.append(
            f"graph {graph.key.describe()}: {graph.modules} modules, {graph.imports} imports, {how}"
        )
        lines.extend(dynamic_import_lines(graph, verbose=verbose))
    if verbose or labels["BROKEN"] or labels["ERROR"] or labels["FROZEN"]:
        for result in results:
            lines.append("  " + result_line(result, comparisons.get(result.spec.id)))
    return lines


def dynamic_import_lines(graph: GraphStats, *, verbose: bool = False) -> list[str]:
    """What ssot_static_dynamic_imports found for one graph (each import with -v), and what it
    could not resolve."""
    if graph.dynamic_imports is None:
        return []
    count = len(graph.unresolved)
    lines = [
        f"dynamic imports seen statically in {', '.join(graph.key.root_packages)}: "
        f"{graph.dynamic_imports} added to the graph, {count} not resolved"
        + (" (computed names: a contract cannot see what they load)" if count else "")
    ]
    if not verbose:
        lines.extend(f"  {item}" for item in graph.unresolved)
        return lines
    for title, items in (("added", graph.dynamic_added), ("not resolved", graph.unresolved)):
        if items:
            lines.append(f"  {title}:")
            lines.extend(f"    {item}" for item in items)
    return lines
