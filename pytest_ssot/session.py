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

from pytest_ssot.checking import StaticChecker
from pytest_ssot.items import ContractSource, SsotConfigError, SsotContext
from pytest_ssot.model import ConfigError, ContractSpec
from pytest_ssot.reporting.text import DEFAULT_MAX_CHAINS, summary_lines
from pytest_ssot.runtime.findings import FindingsReporter
from pytest_ssot.runtime.phase import PhaseTracker
from pytest_ssot.sources import LoadedFile, load_sources

CACHE_DIR_NAME = "pytest-ssot"


@dataclass(frozen=True)
class Settings:
    rootdir: Path
    contract_entries: tuple[str, ...]
    config_file: str | None
    max_chains: int
    only: bool

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
        return cls(
            rootdir=Path(config.rootpath),
            contract_entries=tuple(config.getini("ssot_contracts")),
            config_file=str(config.getini("ssot_config") or "").strip() or None,
            max_chains=max_chains,
            only=bool(config.getoption("ssot_only")),
        )


class SsotSession:
    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.settings = Settings.from_config(config)
        cache_root: Path | None = None
        cache = getattr(config, "cache", None)  # absent with -p no:cacheprovider
        if cache is not None:
            cache_root = Path(cache.mkdir(CACHE_DIR_NAME))
        self.context = SsotContext(
            rootdir=self.settings.rootdir,
            checker=StaticChecker(self.settings.rootdir, cache_root),
            max_chains=self.settings.max_chains,
        )
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

    # -- reporting --------------------------------------------------------------

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        results = list(self.context.results.values())
        if not results:
            return
        terminalreporter.section("pytest-ssot")
        lines = summary_lines(
            results,
            self.context.checker.graph_stats(),
            verbose=self.config.get_verbosity() > 0,
        )
        for line in lines:
            terminalreporter.write_line(line)
