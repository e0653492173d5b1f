"""Find and read the contract sources: the project's import-linter config and contract files.

Parsing follows import-linter's own readers (section names, list values, TOML
booleans arriving as strings) so that a contract means the same thing here as
under ``lint-imports``, but every error names the file and, when known, the line.
Pure functions of the file system: no pytest, no import-linter.
"""

from __future__ import annotations

import configparser
import contextlib
import glob
import os
import re
import stat
import tomllib
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pytest_ssot.fileio import FileError, read_text
from pytest_ssot.model import ConfigError, ContractSource, ContractSpec, SessionOptions
from pytest_ssot.paths import display_path

INI_SECTION = "importlinter"
CONTRACT_PREFIX = "importlinter:contract:"
# The places import-linter itself looks, in its own order: INI readers first.
PROJECT_CONFIG_FILES = ("setup.cfg", ".importlinter", "pyproject.toml")
CONTRACT_FILE_SUFFIXES = (".toml", ".ini", ".cfg", ".importlinter")
_TRUE = ("true", "True")
_SECTION_RE = re.compile(r"^\s*\[\s*([^\]]+?)\s*\]\s*(?:[#;].*)?$")
_TOML_CONTRACT_RE = re.compile(r"^\s*\[\[\s*tool\s*\.\s*importlinter\s*\.\s*contracts\s*\]\]")
_ID_RE = re.compile(r"[^\w.-]+")  # \w: letters and digits of every script, and "_"


@dataclass(frozen=True)
class RawFile:
    """What one file says, before it is merged with the project's session options."""

    path: Path
    session: Mapping[str, Any] | None
    contracts: tuple[tuple[dict[str, Any], int], ...]  # (options, line)


def derive_contract_id(name: str) -> str:
    """An id for a TOML contract that has none: its name, made safe for node ids.

    Letters outside ASCII stay (``Cöntract für Déjà-vu`` -> ``cöntract-für-déjà-vu``),
    in their composed form, so the id reads like the name and is the same however
    the file spells an accented letter.
    """
    slug = _ID_RE.sub("-", unicodedata.normalize("NFC", name.strip().lower())).strip("-")
    return slug or "contract"


def _is_true(value: Any) -> bool:
    return str(value) in _TRUE


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value] if value.strip() else []
    if not isinstance(value, (list, tuple)):
        return [str(value)]  # a wrong type: build_session names it
    return [str(v) for v in value]


# ---------------------------------------------------------------------------
# Reading single files


def read_ini(path: Path, text: str) -> RawFile | None:
    """Read an INI file the way import-linter does; None if it has no import-linter sections."""
    parser = configparser.ConfigParser()
    try:
        parser.read_string(text, source=str(path))
    except configparser.MissingSectionHeaderError as exc:
        # A subclass of ParsingError without its `errors` list.
        raise ConfigError(
            f"{path.name}: not a valid INI file: line {exc.lineno}: {exc.line.strip()!r} comes "
            "before any [section] header (an import-linter INI file starts with "
            "[importlinter] or [importlinter:contract:<id>])",
            path=path,
            line=exc.lineno,
        ) from None
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
    except RecursionError:
        raise ConfigError(
            f"{path.name}: its arrays or tables are nested too deep to read", path=path
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
        text = read_text(path)  # bounded: size limit, regular files only (docs/promises.md)
    except FileError as exc:
        raise ConfigError(f"cannot read {path}: {exc}", path=path) from None
    if text is None:
        raise ConfigError(f"cannot read {path}: it does not exist", path=path)
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
            for match in matches:
                if match.is_symlink() and not match.exists():
                    raise ConfigError(
                        f"ssot_contracts: {display_path(match, rootdir)} (matched by '{entry}') "
                        f"is a dangling symlink (it points to {match.readlink()}, which does "
                        "not exist); its contracts cannot be checked. Fix the link or remove it."
                    )
            files = [p for p in matches if p.is_file()]
            files += [f for p in matches if p.is_dir() for f in _contract_files_in(p, rootdir)]
            if not files:
                raise ConfigError(f"ssot_contracts: the pattern '{entry}' matches no contract file")
            found.extend(files)
            continue
        path = Path(pattern)
        if path.is_dir():
            files = _contract_files_in(path, rootdir)
            if not files:
                raise ConfigError(
                    f"ssot_contracts: the folder '{entry}' holds no contract file "
                    f"({', '.join('*' + s for s in CONTRACT_FILE_SUFFIXES)})"
                )
            found.extend(files)
        elif path.is_file():
            found.append(path)
        elif path.is_symlink() and not path.exists():
            raise ConfigError(
                f"ssot_contracts: '{entry}' is a dangling symlink (it points to "
                f"{path.readlink()}, which does not exist)"
            )
        elif path.exists():
            raise ConfigError(
                f"ssot_contracts: '{entry}' is {describe_file_type(path)}, not a contract file "
                "or folder"
            )
        else:
            raise ConfigError(f"ssot_contracts: '{entry}' does not exist (looked in {path})")
    unique: dict[Path, None] = {}
    for path in found:
        unique.setdefault(path.resolve(), None)
    return list(unique)


def describe_file_type(path: Path) -> str:
    """What a path that is not a regular file is, in words: 'a directory', 'a character device'."""
    try:
        mode = path.stat().st_mode
    except OSError as exc:
        if path.is_symlink():
            return "a dangling symlink"
        return f"unreadable ({exc.strerror or exc})"
    for test, words in (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISREG, "a regular file"),
    ):
        if test(mode):
            return words
    return "not a regular file"


def _contract_files_in(folder: Path, rootdir: Path | None = None) -> list[Path]:
    """Every contract file below ``folder``, symlinked files and folders included.

    Anything that cannot be read is an error, never skipped: its contracts would
    silently not run. That is an unreadable folder, a dangling symlink (or one to
    something that is neither a file nor a folder) and a symlinked folder that
    leads back into one above it.
    """
    shown = (lambda p: display_path(p, rootdir)) if rootdir is not None else str
    found: list[Path] = []
    seen: set[str] = set()

    def walk(current: Path) -> None:
        real = os.path.realpath(current)
        if real in seen:
            raise ConfigError(
                f"ssot_contracts: the folder {shown(current)} is a symlink loop (it leads back "
                f"to {shown(Path(real))}); remove the link"
            )
        seen.add(real)
        try:
            with os.scandir(current) as scan:
                entries = sorted(scan, key=lambda entry: entry.name)
        except OSError as exc:
            raise ConfigError(
                f"ssot_contracts: cannot read the folder {shown(current)}: "
                f"{exc.strerror or exc}. Its contract files would not be checked; make it "
                "readable or remove it from the contracts folder."
            ) from None
        for entry in entries:
            path = Path(entry.path)
            try:
                is_dir = entry.is_dir()
                is_file = not is_dir and entry.is_file()
            except OSError as exc:
                raise ConfigError(
                    f"ssot_contracts: cannot read {shown(path)}: {exc.strerror or exc}"
                ) from None
            if is_dir:
                if entry.name != "__pycache__":
                    walk(path)
                continue
            if not entry.name.endswith(CONTRACT_FILE_SUFFIXES):
                continue
            if is_file:
                found.append(path)
            elif entry.is_symlink() and not path.exists():
                raise ConfigError(
                    f"ssot_contracts: {shown(path)} is a dangling symlink (it points to "
                    f"{path.readlink()}, which does not exist); its contracts cannot be "
                    "checked. Fix the link or remove it."
                )
            else:
                raise ConfigError(
                    f"ssot_contracts: {shown(path)} is not a regular file; its contracts cannot "
                    "be checked"
                )
        seen.discard(real)

    walk(folder)
    return sorted(found)


# ---------------------------------------------------------------------------
# Merging into contract sources


# The options that hold lists of names in the built-in and pytest-ssot contract types;
# import-linter also accepts a single string for them (one entry).
LIST_OPTIONS = frozenset(
    {
        "source_modules",
        "forbidden_modules",
        "ignore_imports",
        "layers",
        "containers",
        "modules",
        "protected_modules",
        "allowed_importers",
        "ancestors",
        "skip_descendants",
        "exhaustive_ignores",
        "packages_with_private_modules",
        "names",
        "canonical_modules",
        "legacy_modules",
        "legacy_modules_with_code",
        "ignore_definitions",
    }
)
STRING_OPTIONS = frozenset({"name", "type", "broken_contract_guidance"})
SESSION_LIST_OPTIONS = frozenset({"root_packages", "contract_types"})
SESSION_STRING_OPTIONS = frozenset({"root_package"})


def _kind(value: Any) -> str:
    """A TOML value's type in words, with the value when it is short."""
    names = {bool: "boolean", int: "integer", float: "float", dict: "table", list: "array"}
    kind = names.get(type(value), type(value).__name__)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return f"the {kind} {value!r}"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    return f"a {kind}" if kind != "array" else "an array"


def check_value_types(
    options: Mapping[str, Any],
    *,
    strings: frozenset[str],
    lists: frozenset[str],
    where: str,
    path: Path,
    line: int | None,
) -> None:
    """Every option has a type import-linter can read; else a ConfigError naming the field.

    Strings and arrays of strings are what contracts read; booleans arrive as
    strings already (see ``_stringify_booleans``) and integers are allowed where
    no string or list is expected (``depth``).
    """
    for key, value in options.items():
        if key in strings:
            expected = "a string"
            ok = isinstance(value, str)
        elif key in lists:
            expected = "an array of strings"
            ok = isinstance(value, str) or (
                isinstance(value, list) and all(isinstance(v, str) for v in value)
            )
        else:
            expected = "a string, a number, a boolean or an array of strings"
            ok = isinstance(value, (str, int, float)) or (
                isinstance(value, list) and all(isinstance(v, str) for v in value)
            )
        if ok:
            continue
        odd = [v for v in value if not isinstance(v, str)] if isinstance(value, list) else []
        got = f"an array holding {_kind(odd[0])}" if odd else _kind(value)
        raise ConfigError(
            f"{where}, field {key!r}: expected {expected}, got {got}", path=path, line=line
        )


def build_session(raw: Mapping[str, Any], path: Path) -> SessionOptions:
    options = dict(raw)
    check_value_types(
        {k: v for k, v in options.items() if k != "contracts"},
        strings=SESSION_STRING_OPTIONS,
        lists=SESSION_LIST_OPTIONS,
        where=f"{path.name}: "
        + ("[tool.importlinter]" if path.suffix == ".toml" else "[importlinter]"),
        path=path,
        line=None,
    )
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
        if isinstance(name, str) and name.strip():
            label = f"contract {name!r}"
        elif isinstance(options.get("id"), str) and options["id"].strip():
            label = f"contract id {options['id']!r} ({where})"
        else:
            label = f"the contract at {where}"
        if not isinstance(options.get("id", ""), (str, int)):
            raise ConfigError(
                f"{display}: {label}, field 'id': expected a string, got {_kind(options['id'])}",
                path=raw.path,
                line=line or None,
            )
        check_value_types(
            {k: v for k, v in options.items() if k != "id"},
            strings=STRING_OPTIONS,
            lists=LIST_OPTIONS,
            where=f"{display}: {label}",
            path=raw.path,
            line=line or None,
        )
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
    """One contract source as loaded: either its contracts or the error that stops it.

    Holds the file's path and how it is shown, and its ``ContractSource`` or its
    ``ConfigError``. Made by ``load_sources``, one per file (so one broken file does
    not stop the others); the session makes an ``items.ContractFile`` collector of
    each, and a file with an error fails as a collection error that names it.
    """

    path: Path
    display: str
    source: ContractSource | None
    error: ConfigError | None


def project_config_path(rootdir: Path, config_file: str | None = None) -> Path | None:
    """The project's import-linter config file, found as ``load_sources`` finds it."""
    if config_file:
        path = Path(config_file)
        return path if path.is_absolute() else rootdir / path
    for name in PROJECT_CONFIG_FILES:
        candidate = rootdir / name
        try:
            if candidate.is_file() and read_file(candidate) is not None:
                return candidate
        except ConfigError:
            return candidate
    return None


def load_sources(
    rootdir: Path,
    contract_entries: Sequence[str],
    config_file: str | None = None,
    declarations: Declarations | None = None,
) -> list[LoadedFile]:
    """Load the project config and every contract file, in a stable order.

    Errors that belong to one file come back attached to it (so the other files
    still run); errors that stop everything (nothing to check at all, a named
    file that is missing) are raised. ``declarations``: the run's ``[tool.ssot]``
    tables, if already read (``read_declarations``).
    """
    if declarations is None:
        declarations = read_declarations(rootdir, contract_entries)
    loaded: list[LoadedFile] = []
    if config_file:
        project_raw, project_error = _named_project_config(rootdir, config_file, loaded)
    else:
        project_raw, project_error = _found_project_config(rootdir, loaded)

    contract_paths = expand_contract_paths(contract_entries, rootdir)
    # Runtime declarations ([[tool.ssot.managers]], docs/runtime-managers.md) are
    # checks too: a file that holds only those is not an empty contract source.
    runtime_declared = declarations.declares_runtime_checks(rootdir / "pyproject.toml")
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

    if _load_contract_files(contract_paths, rootdir, inherited, loaded, declarations):
        runtime_declared = True

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


def _named_project_config(
    rootdir: Path, config_file: str, loaded: list[LoadedFile]
) -> tuple[RawFile | None, ConfigError | None]:
    """The project config ``ssot_config`` names: a problem with it stops the run,
    except a file that cannot be parsed, which is attached to it in ``loaded``."""
    path = Path(config_file) if Path(config_file).is_absolute() else rootdir / config_file
    if not path.is_file():
        if path.exists() or path.is_symlink():
            raise ConfigError(
                f"ssot_config: '{config_file}' is {describe_file_type(path)}, not a config "
                "file (name a setup.cfg, .importlinter, .ini or .toml file)"
            )
        raise ConfigError(f"ssot_config: '{config_file}' does not exist (looked in {path})")
    try:
        project_raw = read_file(path)
    except ConfigError as exc:
        loaded.append(LoadedFile(path, display_path(path, rootdir), None, exc))
        return None, exc
    if project_raw is None:
        section = "[tool.importlinter]" if path.suffix == ".toml" else "[importlinter]"
        raise ConfigError(f"ssot_config: '{config_file}' has no {section} section")
    return project_raw, None


def _found_project_config(
    rootdir: Path, loaded: list[LoadedFile]
) -> tuple[RawFile | None, ConfigError | None]:
    """The first of the files import-linter looks in that has its section; a file there
    that cannot be read is attached to it in ``loaded`` and ends the search."""
    for name in PROJECT_CONFIG_FILES:
        candidate = rootdir / name
        if not candidate.is_file():
            if candidate.is_symlink() or candidate.exists():
                # A dangling link or a folder where import-linter looks: never skip it.
                error = ConfigError(
                    f"{name} is {describe_file_type(candidate)}, so the import-linter "
                    "configuration it may hold cannot be read",
                    path=candidate,
                )
                loaded.append(LoadedFile(candidate, name, None, error))
                return None, error
            continue
        try:
            project_raw = read_file(candidate)
        except ConfigError as exc:
            loaded.append(LoadedFile(candidate, display_path(candidate, rootdir), None, exc))
            return None, exc
        if project_raw is not None:
            return project_raw, None
    return None, None


def _load_contract_files(
    contract_paths: Sequence[Path],
    rootdir: Path,
    inherited: Mapping[str, Any] | None,
    loaded: list[LoadedFile],
    declarations: Declarations,
) -> bool:
    """Load each ``ssot_contracts`` file into ``loaded``; True if one of them holds only
    runtime declarations (a check, so not an empty contract source)."""
    runtime_declared = False
    for path in contract_paths:
        try:
            raw = read_file(path)
        except ConfigError as exc:
            loaded.append(LoadedFile(path, display_path(path, rootdir), None, exc))
            continue
        if (raw is None or not raw.contracts) and declarations.declares_runtime_checks(path):
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
    return runtime_declared


RUNTIME_TABLES = ("managers",)
"""The ``[tool.ssot]`` keys that declare runtime checks (``[[tool.ssot.managers]]``)."""


@dataclass(frozen=True)
class DeclaredFile:
    """One TOML file with a ``[tool.ssot]`` table, read once: for the runtime declarations."""

    path: Path
    """Resolved."""
    display: str
    text: str
    data: Mapping[str, Any]
    """The whole parsed document (``pytest_ssot.managers`` validates its tables)."""

    @property
    def declares_runtime_checks(self) -> bool:
        tool = self.data.get("tool")
        table = tool.get("ssot") if isinstance(tool, dict) else None
        return isinstance(table, dict) and any(table.get(key) for key in RUNTIME_TABLES)


@dataclass(frozen=True)
class Declarations:
    """The ``[tool.ssot]`` tables of the rootdir's pyproject.toml and the ssot_contracts TOML
    files, in that order: read once per run, for the contract loader and the manager checks."""

    files: tuple[DeclaredFile, ...] = ()

    def declares_runtime_checks(self, path: Path) -> bool:
        """Whether the file at ``path`` declares runtime checks in ``[tool.ssot]``."""
        resolved = path.resolve()
        return any(f.path == resolved and f.declares_runtime_checks for f in self.files)


def read_declarations(rootdir: Path, contract_entries: Sequence[str]) -> Declarations:
    """Read the ``[tool.ssot]`` tables once: the rootdir's pyproject.toml, then the TOML files
    of ``ssot_contracts``. Files that cannot be read declare nothing here: the contract loader
    reports them, with their other problems."""
    paths: list[Path] = []
    pyproject = rootdir / "pyproject.toml"
    if pyproject.is_file():
        paths.append(pyproject.resolve())
    for entry in contract_entries:
        # A missing entry is reported by the contract loader, as a collection error.
        with contextlib.suppress(ConfigError):
            for path in expand_contract_paths([entry], rootdir):
                if path.suffix == ".toml" and path not in paths:
                    paths.append(path)
    files = []
    for path in paths:
        try:
            text = read_text(path) or ""
            data = tomllib.loads(text)
        except (FileError, tomllib.TOMLDecodeError, RecursionError):
            continue
        tool = data.get("tool")
        if isinstance(tool, dict) and "ssot" in tool:
            files.append(DeclaredFile(path, display_path(path, rootdir), text, data))
    return Declarations(tuple(files))


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
