"""Cohorts from purchase bit sets and the CLV summary without a window (issue 6 speed).

The fast formulations must give exactly what the plain definitions give: cohorts against
an independent pandas computation over histories longer than one 62-period word, RFM
scores from value histograms against a rank, and the CLV summary's repeat value exact
where the repeat days add up to zero.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import ibis
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmlens.analytics.clv import clv_summary
from crmlens.analytics.customers import WORD_BITS, cohorts, rfm_scores

AS_OF = dt.date(2025, 12, 31)


def pandas_cohorts(orders: pd.DataFrame, period: str) -> dict[tuple[Any, int], tuple]:
    """(cohort period, k) -> (cohort_size, clients, revenue), by the definition."""
    o = orders[orders.order_date <= pd.Timestamp(AS_OF)].copy()
    d = o.order_date.dt
    o["p"] = (
        d.year * 12 + d.month - 1
        if period == "month"
        else d.year * 4 + (d.month - 1) // 3
    )
    first = o[o.amount > 0].groupby("account_id").p.min().rename("c")
    j = o.join(first, on="account_id", how="inner")
    j = j[j.p >= j.c]
    size = first.value_counts()
    out = {}
    for key, cell in j.groupby(["c", "p"]):
        c, p = (int(v) for v in key)  # type: ignore[union-attr,call-overload]
        clients = cell[cell.amount > 0].account_id.nunique()
        out[(c, p - c)] = (
            int(size.loc[c]),
            int(clients),
            round(float(cell.amount.sum()), 6),
        )
    return out


def ours(orders: pd.DataFrame, period: str) -> dict[tuple[Any, int], tuple]:
    t = cohorts(ibis.memtable(orders), as_of=AS_OF, period=period)  # type: ignore[arg-type]
    out = {}
    for r in t.to_pyarrow().to_pylist():
        c = r["cohort"]
        key = (
            c.year * 12 + c.month - 1
            if period == "month"
            else c.year * 4 + (c.month - 1) // 3
        )
        out[(key, r["period_index"])] = (
            r["cohort_size"], r["clients"], round(r["revenue"], 6)
        )  # fmt: skip
    return out


_ORDER = st.tuples(
    st.sampled_from(["a", "b", "c", "d", "e"]),
    st.integers(0, 150 * 31),  # days back from AS_OF: up to ~150 months, 3 words
    st.integers(-30, 300),
)


@settings(max_examples=20, deadline=None)
@given(st.lists(_ORDER, min_size=1, max_size=40), st.sampled_from(["month", "quarter"]))
def test_cohorts_equal_the_definition(
    orders: list[tuple[str, int, int]], period: str
) -> None:
    frame = pd.DataFrame(
        {
            "account_id": [a for a, _d, _v in orders],
            "order_date": [
                pd.Timestamp(AS_OF - dt.timedelta(days=d)) for _a, d, _v in orders
            ],
            "amount": [float(v) for _a, _d, v in orders],
        }
    )
    frame["order_date"] = frame.order_date.dt.date
    expected = pandas_cohorts(
        frame.assign(order_date=pd.to_datetime(frame.order_date)), period
    )
    assert ours(frame, period) == expected


def test_cohorts_across_word_boundaries(open_wh: Any, tmp_path: Path) -> None:
    """One client buying in months 0, 61, 62, 123 and 124 back from as_of (3 words)."""
    lines = ["order_id,account_id,order_date,amount"]
    months_back = [124, 123, 62, 61, 0]
    last = AS_OF.year * 12 + AS_OF.month - 1
    for i, back in enumerate(months_back):
        p = last - back
        lines.append(f"o{i},x,{p // 12}-{p % 12 + 1:02d}-15,{10 * (i + 1)}")
    lines.append("r1,x,2015-08-20,-5")  # a return in its first month, no purchase
    (tmp_path / "orders.csv").write_text("\n".join(lines) + "\n")
    wh = open_wh()
    wh.import_files([tmp_path / "orders.csv"], table="orders")
    rows = cohorts(wh.orders, as_of=AS_OF).to_pyarrow().to_pylist()
    got = {r["period_index"]: (r["clients"], r["revenue"]) for r in rows}
    assert WORD_BITS == 62
    assert got == {
        0: (1, 5.0),
        1: (1, 20.0),
        62: (1, 30.0),
        63: (1, 40.0),
        124: (1, 50.0),
    }
    assert {r["cohort"] for r in rows} == {dt.date(2015, 8, 1)}


def test_rfm_histogram_scores_equal_ranks() -> None:
    """Scores from the value counts equal 1 + floor(5 x (min rank - 1) / n)."""
    frame = pd.DataFrame(
        {
            "account_id": [f"c{i % 23}" for i in range(200)],
            "order_date": [
                AS_OF - dt.timedelta(days=(i * 37) % 300) for i in range(200)
            ],
            "amount": [float((i * 7919) % 1000 - 50) for i in range(200)],
        }
    )
    got = rfm_scores(ibis.memtable(frame), as_of=AS_OF).to_pyarrow().to_pandas()
    n = len(got)
    for col, asc, score in (
        ("days_since_last_order", False, "r_score"),
        ("frequency", True, "f_score"),
        ("monetary", True, "m_score"),
    ):
        rank = got[col].rank(method="min", ascending=asc)
        assert (got[score] == 1 + (5 * (rank - 1)) // n).all(), score
    assert (got.rfm_score == got.r_score.astype(str) + got.f_score.astype(str)
            + got.m_score.astype(str)).all()  # fmt: skip


def test_clv_repeat_value_exact(open_wh: Any, tmp_path: Path) -> None:
    """Repeat days adding up to zero give monetary 0 exactly; same-day orders are one."""
    (tmp_path / "orders.csv").write_text(
        "order_id,account_id,order_date,amount,cost\n"
        "o1,a,2024-01-01,0.7,0\n"  # float: (0.7 - 0.1 + 0.1) - 0.7 != 0
        "o2,a,2024-02-01,0.3,0.4\n"  # margin -0.1
        "o3,a,2024-03-01,0.2,0.1\n"  # margin +0.1: repeat margins add up to 0
        "o4,b,2024-01-05,10,\n"
        "o5,b,2024-01-05,5,\n"  # same day: one transaction of 15
        "o6,b,2024-02-05,7,\n"
        "o7,b,2024-02-06,-3,\n"  # a return: not a transaction
    )
    wh = open_wh()
    wh.import_files([tmp_path / "orders.csv"], table="orders")
    rows = {
        r["account_id"]: r
        for r in clv_summary(wh.orders, as_of=dt.date(2024, 3, 31), time_unit_days=1)
        .to_pyarrow()
        .to_pylist()
    }
    assert rows["a"]["frequency"] == 2
    assert rows["a"]["monetary_value"] == 0.0
    b = rows["b"]
    assert (b["frequency"], b["orders_count"], b["monetary_value"]) == (1, 3, 7.0)
    assert (b["recency"], b["T"]) == (31.0, 86.0)
    assert b["historical_value"] == pytest.approx(19.0)
