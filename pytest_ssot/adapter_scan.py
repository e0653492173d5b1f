"""The part of the adapter that needs grimp alone: re-reading the imports of a few files.

Apart from ``adapter.py`` because that module imports import-linter (and Rich), which
costs more than everything else a run does after an edit that kept every import. Like
``adapter.py`` it uses grimp's internal API, checked against both ends of
``adapter.SUPPORTED`` in CI.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from pytest_ssot.model import GraphError, GraphKey


def scan_module_imports(
    key: GraphKey,
    packages: Sequence[tuple[str, Path, Iterable[str]]],
    targets: Iterable[str],
) -> dict[str, dict[str, tuple[int, ...]]]:
    """Re-read the imports of a few modules as grimp would: {module: {imported: lines}}.

    ``packages`` are the root packages' folders with every module in them (grimp
    needs them all to tell ``from pkg import name`` a module from an attribute).
    Raises GraphError when a file cannot be read or parsed.
    """
    from grimp import _rustgrimp as rust  # type: ignore[attr-defined]
    from grimp.application.config import settings
    from grimp.application.ports.modulefinder import FoundPackage, ModuleFile
    from grimp.domain.valueobjects import Module

    found = {
        FoundPackage(
            name=name,
            directory=str(folder),
            module_files=frozenset(ModuleFile(module=Module(m), mtime=0.0) for m in modules),
        )
        for name, folder, modules in packages
    }
    wanted = tuple(targets)
    try:
        scanned = rust.scan_for_imports(
            module_files=tuple(ModuleFile(module=Module(m), mtime=0.0) for m in wanted),
            found_packages=found,
            include_external_packages=bool(key.include_external_packages),
            exclude_type_checking_imports=bool(key.exclude_type_checking_imports),
            file_system=settings.FILE_SYSTEM.convert_to_basic(),
        )
    except Exception as exc:  # whatever it is, the caller builds the whole graph instead
        raise GraphError(f"cannot re-read the imports of {', '.join(wanted)}: {exc}") from None
    result: dict[str, dict[str, tuple[int, ...]]] = {}
    for module in wanted:
        lines: dict[str, set[int]] = {}
        for direct in scanned.get(Module(module), ()):
            lines.setdefault(direct.imported.name, set()).add(direct.line_number)
        result[module] = {name: tuple(sorted(numbers)) for name, numbers in lines.items()}
    return result
