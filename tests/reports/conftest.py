"""Reports on the demo: built once per session (DuckDB; the analyses have their own parity tests)."""

from __future__ import annotations

from typing import Any

import pytest

_BUILT: dict[tuple[Any, ...], Any] = {}


@pytest.fixture
def engine() -> str:
    """Reports are built on DuckDB only: every section is a registry analysis whose
    Spark parity is tested with the analysis; building a monthly report on local Spark
    would add minutes to the suite for no new coverage."""
    return "duckdb"


@pytest.fixture
def built(demo_wh: Any):
    """``built(period, role=..., scope=..., lang=...)``: a report on the demo, memoised."""
    from crmlens.reports.build import build_report, parse_scope

    def _build(
        period: str, *, role: str = "head", scope: str | None = None, lang: str = "ru"
    ) -> Any:
        key = (id(demo_wh), period, role, scope, lang)
        if key not in _BUILT:
            _BUILT[key] = build_report(
                demo_wh,
                period=period,
                role=role,
                scope=parse_scope(scope, role),
                lang=lang,
            )
        return _BUILT[key]

    return _build
