"""Collecting the contracts: one node per contract file, one item per contract.

The contract files are loaded once by the session; this hook object turns them
into pytest nodes: a file named on the command line is collected like a test
file, the others are added in front of the tests (before -k/-m deselection), and
``--ssot-only`` keeps pytest from importing any test module.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from pytest_ssot.items import ContractFile, ContractItem, SsotConfigError, SsotContext
from pytest_ssot.model import ConfigError, ContractSpec
from pytest_ssot.paths import display_path
from pytest_ssot.selection import NAMED, NONE, Selection, decide
from pytest_ssot.settings import Settings
from pytest_ssot.sources import LoadedFile, project_config_path


def deselected_line(count: int) -> str:
    return (
        f"pytest-ssot: {count} contract{'s' if count != 1 else ''} deselected: only the "
        "tests named on the command line run (name a folder, a contract file or no path "
        "to check the contracts)"
    )


class ContractCollection:
    """pytest hook object: the contract files and items in the collection."""

    def __init__(
        self,
        config: pytest.Config,
        settings: Settings,
        loaded: Sequence[LoadedFile],
        load_error: ConfigError | None,
        context: Callable[[], SsotContext],
    ) -> None:
        self.config = config
        self.settings = settings
        self.loaded = loaded
        self.load_error = load_error
        self.context = context
        """The nodes' shared context, made when the first node is (after a --ssot-fix)."""
        self._selection: Selection | None = None
        self.collected_sources: set[Path] = set()
        """Contract files pytest collected because the command line named them."""
        self.not_selected: list[pytest.Item] = []
        """Contract items deselected because only tests were named on the command line."""

    @property
    def selection(self) -> Selection:
        """Which contracts this run checks, from the command line (pytest_ssot.selection)."""
        if self._selection is None:
            config = self.config
            self._selection = decide(
                [str(a) for a in config.args],
                explicit=config.args_source == pytest.Config.ArgsSource.ARGS,
                invocation_dir=Path(config.invocation_params.dir),
                sources=[f.path for f in self.loaded],
                pyargs=bool(config.getoption("pyargs", False)),
            )
        return self._selection

    def pytest_ignore_collect(self, collection_path: Path, config: pytest.Config) -> bool | None:
        # --ssot-only: contracts only, no test module is imported; a contract file
        # named on the command line (and the folders down to it) is still collected.
        if not self.settings.only:
            return None
        path = collection_path.resolve()
        if any(path == named or path in named.parents for named in self.selection.named):
            return None
        return True

    def pytest_collect_file(
        self, file_path: Path, parent: pytest.Collector
    ) -> pytest.Collector | None:
        """A contract file named on the command line is collected like a test file.

        So ``pytest --ssot contracts/ssot.toml::some-id`` (the node id of a FAILED
        line) selects that contract, and ``pytest --ssot contracts/ssot.toml`` the file.
        """
        named = self.selection.named
        if not named or not parent.session.isinitpath(file_path):
            return None
        path = file_path.resolve()
        for loaded in self.loaded:
            if loaded.path.resolve() == path and path in named:
                self.collected_sources.add(path)
                return self._source_node(parent, loaded)
        return None

    @pytest.hookimpl(tryfirst=True)
    def pytest_collection_modifyitems(
        self, session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
    ) -> None:
        # tryfirst: our items must exist before -k/-m deselection and --lf filtering.
        ours = [item for node in self._source_nodes(session) for item in session.genitems(node)]
        if self.selection.mode == NONE:
            # Only tests were named: the contracts do not run, and the final line says so.
            self.not_selected = [i for i in ours if isinstance(i, ContractItem)]
            ours = [i for i in ours if not isinstance(i, ContractItem)]
            if self.not_selected:
                config.hook.pytest_deselected(items=self.not_selected)
        items[:0] = ours

    def pytest_report_header(self, config: pytest.Config) -> str | None:
        """Which contract files this run loaded, as pytest prints its ``configfile:``.

        Running in a subfolder with its own import-linter config, pytest-ssot still
        reads the rootdir's (lint-imports would read the local one): this line says so.
        """
        project = project_config_path(self.settings.rootdir, self.settings.config_file)
        parts = []
        if project is not None:
            parts.append(f"import-linter config {display_path(project, self.settings.rootdir)}")
        others = [f.display for f in self.loaded if project is None or f.path != project]
        if others:
            parts.append(f"contract files {', '.join(others)}")
        return f"pytest-ssot: {'; '.join(parts)}" if parts else None

    def pytest_report_collectionfinish(self, config: pytest.Config) -> str | None:
        return deselected_line(len(self.not_selected)) if self.not_selected else None

    def contracts_left_out(self, specs: Sequence[ContractSpec]) -> bool:
        """Only tests were named and the xdist workers deselected the contracts: neither the
        header nor the controller's final line shows it, so the summary says it."""
        return self.selection.mode == NONE and bool(specs) and not self.not_selected

    def _source_node(self, parent: pytest.Collector, loaded: LoadedFile) -> ContractFile:
        node: ContractFile = ContractFile.from_parent(
            parent,
            name=loaded.display,
            nodeid=loaded.display,
            loaded=loaded,
            context=self.context(),
        )
        return node

    def _source_nodes(self, session: pytest.Session) -> list[pytest.Collector]:
        if self.load_error is not None:
            return [
                SsotConfigError.from_parent(
                    session, name="pytest-ssot", nodeid="pytest-ssot", message=str(self.load_error)
                )
            ]
        if self.selection.mode == NAMED:
            return []  # pytest collected the named files itself (pytest_collect_file)
        return [
            self._source_node(session, f)
            for f in self.loaded
            if f.path.resolve() not in self.collected_sources
        ]
