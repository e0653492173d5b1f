"""The migration ratchet of one run: the baseline, what it freezes, and its write at the end.

It loads the baseline once at start-up (a broken file stops the run before
anything is written), answers which runtime findings it freezes, compares the
runtime findings with it, writes it on ``--ssot-baseline-update`` or
``--ssot-baseline-prune``, and says what it did: the summary lines and the
run-level failures of strict mode and ``ssot_baseline_no_growth``. The static
comparisons come from ``pytest_ssot.results``, which makes each one once.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pytest

from pytest_ssot.baseline import Baseline, BaselineError
from pytest_ssot.fileio import locked
from pytest_ssot.findings import check_of
from pytest_ssot.model import RUNTIME_PREFIX
from pytest_ssot.paths import display_path
from pytest_ssot.results import ContractResults
from pytest_ssot.run_failures import report_run_failure
from pytest_ssot.settings import Settings

if TYPE_CHECKING:  # the report is imported only when one is written
    from pytest_ssot.reporting.json_report import BaselineInfo

Observed = set[tuple[str, str]]
"""(baseline key, fingerprint) of the runtime findings of a run."""


@dataclass(frozen=True)
class RuntimeComparison:
    """The runtime findings of one baseline key (``runtime:<rule>``) against the baseline."""

    frozen: tuple[str, ...]
    fixed: tuple[str, ...] | None
    """None when not every test ran: then nothing can be said to be fixed."""
    new: tuple[str, ...]


def load_baseline(settings: Settings) -> Baseline | None:
    """The baseline file as the run finds it; a usage error when it cannot be used."""
    if settings.baseline is None:
        return None
    try:
        return Baseline.load(settings.baseline, display_path(settings.baseline, settings.rootdir))
    except BaselineError as exc:
        # Nothing runs and nothing is written: the file stays as it is.
        raise pytest.UsageError(f"pytest-ssot: {exc}") from None


@dataclass(frozen=True)
class RunEnd:
    """What the end of the run knows that the ratchet needs: set once, at session finish."""

    complete: bool
    """Every test ran, so runtime entries not seen are gone."""
    workers_lost: int = 0
    """pytest-xdist workers that crashed: what they observed never reached the controller."""


class Ratchet:
    """The baseline of one run (``ssot_baseline``): frozen findings, comparisons, the write."""

    def __init__(
        self,
        settings: Settings,
        baseline: Baseline,
        results: ContractResults,
        *,
        contract_ids: Collection[str],
        contracts_known: bool,
        observed: Callable[[], Observed],
        runtime_keys: frozenset[str],
    ) -> None:
        self.settings = settings
        self.initial = baseline
        """The baseline as the run found it: what this run's findings are compared with."""
        self.baseline = baseline
        """The baseline as it is now: the one written, after a write."""
        self.results = results
        self.contract_ids = frozenset(contract_ids)
        self.contracts_known = contracts_known
        """Every contract file loaded: a contract not among them was really deleted."""
        self.observed = observed
        self.runtime_keys = runtime_keys
        self.end = RunEnd(complete=False)
        self.written = False
        self.dropped: dict[str, set[str]] = {}
        """Entries this run's write dropped (fixed, or of contracts that are gone)."""
        self.refused: dict[str, set[str]] = {}
        """New entries ssot_baseline_no_growth refused: nothing was written."""
        self.shown = display_path(baseline.path, settings.rootdir)

    # -- during the run -----------------------------------------------------------------

    def frozen_rule(self, rule: str, fingerprint: str) -> bool:
        """Whether the baseline freezes a runtime finding of ``rule`` (statically or at runtime)."""
        if self.settings.freezing:
            return True  # this run writes it into the baseline
        return self.initial.contains(rule, fingerprint) or self.initial.contains(
            RUNTIME_PREFIX + rule, fingerprint
        )

    # -- what it finds ------------------------------------------------------------------

    def orphaned(self) -> dict[str, set[str]]:
        """Entries of contracts and runtime rules that no longer exist (renamed or deleted)."""
        if not self.contracts_known:
            return {}  # a file failed to load: its contracts are unknown, not deleted
        return self.baseline.orphaned(self.contract_ids | self.runtime_keys)

    def runtime_comparisons(self) -> dict[str, RuntimeComparison]:
        """Per runtime baseline key: frozen, fixed and new fingerprints against the baseline.

        ``fixed`` is known only when every test ran; otherwise it is None: a finding
        not seen may just not have been run.
        """
        baseline = self.initial
        known = {k: set(v) for k, v in baseline.entries.items() if k.startswith(RUNTIME_PREFIX)}
        seen: dict[str, set[str]] = {}
        for key, fingerprint in self.observed():
            seen.setdefault(key, set()).add(fingerprint)
        rows: dict[str, RuntimeComparison] = {}
        for key in sorted(set(known) | set(seen)):
            static = key.removeprefix(RUNTIME_PREFIX)
            old, now = known.get(key, set()), seen.get(key, set())
            old = old | (now & baseline.entries.get(static, set()))
            rows[key] = RuntimeComparison(
                frozen=tuple(sorted(now & old)),
                fixed=tuple(sorted(old - now)) if self.end.complete else None,
                new=tuple(sorted(now - old)),
            )
        return rows

    def stale_entries(self) -> dict[str, tuple[str, ...]]:
        """Baseline entries that no longer occur, per contract or runtime key (fixed)."""
        stale = {
            cid: tuple(fp.text for fp in c.fixed)
            for cid, c in self.results.comparisons.items()
            if c.fixed
        }
        for key, row in self.runtime_comparisons().items():
            if row.fixed:
                stale[key] = row.fixed
        return stale

    # -- the end of the run ---------------------------------------------------------------

    def write(self) -> None:
        """Write the baseline from this run's results (update or prune); sets what it did."""
        checked = self.results.checked()
        current = {
            cid: {v.fingerprint for v in self.results.results[cid].violations} for cid in checked
        }
        runtime_keys = set(self.runtime_keys)
        for key, fingerprint in self.observed():
            current.setdefault(key, set()).add(fingerprint)
        complete = self.end.complete
        path = self.baseline.path
        # Read again under the lock: a concurrent update (another -k) keeps its entries.
        with locked(path):
            fresh = Baseline.load(path, self.shown)
            updated, refused = fresh.updated(
                current,
                checked=checked | (runtime_keys if complete else set()),
                known_keys=self.contract_ids | runtime_keys,
                allow_growth=self.settings.freezing,
                partial=set() if complete else runtime_keys,
            )
            if self.settings.baseline_update:
                self.refused = refused  # ssot_baseline_no_growth said no
            if self.refused:
                return  # refused means nothing written, not even a shrink
            if updated.entries != fresh.entries or not fresh.exists:
                updated.save()
                self.written = True
                self.baseline = updated
                self.dropped = {
                    key: gone
                    for key, old in sorted(fresh.entries.items())
                    if (gone := old - updated.entries.get(key, set()))
                }

    def report_failures(self, config: pytest.Config) -> None:
        """Strict mode's stale and orphaned entries, and the refused growth: run-level failures."""
        if self.settings.baseline_strict and not self.written:
            for key, row in self.runtime_comparisons().items():
                if row.fixed:
                    report_run_failure(
                        config,
                        "baseline-strict",
                        f"the baseline lists {len(row.fixed)} finding(s) of {key!r} that no "
                        "longer occur (strict mode)",
                        self._stale_text(key, row.fixed),
                    )
            for cid, fingerprints in self.orphaned().items():
                report_run_failure(
                    config,
                    "baseline-strict",
                    f"the baseline lists {len(fingerprints)} violation(s) of {cid!r}, which no "
                    "longer exists",
                    self._orphan_text(cid, fingerprints),
                )
        for cid, fingerprints in self.refused.items():
            report_run_failure(
                config,
                "baseline-no-growth",
                f"refused to add {len(fingerprints)} new violation(s) of {cid!r} to the baseline "
                "(ssot_baseline_no_growth = true)",
                "\n".join(
                    [
                        f"ssot_baseline_no_growth = true: the baseline may not grow, so the new "
                        f"violations of {cid!r} were not added:",
                        *(f"  {fp}" for fp in sorted(fingerprints)),
                        "Fix them instead.",
                    ]
                ),
            )

    def _stale_text(self, key: str, fingerprints: tuple[str, ...]) -> str:
        return "\n".join(
            [
                f"{self.shown} lists {len(fingerprints)} runtime finding(s) of {key!r} that no "
                "test produced in this full run, and ssot_baseline_strict is on (a stale entry "
                "could later hide a regression at the same site):",
                *(f"  {fp}" for fp in fingerprints),
                "Drop them with: pytest --ssot --ssot-baseline-prune",
            ]
        )

    def _orphan_text(self, cid: str, fingerprints: set[str]) -> str:
        strict_name = self.settings.named("--ssot-baseline-strict")
        return "\n".join(
            [
                f"{self.shown} lists {len(fingerprints)} violation(s) of contract {cid!r}, which "
                f"no longer exists (renamed or deleted), and {strict_name} is on:",
                *(f"  {fp}" for fp in sorted(fingerprints)),
                "Drop them with: pytest --ssot --ssot-baseline-prune",
            ]
        )

    def report_info(self) -> BaselineInfo:
        """The baseline part of the JSON report."""
        from pytest_ssot.reporting.json_report import BaselineInfo

        return BaselineInfo(
            path=self.shown,
            exists=self.baseline.exists,
            strict=self.settings.baseline_strict,
            orphaned={k: sorted(v) for k, v in self.orphaned().items()},
            written=self.written,
            refused={k: sorted(v) for k, v in self.refused.items()},
            runtime_fixed=self.runtime_fixed(),
        )

    def runtime_fixed(self) -> list[tuple[str, str, str]] | None:
        """(key, check, fingerprint) of runtime baseline entries gone; None: not known."""
        if not self.end.complete:
            return None
        return [
            (key, check_of(fingerprint), fingerprint)
            for key, row in self.runtime_comparisons().items()
            for fingerprint in row.fixed or ()
        ]

    # -- the summary ----------------------------------------------------------------------

    def has_news(self) -> bool:
        """Whether the summary has something to say (a run that checked no contract too)."""
        return bool(self.runtime_comparisons()) or self.settings.writes_baseline


class RatchetSummary:
    """The ratchet's part of the terminal summary: progress per contract, what was written."""

    def __init__(self, ratchet: Ratchet) -> None:
        self.ratchet = ratchet
        self.settings = ratchet.settings

    def lines(self, *, write_failed: bool) -> list[str]:
        """Migration progress against the baseline, and what the run did with it."""
        shown = self.ratchet.shown
        lines = ["", f"migration progress against the baseline {shown}:"]
        if not self.ratchet.baseline.exists and not self.ratchet.written:
            lines.append("  (the file does not exist yet: create it with --ssot-baseline-update)")
        lines.extend(self._table())
        writes = self.settings.writes_baseline
        if self.ratchet.written and self.ratchet.dropped:
            count = sum(len(v) for v in self.ratchet.dropped.values())
            lines.append(f"  dropped {count} entries that no longer occur:")
            lines.extend(self._grouped(self.ratchet.dropped))
        elif not self.ratchet.written:
            stale = self.ratchet.stale_entries()
            if stale:
                count = sum(len(v) for v in stale.values())
                lines.append(
                    f"  {count} baseline entries no longer occur: shrink the file with "
                    "pytest --ssot --ssot-baseline-prune"
                )
                lines.extend(self._grouped(stale))
        if writes and not self.ratchet.refused:
            lines.extend(self._kept_lines())
        for cid, fingerprints in self.ratchet.orphaned().items():
            lines.append(
                f"  the baseline lists {len(fingerprints)} violation(s) of contract {cid!r}, "
                "which no longer exists (renamed or deleted); --ssot-baseline-prune drops them"
            )
        for cid, fingerprints in self.ratchet.refused.items():
            lines.append(
                f"  REFUSED to add {len(fingerprints)} new violation(s) of {cid!r} to the baseline "
                "(ssot_baseline_no_growth = true): fix them instead"
            )
            lines.extend(f"    {fp}" for fp in sorted(fingerprints))
        if self.ratchet.refused:
            lines.append(f"  nothing written: {shown} is left as it was")
        if self.ratchet.written:
            lines.append(
                f"  baseline written: {shown} now holds {self.ratchet.baseline.size} entries"
            )
        elif writes and not self.ratchet.refused and not write_failed:
            lines.append(f"  baseline unchanged: nothing in {shown} to add or drop")
        return lines

    def _table(self) -> list[str]:
        """One row per contract and runtime key: frozen, fixed and new, and the totals."""
        lines: list[str] = []
        rows: list[tuple[str, ...]] = [("contract", "frozen", "fixed", "new")]
        totals = [0, 0, 0]
        unknown = False
        for cid, comparison in self.ratchet.results.comparisons.items():
            counts = [len(comparison.frozen), len(comparison.fixed), len(comparison.new)]
            totals = [a + b for a, b in zip(totals, counts, strict=True)]
            rows.append((cid, *(str(c) for c in counts)))
        for key, row in self.ratchet.runtime_comparisons().items():
            fixed = "?" if row.fixed is None else str(len(row.fixed))
            unknown |= row.fixed is None
            counts = [len(row.frozen), len(row.fixed or ()), len(row.new)]
            totals = [a + b for a, b in zip(totals, counts, strict=True)]
            rows.append((key, str(len(row.frozen)), fixed, str(len(row.new))))
        rows.append(("total", *(str(t) for t in totals)))
        width = max(len(r[0]) for r in rows)
        for row_text in rows:
            lines.append(
                f"  {row_text[0]:<{width}}  {row_text[1]:>6}  {row_text[2]:>5}  {row_text[3]:>5}"
            )
        if unknown:
            lines.append(
                "  (? = not known: not every test ran, so a runtime finding not seen may just "
                "not have been run)"
            )
        return lines

    def _kept_lines(self) -> list[str]:
        """Why an update or prune kept entries it could not re-check."""
        entries = self.ratchet.initial.entries
        results = self.ratchet.results.results
        lines: list[str] = []
        unchecked = sorted(
            cid
            for cid in self.ratchet.contract_ids
            if entries.get(cid) and (cid not in results or results[cid].error)
        )
        if unchecked:
            lines.append(
                f"  kept the entries of {len(unchecked)} contract(s) this run did not check "
                f"(deselected, or could not be checked): {', '.join(unchecked)}"
            )
        runtime = sum(len(v) for k, v in entries.items() if k.startswith(RUNTIME_PREFIX))
        if runtime and not self.ratchet.end.complete:
            why = (
                "a pytest-xdist worker crashed, and what it saw was lost"
                if self.ratchet.end.workers_lost
                else "not every test ran (-k, -m, --deselect, --lf, -x, --ssot-only)"
            )
            lines.append(
                f"  kept {runtime} runtime entries as they were: {why}, so a finding not seen "
                "may just not have been run; run the whole suite to drop the fixed ones"
            )
        return lines

    def _grouped(self, entries: dict[str, set[str]] | dict[str, tuple[str, ...]]) -> list[str]:
        """Entries grouped by contract or runtime key, capped like chains (-v lists all)."""
        cap = None if self.settings.verbose else self.settings.max_chains
        lines: list[str] = []
        for key, fingerprints in sorted(entries.items()):
            ordered = sorted(fingerprints)
            lines.append(f"    {key}:")
            shown = ordered if cap is None else ordered[:cap]
            lines.extend(f"      {fp}" for fp in shown)
            if len(shown) < len(ordered):
                lines.append(f"      ... and {len(ordered) - len(shown)} more (-v lists all)")
        return lines
