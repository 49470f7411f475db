"""A lead is won as of `as_of` by the funnel's status as of: no look-ahead (both engines)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from crmlens.analytics.funnel import deal_facts, stage_design
from crmlens.analytics.leads import lead_outcomes, won_as_of
from crmlens.insights.registry import run

AS_OF = dt.date(2025, 3, 31)
LATER = dt.date(2025, 6, 30)

LEADS = """lead_id,created_at,source,status,deal_id
L1,2025-01-05,Ref,converted,D1
L2,2025-01-06,Ref,converted,D2
L3,2025-01-07,Cold,converted,D3
L4,2025-01-08,Cold,converted,D4
L5,2025-01-09,Cold,converted,D5
L6,2025-01-10,Ref,disqualified,
"""
# D1 won before as_of; D2 won (closed) after as_of; D3 won with neither closed_at nor
# history; D4 won without closed_at, its history enters the won stage before as_of;
# D5 says won and closed before as_of, but its history enters the won stage only after
# as_of (the history wins, as in the funnel).
DEALS = """deal_id,created_at,pipeline_id,lead_id,status,amount,closed_at
D1,2025-01-10,main,L1,won,1000,2025-02-01
D2,2025-01-11,main,L2,won,2000,2025-04-15
D3,2025-01-12,main,L3,won,4000,
D4,2025-01-13,main,L4,won,8000,
D5,2025-01-14,main,L5,won,16000,2025-03-01
"""
PIPELINES = """pipeline_id,stage,position,is_won,is_lost
main,new,1,false,false
main,offer,2,false,false
main,won,3,true,false
main,lost,4,false,true
"""
STAGES = """deal_id,stage,entered_at
D4,new,2025-01-13
D4,won,2025-03-10
D5,new,2025-01-14
D5,offer,2025-02-01
D5,won,2025-05-02
"""


@pytest.fixture
def wh(open_wh, tmp_path: Path):
    data = tmp_path / "data"
    data.mkdir()
    for name, text in (
        ("leads", LEADS),
        ("deals", DEALS),
        ("pipelines", PIPELINES),
        ("deal_stages", STAGES),
    ):
        (data / f"{name}.csv").write_text(text)
    w = open_wh()
    w.import_files([data])
    return w


def _won(out: Any) -> dict[str, tuple[int, float]]:
    rows = out.to_pyarrow().to_pylist()
    return {r["lead_id"]: (r["is_won"], r["revenue"]) for r in rows}


def test_closed_at_rule_has_no_look_ahead(wh) -> None:
    won = _won(lead_outcomes(wh.leads, wh.deals, as_of=AS_OF))
    assert won["L1"] == (1, 1000.0)
    assert won["L2"] == (0, 0.0)  # won on 2025-04-15, after as_of
    assert won["L3"] == (0, 0.0)  # nothing says when it was won
    assert won["L4"] == (0, 0.0)  # no closed_at, history not read
    assert won["L5"] == (1, 16000.0)  # closed_at before as_of
    assert won["L6"] == (0, 0.0)
    later = _won(lead_outcomes(wh.leads, wh.deals, as_of=LATER))
    assert later["L2"] == (1, 2000.0)  # won by then
    assert later["L3"] == (0, 0.0)  # still no date: never won


def test_history_rule_is_the_funnels_status_as_of(wh) -> None:
    history = {"deal_stages": wh.deal_stages, "pipelines": wh.pipelines}
    won = _won(lead_outcomes(wh.leads, wh.deals, as_of=AS_OF, **history))
    assert won == {
        "L1": (1, 1000.0),
        "L2": (0, 0.0),
        "L3": (0, 0.0),
        "L4": (1, 8000.0),  # entered the won stage on 2025-03-10
        "L5": (0, 0.0),  # entered the won stage only on 2025-05-02
        "L6": (0, 0.0),
    }
    later = _won(lead_outcomes(wh.leads, wh.deals, as_of=LATER, **history))
    assert {k for k, (w, _) in later.items() if w} == {"L1", "L2", "L4", "L5"}
    for day in (AS_OF, LATER):
        design = stage_design(wh.pipelines, wh.deals)
        facts = deal_facts(wh.deals, wh.deal_stages, design, as_of=day)
        funnel_won = {
            r["deal_id"]
            for r in facts.to_pyarrow().to_pylist()
            if r["status_as_of"] == "won"
        }
        deals = won_as_of(wh.deals, as_of=day, **history).to_pyarrow().to_pylist()
        assert {r["deal_id"] for r in deals if r["is_won_deal"]} == funnel_won


def test_leads_sources_counts_only_deals_won_by_as_of(wh) -> None:
    rows = {
        r["source"]: r for r in run("leads_sources", wh, as_of=AS_OF).rows.to_pylist()
    }
    assert (rows["Ref"]["leads"], rows["Ref"]["deals"], rows["Ref"]["won"]) == (3, 2, 1)
    assert rows["Ref"]["revenue"] == pytest.approx(1000.0)
    assert (rows["Cold"]["deals"], rows["Cold"]["won"]) == (3, 1)  # only D4
    assert rows["Cold"]["revenue"] == pytest.approx(8000.0)
    later = {
        r["source"]: r for r in run("leads_sources", wh, as_of=LATER).rows.to_pylist()
    }
    assert (later["Ref"]["won"], later["Cold"]["won"]) == (2, 2)
    assert later["Cold"]["revenue"] == pytest.approx(24000.0)
