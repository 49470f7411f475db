"""Unanswered new leads on a hand-made CRM, on every engine."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from crmlens.analytics.leads_unanswered import unanswered_leads
from tests.backends import open_engine

NOW = dt.datetime(2025, 6, 10, 12, 0)
# lead_id, created_at, owner_id, first_response_at, status, deal_id, qualified_at
# fmt: off
LEADS = [
    ("U01", "2025-06-10 09:00:00", "A", "", "in_work", "", ""),  # waits: no answer
    ("U02", "2025-06-10 11:00:00", "A", "", "in_work", "", ""),  # within the SLA
    ("U03", "2025-06-10 09:00:00", "A", "2025-06-10 09:30:00", "in_work", "", ""),
    ("U04", "2025-06-10 09:00:00", "A", "2025-06-10 13:00:00", "in_work", "", ""),  # later
    ("U05", "2025-06-10 09:00:00", "A", "", "in_work", "", ""),  # the owner called
    ("U06", "2025-06-10 09:00:00", "A", "", "in_work", "", ""),  # only a colleague called
    ("U07", "2025-06-10 09:00:00", "A", "", "in_work", "", ""),  # call before arrival
    ("U08", "2025-06-10 09:00:00", "A", "", "in_work", "", ""),  # a task, not done
    ("U09", "2025-06-10 09:00:00", "A", "", "disqualified", "", ""),
    ("U10", "2025-06-10 09:00:00", "A", "", "", "D1", ""),  # has a deal
    ("U11", "2025-06-01 09:00:00", "A", "", "in_work", "", ""),  # not new
    ("U12", "2025-06-10 09:00:00", "", "", "new", "", ""),  # no owner; B called
    ("U13", "2025-06-10 09:00:00", "A", "", "in_work", "", ""),  # call after now
    ("U14", "2025-06-10 09:00:00", "A", "", "in_work", "", "2025-06-10 10:00:00"),
    ("U15", "2025-06-10 09:00:00", "A", "", "in_work", "", ""),  # call without done_at
    ("U16", "2025-06-10 09:00:00", "B", "", "Converted", "", ""),  # closed, any case
]
# activity_id, type, created_at, manager_id, lead_id, done_at
ACTIVITIES = [
    ("X05", "call", "2025-06-10 10:00:00", "A", "U05", "2025-06-10 10:00:00"),
    ("X06", "call", "2025-06-10 10:00:00", "B", "U06", "2025-06-10 10:00:00"),
    ("X07", "call", "2025-06-10 08:00:00", "A", "U07", "2025-06-10 08:00:00"),
    ("X08", "task", "2025-06-10 09:10:00", "A", "U08", ""),
    ("X12", "call", "2025-06-10 10:00:00", "B", "U12", "2025-06-10 10:00:00"),
    ("X13", "call", "2025-06-10 13:00:00", "A", "U13", "2025-06-10 13:00:00"),
    ("X15", "call", "2025-06-10 10:00:00", "A", "U15", ""),
]
# fmt: on
EXPECTED = ["U01", "U04", "U06", "U07", "U08", "U13"]


def _write(out: Path) -> Path:
    out.mkdir(parents=True)
    head = "lead_id,created_at,owner_id,first_response_at,status,deal_id,qualified_at"
    (out / "leads.csv").write_text(
        "\n".join([head, *(",".join(r) for r in LEADS)]) + "\n", encoding="utf-8"
    )
    head = "activity_id,type,created_at,manager_id,lead_id,done_at"
    (out / "activities.csv").write_text(
        "\n".join([head, *(",".join(r) for r in ACTIVITIES)]) + "\n", encoding="utf-8"
    )
    (out / "managers.csv").write_text("manager_id,name\nA,Анна\nB,Борис\n")
    return out


@pytest.fixture
def tiny_wh(engine: str, tmp_path: Path):
    wh = open_engine(engine, tmp_path / "wh")
    wh.import_files([_write(tmp_path / "crm")])
    return wh


def test_unanswered_leads_by_the_definition(tiny_wh) -> None:
    rows = (
        unanswered_leads(tiny_wh.leads, tiny_wh.activities, now=NOW, sla_hours=2)
        .to_pyarrow()
        .to_pylist()
    )
    assert [r["lead_id"] for r in rows] == EXPECTED
    assert all(r["waited_hours"] == pytest.approx(3.0) for r in rows)
    assert {r["owner_id"] for r in rows} == {"A"}


def test_sla_and_age_bound_the_wait(tiny_wh) -> None:
    def ids(**kw: float) -> list[str]:
        expr = unanswered_leads(tiny_wh.leads, tiny_wh.activities, now=NOW, **kw)
        return [r["lead_id"] for r in expr.to_pyarrow().to_pylist()]

    # U02 (1 h) joins when the SLA is shorter; nobody waits longer than 3 h but U11.
    assert ids(sla_hours=0.5) == [*EXPECTED, "U02"]  # oldest first
    assert ids(sla_hours=3.5) == []
    # U11 arrived 9 days ago: new only with a longer window.
    assert ids(sla_hours=2, max_age_hours=24 * 10) == ["U11", *EXPECTED]
    # An hour later U04's answer and U13's call are made; U02 is past the SLA now.
    later = unanswered_leads(
        tiny_wh.leads,
        tiny_wh.activities,
        now=NOW + dt.timedelta(hours=1, minutes=1),
        sla_hours=2,
    )
    assert [r["lead_id"] for r in later.to_pyarrow().to_pylist()] == [
        "U01", "U06", "U07", "U08", "U02"
    ]  # fmt: skip
