"""Churn: usual gaps and statuses, hand-computed and against the demo's truth."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from crmlens.analytics.churn import churn_status

ORDERS = """order_id,account_id,order_date,amount
a1,a,2024-01-01,100
a2,a,2024-01-11,100
a3,a,2024-01-21,100
a4,a,2024-01-31,100
b1,b,2024-01-01,100
b2,b,2024-01-11,100
b3,b,2024-01-21,-30
b4,b,2024-01-22,100
c1,c,2024-01-30,500
d1,d,2023-01-01,100
d2,d,2023-01-11,100
d3,d,2023-01-21,100
"""


@pytest.fixture
def wh(open_wh, tmp_path: Path):
    (tmp_path / "orders.csv").write_text(ORDERS)
    w = open_wh()
    w.import_files([tmp_path / "orders.csv"], table="orders")
    return w


def test_status_hand_computed(wh) -> None:
    rows = churn_status(wh.orders, as_of=dt.date(2024, 2, 10)).to_pyarrow().to_pylist()
    got = {r["account_id"]: r for r in rows}
    assert got["a"]["own_gap_days"] == 10.0
    assert (got["a"]["days_since_last_order"], got["a"]["status"]) == (10, "active")
    assert got["b"]["own_gap_days"] == pytest.approx(10.5)  # the return is no purchase
    assert got["b"]["status"] == "at_risk"  # 19 days / 10.5 = 1.81
    assert got["c"]["gap_source"] == "base"
    assert got["c"]["usual_gap_days"] == pytest.approx((10 + 10.5 + 10) / 3)
    assert got["d"]["status"] == "lost"
    assert got["d"]["revenue_at_stake"] == 300.0
    assert got["b"]["revenue_at_stake"] == 270.0
    assert str(got["a"]["expected_order_date"]) == "2024-02-10"


def test_engines_agree(wh) -> None:
    import ibis

    from tests.backends import assert_same_rows

    mine = churn_status(wh.orders, as_of=dt.date(2024, 2, 10)).to_pyarrow().to_pylist()
    ref = churn_status(
        ibis.memtable(wh.orders.to_pyarrow()), as_of=dt.date(2024, 2, 10)
    )
    assert_same_rows(mine, ref.to_pyarrow().to_pylist())


def test_demo_churned_clients_are_silent_or_lost(demo_wh, demo_truth) -> None:
    demo_wh.refresh()  # Spark: other warehouses of the session reuse the view names
    as_of = dt.date.fromisoformat(demo_truth["as_of"]) - dt.timedelta(days=1)
    rows = churn_status(demo_wh.orders, as_of=as_of).to_pyarrow().to_pylist()
    status = {r["account_id"]: r["status"] for r in rows}
    churned = [c["account_id"] for c in demo_truth["churned_clients"]]
    assert len(churned) >= 20
    hit = sum(status.get(a) in ("silent", "lost") for a in churned)
    assert hit / len(churned) >= 0.9
    quiet = sum(s in ("silent", "lost") for s in status.values())
    assert quiet < 0.15 * len(status)  # most of the base is not flagged
