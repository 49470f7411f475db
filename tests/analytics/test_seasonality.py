"""Seasonality: the repeat test by hand, on the demo's truth, and with nothing planted."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pytest

from crmlens.analytics.seasonality import client_months, seasonal_profile


def _months(rows: dict[str, dict[int, float]]) -> pa.Table:
    ids, month, rev, first = [], [], [], []
    for acc, series in rows.items():
        for m, v in series.items():
            ids.append(acc)
            month.append(m)
            rev.append(v)
            first.append(min(series))
    return pa.table(
        {"account_id": ids, "month": month, "revenue": rev, "first_month": first}
    )


START = 2022 * 12  # January 2022
AS_OF = dt.date(2025, 1, 15)  # 36 complete months: 2022-01 .. 2024-12


def test_repeat_test_by_hand() -> None:
    steady = {START + i: 100.0 for i in range(36)}
    march = {**steady, **{START + 2 + 12 * y: 400.0 for y in range(3)}}
    once = {**steady, START + 14: 5000.0}  # one big order in March 2023
    young = {START + 20 + i: 100.0 for i in range(16)}
    seasons = {
        s.account_id: s
        for s in seasonal_profile(
            _months({"steady": steady, "march": march, "once": once, "young": young}),
            as_of=AS_OF,
        )
    }
    assert "young" not in seasons  # less than 24 months of history
    assert seasons["march"].is_seasonal
    assert seasons["march"].peak_month == 3
    assert seasons["march"].peak_uplift == pytest.approx(3.0)  # 400 vs 100
    assert seasons["march"].next_peak == dt.date(2025, 3, 1)
    assert not seasons["once"].is_seasonal
    assert seasons["once"].repeated_years == 1
    assert not seasons["steady"].is_seasonal


def _check_truth(wh, truth: dict) -> tuple[float, float]:
    as_of = dt.date.fromisoformat(truth["as_of"]) - dt.timedelta(days=1)
    months = client_months(wh.orders, as_of=as_of).to_pyarrow()
    flagged = {
        s.account_id: s for s in seasonal_profile(months, as_of=as_of) if s.is_seasonal
    }
    planted = {c["account_id"]: c["peak_month"] for c in truth["seasonal_clients"]}
    right = [a for a in planted if a in flagged and flagged[a].peak_month == planted[a]]
    recall = len(right) / len(planted) if planted else 1.0
    precision = sum(a in planted for a in flagged) / len(flagged) if flagged else 1.0
    return recall, precision


def test_demo_seasonal_clients(demo_wh, demo_truth) -> None:
    demo_wh.refresh()  # Spark: other warehouses of the session reuse the view names
    recall, precision = _check_truth(demo_wh, demo_truth)
    assert recall >= 0.9
    assert precision >= 0.9


def test_nothing_found_where_nothing_planted(open_wh, tmp_path: Path) -> None:
    import json

    from crmlens.demo import generate

    out = tmp_path / "demo"
    generate(out, seed=7, patterns="none")
    wh = open_wh()
    wh.import_files([out / "orders.csv"], table="orders")
    truth = json.loads((out / "truth.json").read_text())
    as_of = dt.date.fromisoformat(truth["as_of"]) - dt.timedelta(days=1)
    months = client_months(wh.orders, as_of=as_of).to_pyarrow()
    seasons = seasonal_profile(months, as_of=as_of)
    assert len(seasons) > 300
    assert sum(s.is_seasonal for s in seasons) <= 0.02 * len(seasons)
