"""The run's settings: frozen values read once from pytest's config at start-up.

Every ini key and command-line option of pytest-ssot is read here, checked, and
turned into a typed value; the hook objects receive these values and never read
the config themselves. A bad value is a usage error naming the key.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import pytest

from pytest_ssot.expressions import ExpressionError, ImportExpression, ModuleExpression
from pytest_ssot.model import ContractSpec

DEFAULT_MAX_CHAINS = 10
"""How many violations a failure lists in full (ssot_max_chains); -v lists all."""

_T = TypeVar("_T")

FAIL = "fail"
WARN = "warn"
OFF = "off"
REPORT = "report"
SOURCE = "source"
IGNORE = "ignore"
CONTRACTS = "contracts"


DEFAULT_REDUNDANT_BUDGET = 10.0
"""Seconds, per contract: the search for ignores that no longer matter stops there."""


@dataclass(frozen=True)
class Settings:
    """The run-level settings: where the contracts are, the baseline, the files to write."""

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
    html: Path | None = None
    sarif: Path | None = None
    history: Path | None = None
    fix: bool = False
    diff: bool = False
    redundant_ignores: str = "warn"
    redundant_ignores_per_contract: Mapping[str, str] = dataclasses.field(default_factory=dict)
    redundant_budget: float | None = DEFAULT_REDUNDANT_BUDGET
    """Seconds the search for ignores that no longer matter may take per contract; None:
    no limit (``ssot_redundant_ignores_budget = 0``)."""
    given_as: Mapping[str, str] = dataclasses.field(default_factory=dict)
    """How the user set a setting that has both an option and an ini key, by option name
    (``--ssot-html``): the option itself, or "the ini key 'ssot_html'". Messages name it."""

    verbose: bool = False
    """-v or more: lists are shown in full."""
    junit_xml: bool = False
    """--junitxml: contract testcases get pytest-ssot's classname."""
    is_worker: bool = False
    """A pytest-xdist worker: it checks and watches, the controller writes."""

    @property
    def freezing(self) -> bool:
        """--ssot-baseline-update (growth allowed): every violation found is frozen by this run."""
        return self.baseline_update and not self.baseline_no_growth

    @property
    def writes_baseline(self) -> bool:
        return self.baseline_update or self.baseline_prune

    def check_contract_ids(self, known: Collection[str]) -> None:
        """The per-contract keys name only contracts that exist (call when every file loaded)."""
        for key, named in (
            ("ssot_redundant_ignores_per_contract", self.redundant_ignores_per_contract),
            ("ssot_static_dynamic_imports_per_contract", self.static_dynamic_imports_per_contract),
        ):
            unknown = sorted(set(named) - set(known))
            if unknown:
                raise pytest.UsageError(f"{key} names unknown contract ids: " + ", ".join(unknown))

    def named(self, option: str) -> str:
        """The option or ini key that set ``option``, as messages should name it."""
        return self.given_as.get(option, option)

    python_files: tuple[str, ...] = ()
    """pytest's own python_files patterns: which files are test modules."""
    static_dynamic_imports: bool = False
    static_dynamic_imports_per_contract: Mapping[str, bool] = dataclasses.field(
        default_factory=dict
    )

    def static_dynamic(self, spec: ContractSpec) -> bool:
        """Whether this contract's graph gets the modules loaded by name."""
        return self.static_dynamic_imports_per_contract.get(spec.id, self.static_dynamic_imports)

    def redundant_mode(self, spec: ContractSpec) -> str:
        """warn, error or off: what to do about this contract's ignores that no longer matter."""
        return self.redundant_ignores_per_contract.get(spec.id, self.redundant_ignores)

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

        given_as: dict[str, str] = {}

        def path_setting(option: str | None, ini: str) -> Path | None:
            # A command-line path is relative to the current directory, an ini path
            # to the rootdir, as with pytest's own options.
            given = config.getoption(option) if option else None
            if given:
                return Path(given).absolute()
            value = str(config.getini(ini) or "").strip()
            if option and value:
                given_as["--" + option.replace("_", "-")] = f"the ini key {ini!r}"
            return rootdir / value if value else None

        redundant, per_contract = _redundant_settings(config)
        strict = config.getoption("ssot_baseline_strict")
        if strict is None and config.getini("ssot_baseline_strict"):
            given_as["--ssot-baseline-strict"] = "the ini key 'ssot_baseline_strict'"
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
            html=path_setting("ssot_html", "ssot_html"),
            sarif=path_setting("ssot_sarif", "ssot_sarif"),
            history=path_setting(None, "ssot_history"),
            redundant_ignores=redundant,
            redundant_ignores_per_contract=per_contract,
            redundant_budget=_redundant_budget(config),
            fix=bool(config.getoption("ssot_fix")),
            python_files=tuple(str(p) for p in config.getini("python_files")),
            diff=bool(config.getoption("ssot_diff")),
            static_dynamic_imports=bool(config.getini("ssot_static_dynamic_imports")),
            static_dynamic_imports_per_contract=_per_contract_bools(
                config, "ssot_static_dynamic_imports_per_contract"
            ),
            given_as=given_as,
            verbose=config.get_verbosity() > 0,
            junit_xml=bool(getattr(config.option, "xmlpath", None)),
            is_worker=hasattr(config, "workerinput"),
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
        if settings.fix and settings.diff:
            raise pytest.UsageError(
                "--ssot-diff shows what --ssot-fix would change without changing it; "
                "use one of them, not both"
            )
        return settings


REDUNDANT_MODES = ("warn", "error", "off")


def _redundant_budget(config: pytest.Config) -> float | None:
    raw = str(config.getini("ssot_redundant_ignores_budget") or "").strip()
    if not raw:
        return DEFAULT_REDUNDANT_BUDGET
    try:
        seconds = float(raw)
        if not seconds >= 0 or seconds == float("inf"):
            raise ValueError
    except ValueError:
        raise pytest.UsageError(
            f"ssot_redundant_ignores_budget must be a number of seconds (0: no limit), not {raw!r}"
        ) from None
    return seconds or None


def _redundant_settings(config: pytest.Config) -> tuple[str, dict[str, str]]:
    mode = str(config.getini("ssot_redundant_ignores") or "warn").strip().lower()
    if mode not in REDUNDANT_MODES:
        raise pytest.UsageError(f"ssot_redundant_ignores must be warn, error or off, not {mode!r}")
    per_contract: dict[str, str] = {}
    for line in config.getini("ssot_redundant_ignores_per_contract") or []:
        if not str(line).strip():
            continue
        cid, sep, value = str(line).rpartition(":")
        cid, value = cid.strip(), value.strip().lower()
        if not sep or not cid or value not in REDUNDANT_MODES:
            raise pytest.UsageError(
                f"ssot_redundant_ignores_per_contract: {str(line).strip()!r} must look like "
                "'<contract id>: warn|error|off'"
            )
        per_contract[cid] = value
    return mode, per_contract


def _per_contract_bools(config: pytest.Config, key: str) -> dict[str, bool]:
    values = {"true": True, "on": True, "yes": True, "false": False, "off": False, "no": False}
    found: dict[str, bool] = {}
    for line in config.getini(key) or []:
        if not str(line).strip():
            continue
        cid, sep, value = str(line).rpartition(":")
        cid, value = cid.strip(), value.strip().lower()
        if not sep or not cid or value not in values:
            raise pytest.UsageError(
                f"{key}: {str(line).strip()!r} must look like '<contract id>: true|false'"
            )
        found[cid] = values[value]
    return found


# ---------------------------------------------------------------------------
# The runtime checks


def _choice(config: pytest.Config, key: str, choices: tuple[str, ...], default: str) -> str:
    value = str(config.getini(key) or "").strip().lower() or default
    if value not in choices:
        raise pytest.UsageError(f"{key} must be one of {', '.join(choices)}, not {value!r}")
    return value


def _lines(config: pytest.Config, key: str) -> list[str]:
    return [str(v).strip() for v in config.getini(key) or [] if str(v).strip()]


def _parsed(config: pytest.Config, key: str, parse: Callable[[str], _T]) -> list[_T]:
    """Each line of an ini key read as an expression; a usage error naming the key if one is
    not (a rule that can never match must not pass silently)."""
    parsed = []
    for line in _lines(config, key):
        try:
            parsed.append(parse(line))
        except ExpressionError as exc:
            raise pytest.UsageError(f"pytest-ssot: ini option {key}: {exc}") from None
    return parsed


def _outside_code(config: pytest.Config) -> tuple[str, frozenset[str]]:
    """``ssot_runtime_outside_code``: ``ignore`` (the default), ``source``, or contract ids
    separated by commas or spaces."""
    raw = str(config.getini("ssot_runtime_outside_code") or "").strip()
    if raw.lower() in ("", IGNORE):
        return IGNORE, frozenset()
    if raw.lower() == SOURCE:
        return SOURCE, frozenset()
    ids = frozenset(part for part in raw.replace(",", " ").split() if part)
    return CONTRACTS, ids


@dataclass(frozen=True)
class RuntimeSettings:
    """The runtime checks' ini settings, read once: what each check does when it finds something.

    Per contract or in general: fail, warn or off for forbidden dynamic imports, the
    imports to ignore, how code outside the root packages counts, the modules to
    watch, and the modes and allow-lists of the double-load and hidden-folder checks.
    Made by ``from_config`` in the session; the runtime hook objects receive it.
    """

    imports: str = FAIL
    per_contract: Mapping[str, str] | None = None
    ignore: tuple[ImportExpression, ...] = ()
    outside_code: str = IGNORE
    """``ignore``: code outside the root packages is a source of no contract; ``source``: of
    every contract; ``contracts``: of those in ``outside_sources``."""
    outside_sources: frozenset[str] = frozenset()
    watch: tuple[str, ...] = ()
    double_load: str = FAIL
    double_load_allow: tuple[ModuleExpression, ...] = ()
    hidden_folders: str = REPORT
    hidden_folders_allow: tuple[str, ...] = ()

    def mode_for(self, rule_id: str) -> str:
        return (self.per_contract or {}).get(rule_id, self.imports)

    def outside_is_source(self, rule_id: str) -> bool:
        """Whether code outside the root packages (tests beside the package) is held to
        the contract ``rule_id`` as one of its source modules."""
        if self.outside_code == SOURCE:
            return True
        return self.outside_code == CONTRACTS and rule_id in self.outside_sources

    @classmethod
    def from_config(
        cls, config: pytest.Config, known_ids: Collection[str] | None = None
    ) -> RuntimeSettings:
        """Read the ini keys; ``known_ids`` (when every contract loaded) catches typos."""
        per_contract: dict[str, str] = {}
        for line in _lines(config, "ssot_runtime_imports_per_contract"):
            cid, sep, mode = line.rpartition(":")
            cid, mode = cid.strip(), mode.strip().lower()
            if not sep or not cid or mode not in (FAIL, WARN, OFF):
                raise pytest.UsageError(
                    f"ssot_runtime_imports_per_contract: {line!r} must look like "
                    "'<contract id>: fail|warn|off'"
                )
            per_contract[cid] = mode
        if known_ids is not None:
            unknown = sorted(set(per_contract) - set(known_ids))
            if unknown:
                raise pytest.UsageError(
                    f"ssot_runtime_imports_per_contract names unknown contract ids: "
                    f"{', '.join(unknown)} (known: {', '.join(sorted(known_ids)) or 'none'})"
                )
        outside_code, outside_sources = _outside_code(config)
        if known_ids is not None:
            unknown = sorted(outside_sources - set(known_ids))
            if unknown:
                raise pytest.UsageError(
                    f"ssot_runtime_outside_code names unknown contract ids: "
                    f"{', '.join(unknown)} (known: {', '.join(sorted(known_ids)) or 'none'})"
                )
        ignore = tuple(_parsed(config, "ssot_runtime_imports_ignore", ImportExpression.parse))
        watch = tuple(_lines(config, "ssot_watch_modules"))
        _parsed(config, "ssot_watch_modules", ModuleExpression.parse)
        allow = tuple(_parsed(config, "ssot_double_load_allow", ModuleExpression.parse))
        return cls(
            imports=_choice(config, "ssot_runtime_imports", (FAIL, WARN, OFF), FAIL),
            per_contract=per_contract,
            ignore=ignore,
            outside_code=outside_code,
            outside_sources=outside_sources,
            watch=watch,
            double_load=_choice(config, "ssot_double_load", (FAIL, WARN, OFF), FAIL),
            double_load_allow=allow,
            hidden_folders=_choice(config, "ssot_hidden_folders", (REPORT, FAIL, OFF), REPORT),
            hidden_folders_allow=tuple(
                v.rstrip("/") for v in _lines(config, "ssot_hidden_folders_allow")
            ),
        )
