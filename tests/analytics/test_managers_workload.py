"""Response time against the owner's workload at the lead's arrival (issue 5)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import ibis

from crmlens.analytics import managers_activity as ma
from crmlens.insights.registry import run


def T(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def test_workload_hand_computed() -> None:
    responses = ibis.memtable(
        {
            "lead_id": ["L1", "L2", "L3"],
            "owner_id": ["A", "A", "A"],
            "created_at": [
                T("2025-01-01 10:00"),
                T("2025-01-01 11:00"),
                T("2025-01-02 09:00"),
            ],
            "first_response_at": [
                T("2025-01-01 12:00"),
                None,
                T("2025-01-02 09:30"),
            ],
            "first_response_hours": [2.0, None, 0.5],
            "age_hours": [1.0, 1.0, 1.0],
            "is_converted": [1, 0, 0],
        }
    )
    deals = ibis.memtable(
        {
            "owner_id": ["A", "A", "B"],
            "created_at": [T("2024-12-01"), T("2025-01-01 10:30"), T("2024-12-01")],
            "closed_at": [None, T("2025-01-02 08:00"), None],
        }
    )
    loads = ma.workload_at_arrival(responses, deals, as_of=dt.date(2025, 1, 31))
    got = {r["lead_id"]: r["workload"] for r in loads.to_pyarrow().to_pylist()}
    # L1: deal 1 open, nobody waiting. L2: deals 1 and 2 open, L1 still waiting.
    # L3: deal 2 closed at 08:00, L1 answered, L2 never answered.
    assert got == {"L1": 1, "L2": 3, "L3": 2}
    buckets = ma.response_by_workload(loads).to_pyarrow().to_pylist()
    assert [(b["workload_bucket"], b["leads"]) for b in buckets] == [("0-4", 3)]


def test_workload_rows_cover_every_lead(demo_wh: Any, engine: str) -> None:
    demo_wh.refresh()
    result = run("managers_response", demo_wh, by="workload")
    rows = result.rows.to_pylist()
    per_manager = run("managers_response", demo_wh).rows.to_pylist()
    assert sum(r["leads"] for r in rows) == sum(r["leads"] for r in per_manager)
    assert [r["workload_bucket"] for r in rows] == [
        "0-4",
        "5-9",
        "10-19",
        "20-49",
        "50+",
    ]
    assert all(0 <= r["conversion_rate"] <= 1 for r in rows)
