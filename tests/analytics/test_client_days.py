"""The client_days mart changes speed, never a number (issue 6 speed).

RFM, RFM transitions, cohorts (month and quarter) and the CLV summary (margin and amount)
must give the same rows from the mart as from the orders, for dates before, inside and
after the data, on both engines; hand-computed mart rows pin the history columns.
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

from crmlens.analytics.client_days import (
    DAY_COLUMNS,
    ClientDays,
    client_days,
    client_days_of,
    client_keys,
)
from crmlens.analytics.clv import clv_summary, summary_facts
from crmlens.analytics.customers import cohorts, rfm_scores, rfm_transitions
from crmlens.warehouse.scope import Scope, scoped
from tests.backends import assert_same_rows

# Returns before the first purchase (b in December, e in March), a zero-amount order (f),
# two orders on one day (a on 2024-02-10), a missing cost, a client with only a return.
ORDERS = """order_id,account_id,order_date,amount,cost
o1,a,2024-03-30,100,60
o2,a,2024-02-10,200,
o3,a,2024-02-10,-50,-30
o4,a,2024-01-05,300,100
o5,b,2024-03-01,50,20
o6,b,2023-12-20,-20,
o7,b,2023-12-28,70,30
o8,c,2023-06-01,1000,500
o9,c,2024-01-15,400,
o10,d,2022-01-01,999,1
o11,e,2024-03-31,-10,
o12,f,2024-02-02,0,0
o13,f,2024-02-20,80,10
o14,e,2024-03-05,-5,
o15,g,2024-03-20,-7,
o16,g,2024-03-25,30,
"""
LAST_ORDER = dt.date(2024, 3, 31)
DATES = [
    dt.date(2022, 1, 1),
    dt.date(2023, 12, 25),
    dt.date(2024, 2, 10),
    dt.date(2024, 3, 22),
    dt.date(2024, 3, 31),
    dt.date(2025, 1, 1),
]


@pytest.fixture
def wh(open_wh, tmp_path: Path):
    path = tmp_path / "orders.csv"
    path.write_text(ORDERS)
    w = open_wh()
    w.import_files([path], table="orders")
    return w


def mart_of(orders: Any, *, summary: bool = False) -> ClientDays:
    """The marts as expressions (what the import stores), for any engine.

    With `summary` also ``client_summary``, which holds only on or after the last order.
    """
    days = client_days(orders)
    facts = summary_facts(days) if summary else None
    return ClientDays(days=days, keys=client_keys(orders), summary=facts)


def rows(expr: Any) -> list[dict[str, Any]]:
    return list(expr.to_pyarrow().to_pylist())


def both(fn: Any, orders: Any, days: ClientDays) -> None:
    fast, slow = rows(fn(days)), rows(fn(None))
    assert_same_rows(fast, slow)
    assert all(isinstance(r, dict) for r in fast)


def test_hand_computed_days(wh) -> None:
    got = {
        (r["account_key"], r["order_date"].isoformat()): r
        for r in rows(client_days(wh.orders))
    }
    keys = {r["account_id"]: r["account_key"] for r in rows(client_keys(wh.orders))}
    assert keys == {k: i for i, k in enumerate("abcdefg")}
    a_feb = got[(keys["a"], "2024-02-10")]
    assert (a_feb["purchases_count"], a_feb["transactions_count"]) == (1, 1)
    assert (a_feb["amount"], a_feb["transaction_amount"]) == (150.0, 200.0)
    assert (a_feb["value"], a_feb["transaction_value"]) == (180.0, 200.0)
    assert a_feb["is_month_first"]
    assert not a_feb["is_quarter_first"]
    b_dec = got[(keys["b"], "2023-12-20")]  # a return before b's first purchase
    assert b_dec["first_purchase_date"] == dt.date(2023, 12, 28)
    assert not b_dec["is_month_first"]
    assert got[(keys["b"], "2023-12-28")]["is_quarter_first"]
    assert got[(keys["b"], "2024-03-01")]["is_quarter_first"]  # a new quarter
    f_zero = got[(keys["f"], "2024-02-02")]  # a CLV transaction, not a purchase
    assert (f_zero["purchases_count"], f_zero["transactions_count"]) == (0, 1)
    assert f_zero["first_purchase_date"] == dt.date(2024, 2, 20)
    assert got[(keys["f"], "2024-02-20")]["is_month_first"]
    e_rows = [r for (k, _d), r in got.items() if k == keys["e"]]
    assert len(e_rows) == 2
    assert all(r["first_purchase_date"] is None for r in e_rows)
    assert not any(r["is_month_first"] or r["is_quarter_first"] for r in e_rows)
    assert set(rows(client_days(wh.orders))[0]) == set(DAY_COLUMNS)


@pytest.mark.parametrize("as_of", DATES, ids=str)
def test_rfm_is_the_same_from_the_mart(wh, as_of: dt.date) -> None:
    days = mart_of(wh.orders)
    for window in (365, 40):
        both(
            lambda d, w=window: rfm_scores(
                wh.orders, as_of=as_of, window_days=w, days=d
            ),
            wh.orders,
            days,
        )


@pytest.mark.parametrize("as_of", DATES, ids=str)
@pytest.mark.parametrize("period", ["month", "quarter"])
def test_cohorts_are_the_same_from_the_mart(wh, as_of: dt.date, period: str) -> None:
    both(
        lambda d: cohorts(wh.orders, as_of=as_of, period=period, days=d),  # type: ignore[arg-type]
        wh.orders,
        mart_of(wh.orders),
    )


@pytest.mark.parametrize("as_of", DATES, ids=str)
@pytest.mark.parametrize("basis", ["margin", "amount"])
def test_clv_summary_is_the_same_from_the_mart(wh, as_of: dt.date, basis: str) -> None:
    def summary(d: ClientDays | None) -> Any:
        return clv_summary(
            wh.orders,
            as_of=as_of,
            value_basis=basis,  # type: ignore[arg-type]
            time_unit_days=7,
            days=d,
        )

    both(summary, wh.orders, mart_of(wh.orders))
    if as_of >= LAST_ORDER:  # the client_summary mart holds from the last order on
        both(summary, wh.orders, mart_of(wh.orders, summary=True))


def test_transitions_are_the_same_from_the_mart(wh) -> None:
    both(
        lambda d: rfm_transitions(
            wh.orders,
            date_from=dt.date(2024, 1, 31),
            date_to=dt.date(2024, 3, 31),
            window_days=90,
            days=d,
        ),
        wh.orders,
        mart_of(wh.orders),
    )


def test_the_hand_computed_rfm_holds_from_the_mart(wh) -> None:
    got = {
        r["account_id"]: r
        for r in rows(
            rfm_scores(wh.orders, as_of=dt.date(2024, 3, 31), days=mart_of(wh.orders))
        )
    }
    assert set(got) == {"a", "b", "c", "f", "g"}  # d outside, e only returns
    assert (got["a"]["frequency"], got["a"]["monetary"]) == (3, 550.0)
    assert (got["b"]["frequency"], got["b"]["monetary"]) == (2, 100.0)
    assert (got["g"]["frequency"], got["g"]["monetary"]) == (1, 23.0)


# --- the stored mart of a DuckDB warehouse ---------------------------------------------


@pytest.fixture
def demo(demo_wh, engine: str):
    if engine != "duckdb":
        pytest.skip("marts are kept by DuckDB warehouses only")
    return demo_wh


def test_an_import_stores_the_mart(wh, engine: str) -> None:
    if engine != "duckdb":
        pytest.skip("marts are kept by DuckDB warehouses only")
    stored = client_days_of(wh.mart, LAST_ORDER)
    assert stored is not None
    assert stored.summary is not None
    assert_same_rows(rows(stored.days), rows(client_days(wh.orders)))
    assert_same_rows(rows(stored.keys), rows(client_keys(wh.orders)))
    assert_same_rows(rows(stored.summary), rows(summary_facts(client_days(wh.orders))))
    assert client_days_of(None, LAST_ORDER) is None
    # The summary is dated by the orders: not handed out before the last one.
    assert wh.mart("client_summary", LAST_ORDER - dt.timedelta(days=1)) is None


def test_the_demo_is_the_same_from_the_stored_mart(demo, demo_truth) -> None:
    as_of = dt.date.fromisoformat(demo_truth["as_of"])
    days = client_days_of(demo.mart, as_of)
    assert days is not None
    o = demo.orders
    last = o.order_date.max().to_pyarrow().as_py()
    assert (days.summary is not None) == (as_of >= last)
    checks = [
        lambda d: rfm_scores(o, as_of=as_of, days=d),
        lambda d: rfm_scores(o, as_of=as_of - dt.timedelta(days=200), days=d),
        lambda d: cohorts(o, as_of=as_of, days=d),
        lambda d: cohorts(o, as_of=as_of, period="quarter", days=d),
        lambda d: clv_summary(o, as_of=as_of, days=d),
        lambda d: clv_summary(o, as_of=as_of, value_basis="amount", days=d),
    ]
    for check in checks:
        fast = rows(check(days))
        assert fast  # not vacuous
        assert_same_rows(fast, rows(check(None)))


def test_a_scoped_view_gets_no_client_mart(demo, demo_truth) -> None:
    as_of = dt.date.fromisoformat(demo_truth["as_of"])
    assert client_days_of(scoped(demo, Scope("manager", "M05")).mart, as_of) is None


# --- generated orders (DuckDB in memory) -----------------------------------------------

_ORDER = st.tuples(
    st.sampled_from(["a", "b", "c", "d"]),
    st.integers(0, 800),  # days after 2023-01-01
    st.sampled_from([-40.0, -0.5, 0.0, 0.25, 10.0, 99.75, 300.0]),  # sums exact
    st.sampled_from([None, 0.0, 5.0]),
)


@settings(max_examples=12, deadline=None)
@given(
    st.lists(_ORDER, min_size=1, max_size=30),
    st.integers(0, 900),
    st.sampled_from(["month", "quarter"]),
)
def test_generated_orders_give_the_same_rows(
    orders: list[tuple[str, int, float, float | None]], day: int, period: str
) -> None:
    start = dt.date(2023, 1, 1)
    frame = pd.DataFrame(
        {
            "account_id": [a for a, *_ in orders],
            "order_date": [start + dt.timedelta(days=d) for _, d, *_ in orders],
            "amount": [x for *_, x, _c in orders],
            "cost": pd.array([c for *_, c in orders], dtype="Float64"),
        }
    )
    t = ibis.memtable(frame)
    as_of = start + dt.timedelta(days=day)
    days = mart_of(t)
    both(lambda d: rfm_scores(t, as_of=as_of, window_days=120, days=d), t, days)
    both(lambda d: cohorts(t, as_of=as_of, period=period, days=d), t, days)  # type: ignore[arg-type]
    both(lambda d: clv_summary(t, as_of=as_of, days=d), t, days)
    if as_of >= max(frame.order_date):
        both(lambda d: clv_summary(t, as_of=as_of, days=d), t, mart_of(t, summary=True))
