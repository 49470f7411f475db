"""The registry of analyses: name -> function(warehouse, **params) -> rows and findings.

Interfaces (CLI, web, reports, insights) run analyses through this one registry, so an
analysis added later appears everywhere without changes there. Built-in analyses register
with :func:`register`, as a plugin would.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from crmlens.insights.currency import in_data_currency
from crmlens.insights.findings import Finding, dedupe, rank

if TYPE_CHECKING:
    import pyarrow as pa

    from crmlens.warehouse import Warehouse


@dataclass
class AnalysisResult:
    """What an analysis returns: rows (Arrow) and findings."""

    analysis: str
    params: dict[str, Any]
    rows: pa.Table
    findings: list[Finding] = field(default_factory=list)


Runner = Callable[..., AnalysisResult]


@dataclass(frozen=True)
class Analysis:
    """A registered analysis: its runner and whether it gives findings for the overview."""

    name: str
    run: Runner
    summary: str
    in_overview: bool = True


REGISTRY: dict[str, Analysis] = {}


def register(
    name: str, summary: str, *, in_overview: bool = True
) -> Callable[[Runner], Runner]:
    """Decorator: register `fn(wh, **params) -> AnalysisResult` under `name`."""

    def wrap(fn: Runner) -> Runner:
        REGISTRY[name] = Analysis(name, in_data_currency(fn), summary, in_overview)
        return fn

    return wrap


def run(name: str, wh: Warehouse, **params: Any) -> AnalysisResult:
    """Run the analysis `name` on `wh`."""
    _load_builtins()
    return REGISTRY[name].run(wh, **params)


def top_findings(wh: Warehouse, *, limit: int = 10) -> list[Finding]:
    """Findings of every registered analysis that has them, ranked."""
    _load_builtins()
    found: list[Finding] = []
    for analysis in REGISTRY.values():
        if analysis.in_overview:
            found += analysis.run(wh).findings
    found = dedupe(found)
    return rank(found)[:limit]


def _load_builtins() -> None:
    import crmlens.insights.builtin  # noqa: F401  (registers on import)
    from crmlens.insights.rules import load_rules

    load_rules()


def names() -> list[str]:
    """Names of every registered analysis."""
    _load_builtins()
    return sorted(REGISTRY)


def tables_rows(wh: Warehouse) -> pa.Table:
    """Rows of the table overview (``crmlens tables``)."""
    return run("tables", wh).rows
