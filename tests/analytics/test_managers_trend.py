"""KPI trend vs the previous period (issue 5): hand-computed z-scores and findings."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import Any

import ibis
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crmlens.analytics import managers as m
from crmlens.insights.registry import run
from crmlens.insights.rules._managers_trend import marked
from crmlens.insights.rules._money import pct

AS_OF = dt.date(
    2025, 5, 15
)  # quarter to date: Apr 1 - May 15; previous: Jan 1 - Feb 14
PREV_DAY, CUR_DAY = "2025-02-03", "2025-04-21"


def _deals(owner: str, day: str, closed: int, won: int, start: int) -> list[str]:
    rows = []
    for k in range(closed):
        status = "won" if k < won else "lost"
        rows.append(
            f"{owner}{start + k:03d},{day} 09:00:00,main,{owner},1000,{status},"
            f"{day} 15:00:00"
        )
    return rows


def _calls(owner: str, day: str, n: int, start: int) -> list[str]:
    return [f"{owner}C{start + k:04d},call,{day} 10:00:00,{owner},5" for k in range(n)]


def write_trend_crm(out: Path) -> Path:
    """A: win rate 60 % -> 20 % (30 closed deals each), calls 200 -> 100; B: the same
    in both periods; C: 5/5 won -> 0/5 (too few deals); D: calls 100 -> 200; E (left)
    and F: calls 150 -> 0."""
    out.mkdir(parents=True, exist_ok=True)
    deals = [
        *_deals("A", PREV_DAY, 30, 18, 0),
        *_deals("A", CUR_DAY, 30, 6, 100),
        *_deals("B", PREV_DAY, 30, 15, 0),
        *_deals("B", CUR_DAY, 30, 15, 100),
        *_deals("C", PREV_DAY, 5, 5, 0),
        *_deals("C", CUR_DAY, 5, 0, 100),
    ]
    calls = [
        *_calls("A", PREV_DAY, 200, 0),
        *_calls("A", CUR_DAY, 100, 1000),
        *_calls("B", PREV_DAY, 150, 0),
        *_calls("B", CUR_DAY, 150, 1000),
        *_calls("D", PREV_DAY, 100, 0),
        *_calls("D", CUR_DAY, 200, 1000),
        *_calls("E", PREV_DAY, 150, 0),  # E left the company (active = false)
        *_calls("F", PREV_DAY, 150, 0),  # F is still here and stopped calling
    ]
    files = {
        "managers.csv": ["manager_id,name,team,region,active"]
        + [
            f"{x},Manager {x},T{1 if x in 'AB' else 2},R1,{'false' if x == 'E' else 'true'}"
            for x in "ABCDEF"
        ],
        "deals.csv": [
            "deal_id,created_at,pipeline_id,owner_id,amount,status,closed_at",
            *deals,
        ],
        "activities.csv": [
            "activity_id,type,created_at,manager_id,duration_min",
            *calls,
        ],
        "leads.csv": ["lead_id,created_at,owner_id", "L1,2025-04-02 10:00:00,A"],
    }
    for name, lines in files.items():
        (out / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return out


_WAREHOUSES: dict[str, Any] = {}


@pytest.fixture
def trend_wh(engine: str, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The trend CRM imported once per engine (read-only)."""
    if engine not in _WAREHOUSES:
        from tests.backends import open_engine

        root = tmp_path_factory.mktemp("trend")
        wh = open_engine(engine, root / "wh")
        wh.import_files([write_trend_crm(root / "crm")])
        _WAREHOUSES[engine] = wh
    return _WAREHOUSES[engine]


def _trends(wh: Any, by: str = "manager") -> dict[tuple[str, str], dict[str, Any]]:
    rows = m.kpi_trends(
        wh.deals, wh.activities, wh.managers, as_of=AS_OF, period="quarter", by=by
    )
    return {(r["group_id"], r["metric"]): r for r in rows.to_pyarrow().to_pylist()}


def test_period_days_equal_and_clamped() -> None:
    assert m.period_days(AS_OF, "quarter") == (45, 45)
    assert m.period_days(dt.date(2025, 3, 31), "month") == (31, 28)


def test_trend_hand_computed(trend_wh: Any) -> None:
    t = _trends(trend_wh)
    a = t[("A", "win_rate")]
    assert (a["n"], a["n_prev"]) == (30, 30)
    assert (a["value"], a["value_prev"]) == pytest.approx((0.2, 0.6))
    se = math.sqrt(0.4 * 0.6 * (1 / 30 + 1 / 30))
    assert a["change"] == pytest.approx(-0.4)
    assert a["z_score"] == pytest.approx(-0.4 / se)
    # the others (B and C): 20/35 won before, 15/35 now
    assert a["rest_change"] == pytest.approx(15 / 35 - 20 / 35)
    assert a["change_vs_rest"] == pytest.approx(-0.4 - (15 / 35 - 20 / 35))
    assert a["z_vs_rest"] == pytest.approx(a["change_vs_rest"] / se)
    rev = t[("A", "revenue")]
    assert (rev["value"], rev["value_prev"], rev["n"], rev["n_prev"]) == (
        6000.0,
        18000.0,
        6,
        18,
    )
    assert rev["change"] == pytest.approx(6000 / 18000 - 1)
    assert rev["z_score"] == pytest.approx(-12000 / math.sqrt(6e6 + 18e6))
    act = t[("A", "client_activities")]
    assert (act["value"], act["value_prev"]) == (100.0, 200.0)
    assert act["z_score"] == pytest.approx(-100 / math.sqrt(300))
    g = 350 / 550  # the others' calls: 550 before, 350 now
    assert act["change_vs_rest"] == pytest.approx(100 / (g * 200) - 1)
    assert act["z_vs_rest"] == pytest.approx(
        (100 - g * 200) / math.sqrt(100 + g * g * 200)
    )
    total = t[(None, "client_activities")]
    assert total["is_total"]
    assert (total["value"], total["value_prev"]) == (450.0, 750.0)
    assert total["rest_change"] is None
    assert total["z_vs_rest"] == pytest.approx(total["z_score"])
    for metric in ("win_rate", "revenue", "client_activities"):
        assert t[("B", metric)]["change"] == pytest.approx(0.0)
        assert t[("B", metric)]["z_score"] == pytest.approx(0.0)
    assert t[("C", "win_rate")]["z_score"] == pytest.approx(-1 / math.sqrt(0.25 * 0.4))
    assert t[("D", "client_activities")]["change"] == pytest.approx(1.0)
    assert ("D", "win_rate") not in t  # no deals in either period
    gone = t[("F", "client_activities")]  # only in the previous period: still a row
    assert (gone["value"], gone["value_prev"], gone["change"]) == (0.0, 150.0, -1.0)


def test_trend_by_team_sums_managers(trend_wh: Any) -> None:
    t = _trends(trend_wh, by="team")
    t1 = t[("T1", "win_rate")]  # A and B
    assert (t1["n"], t1["n_prev"]) == (60, 60)
    assert (t1["value"], t1["value_prev"]) == pytest.approx((21 / 60, 33 / 60))
    assert t[("T2", "client_activities")]["value"] == 200.0  # C has no calls, D has


def test_trend_findings(trend_wh: Any) -> None:
    res = run("managers_kpis", trend_wh, as_of=AS_OF.isoformat(), period="quarter")
    got = {(f.kind, f.subject["id"], f.metric) for f in res.findings}
    assert got == {
        ("kpi_drop", "A", "win_rate"),
        ("kpi_drop", "A", "client_activities"),
        ("kpi_rise", "D", "client_activities"),
        ("kpi_drop", "F", "client_activities"),  # E left: not a trend to act on
        ("kpi_drop", None, "client_activities"),  # the department: 750 -> 450
    }
    department = next(f for f in res.findings if f.subject["type"] == "company")
    assert department.text["en"].startswith("The department made 40% fewer")
    drop = next(f for f in res.findings if f.metric == "win_rate")
    assert (drop.value, drop.baseline) == (0.2, 0.6)
    assert drop.severity == "high"
    # 0.4 x 30 closed deals x the average won deal (1000)
    assert drop.impact == pytest.approx(0.4 * 30 * 1000)
    for lang in ("ru", "en"):
        assert pct(0.6, lang) in drop.text[lang]
        assert pct(0.2, lang) in drop.text[lang]
        assert drop.action[lang]
    # the other managers together: 15/35 won now against 20/35 before
    assert drop.evidence["rest_change"] == pytest.approx(15 / 35 - 20 / 35, abs=1e-4)
    assert "The other managers together: -14 points." in drop.text["en"]
    rows = {r["manager_id"]: r for r in res.rows.to_pylist()}
    assert rows["A"]["deals_closed_prev"] == 30
    assert rows["A"]["client_activities_prev"] == 200
    assert rows["A"]["activity_change_rate"] == pytest.approx(-0.5)
    # a larger minimum sample silences the win-rate finding; scope keeps only its own
    quiet = run("managers_kpis", trend_wh, as_of=AS_OF.isoformat(), min_deals=31)
    assert "win_rate" not in {f.metric for f in quiet.findings}
    team2 = run("managers_kpis", trend_wh, as_of=AS_OF.isoformat(), team="T2")
    assert {f.subject["id"] for f in team2.findings} == {"D", "F"}  # no department


def test_a_department_wide_swing_names_no_manager(tmp_path: Path) -> None:
    """Every manager makes 60 % more calls: one department finding, no manager's."""
    import crmlens

    out = tmp_path / "crm"
    write_trend_crm(out)
    calls = ["activity_id,type,created_at,manager_id,duration_min"]
    for x in "ABCD":
        calls += _calls(x, PREV_DAY, 100, 0) + _calls(x, CUR_DAY, 160, 1000)
    (out / "activities.csv").write_text("\n".join(calls) + "\n", encoding="utf-8")
    wh = crmlens.open(tmp_path / "w.duckdb")
    wh.import_files([out])
    res = run("managers_kpis", wh, as_of=AS_OF.isoformat())
    acts = [f for f in res.findings if f.metric == "client_activities"]
    assert [(f.kind, f.subject["type"]) for f in acts] == [("kpi_rise", "company")]


def test_no_trend_with_period_all(trend_wh: Any) -> None:
    res = run("managers_kpis", trend_wh, as_of=AS_OF.isoformat(), period="all")
    assert not [f for f in res.findings if f.kind in ("kpi_drop", "kpi_rise")]


def test_marked_needs_sample_size_and_effect() -> None:
    base = {"metric": "win_rate", "n": 40, "n_prev": 40, "change": -0.2, "z_score": -4}
    assert marked(base, min_deals=20, min_activities=100)
    assert not marked({**base, "n_prev": 19}, min_deals=20, min_activities=100)
    assert not marked({**base, "change": -0.09}, min_deals=20, min_activities=100)
    assert not marked({**base, "z_score": -2.9}, min_deals=20, min_activities=100)
    act = {**base, "metric": "client_activities", "n": 60, "n_prev": 30, "change": 1.0}
    assert not marked(act, min_deals=20, min_activities=100)
    assert marked({**act, "n": 80}, min_deals=20, min_activities=100)


# ---- nothing changed, nothing flagged ---------------------------------------------

_MANAGER = st.tuples(
    st.integers(0, 60),  # closed deals
    st.floats(0, 1),  # share won
    st.integers(1, 5000),  # amount of a won deal
    st.integers(0, 400),  # client activities
)


@settings(suppress_health_check=[HealthCheck.too_slow], max_examples=12, deadline=None)
@given(st.lists(_MANAGER, min_size=1, max_size=6))
def test_identical_periods_flag_nothing(
    managers: list[tuple[int, float, int, int]],
) -> None:
    deals: dict[str, list[Any]] = {
        k: []
        for k in ("deal_id", "created_at", "owner_id", "amount", "status", "closed_at")
    }
    acts: dict[str, list[Any]] = {
        k: [] for k in ("manager_id", "type", "created_at", "duration_min")
    }
    for i, (closed, share, amount, calls) in enumerate(managers):
        for day in (dt.datetime(2025, 2, 3, 9), dt.datetime(2025, 5, 5, 9)):
            for k in range(closed):
                deals["deal_id"].append(f"{i}-{day:%m}-{k}")
                deals["created_at"].append(day)
                deals["owner_id"].append(f"M{i}")
                deals["amount"].append(float(amount + k))
                deals["status"].append("won" if k < round(closed * share) else "lost")
                deals["closed_at"].append(day)
            acts["manager_id"] += [f"M{i}"] * calls
            acts["type"] += ["call"] * calls
            acts["created_at"] += [day] * calls
            acts["duration_min"] += [5.0] * calls
    import pyarrow as pa

    managers_t = ibis.memtable(
        pa.table({"manager_id": [f"M{i}" for i in range(len(managers))],
                  "name": [f"N{i}" for i in range(len(managers))]})
    )  # fmt: skip
    ts = pa.timestamp("us")
    deals_t = ibis.memtable(
        pa.table(deals, schema=pa.schema({
            "deal_id": pa.string(), "created_at": ts, "owner_id": pa.string(),
            "amount": pa.float64(), "status": pa.string(), "closed_at": ts,
        }))
    )  # fmt: skip
    acts_t = ibis.memtable(
        pa.table(acts, schema=pa.schema({
            "manager_id": pa.string(), "type": pa.string(), "created_at": ts,
            "duration_min": pa.float64(),
        }))
    )  # fmt: skip
    rows = m.kpi_trends(deals_t, acts_t, managers_t, as_of=AS_OF, period="quarter")
    for r in rows.to_pyarrow().to_pylist():
        assert r["value"] == pytest.approx(r["value_prev"])
        assert r["change"] is None or r["change"] == pytest.approx(0.0, abs=1e-12)
        assert r["z_score"] is None or r["z_score"] == pytest.approx(0.0, abs=1e-9)
        assert not marked(r, min_deals=0, min_activities=0)
