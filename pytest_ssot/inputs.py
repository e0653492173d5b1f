"""What a run reads at start-up, once: the contract files and the manager declarations.

Loaded when pytest is configured, not at collection: the runtime checks need the
contracts and the managers before the first test module is imported. The
``[tool.ssot]`` tables are read once (``sources.read_declarations``) for both.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from pytest_ssot.managers import ManagerSpec, load_manager_specs
from pytest_ssot.model import ConfigError, ContractSpec
from pytest_ssot.settings import Settings
from pytest_ssot.sources import LoadedFile, load_sources, read_declarations


@dataclass(frozen=True)
class RunInputs:
    """The contract files as loaded (each with its contracts or its error) and the managers."""

    loaded: tuple[LoadedFile, ...]
    error: ConfigError | None
    """A problem that stops every contract (nothing to check, a named file missing)."""
    managers: tuple[ManagerSpec, ...]

    @property
    def specs(self) -> list[ContractSpec]:
        """Every contract that loaded without error, in order."""
        return [spec for f in self.loaded if f.source for spec in f.source.contracts]

    @property
    def complete(self) -> bool:
        """Every contract file loaded: a contract not among the specs does not exist."""
        return self.error is None and all(f.error is None for f in self.loaded)


def load_inputs(settings: Settings) -> RunInputs:
    """Load the contracts and the managers; a usage error for what must stop the run."""
    declarations = read_declarations(settings.rootdir, settings.contract_entries)
    loaded: list[LoadedFile] = []
    error: ConfigError | None = None
    try:
        loaded = load_sources(
            settings.rootdir, settings.contract_entries, settings.config_file, declarations
        )
    except ConfigError as exc:
        error = exc
    inputs = RunInputs(tuple(loaded), error, ())
    if inputs.complete:
        settings.check_contract_ids([spec.id for spec in inputs.specs])
    try:
        managers = load_manager_specs(settings.rootdir, settings.contract_entries, declarations)
    except ConfigError as exc:
        raise pytest.UsageError(f"pytest-ssot: {exc}") from None
    return RunInputs(inputs.loaded, error, tuple(managers))
