"""Speed to lead in business hours (issue 5): hand-made cases on both engines."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import ibis
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmlens.analytics import managers_activity as ma
from crmlens.analytics.business_hours import (
    BusinessHours,
    business_hours_between,
    working_seconds,
)
from crmlens.errors import InputError
from crmlens.insights.registry import run
from crmlens.insights.rules.managers_behaviour import parse_business_hours

AS_OF = dt.date(2025, 6, 9)  # a Monday; 2025-06-02 is the Monday before

#: lead: created, answered (given first_response_at, or an activity by the owner)
LEADS = {
    "L1": ("2025-06-02 10:00:00", "2025-06-02 11:30:00", "given"),  # Mon, in hours
    "L2": ("2025-06-06 17:00:00", "2025-06-09 10:00:00", "given"),  # Fri -> Mon
    "L3": ("2025-06-07 12:00:00", "2025-06-09 09:30:00", "given"),  # Sat -> Mon
    "L4": ("2025-06-03 20:00:00", "2025-06-04 08:00:00", "call"),  # night: 0 h
    "L5": ("2025-06-04 08:00:00", "2025-06-04 19:00:00", "call"),  # a whole day
    "L6": ("2025-06-05 17:30:00", None, None),  # never answered
}
#: expected (clock hours, Mon-Fri 9-18, Mon-Sat 10-14); L6: its age at the end of AS_OF
EXPECTED = {
    "L1": (1.5, 1.5, 1.5),
    "L2": (65.0, 2.0, 4.0),
    "L3": (45.5, 0.5, 2.0),
    "L4": (12.0, 0.0, 0.0),
    "L5": (11.0, 9.0, 4.0),
    "L6": (102.5, 18.5, 12.0),
}


def write_crm(out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    leads = ["lead_id,created_at,owner_id,first_response_at"]
    acts = ["activity_id,type,created_at,manager_id,lead_id,done_at"]
    for lead, (created, answered, how) in LEADS.items():
        leads.append(f"{lead},{created},A,{answered if how == 'given' else ''}")
        if how == "call":
            acts.append(f"C{lead},call,{created},B,{lead},{created}")  # not the owner
            acts.append(f"A{lead},call,{answered},A,{lead},{answered}")
    files = {
        "managers.csv": ["manager_id,name", "A,Анна", "B,Борис"],
        "deals.csv": [
            "deal_id,created_at,pipeline_id,owner_id,amount,status,closed_at",
            "D1,2025-06-02 12:00:00,main,A,100,won,2025-06-05 12:00:00",
        ],
        "leads.csv": leads,
        "activities.csv": acts,
    }
    for name, lines in files.items():
        (out / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return out


_WAREHOUSES: dict[str, Any] = {}


@pytest.fixture
def bh_wh(engine: str, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The leads of LEADS imported once per engine (read-only)."""
    if engine not in _WAREHOUSES:
        from tests.backends import open_engine

        root = tmp_path_factory.mktemp("bh")
        wh = open_engine(engine, root / "wh")
        wh.import_files([write_crm(root / "crm")])
        _WAREHOUSES[engine] = wh
    return _WAREHOUSES[engine]


def _hours(wh: Any, calendar: BusinessHours | None) -> dict[str, float]:
    resp = ma.first_response(wh.leads, wh.activities, as_of=AS_OF, calendar=calendar)
    out = {}
    for r in resp.to_pyarrow().to_pylist():
        h = r["first_response_hours"]
        out[r["lead_id"]] = r["age_hours"] if h is None else h
    return out


@pytest.mark.parametrize(
    ("calendar", "column"),
    [
        (None, 0),
        (BusinessHours(), 1),
        (BusinessHours(dt.time(10), dt.time(14), frozenset(range(6))), 2),
    ],
    ids=["clock", "mon-fri-9-18", "mon-sat-10-14"],
)
def test_first_response_hours(
    bh_wh: Any, calendar: BusinessHours | None, column: int
) -> None:
    got = _hours(bh_wh, calendar)
    assert got == pytest.approx({k: v[column] for k, v in EXPECTED.items()})


def test_over_sla_and_median_in_business_hours(bh_wh: Any) -> None:
    resp = ma.first_response(
        bh_wh.leads, bh_wh.activities, as_of=AS_OF, calendar=BusinessHours()
    )
    row = ma.response_by_manager(resp, sla_hours=1.0).to_pyarrow().to_pylist()[0]
    assert row["median_first_response_hours"] == pytest.approx(1.5)  # 0, .5, 1.5, 2, 9
    assert row["over_sla_rate"] == pytest.approx(4 / 6)  # L1, L2, L5 and unanswered L6
    clock = ma.first_response(bh_wh.leads, bh_wh.activities, as_of=AS_OF)
    row = ma.response_by_manager(clock, sla_hours=1.0).to_pyarrow().to_pylist()[0]
    assert row["over_sla_rate"] == pytest.approx(1.0)


def test_answer_moment_is_kept_for_the_workload(bh_wh: Any) -> None:
    resp = ma.first_response(
        bh_wh.leads, bh_wh.activities, as_of=AS_OF, calendar=BusinessHours()
    )
    at = {r["lead_id"]: r["first_response_at"] for r in resp.to_pyarrow().to_pylist()}
    assert at["L2"] == dt.datetime(2025, 6, 9, 10)
    assert at["L4"] == dt.datetime(2025, 6, 4, 8)
    assert at["L6"] is None


def test_response_rule_and_params(bh_wh: Any) -> None:
    res = run(
        "managers_response",
        bh_wh,
        as_of=AS_OF.isoformat(),
        work_hours="10-14",
        work_days="mon-sat",
    )
    assert res.params["business_hours"] == "mon,tue,wed,thu,fri,sat 10:00-14:00"
    row = res.rows.to_pylist()[0]
    assert row["median_first_response_hours"] == pytest.approx(2.0)  # 0, 1.5, 2, 4, 4
    plain = run("managers_response", bh_wh, as_of=AS_OF.isoformat())
    assert plain.params["business_hours"] is None


# ---- the calendar itself ----------------------------------------------------------


def test_parse_business_hours() -> None:
    assert parse_business_hours() == BusinessHours()
    cal = parse_business_hours("8:30-17:45", "пн-чт,сб")
    assert (cal.start, cal.end) == (dt.time(8, 30), dt.time(17, 45))
    assert cal.days == frozenset({0, 1, 2, 3, 5})
    assert parse_business_hours("0-24", "1-7").week_seconds == 7 * 86400
    assert parse_business_hours("9-18", "sat-mon").days == frozenset({5, 6, 0})
    for hours, days in (("18-9", "mon-fri"), ("9", "mon-fri"), ("9-25", "mon-fri"),
                        ("9-18", "mon-xyz"), ("9-18", "")):  # fmt: skip
        with pytest.raises(InputError):
            parse_business_hours(hours, days)


def _reference_hours(a: dt.datetime, b: dt.datetime, cal: BusinessHours) -> float:
    """Business hours between a <= b, day by day in plain Python."""
    total = 0.0
    day = a.date()
    while day <= b.date():
        if day.weekday() in cal.days:
            opens = dt.datetime.combine(day, cal.start)
            closes = (
                dt.datetime.combine(day + dt.timedelta(days=1), dt.time())
                if cal.end == dt.time.max
                else dt.datetime.combine(day, cal.end)
            )
            lo, hi = max(a, opens), min(b, closes)
            total += max((hi - lo).total_seconds(), 0.0)
        day += dt.timedelta(days=1)
    return total / 3600


_MOMENTS = st.datetimes(dt.datetime(2019, 1, 1), dt.datetime(2026, 12, 31)).map(
    lambda t: t.replace(microsecond=0)
)
_CALENDARS = st.builds(
    lambda s, length, days: BusinessHours(
        dt.time(s), dt.time(s + length) if s + length < 24 else dt.time.max, days
    ),
    st.integers(0, 22),
    st.integers(1, 12),
    st.frozensets(st.integers(0, 6), min_size=1),
)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(_MOMENTS, _MOMENTS), min_size=1, max_size=20), _CALENDARS)
def test_business_hours_match_a_day_by_day_count(
    pairs: list[tuple[dt.datetime, dt.datetime]], cal: BusinessHours
) -> None:
    pairs = [(min(p), max(p)) for p in pairs]
    t = ibis.memtable(
        {"a": [p[0] for p in pairs], "b": [p[1] for p in pairs]},
        schema={"a": "timestamp", "b": "timestamp"},
    )
    got = t.select(h=business_hours_between(t.b, t.a, cal)).to_pyarrow()["h"]
    want = [_reference_hours(a, b, cal) for a, b in pairs]
    assert got.to_pylist() == pytest.approx(want, abs=1e-9)


def test_round_the_clock_calendar_equals_clock_hours() -> None:
    cal = BusinessHours(dt.time(0), dt.time.max, frozenset(range(7)))
    t = ibis.memtable({"a": [dt.datetime(2025, 3, 7, 22, 15, 30)]})
    sec = t.select(s=working_seconds(t.a, cal)).to_pyarrow()["s"][0].as_py()
    assert sec == (dt.date(2025, 3, 7) - dt.date(1900, 1, 1)).days * 86400 + 80130


# ---- the command ------------------------------------------------------------------


def test_cli_business_hours(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from typer.testing import CliRunner

    import crmlens
    from crmlens.cli.app import app

    crmlens.open(tmp_path / "w.duckdb").import_files([write_crm(tmp_path / "crm")])
    base = ["managers", "response", "-w", str(tmp_path / "w.duckdb")]
    base += ["--as-of", AS_OF.isoformat()]
    ok = CliRunner().invoke(app, [*base, "--business-hours", "-f", "json"])
    assert ok.exit_code == 0, ok.output
    data = json.loads(ok.output)
    assert data["params"]["business_hours"] == "mon,tue,wed,thu,fri 09:00-18:00"
    assert data["rows"][0]["median_first_response_hours"] == pytest.approx(1.5)
    from crmlens.cli.app import main

    with pytest.raises(SystemExit) as exit_info:
        main([*base, "--work-hours", "18-9", "-f", "json"])
    assert exit_info.value.code == 1
    out, err = capsys.readouterr()
    assert "18:00-09:00" in err
    assert "Traceback" not in err
    assert json.loads(out)["ok"] is False
