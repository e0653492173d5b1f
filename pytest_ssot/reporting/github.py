"""GitHub Actions workflow commands, so new violations show on the pull request's diff."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from pytest_ssot.model import ContractResult, Violation


def running_on_github(environ: Mapping[str, str] = os.environ) -> bool:
    return environ.get("GITHUB_ACTIONS") == "true"


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def workspace_path(path: str, rootdir: Path, environ: Mapping[str, str] = os.environ) -> str:
    """A rootdir-relative path made relative to the repository (GITHUB_WORKSPACE)."""
    workspace = environ.get("GITHUB_WORKSPACE")
    if not workspace:
        return path
    absolute = (rootdir / path).resolve()
    try:
        return absolute.relative_to(Path(workspace).resolve()).as_posix()
    except ValueError:
        return path


def annotation(
    result: ContractResult, violation: Violation, rootdir: Path, environ: Mapping[str, str]
) -> str:
    spec = result.spec
    file, line = violation.site
    message = f"{spec.name}: {violation.chain_text}"
    if spec.guidance:
        message += f"\n{spec.guidance}"
    props = [f"title={_escape_property(f'pytest-ssot: contract {spec.id} broken (NEW)')}"]
    if file:
        props.insert(0, f"file={_escape_property(workspace_path(file, rootdir, environ))}")
        if line:
            props.insert(1, f"line={line}")
    return f"::error {','.join(props)}::{_escape_data(message)}"


def annotation_lines(
    items: Iterable[tuple[ContractResult, Iterable[Violation]]],
    rootdir: Path,
    environ: Mapping[str, str] = os.environ,
) -> list[str]:
    """One ``::error`` line per new violation (frozen ones are not news)."""
    lines = []
    for result, new in items:
        if result.error is not None:
            spec = result.spec
            source = workspace_path(spec.source_display, rootdir, environ)
            where = f"file={_escape_property(source)}"
            if spec.line:
                where += f",line={spec.line}"
            title = _escape_property(f"pytest-ssot: contract {spec.id} cannot be checked")
            lines.append(f"::error {where},title={title}::{_escape_data(result.error)}")
            continue
        lines.extend(annotation(result, v, rootdir, environ) for v in new)
    return lines


def runtime_annotation(
    *,
    check: str,
    rule: str,
    summary: str,
    file: str | None,
    line: int | None,
    rootdir: Path,
    environ: Mapping[str, str] = os.environ,
) -> str:
    """One ``::error`` line for a runtime finding (a duplicate manager, a dynamic import...)."""
    props = []
    if file:
        props.append(f"file={_escape_property(workspace_path(file, rootdir, environ))}")
        if line:
            props.append(f"line={line}")
    props.append(f"title={_escape_property(f'pytest-ssot: {check} ({rule})')}")
    return f"::error {','.join(props)}::{_escape_data(summary)}"


@dataclass(frozen=True)
class RuntimeSite:
    """A failing runtime finding, as far as an annotation needs it."""

    check: str
    rule: str
    summary: str
    file: str | None
    line: int | None
    nodeid: str
    """The test it was found in ("" outside any test)."""


SHOWN_TESTS = 10


def runtime_annotation_lines(
    findings: Iterable[RuntimeSite],
    rootdir: Path,
    environ: Mapping[str, str] = os.environ,
) -> list[str]:
    """One ``::error`` line per site (check, rule, file, line), listing the tests that hit it.

    Two tests that run into the same factory bypass make one annotation, not two
    identical ones. A finding without a file is its own site, told apart by its summary.
    """
    sites: dict[tuple[str, str, str, int | None], list[RuntimeSite]] = {}
    for finding in findings:
        where = finding.file or f"<{finding.summary}>"
        sites.setdefault((finding.check, finding.rule, where, finding.line), []).append(finding)
    lines = []
    for group in sites.values():
        first = group[0]
        summary = first.summary
        tests = list(dict.fromkeys(f.nodeid for f in group if f.nodeid))
        if tests:
            shown = tests[:SHOWN_TESTS]
            more = f" and {len(tests) - len(shown)} more" if len(tests) > len(shown) else ""
            noun = "test" if len(tests) == 1 else f"{len(tests)} tests"
            summary += f"\nIn {noun}: {', '.join(shown)}{more}"
        lines.append(
            runtime_annotation(
                check=first.check,
                rule=first.rule,
                summary=summary,
                file=first.file,
                line=first.line,
                rootdir=rootdir,
                environ=environ,
            )
        )
    return lines
