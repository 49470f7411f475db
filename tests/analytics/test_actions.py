"""Next best actions: capacity, stuck deals, silent clients, open leads, ranking."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmlens.analytics.actions import (
    KINDS,
    capacity_of,
    lead_handling,
    lead_open_at,
    manager_capacity,
    rank_actions,
    return_rates,
    stuck_deals,
    succession,
    win_back_candidates,
)


def _wh(open_wh, tmp_path: Path, files: dict[str, str]):
    for name, text in files.items():
        (tmp_path / f"{name}.csv").write_text(text)
    w = open_wh()
    for name in files:
        w.import_files([tmp_path / f"{name}.csv"], table=name)
    return w


# M1: 3 calls + an e-mail, a meeting + a note, 5 calls -> 3, 1, 5 a day (median 3);
# M2: only e-mails -> 0 a day; an activity before the window and one after as_of: out.
ACTIVITIES = """activity_id,type,created_at,manager_id
a1,call,2024-03-04 10:00,M1
a2,call,2024-03-04 11:00,M1
a3,call,2024-03-04 12:00,M1
a4,email,2024-03-04 13:00,M1
a5,meeting,2024-03-05 10:00,M1
a6,note,2024-03-05 11:00,M1
a7,call,2024-03-06 09:00,M1
a8,call,2024-03-06 10:00,M1
a9,call,2024-03-06 11:00,M1
a10,call,2024-03-06 12:00,M1
a11,call,2024-03-06 13:00,M1
a12,email,2024-03-05 10:00,M2
a13,call,2023-10-01 10:00,M1
a14,call,2024-03-08 10:00,M1
"""


def test_manager_capacity_by_hand(open_wh, tmp_path: Path) -> None:
    w = _wh(open_wh, tmp_path, {"activities": ACTIVITIES})
    rows = manager_capacity(w.activities, as_of=dt.date(2024, 3, 7), window_days=90)
    got = {r["manager_id"]: r for r in rows.to_pyarrow().to_pylist()}
    assert got["M1"]["working_days"] == 3
    assert got["M1"]["calls_meetings"] == 9
    assert got["M1"]["median_per_day"] == 3.0
    assert capacity_of(got["M1"]["median_per_day"]) == 3
    assert (got["M2"]["working_days"], got["M2"]["median_per_day"]) == (1, 0.0)
    assert capacity_of(got["M2"]["median_per_day"]) == 1  # never below one


def test_capacity_of() -> None:
    assert capacity_of(3.5) == 4
    assert capacity_of(2.4) == 2
    assert capacity_of(None, fallback=6) == 6
    assert capacity_of(float("nan"), fallback=0) == 1


def _item(manager: str, kind: str, ev: float, obj: str) -> dict:
    key = {"call_lead": "lead_id", "push_deal": "deal_id"}.get(kind, "account_id")
    return {"manager_id": manager, "kind": kind, "expected_value": ev, key: obj,
            "evidence": {"analysis": "test"}}  # fmt: skip


def test_rank_actions_capacity_and_order() -> None:
    items = [
        _item("M1", "call_lead", 100.0, "L1"),
        _item("M1", "push_deal", 300.0, "D1"),
        _item("M1", "win_back", 50.0, "A1"),
        _item("M1", "offer_product", 80.0, "A1"),  # same client: the offer wins
        _item("M1", "seasonal_order", 100.0, "A2"),  # tie with L1: call_lead first
        _item("M2", "call_lead", 10.0, "L2"),
        _item(None, "call_lead", 1e9, "L3"),  # type: ignore[arg-type]  # no owner
    ]
    ranked = rank_actions(items, {"M1": 2}, default_capacity=5)
    m1 = [r for r in ranked if r["manager_id"] == "M1"]
    assert [(r["rank"], r["kind"]) for r in m1] == [
        (1, "push_deal"), (2, "call_lead"), (3, "seasonal_order"), (4, "offer_product")]  # fmt: skip
    assert [r["list"] for r in m1] == ["today", "today", "later", "later"]
    assert m1[3]["evidence"]["also"] == ["win_back"]
    m2 = [r for r in ranked if r["manager_id"] == "M2"]
    assert (m2[0]["capacity"], m2[0]["list"]) == (5, "today")  # the default
    assert all(r["manager_id"] for r in ranked)
    forced = rank_actions(items, {"M1": 2}, override=1)
    assert sum(r["list"] == "today" for r in forced) == 2  # one per manager


@given(
    evs=st.lists(st.floats(0, 1e7, allow_nan=False), min_size=0, max_size=40),
    cap=st.integers(1, 10),
)
def test_today_is_the_top_capacity(evs: list[float], cap: int) -> None:
    items = [_item("M", KINDS[i % 2], ev, f"O{i}") for i, ev in enumerate(evs)]
    ranked = rank_actions(items, {"M": cap})
    today = [r for r in ranked if r["list"] == "today"]
    assert len(today) == min(cap, len(evs))
    assert [r["rank"] for r in ranked] == list(range(1, len(evs) + 1))
    values = [r["expected_value"] for r in ranked]
    assert values == sorted(values, reverse=True)
    assert rank_actions(list(reversed(items)), {"M": cap}) == ranked  # order-free


PIPELINES = """pipeline_id,stage,position,is_won,is_lost
p,s1,1,false,false
p,s2,2,false,false
p,won,3,true,false
p,lost,4,false,true
"""
# Closed deals left s1 after 2, 3, 4 and 20 days and s2 after 7, 5 and 20; d1 and d4 were
# won. Open deals: o1 has sat in s1 for 30 days (stuck), o2 for 1 day, o3 in s2 for 29.
DEALS = """deal_id,created_at,pipeline_id,status,owner_id,account_id,amount,closed_at
d1,2024-01-01,p,won,M1,A1,100,2024-01-10
d2,2024-01-01,p,lost,M1,A1,100,2024-01-10
d3,2024-01-01,p,lost,M1,A2,100,2024-01-10
d4,2024-01-01,p,won,M1,A2,100,2024-02-10
o1,2024-03-01,p,open,M2,A3,500,
o2,2024-03-30,p,open,M2,A3,,
o3,2024-03-01,p,open,M2,A3,70,
"""
STAGES = """deal_id,stage,entered_at
d1,s1,2024-01-01
d1,s2,2024-01-03
d1,won,2024-01-10
d2,s1,2024-01-01
d2,lost,2024-01-04
d3,s1,2024-01-01
d3,s2,2024-01-05
d3,lost,2024-01-10
d4,s1,2024-01-01
d4,s2,2024-01-21
d4,won,2024-02-10
o1,s1,2024-03-01
o2,s1,2024-03-30
o3,s1,2024-03-01
o3,s2,2024-03-02
"""


def test_stuck_deals_by_hand(open_wh, tmp_path: Path) -> None:
    w = _wh(open_wh, tmp_path,
            {"pipelines": PIPELINES, "deals": DEALS, "deal_stages": STAGES})  # fmt: skip
    rows = stuck_deals(w.deals, w.deal_stages, w.pipelines, as_of=dt.date(2024, 3, 30))
    got = {r["deal_id"]: r for r in rows.to_pyarrow().to_pylist()}
    assert set(got) == {"o1", "o3"}
    o1 = got["o1"]
    assert (o1["stage"], o1["owner_id"], o1["amount"]) == ("s1", "M2", 500.0)
    assert o1["days_in_stage"] == pytest.approx(30.0)
    assert 4.0 <= o1["usual_days"] < 20.0  # the 75 % quantile of 2, 3, 4, 20 days
    assert o1["stage_win_rate"] == pytest.approx(0.5)
    assert o1["deals_compared"] == 1  # d4 stayed 20 days, and won
    assert o1["stuck_win_rate"] == pytest.approx((1 + 10 * 0.5) / (1 + 10))
    o3 = got["o3"]
    assert (o3["stage"], o3["position"]) == ("s2", 2)
    assert o3["stage_win_rate"] == pytest.approx(2 / 3)  # d1, d4 won, d3 lost
    assert o3["stuck_win_rate"] == pytest.approx((1 + 10 * 2 / 3) / 11)


ORDERS = """order_id,account_id,order_date,amount
a1,a,2024-01-01,100
a2,a,2024-01-11,100
a3,a,2024-01-21,100
b1,b,2023-06-01,100
b2,b,2023-06-11,100
b3,b,2023-06-21,100
b4,b,2024-01-25,50
c1,c,2022-01-01,100
c2,c,2022-01-11,100
c3,c,2022-01-21,100
"""


def test_win_back_and_return_rates(open_wh, tmp_path: Path) -> None:
    w = _wh(open_wh, tmp_path, {"orders": ORDERS})
    # as of 2024-03-01: a silent 40 days (usual 10: ratio 4, silent), b 36 days (ratio
    # 36/ (238/3)... its own gap is long: active); c gone for two years: beyond 450 days
    rows = win_back_candidates(w.orders, as_of=dt.date(2024, 3, 1)).to_pyarrow()
    got = {r["account_id"]: r for r in rows.to_pylist()}
    assert set(got) == {"a"}
    assert got["a"]["status"] == "silent"
    # half a year earlier (2023-09-03) b was silent (74 days / 10) and came back
    # within 90 days? its return was on 2024-01-25: 144 days later, so no.
    rates = return_rates(w.orders, as_of=dt.date(2024, 3, 1), lookback_days=180,
                         horizon_days=150).to_pyarrow().to_pylist()  # fmt: skip
    by = {r["status"]: r for r in rates}
    assert by["lost"]["clients"] == 1  # b: 74 days vs a usual 10 -> lost
    assert by["lost"]["returned"] == 1  # came back on 2024-01-25, within 150 days
    assert by["lost"]["return_rate"] == 1.0
    assert succession(1, 1) == pytest.approx(2 / 3)


LEADS = """lead_id,created_at,owner_id,account_id,status,deal_id,source,first_response_at
L1,2024-03-01 10:00,M1,A1,in_work,,web,2024-03-01 11:00
L2,2024-03-01 10:00,M1,A2,disqualified,,web,
L3,2024-02-01 10:00,M1,A3,disqualified,,fair,2024-02-01 12:00
L4,2024-03-01 10:00,M2,A4,converted,,fair,
L5,2024-02-01 10:00,M2,A5,converted,D5,fair,
L6,2024-03-20 10:00,M2,A6,in_work,,web,
L7,2024-02-15 10:00,M2,A7,disqualified,,fair,
"""
LEAD_DEALS = """deal_id,created_at,pipeline_id,status,owner_id,lead_id
D4,2024-03-12,p,open,M2,L4
D5,2024-02-05,p,open,M2,
"""
LEAD_ACTS = """activity_id,type,created_at,manager_id,lead_id
x1,call,2024-03-12 10:00,M1,L2
x2,call,2024-02-02 10:00,M1,L3
"""


def test_lead_open_at(open_wh, tmp_path: Path) -> None:
    w = _wh(open_wh, tmp_path,
            {"leads": LEADS, "deals": LEAD_DEALS, "activities": LEAD_ACTS})  # fmt: skip
    rows = lead_open_at(w.leads, w.deals, w.activities, as_of=dt.date(2024, 3, 10))
    got = {r["lead_id"]: r["is_open"] for r in rows.to_pyarrow().to_pylist()}
    # L1 open now; L2 was still worked after the date; L3 closed before; L4's deal came
    # later; L5 had its deal; L6 did not exist yet
    assert got == {"L1": 1, "L2": 1, "L3": 0, "L4": 1, "L5": 0, "L7": 0}
    now = lead_open_at(w.leads, w.deals, w.activities, as_of=dt.date(2024, 3, 31))
    assert {r["lead_id"] for r in now.to_pyarrow().to_pylist() if r["is_open"]} == {
        "L1", "L6"}  # fmt: skip


def test_lead_handling_by_source(open_wh, tmp_path: Path) -> None:
    w = _wh(open_wh, tmp_path,
            {"leads": LEADS, "deals": LEAD_DEALS, "activities": LEAD_ACTS})  # fmt: skip
    rows = lead_handling(w.leads, w.deals, w.activities, as_of=dt.date(2024, 3, 31),
                         min_age_days=14).to_pyarrow().to_pylist()  # fmt: skip
    got = {r["source"]: r for r in rows}
    # web: L1 (open, answered) and L2 (rejected, called); L6 is younger than 14 days
    assert (got["web"]["leads"], got["web"]["rejected"], got["web"]["untouched"]) == (
        2,
        1,
        0,
    )
    # fair: L3 rejected (answered), L4 and L5 converted (a deal is a touch), L7 rejected
    # without ever being touched
    assert (got["fair"]["leads"], got["fair"]["converted"]) == (4, 2)
    assert (got["fair"]["rejected"], got["fair"]["untouched"]) == (2, 1)
    assert got["fair"]["untouched_rate"] == pytest.approx(1 / 4)


def test_demo_seasonal_and_silent_clients_get_actions(demo_wh, demo_truth) -> None:
    from crmlens.insights.registry import run

    demo_wh.refresh()
    day = dt.date.fromisoformat(demo_truth["as_of"])
    res = run("actions", demo_wh, date=day, kinds="seasonal_order,win_back")
    rows = res.rows.to_pylist()
    next_month = day.month % 12 + 1
    planted = {c["account_id"] for c in demo_truth["seasonal_clients"]
               if c["peak_month"] == next_month}  # fmt: skip
    seasonal = {r["account_id"] for r in rows if r["kind"] == "seasonal_order"}
    assert planted
    assert len(planted & seasonal) >= 0.8 * len(planted)
    assert len(seasonal - planted) <= 2
    silent = {r["account_id"]: r for r in rows if r["kind"] == "win_back"}
    churned = [c["account_id"] for c in demo_truth["churned_clients"]]
    assert sum(a in silent for a in churned) >= 0.9 * len(churned)
    owners = {r["account_id"]: r["owner_id"]
              for r in demo_wh.accounts.to_pyarrow().to_pylist()}  # fmt: skip
    assert all(r["manager_id"] == owners[r["account_id"]] for r in rows)
    for r in rows:
        assert r["expected_value"] == pytest.approx(
            r["probability"] * r["amount"], rel=1e-3, abs=0.05
        )
        assert r["reason_ru"]
        assert r["reason_en"]
    # a month before another peak, other clients are due
    june = run("actions", demo_wh, date=dt.date(2025, 5, 20), kinds="seasonal_order")
    due = {r["account_id"] for r in june.rows.to_pylist()}
    planted_june = {c["account_id"] for c in demo_truth["seasonal_clients"]
                    if c["peak_month"] == 6}  # fmt: skip
    assert len(due & planted_june) >= 0.8 * len(planted_june)
