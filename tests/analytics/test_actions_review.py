"""Outcome review: the join of stored lists with activities, deals and orders."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from crmlens.analytics.actions_review import review_join, review_summary
from crmlens.warehouse.action_lists import save_action_list, stored_lists

DAY = dt.date(2024, 3, 4)
LEADS = """lead_id,created_at,status,deal_id,account_id,owner_id
L1,2024-03-01,converted,,A1,M1
L2,2024-03-01,converted,D2,A2,M1
L3,2024-03-01,in_work,,A6,M1
"""
DEALS = """deal_id,created_at,pipeline_id,status,closed_at,amount,lead_id,account_id,owner_id
D1,2024-03-20,p,open,,1000,L1,A1,M1
D2,2024-04-10,p,open,,700,,A2,M1
D3,2024-02-01,p,won,2024-03-20,500,,A3,M1
D6,2024-02-01,p,open,,10,,A6,M1
"""
ACTIVITIES = """activity_id,type,created_at,manager_id,account_id,deal_id,lead_id
c1,call,2024-03-05 10:00,M1,A1,,L1
c2,call,2024-03-15 10:00,M1,A3,D3,
c3,email,2024-03-04 09:00,M1,A3,,
c4,meeting,2024-03-06 10:00,M2,A4,,
c5,note,2024-03-05 10:00,M1,A5,,
c6,call,2024-03-06 10:00,M1,A6,D6,
c7,call,2024-03-01 10:00,M1,A2,,L2
"""
ORDERS = """order_id,account_id,order_date,amount,product_id
o1,A3,2024-03-10,200,P1
o2,A4,2024-03-10,300,P2
o3,A5,2024-02-01,400,P1
"""


def _item(n: int, kind: str, **ids: str) -> dict:
    return {"action_id": f"a{n}", "list_date": DAY, "manager_id": "M1", "rank": n,
            "list": "today" if n <= 3 else "later", "capacity": 3, "kind": kind,
            "expected_value": 10.0 * n, "probability": 0.5, "amount": 20.0 * n,
            "reason_ru": "почему", "reason_en": "why", "evidence": {"analysis": "t"},
            **ids}  # fmt: skip


ITEMS = [
    _item(1, "call_lead", lead_id="L1", account_id="A1"),  # called, deal D1 in time
    _item(2, "call_lead", lead_id="L2", account_id="A2"),  # called before; deal late
    _item(3, "push_deal", deal_id="D3", account_id="A3"),  # called late; won in time
    _item(4, "win_back", account_id="A3"),  # e-mailed on the day; ordered
    _item(5, "offer_product", account_id="A4", product_id="P1"),  # met; other product
    _item(6, "seasonal_order", account_id="A5"),  # only a note; no order after
    _item(7, "call_lead", lead_id="L3", account_id="A6"),  # a call on the client's deal
]


@pytest.fixture
def wh(open_wh, tmp_path: Path):
    files = {"leads": LEADS, "deals": DEALS, "activities": ACTIVITIES, "orders": ORDERS}
    for name, text in files.items():
        (tmp_path / f"{name}.csv").write_text(text)
    w = open_wh()
    for name in files:
        w.import_files([tmp_path / f"{name}.csv"], table=name)
    return w


def _joined(wh, as_of: dt.date):
    save_action_list(wh, ITEMS, list_date=DAY, managers=["M1"])
    lists = stored_lists(wh, date_from=DAY, date_to=DAY)
    assert lists is not None
    return review_join(lists, wh.activities, wh.leads, wh.deals, wh.orders,
                       as_of=as_of, follow_days=7, outcome_days=30)  # fmt: skip


def test_review_join_by_hand(wh) -> None:
    joined = _joined(wh, dt.date(2024, 4, 30))
    got = {r["action_id"]: r for r in joined.to_pyarrow().to_pylist()}
    assert len(got) == 7
    followed = {a for a, r in got.items() if r["is_followed"]}
    assert followed == {"a1", "a4", "a5", "a7"}
    outcome = {a: r["outcome_amount"] for a, r in got.items() if r["has_outcome"]}
    assert outcome == {"a1": 1000.0, "a3": 500.0, "a4": 200.0}
    assert all(r["window_complete"] for r in got.values())
    late = _joined(wh, dt.date(2024, 3, 31)).to_pyarrow().to_pylist()
    assert not any(r["window_complete"] for r in late)


def test_review_summary_and_replacement(wh) -> None:
    joined = _joined(wh, dt.date(2024, 4, 30))
    _joined(wh, dt.date(2024, 4, 30))  # stored twice: the day's list is replaced
    assert stored_lists(wh, date_from=DAY, date_to=DAY).count().execute() == 7
    rows = review_summary(joined).to_pyarrow().to_pylist()
    got = {(r["kind"], r["is_followed"]): r for r in rows}
    assert (got[("all", 1)]["actions"], got[("all", 1)]["outcomes"]) == (4, 2)
    assert got[("all", 1)]["conversion_rate"] == pytest.approx(0.5)
    assert (got[("all", 0)]["actions"], got[("all", 0)]["outcomes"]) == (3, 1)
    assert got[("call_lead", 1)]["actions"] == 2
    assert got[("call_lead", 0)]["outcomes"] == 0
    low, high = got[("all", 1)]["conversion_low"], got[("all", 1)]["conversion_high"]
    assert 0 < low < 0.5 < high < 1
    by_list = review_summary(joined, by=("list",)).to_pyarrow().to_pylist()
    today = [r for r in by_list if r["list"] == "today"]
    assert sum(r["actions"] for r in today) == 3
