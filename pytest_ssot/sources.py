"""Find and read the contract sources: the project's import-linter config and contract files.

Parsing follows import-linter's own readers (section names, list values, TOML
booleans arriving as strings) so that a contract means the same thing here as
under ``lint-imports``, but every error names the file and, when known, the line.
Pure functions of the file system: no pytest, no import-linter.
"""

from __future__ import annotations

import configparser
import glob
import os
import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pytest_ssot.model import ConfigError, ContractSource, ContractSpec, SessionOptions

INI_SECTION = "importlinter"
CONTRACT_PREFIX = "importlinter:contract:"
# The places import-linter itself looks, in its own order: INI readers first.
PROJECT_CONFIG_FILES = ("setup.cfg", ".importlinter", "pyproject.toml")
CONTRACT_FILE_SUFFIXES = (".toml", ".ini", ".cfg", ".importlinter")
_TRUE = ("true", "True")
_SECTION_RE = re.compile(r"^\s*\[\s*([^\]]+?)\s*\]\s*(?:[#;].*)?$")
_TOML_CONTRACT_RE = re.compile(r"^\s*\[\[\s*tool\s*\.\s*importlinter\s*\.\s*contracts\s*\]\]")
_ID_RE = re.compile(r"[^A-Za-z0-9_.-]+")


@dataclass(frozen=True)
class RawFile:
    """What one file says, before it is merged with the project's session options."""

    path: Path
    session: Mapping[str, Any] | None
    contracts: tuple[tuple[dict[str, Any], int], ...]  # (options, line)


def display_path(path: Path, rootdir: Path) -> str:
    """The path as users see it in node ids: relative to the rootdir, with forward slashes."""
    try:
        rel = os.path.relpath(path, rootdir)
    except ValueError:  # another drive on Windows
        rel = str(path)
    return rel.replace(os.sep, "/")


def derive_contract_id(name: str) -> str:
    """An id for a TOML contract that has none: its name, made safe for node ids."""
    slug = _ID_RE.sub("-", name.strip()).strip("-").lower()
    return slug or "contract"


def _is_true(value: Any) -> bool:
    return str(value) in _TRUE


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value] if value.strip() else []
    return [str(v) for v in value]


# ---------------------------------------------------------------------------
# Reading single files


def read_ini(path: Path, text: str) -> RawFile | None:
    """Read an INI file the way import-linter does; None if it has no import-linter sections."""
    parser = configparser.ConfigParser()
    try:
        parser.read_string(text, source=str(path))
    except configparser.ParsingError as exc:
        line = exc.errors[0][0] if exc.errors else None
        lines = text.splitlines()
        content = lines[line - 1].strip() if line and line <= len(lines) else ""
        raise ConfigError(
            f"{path.name}: not a valid INI file: line {line}: cannot parse {content!r}",
            path=path,
            line=line,
        ) from None
    except configparser.Error as exc:
        line = getattr(exc, "lineno", None)
        raise ConfigError(
            f"{path.name}: not a valid INI file: {_first_line(exc)}", path=path, line=line
        ) from None
    section_lines = _ini_section_lines(text)
    has_session = INI_SECTION in parser.sections()
    contracts: list[tuple[dict[str, Any], int]] = []
    for section in parser.sections():
        if not section.startswith(f"{INI_SECTION}:"):
            continue
        try:
            items = dict(parser[section])
        except configparser.Error as exc:
            raise ConfigError(
                f"section [{section}]: {_first_line(exc)}",
                path=path,
                line=section_lines.get(section),
            ) from None
        options: dict[str, Any] = {"id": section.split(":")[-1]}
        options.update(_clean_ini_values(items))
        contracts.append((options, section_lines.get(section, 0)))
    if not has_session and not contracts:
        return None
    session = _clean_ini_values(dict(parser[INI_SECTION])) if has_session else None
    return RawFile(path, session, tuple(contracts))


def _clean_ini_values(section: Mapping[str, str]) -> dict[str, Any]:
    # import-linter turns multi-line values into lists, single lines stay strings.
    cleaned: dict[str, Any] = {}
    for key, value in section.items():
        cleaned[key] = value.strip().split("\n") if "\n" in value else value
    return cleaned


def _ini_section_lines(text: str) -> dict[str, int]:
    lines: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        match = _SECTION_RE.match(line)
        if match:
            lines.setdefault(match.group(1), number)
    return lines


def read_toml(path: Path, text: str) -> RawFile | None:
    """Read ``[tool.importlinter]`` from a TOML file; None if the file has no such table."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = _toml_error_line(exc)
        raise ConfigError(
            f"{path.name}: not a valid TOML file: {exc}", path=path, line=line
        ) from None
    tool = data.get("tool", {})
    table = tool.get("importlinter") if isinstance(tool, dict) else None
    if not table:
        return None
    if not isinstance(table, dict):
        raise ConfigError(f"{path.name}: [tool.importlinter] must be a table", path=path)
    session = dict(table)
    raw_contracts = session.pop("contracts", [])
    if not isinstance(raw_contracts, list) or not all(isinstance(c, dict) for c in raw_contracts):
        raise ConfigError(
            f"{path.name}: tool.importlinter.contracts must be an array of tables "
            "([[tool.importlinter.contracts]])",
            path=path,
        )
    header_lines = [
        n for n, line in enumerate(text.splitlines(), start=1) if _TOML_CONTRACT_RE.match(line)
    ]
    contracts = []
    for index, contract in enumerate(raw_contracts):
        line = header_lines[index] if index < len(header_lines) else 0
        contracts.append((_stringify_booleans(contract), line))
    return RawFile(path, _stringify_booleans(session), tuple(contracts))


def _stringify_booleans(data: Mapping[str, Any]) -> dict[str, Any]:
    # import-linter's TOML reader hands booleans to the contracts as "True"/"False".
    return {k: (str(v) if isinstance(v, bool) else v) for k, v in data.items()}


def _toml_error_line(exc: tomllib.TOMLDecodeError) -> int | None:
    lineno = getattr(exc, "lineno", None)  # Python 3.14+
    if isinstance(lineno, int):
        return lineno
    match = re.search(r"line (\d+)", str(exc))
    return int(match.group(1)) if match else None


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def read_file(path: Path) -> RawFile | None:
    """Read one config or contract file, choosing the format by its name like import-linter."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror or exc}", path=path) from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path.name} is not UTF-8 text: {exc.reason}", path=path) from None
    if path.suffix == ".toml":
        return read_toml(path, text)
    return read_ini(path, text)


# ---------------------------------------------------------------------------
# Finding files


def find_project_config(rootdir: Path) -> RawFile | None:
    """The project's own import-linter config, searched as import-linter searches the cwd."""
    for name in PROJECT_CONFIG_FILES:
        candidate = rootdir / name
        if candidate.is_file():
            raw = read_file(candidate)
            if raw is not None:
                return raw
    return None


def expand_contract_paths(entries: Sequence[str], rootdir: Path) -> list[Path]:
    """Resolve the ``ssot_contracts`` entries: files, folders and globs, relative to the rootdir."""
    found: list[Path] = []
    for entry in entries:
        entry = entry.strip()
        if not entry:
            continue
        pattern = entry if Path(entry).is_absolute() else str(rootdir / entry)
        if glob.has_magic(entry):
            # glob.glob, not Path.glob: the pattern may be absolute and may use '**'.
            matches = sorted(Path(p) for p in glob.glob(pattern, recursive=True))  # noqa: PTH207
            files = [p for p in matches if p.is_file()]
            files += [f for p in matches if p.is_dir() for f in _contract_files_in(p)]
            if not files:
                raise ConfigError(f"ssot_contracts: the pattern '{entry}' matches no contract file")
            found.extend(files)
            continue
        path = Path(pattern)
        if path.is_dir():
            files = _contract_files_in(path)
            if not files:
                raise ConfigError(
                    f"ssot_contracts: the folder '{entry}' holds no contract file "
                    f"({', '.join('*' + s for s in CONTRACT_FILE_SUFFIXES)})"
                )
            found.extend(files)
        elif path.is_file():
            found.append(path)
        else:
            raise ConfigError(f"ssot_contracts: '{entry}' does not exist (looked in {path})")
    unique: dict[Path, None] = {}
    for path in found:
        unique.setdefault(path.resolve(), None)
    return list(unique)


def _contract_files_in(folder: Path) -> list[Path]:
    return sorted(
        p for p in folder.rglob("*") if p.is_file() and p.name.endswith(CONTRACT_FILE_SUFFIXES)
    )


# ---------------------------------------------------------------------------
# Merging into contract sources


def build_session(raw: Mapping[str, Any], path: Path) -> SessionOptions:
    options = dict(raw)
    roots = _as_list(options.get("root_packages")) or _as_list(options.get("root_package"))
    if not roots:
        raise ConfigError(
            f"{path.name}: no root_package or root_packages in [importlinter] "
            "(set it here or in the project's import-linter config)",
            path=path,
        )
    bad = [r for r in roots if not is_dotted_name(r)]
    if bad:
        raise ConfigError(
            f"{path.name}: root package {bad[0]!r} is not a valid module name", path=path
        )
    options.pop("root_package", None)
    options["root_packages"] = roots
    types = tuple(_as_list(options.get("contract_types")))
    for entry in types:
        if len(entry.split(": ")) != 2:
            raise ConfigError(
                f"{path.name}: contract_types entry {entry!r} must look like "
                "'name: package.module.ClassName' (a colon and one space)",
                path=path,
            )
    return SessionOptions(
        raw=options,
        root_packages=tuple(roots),
        include_external_packages=_is_true(options.get("include_external_packages")),
        exclude_type_checking_imports=_is_true(options.get("exclude_type_checking_imports")),
        contract_types=types,
    )


def is_dotted_name(name: str) -> bool:
    """'a.b.c' with every part an identifier (no wildcards, no empty parts)."""
    return all(part.isidentifier() for part in name.split("."))


def merge_session(
    inherited: Mapping[str, Any] | None, own: Mapping[str, Any] | None
) -> dict[str, Any]:
    """A contract file's session options: its own keys over the project's."""
    merged = dict(inherited or {})
    if own:
        if "root_package" in own or "root_packages" in own:
            merged.pop("root_package", None)
            merged.pop("root_packages", None)
        own_types = _as_list(own.get("contract_types"))
        merged.update(own)
        if own_types or inherited:
            inherited_types = _as_list((inherited or {}).get("contract_types"))
            merged["contract_types"] = list(dict.fromkeys(inherited_types + own_types))
    return merged


def to_source(
    raw: RawFile, rootdir: Path, inherited: Mapping[str, Any] | None = None
) -> ContractSource:
    """Turn a read file into a contract source with fully merged session options."""
    display = display_path(raw.path, rootdir)
    session = build_session(merge_session(inherited, raw.session), raw.path)
    specs: list[ContractSpec] = []
    seen: dict[str, int] = {}
    for options, line in raw.contracts:
        name = options.get("name")
        ctype = options.get("type")
        where = f"line {line}" if line else "a contract"
        if not isinstance(name, str) or not name.strip():
            raise ConfigError(
                f"{display}: the contract at {where} has no 'name'",
                path=raw.path,
                line=line or None,
            )
        if not isinstance(ctype, str) or not ctype.strip():
            raise ConfigError(
                f"{display}: contract {name!r} has no 'type' (forbidden, layers, independence, "
                "protected, acyclic_siblings, or one registered in contract_types)",
                path=raw.path,
                line=line or None,
            )
        cid = options.get("id")
        if cid is None:
            cid = derive_contract_id(name)
        cid = str(cid)
        if ":" in cid or not cid.strip():
            raise ConfigError(
                f"{display}: contract id {cid!r} is invalid (ids may not be empty or contain ':')",
                path=raw.path,
                line=line or None,
            )
        if cid in seen:
            raise ConfigError(
                f"{display}: two contracts have the id {cid!r} (lines {seen[cid]} and {line}); "
                "contract ids must be unique",
                path=raw.path,
                line=line or None,
            )
        seen[cid] = line
        specs.append(
            ContractSpec(
                id=cid,
                name=name.strip(),
                type=ctype.strip(),
                options=options,
                source_path=raw.path,
                source_display=display,
                line=line,
                session=session,
            )
        )
    return ContractSource(raw.path, display, session, tuple(specs))


def check_unique_ids(sources: Iterable[ContractSource]) -> None:
    """Contract ids are unique across all sources: the baseline and node ids rely on it."""
    owner: dict[str, ContractSpec] = {}
    for source in sources:
        for spec in source.contracts:
            other = owner.get(spec.id)
            if other is not None:
                raise ConfigError(
                    f"the contract id {spec.id!r} is defined twice: in {other.location} and in "
                    f"{spec.location}. Contract ids must be unique across all contract files; "
                    "rename one of them.",
                    path=spec.source_path,
                    line=spec.line or None,
                )
            owner[spec.id] = spec


# ---------------------------------------------------------------------------
# The whole set


@dataclass(frozen=True)
class LoadedFile:
    """One contract source as loaded: either its contracts or the error that stops it."""

    path: Path
    display: str
    source: ContractSource | None
    error: ConfigError | None


def load_sources(
    rootdir: Path, contract_entries: Sequence[str], config_file: str | None = None
) -> list[LoadedFile]:
    """Load the project config and every contract file, in a stable order.

    Errors that belong to one file come back attached to it (so the other files
    still run); errors that stop everything (nothing to check at all, a named
    file that is missing) are raised.
    """
    loaded: list[LoadedFile] = []
    project_raw: RawFile | None = None
    project_error: ConfigError | None = None
    if config_file:
        path = Path(config_file) if Path(config_file).is_absolute() else rootdir / config_file
        if not path.is_file():
            raise ConfigError(f"ssot_config: '{config_file}' does not exist (looked in {path})")
        try:
            project_raw = read_file(path)
        except ConfigError as exc:
            project_error = exc
            loaded.append(LoadedFile(path, display_path(path, rootdir), None, exc))
        else:
            if project_raw is None:
                section = "[tool.importlinter]" if path.suffix == ".toml" else "[importlinter]"
                raise ConfigError(f"ssot_config: '{config_file}' has no {section} section")
    else:
        for name in PROJECT_CONFIG_FILES:
            candidate = rootdir / name
            if not candidate.is_file():
                continue
            try:
                project_raw = read_file(candidate)
            except ConfigError as exc:
                project_error = exc
                loaded.append(LoadedFile(candidate, display_path(candidate, rootdir), None, exc))
                break
            if project_raw is not None:
                break

    contract_paths = expand_contract_paths(contract_entries, rootdir)
    # Runtime declarations ([[tool.ssot.managers]], docs/runtime-managers.md) are
    # checks too: a file that holds only those is not an empty contract source.
    runtime_declared = declares_runtime_checks(rootdir / "pyproject.toml")
    if project_raw is None and project_error is None and not contract_paths:
        if runtime_declared:
            return []
        raise ConfigError(
            "no import-linter configuration found: looked for an [importlinter] section in "
            "setup.cfg and .importlinter, and [tool.importlinter] in pyproject.toml, "
            f"in {rootdir}, "
            "and the 'ssot_contracts' ini option names no contract file. "
            "Add a contract (see docs/getting-started.md) or run without --ssot."
        )

    inherited: Mapping[str, Any] | None = None
    if project_raw is not None:
        inherited = project_raw.session
        project_path = project_raw.path.resolve()
        contract_paths = [p for p in contract_paths if p != project_path]
        if project_raw.contracts or not contract_paths:
            # A project config without contracts only lends its session options
            # to the contract files; it is checked when it is all there is.
            loaded.append(_load_one(project_raw, rootdir, None))

    for path in contract_paths:
        try:
            raw = read_file(path)
        except ConfigError as exc:
            loaded.append(LoadedFile(path, display_path(path, rootdir), None, exc))
            continue
        if (raw is None or not raw.contracts) and declares_runtime_checks(path):
            runtime_declared = True
            continue
        if raw is None:
            section = "[tool.importlinter]" if path.suffix == ".toml" else "[importlinter...]"
            error = ConfigError(
                f"{display_path(path, rootdir)} is listed in ssot_contracts but has no "
                f"{section} section, so it defines no contract",
                path=path,
            )
            loaded.append(LoadedFile(path, display_path(path, rootdir), None, error))
            continue
        if not raw.contracts:
            error = ConfigError(
                f"{display_path(path, rootdir)} defines no contract "
                "([importlinter:contract:<id>] sections in INI, [[tool.importlinter.contracts]] "
                "in TOML)",
                path=path,
            )
            loaded.append(LoadedFile(path, display_path(path, rootdir), None, error))
            continue
        loaded.append(_load_one(raw, rootdir, inherited))

    if (
        not any(f.source and f.source.contracts for f in loaded)
        and not any(f.error for f in loaded)
        and not runtime_declared
    ):
        where = loaded[0].display if loaded else str(rootdir)
        raise ConfigError(
            f"no contracts to check: {where} has import-linter session options but no contract, "
            "and ssot_contracts adds none. With --ssot on, an empty contract set is an error, "
            "never a silent pass."
        )
    return _reject_duplicate_ids(loaded)


RUNTIME_TABLES = ("managers",)
"""The ``[tool.ssot]`` keys that declare runtime checks (``[[tool.ssot.managers]]``)."""


def declares_runtime_checks(path: Path) -> bool:
    """Whether a TOML file declares runtime checks in ``[tool.ssot]``."""
    if path.suffix != ".toml" or not path.is_file():
        return False
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return False
    tool = data.get("tool")
    table = tool.get("ssot") if isinstance(tool, dict) else None
    return isinstance(table, dict) and any(table.get(key) for key in RUNTIME_TABLES)


def _load_one(raw: RawFile, rootdir: Path, inherited: Mapping[str, Any] | None) -> LoadedFile:
    display = display_path(raw.path, rootdir)
    try:
        return LoadedFile(raw.path, display, to_source(raw, rootdir, inherited), None)
    except ConfigError as exc:
        return LoadedFile(raw.path, display, None, exc)


def _reject_duplicate_ids(loaded: list[LoadedFile]) -> list[LoadedFile]:
    result: list[LoadedFile] = []
    accepted: list[ContractSource] = []
    for item in loaded:
        if item.source is None:
            result.append(item)
            continue
        try:
            check_unique_ids([*accepted, item.source])
        except ConfigError as exc:
            result.append(LoadedFile(item.path, item.display, None, exc))
            continue
        accepted.append(item.source)
        result.append(item)
    return result
