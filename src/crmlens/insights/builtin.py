"""Built-in analyses, registered on import (each module registers its own)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from crmlens.insights.registry import AnalysisResult, register
from crmlens.model import TABLE_NAMES

if TYPE_CHECKING:
    from crmlens.warehouse import Warehouse


@register(
    "tables", "Row counts and date ranges of the canonical tables", in_overview=False
)
def tables(wh: Warehouse, **_: Any) -> AnalysisResult:
    """The table overview as an analysis result (no findings)."""
    from crmlens.analytics.tables import table_overview

    expr = table_overview({name: wh.table(name) for name in TABLE_NAMES})
    return AnalysisResult("tables", {}, expr.to_pyarrow())
