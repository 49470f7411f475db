"""Revenue factors: the identity, the exact LMDI split, hand-computed periods."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmlens.analytics.factors import (
    FACTORS,
    LTV_FACTORS,
    factor_changes,
    lmdi_split,
    revenue_factors,
)
from tests.backends import assert_same_rows

positive = st.floats(min_value=0.01, max_value=1e7, allow_nan=False)


@given(st.lists(st.tuples(positive, positive), min_size=2, max_size=4))
def test_lmdi_parts_sum_to_change(pairs: list[tuple[float, float]]) -> None:
    names = [f"x{i}" for i in range(len(pairs))]
    before = dict(zip(names, (a for a, _ in pairs), strict=True))
    after = dict(zip(names, (b for _, b in pairs), strict=True))
    split = lmdi_split(before, after, names)
    assert split is not None
    r0, r1 = math.prod(before.values()), math.prod(after.values())
    assert sum(split.parts.values()) == pytest.approx(r1 - r0, rel=1e-9, abs=1e-6)
    assert sum(split.parts_kopecks.values()) == split.change_kopecks
    assert split.change_kopecks == round((r1 - r0) * 100)


def test_lmdi_zero_factor_has_no_split() -> None:
    assert lmdi_split({"a": 0.0, "b": 1.0}, {"a": 1.0, "b": 1.0}, ["a", "b"]) is None


LEADS = """lead_id,created_at,account_id,source
l1,2024-01-03 10:00:00,a,web
l2,2024-01-04 10:00:00,b,web
l3,2024-02-01 10:00:00,a,fair
l4,2024-02-02 10:00:00,c,fair
l5,2024-02-03 10:00:00,c,web
l6,2024-02-03 11:00:00,d,web
"""
ORDERS = """order_id,account_id,order_date,amount,manager_id
o1,a,2024-01-10,100.10,m1
o2,a,2024-01-20,200.20,m1
o3,b,2024-01-25,300.33,m2
o4,a,2024-02-05,150.00,m1
o5,c,2024-02-06,450.55,m2
o6,c,2024-02-20,99.99,m2
o7,d,2024-02-21,10.01,m1
"""


@pytest.fixture
def wh(open_wh, tmp_path: Path):
    (tmp_path / "leads.csv").write_text(LEADS)
    (tmp_path / "orders.csv").write_text(ORDERS)
    w = open_wh()
    w.import_files([tmp_path / "leads.csv"], table="leads")
    w.import_files([tmp_path / "orders.csv"], table="orders")
    return w


def test_factors_hand_computed_and_exact_to_the_kopeck(wh) -> None:
    expr = revenue_factors(wh.orders, wh.leads, as_of=dt.date(2024, 2, 29))
    got = factor_changes(expr.to_pyarrow()).to_pylist()
    jan, feb = got
    assert (jan["leads"], jan["clients"], jan["orders"]) == (2, 2, 3)
    assert jan["revenue"] == pytest.approx(600.63)
    assert feb["conversion"] == pytest.approx(3 / 4)
    assert feb["average_check"] == pytest.approx(710.55 / 4)
    for r in got:
        product = (
            r["leads"] * r["conversion"] * r["average_check"] * r["orders_per_client"]
        )
        assert product == pytest.approx(r["revenue"], rel=1e-12)
    change = round((feb["revenue"] - jan["revenue"]) * 100)
    assert sum(round(feb[f"{f}_effect"] * 100) for f in FACTORS) == change
    assert sum(round(feb[f"{f}_effect"] * 100) for f in LTV_FACTORS) == change
    assert jan["leads_effect"] is None


def test_factors_by_manager(wh) -> None:
    import ibis

    leads = wh.leads.mutate(owner_id=ibis.literal("m1"))
    expr = revenue_factors(wh.orders, leads, as_of=dt.date(2024, 2, 29), by="manager")
    got = {(r["period"], r["manager"]): r for r in expr.to_pyarrow().to_pylist()}
    assert got[("2024-01", "m2")]["leads"] == 0
    assert got[("2024-01", "m2")]["conversion"] is None
    assert got[("2024-02", "m1")]["leads"] == 4


def test_factors_engines_agree(wh) -> None:
    import ibis

    expr = revenue_factors(
        wh.orders, wh.leads, as_of=dt.date(2024, 2, 29), period="quarter"
    )
    ref = revenue_factors(
        ibis.memtable(wh.orders.to_pyarrow()),
        ibis.memtable(wh.leads.to_pyarrow()),
        as_of=dt.date(2024, 2, 29),
        period="quarter",
    )
    assert_same_rows(expr.to_pyarrow().to_pylist(), ref.to_pyarrow().to_pylist())


def test_factors_on_demo_sum_to_the_kopeck(demo_wh) -> None:
    demo_wh.refresh()  # Spark: other warehouses of the session reuse the view names
    expr = revenue_factors(
        demo_wh.orders,
        demo_wh.leads,
        demo_wh.accounts,
        as_of=dt.date(2025, 12, 14),
        period="quarter",
        by="region",
    )
    rows = factor_changes(expr.to_pyarrow(), by="region").to_pylist()
    split = [r for r in rows if r["leads_effect"] is not None]
    assert len(split) > 20
    for r in split:
        change = round(r["revenue_change"] * 100)
        assert sum(round(r[f"{f}_effect"] * 100) for f in FACTORS) == change


def test_log_mean_of_nearly_equal_numbers() -> None:
    import math

    from crmlens.analytics.factors import log_mean

    a = 1e300
    b = math.nextafter(a, math.inf)
    assert math.log(a) == math.log(b)  # the case that divided by zero
    assert log_mean(a, b) == (a + b) / 2
    assert log_mean(2.0, 2.0) == 2.0
