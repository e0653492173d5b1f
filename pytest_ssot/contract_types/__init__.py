"""pytest-ssot's own import-linter contract types, for the shape of an SSOT migration.

Register them in ``[tool.importlinter]`` (they then work under ``pytest --ssot``
and plain ``lint-imports`` alike)::

    contract_types = [
        "single_source: pytest_ssot.contract_types.SingleSourceContract",
        "unique_definition: pytest_ssot.contract_types.UniqueDefinitionContract",
    ]

Their findings reach pytest-ssot's report as ``pytest_ssot.model.Violation``
objects in ``ContractCheck.metadata["ssot_violations"]``; ``lint-imports``
prints them with ``render_broken_contract``. The finding kinds are listed in
``KINDS`` and explained in docs/contract-types.md.

Layering: this package imports only the standard library, import-linter's
public API for contract types, grimp and the bottom layer of pytest-ssot
(``model``, ``expressions``, ``installed``). Inside it (the contract
``contract-types-layers`` in pyproject.toml): ``single_source`` and
``unique_definition`` on top, independent of each other; ``_common`` (options,
finding kinds, ignores, rendering) below them; ``_matching`` (patterns) and
``_source_index`` (what source files define, cached) at the bottom.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pytest_ssot.contract_types._common import KINDS
    from pytest_ssot.contract_types.single_source import SingleSourceContract
    from pytest_ssot.contract_types.unique_definition import UniqueDefinitionContract

__all__ = ["KINDS", "SingleSourceContract", "UniqueDefinitionContract"]

_HOMES = {
    "KINDS": "pytest_ssot.contract_types._common",
    "SingleSourceContract": "pytest_ssot.contract_types.single_source",
    "UniqueDefinitionContract": "pytest_ssot.contract_types.unique_definition",
}


def __getattr__(name: str) -> Any:
    """The contract types on first use: the package's pure modules (``_source_index``,
    which the fixer reads stored plans with) do not import import-linter with them."""
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value
