"""The day in the CRM (daily report): hand-made cases on both engines, and the demo."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from crmlens.analytics.daily import day_activity, day_leads, overdue_task_list
from crmlens.analytics.managers_activity import first_response
from crmlens.insights.registry import run

DAY = dt.date(2025, 3, 3)

FILES = {
    "managers.csv": [
        "manager_id,name,team,region,active",
        "A,Анна,T1,R1,true",
        "B,Борис,T1,R1,true",
        "C,Вера,T1,R1,true",
    ],
    "leads.csv": [
        "lead_id,created_at,source,owner_id,first_response_at",
        "L1,2025-03-03 09:00:00,web,A,",  # answered by A's call at 09:30 (in SLA)
        "L2,2025-03-03 10:00:00,web,A,",  # answered at 12:30 (late)
        "L3,2025-03-03 17:00:00,expo,B,",  # no answer by the end of the day
        "L4,2025-03-03 11:00:00,expo,B,2025-03-03 11:20:00",  # given first_response_at
        "L5,2025-03-02 11:00:00,web,B,",  # the day before: not a lead of the day
        "L6,2025-03-03 08:00:00,web,A,",  # answered the next day only
    ],
    "activities.csv": [
        "activity_id,type,created_at,manager_id,lead_id,due_at,done_at,duration_min",
        "a1,call,2025-03-03 09:30:00,A,L1,,2025-03-03 09:30:00,5",
        "a2,call,2025-03-03 12:30:00,A,L2,,2025-03-03 12:30:00,7",
        "a3,meeting,2025-03-03 14:00:00,B,,,2025-03-03 15:00:00,60",
        "a4,email,2025-03-03 16:00:00,B,,,,",
        "a5,call,2025-03-02 10:00:00,A,,,2025-03-02 10:00:00,3",  # another day
        "a6,call,2025-03-04 09:00:00,A,L6,,2025-03-04 09:00:00,3",  # the next day
        "t1,task,2025-02-20 09:00:00,A,,2025-02-25 09:00:00,,",  # overdue 7 d
        "t2,task,2025-03-01 09:00:00,A,,2025-03-03 12:00:00,2025-03-03 17:00:00,",  # done on the day
        "t3,task,2025-03-01 09:00:00,B,,2025-03-02 12:00:00,2025-03-04 10:00:00,",  # done after
        "t4,task,2025-03-01 09:00:00,B,,2025-03-06 12:00:00,,",  # not due yet
        "t5,task,2025-03-05 09:00:00,B,,2025-03-01 12:00:00,,",  # created later
    ],
}


@pytest.fixture
def wh(open_wh: Any, tmp_path: Path) -> Any:
    crm = tmp_path / "crm"
    crm.mkdir()
    for name, lines in FILES.items():
        (crm / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    w = open_wh()
    w.import_files([crm])
    return w


def _by(rows: list[dict[str, Any]], key: str) -> dict[Any, dict[str, Any]]:
    return {r[key]: r for r in rows}


def test_day_activity(wh: Any) -> None:
    rows = _by(
        day_activity(wh.activities, day=DAY).to_pyarrow().to_pylist(), "manager_id"
    )
    assert set(rows) == {"A", "B"}
    a, b = rows["A"], rows["B"]
    assert (a["calls"], a["meetings"], a["emails"], a["tasks_done"]) == (2, 0, 0, 1)
    assert a["activities"] == 2  # the task t2 was created on another day
    assert a["client_minutes"] == pytest.approx(12.0)
    assert (b["calls"], b["meetings"], b["emails"], b["activities"]) == (0, 1, 1, 2)
    assert b["client_minutes"] == pytest.approx(60.0)


def test_day_leads(wh: Any) -> None:
    resp = first_response(wh.leads, wh.activities, as_of=DAY)
    rows = _by(
        day_leads(resp, wh.leads, day=DAY, sla_hours=1.0).to_pyarrow().to_pylist(),
        "lead_id",
    )
    assert set(rows) == {"L1", "L2", "L3", "L4", "L6"}
    assert rows["L1"]["is_in_sla"]
    assert rows["L1"]["first_response_hours"] == pytest.approx(0.5)
    assert rows["L2"]["is_answered"]
    assert not rows["L2"]["is_in_sla"]
    assert not rows["L3"]["is_answered"]
    assert not rows["L3"]["is_in_sla"]
    assert rows["L4"]["is_in_sla"]
    assert rows["L4"]["source"] == "expo"
    assert not rows["L6"]["is_answered"]  # its answer came the next day


def test_overdue_tasks(wh: Any) -> None:
    rows = overdue_task_list(wh.activities, day=DAY).to_pyarrow().to_pylist()
    assert [(r["activity_id"], r["days_overdue"]) for r in rows] == [
        ("t1", 7),
        ("t3", 2),
    ]


def test_registered_daily_analyses(wh: Any) -> None:
    act = run("daily_activity", wh, as_of=DAY)
    assert (
        _by(act.rows.to_pylist(), "manager_id")["C"]["activities"] == 0
    )  # idle, listed
    assert act.rows.column("name").to_pylist() == ["Анна", "Борис", "Вера"]
    leads = run("daily_leads", wh, as_of=DAY, sla="1h")
    assert leads.rows.num_rows == 5
    (f,) = leads.findings
    assert f.kind == "leads_waiting"
    assert f.value == 2
    assert "2 заявки из 5" in f.text["ru"]
    assert "2 leads of 5" in f.text["en"]
    overdue = run("daily_overdue", wh, as_of=DAY)
    assert overdue.rows.num_rows == 2
    assert "2 задачи просрочено" in overdue.findings[0].text["ru"]


def test_demo_day(demo_wh: Any) -> None:
    day = dt.date(2025, 12, 12)
    leads = run("daily_leads", demo_wh, as_of=day).rows.to_pylist()
    assert leads
    assert all(r["created_at"].date() == day for r in leads)
    act = run("daily_activity", demo_wh, as_of=day).rows
    assert sum(act.column("activities").to_pylist()) > 0
