"""The pytest-xdist wire format: what a worker sends at its end, and how the controller merges it.

A worker checks the contracts it was given and watches the tests it runs; only
the controller writes files and the summary. At the end of its session a worker
puts everything it found into ``config.workeroutput["pytest_ssot"]`` (JSON-able
data, see ``WorkerWire.output``); the controller's ``XdistController`` hears
each worker go down and merges what it sent, once per result, graph and finding.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

import pytest

from pytest_ssot.findings import FindingsReporter
from pytest_ssot.model import ContractSpec, Finding, GraphKey, GraphStats
from pytest_ssot.results import ContractResults
from pytest_ssot.run_failures import RunFailures, report_run_failure
from pytest_ssot.serialize import (
    finding_from_dict,
    finding_to_dict,
    result_from_dict,
    result_to_dict,
    stats_from_dict,
    stats_to_dict,
)

WORKER_OUTPUT_KEY = "pytest_ssot"


class WireState(Protocol):
    """A runtime check whose summary counts travel from the workers to the controller."""

    def summary_state(self) -> Any: ...

    def merge_state(self, state: Any) -> None: ...


def finding_identity(finding: Finding) -> tuple[str, str, str, str]:
    return (finding.check, finding.fingerprint, finding.phase.when, finding.phase.nodeid)


class WorkerWire:
    """Both ends of the wire: a worker's output, and the controller's merge of it."""

    def __init__(
        self,
        specs: Sequence[ContractSpec],
        results: ContractResults,
        findings: FindingsReporter,
        run_failures: RunFailures,
        states: Mapping[str, WireState],
        *,
        observed: Callable[[], set[tuple[str, str]]],
        graph_stats: Callable[[], list[GraphStats]],
    ) -> None:
        self.specs = {spec.id: spec for spec in specs}
        self.results = results
        self.findings = findings
        self.run_failures = run_failures
        self.states = states
        """The runtime checks' summary counts, by wire key (``managers``, ``imports`` ...)."""
        self._observed = observed
        self._graph_stats = graph_stats
        self.merged_observed: set[tuple[str, str]] = set()
        """(baseline key, fingerprint) of the runtime findings the workers observed."""
        self.worker_graphs: dict[GraphKey, GraphStats] = {}

    # -- the worker's end ---------------------------------------------------------------

    def output(self) -> dict[str, Any]:
        return {
            "observed": sorted(self._observed()),
            **{key: state.summary_state() for key, state in self.states.items()},
            "allowances": [list(a) for a in self.findings.allowances],
            "results": [result_to_dict(r) for r in self.results.results.values()],
            "graphs": [stats_to_dict(g) for g in self._graph_stats()],
            "findings": [finding_to_dict(f) for f in self.findings.findings],
            "run_failures": self.run_failures.to_wire(),
        }

    def send(self, config: pytest.Config) -> None:
        """On a worker, at its session's end: hand everything to pytest-xdist."""
        workeroutput = getattr(config, "workeroutput", None)
        if workeroutput is not None:
            workeroutput[WORKER_OUTPUT_KEY] = self.output()

    # -- the controller's end -----------------------------------------------------------

    def merge(self, data: dict[str, Any]) -> None:
        """On the controller: take in one worker's results, graphs and findings, once each."""
        self.merged_observed |= {(str(k), str(f)) for k, f in data.get("observed", ())}
        for nodeid, check, rule in data.get("allowances", ()):
            self.findings.allow(nodeid, check, rule)
        for key, state in self.states.items():
            if key in data:
                state.merge_state(data[key])
        for item in data.get("results", ()):
            spec = self.specs.get(item["id"])
            if spec is not None:
                self.results.record(result_from_dict(item, spec))
        for item in data.get("graphs", ()):
            stats = stats_from_dict(item)
            known = self.worker_graphs.get(stats.key)
            if known is None or (known.from_cache and not stats.from_cache):
                self.worker_graphs[stats.key] = stats
        self.run_failures.merge_wire(data.get("run_failures", ()))
        seen = {finding_identity(f) for f in self.findings.findings}
        for item in data.get("findings", ()):
            finding = finding_from_dict(item)
            if finding_identity(finding) not in seen:
                seen.add(finding_identity(finding))
                self.findings.findings.append(finding)

    def graph_stats(self) -> list[GraphStats]:
        """The graphs the workers built, or this process's own."""
        return list(self.worker_graphs.values()) or self._graph_stats()


class XdistController:
    """Hooks that exist only when pytest-xdist is installed (its hook specs are needed)."""

    def __init__(self, config: pytest.Config, wire: WorkerWire) -> None:
        self.config = config
        self.wire = wire
        self.workers_lost = 0
        """Workers that crashed or sent nothing: what they observed never reached us."""

    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        data = getattr(node, "workeroutput", {}).get(WORKER_OUTPUT_KEY)
        if data:
            self.wire.merge(data)
        if error is not None or not data:
            # A crashed worker: the runtime findings it saw are lost, so runtime
            # entries that were not seen again cannot be taken as fixed.
            self.workers_lost += 1
        if error is None and not data:
            # A worker that finished normally but sent nothing: pytest-xdist reports
            # no problem, yet its contract results, runtime findings and run-level
            # failures are gone. Passing such a run would be a silent pass.
            worker = getattr(node, "gateway", None)
            name = getattr(worker, "id", None) or "a worker"
            report_run_failure(
                self.config,
                "xdist-worker",
                f"pytest-xdist worker {name} finished without sending pytest-ssot's results",
                f"pytest-xdist worker {name} finished its tests but sent no pytest-ssot "
                "results, so the contract results, runtime findings and run-level failures "
                "it saw are missing from this run's summary and reports.\n"
                "What to do: check that every worker loads the same pytest-ssot (an "
                "installation changed during the run, or a plugin removed "
                f"config.workeroutput[{WORKER_OUTPUT_KEY!r}]), then run again.",
            )
