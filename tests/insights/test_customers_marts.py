"""customers rfm/cohorts and the CLV summary read the per-client marts: same rows as without."""

from __future__ import annotations

from typing import Any

import pytest

from crmlens.insights import registry
from crmlens.insights.params import resolve_as_of
from crmlens.insights.rules import customers as rules

CASES = [
    ("customers_rfm", {}),
    ("customers_rfm", {"compare": ("2025-06-30", "2025-12-12")}),
    ("customers_cohorts", {"period": "quarter", "metric": "revenue"}),
    ("customers_cohorts", {"period": "month", "metric": "clients"}),
    ("customers_clv", {}),
]


@pytest.mark.parametrize(("name", "params"), CASES)
def test_rows_and_findings_same_with_and_without_client_marts(
    demo_wh: Any, engine: str, name: str, params: dict[str, Any], monkeypatch
) -> None:
    day = resolve_as_of(demo_wh, None)
    marts = rules.client_marts(demo_wh, day, region=None, manager=None)
    assert (marts is not None) == (engine == "duckdb")  # DuckDB keeps them, Spark not
    assert rules.client_marts(demo_wh, day, region="Юг", manager=None) is None
    with_marts = registry.run(name, demo_wh, **params)
    monkeypatch.setattr(rules, "client_marts", lambda *a, **k: None)
    without = registry.run(name, demo_wh, **params)
    assert with_marts.rows.equals(without.rows)
    assert [f.to_dict() for f in with_marts.findings] == [
        f.to_dict() for f in without.findings
    ]
