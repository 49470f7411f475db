"""The shared charts: one figure per analysis with RU/EN axis titles; their SVG for the PDF."""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET
from typing import Any

import pyarrow as pa
import pytest

from crmlens.insights.registry import run
from crmlens.reports.charts import figure_for, has_chart
from crmlens.reports.svg import figure_svg

#: Cheap analyses of the demo and the parameters they are charted with.
CASES = [
    ("funnel", {}),
    ("funnel", {"velocity": True}),
    ("funnel", {"by": "manager"}),
    ("plan", {}),
    ("forecast", {"level": "manager"}),
    ("managers_kpis", {}),
    ("managers_compare", {}),
    ("managers_checklist", {}),
    ("managers_response", {}),
    ("managers_activity", {}),
    ("managers_losses", {}),
    ("customers_rfm", {}),
    ("customers_abc", {"matrix": True}),
    ("customers_abc", {}),
    ("customers_cohorts", {}),
    ("customers_churn", {}),
    ("customers_factors", {}),
    ("campaigns", {}),
    ("leads_sources", {}),
    ("leads_signals", {}),
    ("daily_activity", {}),
    ("daily_leads", {}),
    ("daily_overdue", {}),
    ("tables", {}),
]
_RESULTS: dict[str, Any] = {}


def _result(wh: Any, name: str, params: dict[str, Any]) -> Any:
    key = f"{name}{sorted(params.items())}"
    if key not in _RESULTS:
        _RESULTS[key] = run(name, wh, **params)
    return _RESULTS[key]


def _titles(fig: Any) -> tuple[str, str, str]:
    return (
        fig.layout.title.text,
        fig.layout.xaxis.title.text,
        fig.layout.yaxis.title.text,
    )


@pytest.mark.parametrize(
    ("name", "params"), CASES, ids=[f"{n}{p or ''}" for n, p in CASES]
)
def test_every_chart_has_titles_in_both_languages(
    demo_wh: Any, name: str, params: dict[str, Any]
) -> None:
    result = _result(demo_wh, name, params)
    ru = figure_for(name, result.rows, lang="ru", params=result.params)
    en = figure_for(name, result.rows, lang="en", params=result.params)
    assert ru is not None
    assert en is not None
    for fig in (ru, en):
        title, x, y = _titles(fig)
        assert all((title, x, y)), (name, title, x, y)
        assert len(fig.data) >= 1
    assert _titles(ru) != _titles(en)
    assert any("а" <= ch <= "я" for ch in "".join(_titles(ru)).lower())
    assert not any("а" <= ch <= "я" for ch in "".join(_titles(en)[1:]).lower())


@pytest.mark.parametrize(
    ("name", "params"), CASES, ids=[f"{n}{p or ''}" for n, p in CASES]
)
def test_every_chart_draws_as_svg(
    demo_wh: Any, name: str, params: dict[str, Any]
) -> None:
    result = _result(demo_wh, name, params)
    fig = figure_for(name, result.rows, lang="ru", params=result.params)
    svg = figure_svg(fig)
    root = ET.fromstring(svg)  # well-formed XML
    assert root.tag.endswith("svg")
    shapes = [
        e for e in root.iter() if e.tag.split("}")[-1] in ("rect", "circle", "polyline")
    ]
    assert shapes, name
    text = " ".join(e.text or "" for e in root.iter() if e.tag.endswith("text"))
    assert fig.layout.xaxis.title.text[:20] in text


def test_funnel_bars_are_the_rows(demo_wh: Any) -> None:
    result = _result(demo_wh, "funnel", {})
    fig = figure_for("funnel", result.rows, lang="en")
    reached, dropped = fig.data
    main = [
        r
        for r in result.rows.to_pylist()
        if r["pipeline_id"] == "main" and r["position"] > 0
    ]
    assert list(reached.x) == [r["reached"] for r in main]
    assert list(dropped.x) == [
        a["reached"] - b["reached"] for a, b in itertools.pairwise(main)
    ] + [0]


def test_plan_colours_follow_the_lights(demo_wh: Any) -> None:
    from crmlens.reports._chart_kit import LIGHTS

    result = _result(demo_wh, "plan", {})
    fig = figure_for("plan", result.rows, lang="ru")
    forecast = fig.data[0]
    rows = sorted(
        (r for r in result.rows.to_pylist() if r["target_amount"] is not None),
        key=lambda r: r["scope_id"],
    )
    assert list(forecast.marker.color) == [LIGHTS[r["light"]] for r in rows]
    assert list(forecast.x) == pytest.approx([r["forecast_amount"] for r in rows])


def test_abc_matrix_shares_add_up(demo_wh: Any) -> None:
    result = _result(demo_wh, "customers_abc", {})
    fig = figure_for("customers_abc", result.rows, lang="en")
    total = sum(v for row in fig.data[0].z for v in row)
    assert total == pytest.approx(1.0)


def test_no_chart_without_rows_or_builder() -> None:
    empty = pa.table({"stage": pa.array([], pa.string())})
    assert figure_for("funnel", empty, lang="ru") is None
    assert figure_for("dedup", pa.table({"x": [1]}), lang="ru") is None
    assert not has_chart("dedup")
    assert has_chart("funnel")


def test_quality_scores_chart_from_params() -> None:
    rows = pa.table({"check": ["a"], "failed": [1]})
    params = {"scores": {"requirement": {"completeness": 90.0, "process": 70.0}}}
    fig = figure_for("quality", rows, lang="ru", params=params)
    assert list(fig.data[0].y) == ["Соблюдение процесса", "Полнота"]
    assert list(fig.data[0].x) == [70.0, 90.0]
