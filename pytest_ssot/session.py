"""The per-run coordinator, registered as a pytest plugin only when ``--ssot`` is on.

It reads the settings, loads the contract sources, adds the contract items to
the collection and writes the terminal summary. Keeping these hooks here, not in
``plugin.py``, is what makes a run without ``--ssot`` cost nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from pytest_ssot.baseline import Baseline, BaselineError
from pytest_ssot.checking import StaticChecker
from pytest_ssot.items import ContractSource, SsotConfigError, SsotContext
from pytest_ssot.model import ConfigError, ContractSpec
from pytest_ssot.reporting.github import annotation_lines, running_on_github
from pytest_ssot.reporting.text import DEFAULT_MAX_CHAINS, summary_lines
from pytest_ssot.runtime.findings import Finding, FindingsReporter
from pytest_ssot.runtime.phase import PhaseTracker
from pytest_ssot.sources import LoadedFile, display_path, load_sources

CACHE_DIR_NAME = "pytest-ssot"


@dataclass(frozen=True)
class Settings:
    rootdir: Path
    contract_entries: tuple[str, ...]
    config_file: str | None
    max_chains: int
    only: bool
    baseline: Path | None = None
    baseline_update: bool = False
    baseline_prune: bool = False
    baseline_strict: bool = False
    baseline_no_growth: bool = False
    report: Path | None = None

    @classmethod
    def from_config(cls, config: pytest.Config) -> Settings:
        raw_max = str(config.getini("ssot_max_chains") or "").strip()
        try:
            max_chains = int(raw_max) if raw_max else DEFAULT_MAX_CHAINS
            if max_chains < 1:
                raise ValueError
        except ValueError:
            raise pytest.UsageError(
                f"ssot_max_chains must be a positive whole number, not {raw_max!r}"
            ) from None
        rootdir = Path(config.rootpath)

        def path_setting(option: str, ini: str) -> Path | None:
            # A command-line path is relative to the current directory, an ini path
            # to the rootdir, as with pytest's own options.
            given = config.getoption(option)
            if given:
                return Path(given).absolute()
            value = str(config.getini(ini) or "").strip()
            return rootdir / value if value else None

        strict = config.getoption("ssot_baseline_strict")
        settings = cls(
            rootdir=rootdir,
            contract_entries=tuple(config.getini("ssot_contracts")),
            config_file=str(config.getini("ssot_config") or "").strip() or None,
            max_chains=max_chains,
            only=bool(config.getoption("ssot_only")),
            baseline=path_setting("ssot_baseline", "ssot_baseline"),
            baseline_update=bool(config.getoption("ssot_baseline_update")),
            baseline_prune=bool(config.getoption("ssot_baseline_prune")),
            baseline_strict=bool(
                strict if strict is not None else config.getini("ssot_baseline_strict")
            ),
            baseline_no_growth=bool(config.getini("ssot_baseline_no_growth")),
            report=path_setting("ssot_report", "ssot_report"),
        )
        if (settings.baseline_update or settings.baseline_prune) and settings.baseline is None:
            raise pytest.UsageError(
                "--ssot-baseline-update and --ssot-baseline-prune need a baseline file: set the "
                "ini key 'ssot_baseline' (for example .ssot-baseline.json) or pass "
                "--ssot-baseline=PATH"
            )
        if settings.baseline_update and settings.baseline_prune:
            raise pytest.UsageError(
                "--ssot-baseline-update already drops fixed violations; "
                "use it or --ssot-baseline-prune, not both"
            )
        return settings


class SsotSession:
    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.settings = Settings.from_config(config)
        cache_root: Path | None = None
        cache = getattr(config, "cache", None)  # absent with -p no:cacheprovider
        if cache is not None:
            cache_root = Path(cache.mkdir(CACHE_DIR_NAME))
        self.baseline: Baseline | None = None
        if self.settings.baseline is not None:
            try:
                self.baseline = Baseline.load(
                    self.settings.baseline,
                    display_path(self.settings.baseline, self.settings.rootdir),
                )
            except BaselineError as exc:
                # Nothing runs and nothing is written: the file stays as it is.
                raise pytest.UsageError(f"pytest-ssot: {exc}") from None
        self.context = SsotContext(
            rootdir=self.settings.rootdir,
            checker=StaticChecker(self.settings.rootdir, cache_root),
            max_chains=self.settings.max_chains,
            baseline=self.baseline,
            strict=self.settings.baseline_strict,
            freezing=self.settings.baseline_update and not self.settings.baseline_no_growth,
        )
        self.baseline_written = False
        self.refused: dict[str, set[str]] = {}
        # Loaded now, not at collection: the runtime checks need the contracts
        # before the first test module is imported.
        self.loaded: list[LoadedFile] = []
        self.load_error: ConfigError | None = None
        try:
            self.loaded = load_sources(
                self.settings.rootdir, self.settings.contract_entries, self.settings.config_file
            )
        except ConfigError as exc:
            self.load_error = exc
        self.phases = PhaseTracker()
        self.findings = FindingsReporter(self.phases)
        config.pluginmanager.register(self.phases, "ssot-phases")
        config.pluginmanager.register(self.findings, "ssot-findings")

    @property
    def specs(self) -> list[ContractSpec]:
        """Every contract that loaded without error, in order."""
        return [spec for f in self.loaded if f.source for spec in f.source.contracts]

    # -- collection -------------------------------------------------------------

    def pytest_ignore_collect(self, collection_path: Path, config: pytest.Config) -> bool | None:
        # --ssot-only: contracts only, no test module is imported.
        return True if self.settings.only else None

    @pytest.hookimpl(tryfirst=True)
    def pytest_collection_modifyitems(
        self, session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
    ) -> None:
        # tryfirst: our items must exist before -k/-m deselection and --lf filtering.
        ours = [item for node in self._source_nodes(session) for item in session.genitems(node)]
        items[:0] = ours

    def _source_nodes(self, session: pytest.Session) -> list[pytest.Collector]:
        if self.load_error is not None:
            return [
                SsotConfigError.from_parent(
                    session, name="pytest-ssot", nodeid="pytest-ssot", message=str(self.load_error)
                )
            ]
        return [
            ContractSource.from_parent(
                session, name=f.display, nodeid=f.display, loaded=f, context=self.context
            )
            for f in self.loaded
        ]

    # -- the end of the run ----------------------------------------------------------

    @property
    def is_worker(self) -> bool:
        return hasattr(self.config, "workerinput")

    def orphaned(self) -> dict[str, set[str]]:
        if self.baseline is None or self.load_error is not None:
            return {}
        if any(f.error is not None for f in self.loaded):
            return {}  # a file failed to load: its contracts are unknown, not deleted
        return self.baseline.orphaned(spec.id for spec in self.specs)

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if self.is_worker:
            return  # only the controller writes files
        incomplete = exitstatus in (
            pytest.ExitCode.INTERRUPTED,
            pytest.ExitCode.INTERNAL_ERROR,
            pytest.ExitCode.USAGE_ERROR,
        )
        failed = False
        if (
            self.baseline is not None
            and not incomplete
            and (self.settings.baseline_update or self.settings.baseline_prune)
        ):
            failed |= self._write_baseline()
        if self.baseline is not None and self.settings.baseline_strict:
            failed |= bool(self.orphaned()) and not self.baseline_written
        if self.refused:
            failed = True
        if failed and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
        if self.settings.report is not None:
            self._write_report(int(session.exitstatus))

    def _write_baseline(self) -> bool:
        assert self.baseline is not None
        checked = {cid for cid, result in self.context.results.items() if result.error is None}
        current = {
            cid: {v.fingerprint for v in self.context.results[cid].violations} for cid in checked
        }
        allow_growth = self.settings.baseline_update and not self.settings.baseline_no_growth
        updated, refused = self.baseline.updated(
            current,
            checked=checked,
            known_keys=[spec.id for spec in self.specs],
            allow_growth=allow_growth,
        )
        if self.settings.baseline_update:
            self.refused = refused  # ssot_baseline_no_growth said no
        if updated.entries != self.baseline.entries or not self.baseline.exists:
            updated.save()
            self.baseline_written = True
            self.previous_baseline, self.baseline = self.baseline, updated
        return bool(self.refused)

    def _write_report(self, exit_status: int) -> None:
        import datetime

        import pytest_ssot
        from pytest_ssot.adapter import versions
        from pytest_ssot.reporting.json_report import BaselineInfo, build_report, write_report

        outcomes = [
            (result, self.context.comparisons.get(cid))
            for cid, result in self.context.results.items()
        ]
        baseline_info = None
        if self.baseline is not None:
            baseline_info = BaselineInfo(
                path=display_path(self.baseline.path, self.settings.rootdir),
                exists=self.baseline.exists,
                strict=self.settings.baseline_strict,
                orphaned={k: sorted(v) for k, v in self.orphaned().items()},
                written=self.baseline_written,
                refused={k: sorted(v) for k, v in self.refused.items()},
            )
        report = build_report(
            outcomes=outcomes,
            graphs=self.context.checker.graph_stats(),
            versions={"pytest-ssot": pytest_ssot.__version__, **versions()},
            created=datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            rootdir=str(self.settings.rootdir),
            exit_status=exit_status,
            baseline=baseline_info,
            runtime=[finding_dict(f) for f in self.findings.findings],
        )
        assert self.settings.report is not None
        write_report(self.settings.report, report)

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        results = list(self.context.results.values())
        if not results:
            return
        terminalreporter.section("pytest-ssot")
        lines = summary_lines(
            results,
            self.context.checker.graph_stats(),
            verbose=self.config.get_verbosity() > 0,
            comparisons=self.context.comparisons,
        )
        for line in lines:
            terminalreporter.write_line(line)
        if self.baseline is not None:
            for line in self._baseline_lines():
                terminalreporter.write_line(line)
        if self.settings.report is not None:
            terminalreporter.write_line(f"report written to {shown_path(self.settings)}")
        if running_on_github():
            items = [
                (result, self.context.comparisons[cid].new)
                if cid in self.context.comparisons
                else (result, result.violations)
                for cid, result in self.context.results.items()
            ]
            for line in annotation_lines(items, self.settings.rootdir):
                terminalreporter.write_line(line)

    def _baseline_lines(self) -> list[str]:
        assert self.baseline is not None
        shown = display_path(self.baseline.path, self.settings.rootdir)
        lines = ["", f"migration progress against the baseline {shown}:"]
        if not self.baseline.exists and not self.baseline_written:
            lines.append("  (the file does not exist yet: create it with --ssot-baseline-update)")
        rows: list[tuple[str, ...]] = [("contract", "frozen", "fixed", "new")]
        totals = [0, 0, 0]
        for cid, comparison in self.context.comparisons.items():
            counts = [len(comparison.frozen), len(comparison.fixed), len(comparison.new)]
            totals = [a + b for a, b in zip(totals, counts, strict=True)]
            rows.append((cid, *(str(c) for c in counts)))
        rows.append(("total", *(str(t) for t in totals)))
        width = max(len(r[0]) for r in rows)
        for row in rows:
            lines.append(f"  {row[0]:<{width}}  {row[1]:>6}  {row[2]:>5}  {row[3]:>5}")
        if totals[1]:
            lines.append(
                f"  {totals[1]} baseline entries no longer occur: shrink the file with "
                "pytest --ssot --ssot-baseline-prune"
            )
        for cid, fingerprints in self.orphaned().items():
            lines.append(
                f"  the baseline lists {len(fingerprints)} violation(s) of contract {cid!r}, "
                "which no longer exists (renamed or deleted); --ssot-baseline-prune drops them"
            )
        for cid, fingerprints in self.refused.items():
            lines.append(
                f"  REFUSED to add {len(fingerprints)} new violation(s) of {cid!r} to the baseline "
                "(ssot_baseline_no_growth = true): fix them instead"
            )
            lines.extend(f"    {fp}" for fp in sorted(fingerprints))
        if self.baseline_written:
            lines.append(f"  baseline written: {shown} now holds {self.baseline.size} entries")
        return lines


def shown_path(settings: Settings) -> str:
    """The report path as given: relative inside the rootdir, absolute outside it."""
    assert settings.report is not None
    try:
        return settings.report.relative_to(settings.rootdir).as_posix()
    except ValueError:
        return str(settings.report)


def finding_dict(finding: Finding) -> dict[str, Any]:
    return {
        "check": finding.check,
        "rule": finding.rule,
        "summary": finding.summary,
        "details": finding.details,
        "phase": finding.phase.describe(),
        "nodeid": finding.phase.nodeid or None,
        "fingerprint": finding.fingerprint,
        "severity": finding.severity,
        "file": finding.file,
        "line": finding.line,
    }
