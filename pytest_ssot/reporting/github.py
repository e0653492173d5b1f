"""GitHub Actions workflow commands, so new violations show on the pull request's diff."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
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
