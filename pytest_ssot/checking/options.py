"""The per-contract settings of static checking, read by the checks and the cache keys."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from pytest_ssot.model import ContractSpec
from pytest_ssot.result_cache import graph_only


@dataclass(frozen=True)
class CheckOptions:
    """How each contract is checked, beyond its own options."""

    redundant_ignores: Callable[[ContractSpec], str]
    """warn, error or off per contract: whether to look for ignores that no longer matter."""
    dynamic_imports: Callable[[ContractSpec], bool]
    """Per contract: whether its graph gets the modules loaded by name (dynamic_imports.py)."""
    redundant_budget: float | None
    """Seconds the search for ignores that no longer matter may take per contract."""

    def finds_redundant(self, spec: ContractSpec) -> bool:
        return self.redundant_ignores(spec) != "off"

    def graph_only(self, group: Sequence[ContractSpec]) -> bool:
        """Whether the group's results follow from the import graph alone.

        Not when the graph gets the modules loaded by name (ssot_static_dynamic_imports):
        those come from calls in the code, which an edit can change without an import.
        """
        return graph_only(group) and not any(self.dynamic_imports(s) for s in group)
