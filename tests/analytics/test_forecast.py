"""Forecast: hand-computed model cases, exact bottom-up reconciliation, demo parity."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmlens.analytics import forecast as fc
from crmlens.insights.rules import forecast as fc_rules


def test_flat_client_forecasts_its_level():
    panel = np.full((1, 24), 1000.0)
    model = fc.SeasonalTrendForecaster().fit(panel, fc.month_index(2023, 1))
    assert model.predict(3).tolist() == [[1000.0, 1000.0, 1000.0]]


def test_growth_is_damped_and_clipped():
    panel = np.concatenate([np.full(12, 100.0), np.full(12, 200.0)])[None, :]
    model = fc.SeasonalTrendForecaster(damping=0.5, max_growth=0.05).fit(panel, 0)
    # growth 2x a year is clipped to 5 % a month, damped: 1.05^0.5, 1.05^0.75
    assert model.trend_[0] == pytest.approx(1.05)
    got = model.predict(2)[0]
    assert got[0] == round(model.level_[0] * 1.05**0.5 * model.season_[0, 0])
    assert got[1] == round(model.level_[0] * 1.05**0.75 * model.season_[0, 1])


def test_not_fitted():
    from crmlens.errors import NotFittedError

    with pytest.raises(NotFittedError):
        fc.SeasonalTrendForecaster().predict(1)


@st.composite
def forecasts(draw):
    n = draw(st.integers(1, 30))
    amounts = draw(
        st.lists(st.floats(0, 1e9).map(round), min_size=n * 2, max_size=n * 2)
    )
    managers = draw(
        st.lists(st.sampled_from(["M1", "M2", "M3", None]), min_size=n, max_size=n)
    )
    ids = [f"A{i}" for i in range(n)]
    clients = pd.DataFrame(
        {
            "account_id": ids * 2,
            "period": ["2026-01"] * n + ["2026-02"] * n,
            "forecast_amount": [float(a) for a in amounts],
        }
    )
    region = {"M1": "N", "M2": "N", "M3": "S", None: None}
    owners = pd.DataFrame(
        {
            "account_id": ids,
            "manager_id": managers,
            "team": managers,
            "region": [region[m] for m in managers],
        }
    )
    return clients, owners


@given(forecasts())
def test_levels_add_up_exactly(data):
    clients, owners = data
    totals = {}
    for level in fc.LEVELS:
        out = fc.reconcile(clients, owners, level=level)
        totals[level] = out.groupby("period")["forecast_amount"].sum().to_dict()
    assert all(t == totals["client"] for t in totals.values())
    manager = fc.reconcile(clients, owners, level="manager")
    region = fc.reconcile(clients, owners, level="region")
    north = manager[manager["level_id"].isin(["M1", "M2"])]
    got = region[region["level_id"] == "N"].set_index("period")["forecast_amount"]
    assert north.groupby("period")["forecast_amount"].sum().to_dict() == got.to_dict()


def test_demo_forecast_inputs_and_levels(engine, demo_wh, demo_truth):
    as_of = dt.date.fromisoformat(demo_truth["as_of"])
    months = fc.client_month_revenue(demo_wh.orders, as_of=as_of).to_pyarrow()
    assert max(months["year"].to_pylist()) == 2025
    assert all(r > 0 for r in months["revenue"].to_pylist())
    res = {
        lv: fc_rules.run(demo_wh, as_of=as_of, horizon=3, level=lv).rows.to_pandas()
        for lv in ("client", "manager", "region", "company")
    }
    sums = {
        lv: df.groupby("period")["forecast_amount"].sum().to_dict()
        for lv, df in res.items()
    }
    assert sums["client"] == sums["manager"] == sums["region"] == sums["company"]
    # as_of 2025-12-15: December is running (the plan's month); the forecast is of the
    # months after it.
    assert list(sums["company"]) == ["2026-01", "2026-02", "2026-03"]
    assert len(res["company"]) == 3


@pytest.mark.parametrize(
    ("as_of", "last_full", "first_future"),
    [
        (dt.date(2025, 12, 15), "2025-11", "2026-01"),
        (dt.date(2025, 11, 30), "2025-11", "2025-12"),
        (dt.date(2025, 12, 31), "2025-12", "2026-01"),
        (dt.date(2024, 2, 29), "2024-02", "2024-03"),
        (dt.date(2025, 1, 1), "2024-12", "2025-02"),
    ],
)
def test_forecast_periods_follow_as_of(as_of, last_full, first_future):
    assert fc.month_label(fc.last_full_month(as_of)) == last_full
    assert fc.month_label(fc.first_future_month(as_of)) == first_future


def _orders_wh(open_wh, tmp_path, name: str, extra: str = ""):
    """One client ordering 1,000 on the 10th of every month of 2023-2024."""
    rows = [
        f"O{y}{m:02d},A1,{y}-{m:02d}-10,1000,M1"
        for y in (2023, 2024)
        for m in range(1, 13)
    ]
    src = tmp_path / f"csv-{name}"
    src.mkdir()
    (src / "managers.csv").write_text("manager_id,name,team,region\nM1,Anna,T1,North\n")
    (src / "accounts.csv").write_text(
        "account_id,name,created_at,owner_id\nA1,Alpha,2023-01-01 00:00:00,M1\n"
    )
    (src / "orders.csv").write_text(
        "order_id,account_id,order_date,amount,manager_id\n"
        + "\n".join(rows)
        + "\n"
        + extra
    )
    wh = open_wh(name)
    wh.import_files([src])
    return wh


@pytest.mark.parametrize("engine", ["duckdb"])  # the inputs are parity-tested above
def test_running_month_is_neither_history_nor_forecast(engine, open_wh, tmp_path):
    wh = _orders_wh(open_wh, tmp_path, "flat")
    # 2024-12-15: December is running, its one order so far must not read as a drop.
    mid = fc_rules.run(wh, as_of="2024-12-15", horizon=2, level="client")
    rows = mid.rows.to_pylist()
    assert [r["period"] for r in rows] == ["2025-01", "2025-02"]
    assert [r["forecast_amount"] for r in rows] == [1000.0, 1000.0]
    assert mid.params["history_until"] == "2024-11"
    # A big order in the running month changes nothing until the month is over.
    big = _orders_wh(open_wh, tmp_path, "big", "X1,A1,2024-12-12,50000,M1\n")
    again = fc_rules.run(big, as_of="2024-12-15", horizon=2, level="client")
    assert again.rows.to_pylist() == rows
    # On the month's last day the month is history and the next one is forecast.
    end = fc_rules.run(wh, as_of="2024-12-31", horizon=1, level="client")
    assert end.params["history_until"] == "2024-12"
    assert [r["period"] for r in end.rows.to_pylist()] == ["2025-01"]


@pytest.mark.parametrize("engine", ["duckdb"])  # the inputs are parity-tested above
def test_proposed_targets_beside_current(engine, demo_wh, demo_truth):
    # On 2025-11-30 the next period is December, the demo's plan month with targets;
    # the behind-plan region's December target was planted at 2x its pace.
    res = fc_rules.run(demo_wh, as_of="2025-11-30", targets=True, stretch=1.1)
    rows = res.rows.to_pandas()
    assert set(rows["scope_type"]) == {"manager", "region"}
    assert set(rows["period"]) == {demo_truth["plan"]["period"]}
    assert (rows["proposed_target"] % 1000 == 0).all()
    assert rows["current_target"].notna().all()
    behind = demo_truth["plan"]["behind_region"]
    far = {f.subject["id"] for f in res.findings}
    assert behind in far


@pytest.mark.parametrize("engine", ["duckdb"])  # the inputs are parity-tested above
def test_proposed_targets_are_for_the_next_month(engine, demo_wh, demo_truth):
    res = fc_rules.run(demo_wh, as_of=demo_truth["as_of"], targets=True)
    rows = res.rows.to_pandas()
    assert set(rows["period"]) == {"2026-01"}  # the demo has no January targets yet
    assert rows["current_target"].isna().all()
    assert res.findings == []
