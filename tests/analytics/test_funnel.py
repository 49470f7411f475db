"""Funnel: hand-computed reach, conversion, times; stage drop on the demo; Olist."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from crmlens.analytics.funnel_drops import Cohort, detect_drop, detect_gap
from crmlens.insights.registry import run

AS_OF = dt.date(2025, 3, 31)

PIPELINES = """pipeline_id,stage,position,is_won,is_lost
p,A,1,false,false
p,B,2,false,false
p,C,3,false,false
p,W,4,true,false
p,L,5,false,true
"""
# d1 A→B→C→W won; d2 A→C (skips B) open; d3 A→L lost; d4 A→B→A→B (back, re-entry)
# open; d5 only A, open. Days from 2025-01-01.
STAGES = [
    ("d1", "A", 0), ("d1", "B", 2), ("d1", "C", 5), ("d1", "W", 9),
    ("d2", "A", 0), ("d2", "C", 4),
    ("d3", "A", 0), ("d3", "L", 1),
    ("d4", "A", 0), ("d4", "B", 1), ("d4", "A", 3), ("d4", "B", 6),
    ("d5", "A", 0),
]  # fmt: skip
DEALS = """deal_id,created_at,pipeline_id,lead_id,owner_id,amount,status,closed_at
d1,2025-01-01 09:00:00,p,l1,m1,100,won,2025-01-10 09:00:00
d2,2025-01-01 09:00:00,p,,m1,200,open,
d3,2025-01-01 09:00:00,p,,m2,300,lost,2025-01-02 09:00:00
d4,2025-01-01 09:00:00,p,,m2,400,open,
d5,2025-01-01 09:00:00,p,,m2,500,open,
"""
LEADS = """lead_id,created_at,deal_id,source
l1,2024-12-30 10:00:00,,web
l2,2024-12-30 10:00:00,d2,web
l3,2024-12-30 10:00:00,,cold
l4,2024-12-31 10:00:00,,cold
"""


def _write_tiny(tmp_path: Path) -> Path:
    src = tmp_path / "crm"
    src.mkdir()
    (src / "pipelines.csv").write_text(PIPELINES)
    (src / "deals.csv").write_text(DEALS)
    (src / "leads.csv").write_text(LEADS)
    day0 = dt.datetime(2025, 1, 1, 9)
    lines = ["deal_id,stage,entered_at"] + [
        f"{d},{s},{day0 + dt.timedelta(days=n)}" for d, s, n in STAGES
    ]
    (src / "deal_stages.csv").write_text("\n".join(lines) + "\n")
    return src


@pytest.fixture
def tiny_wh(open_wh, tmp_path: Path):  # type: ignore[no-untyped-def]
    wh = open_wh()
    wh.import_files([_write_tiny(tmp_path)])
    return wh


def _funnel(wh, **kw) -> dict[str, dict]:  # type: ignore[no-untyped-def,type-arg]
    """Rows of the stage funnel (no findings: one query, quick on Spark)."""
    from crmlens.analytics.funnel import stage_funnel
    from crmlens.insights.params import parse_date
    from crmlens.insights.rules.funnel import inputs_of

    as_of = parse_date(kw.pop("as_of", AS_OF))
    expr = stage_funnel(inputs_of(wh), as_of=as_of, **kw)
    return {r["stage"]: r for r in expr.to_pyarrow().to_pylist()}


def test_tiny_funnel_is_skip_aware(tiny_wh) -> None:  # type: ignore[no-untyped-def]
    rows = _funnel(tiny_wh)
    assert [rows[s]["reached"] for s in ("lead", "A", "B", "C", "W")] == [4, 5, 3, 2, 1]
    assert "L" not in rows
    assert rows["lead"]["conversion_to_next"] == pytest.approx(0.5)
    assert rows["A"]["conversion_to_next"] == pytest.approx(0.6)
    assert rows["B"]["conversion_to_next"] == pytest.approx(2 / 3)
    assert rows["C"]["conversion_to_next"] == pytest.approx(0.5)
    assert rows["W"]["conversion_to_next"] is None
    assert rows["C"]["conversion_from_start"] == pytest.approx(0.4)
    assert [rows[s]["open_now"] for s in "ABCW"] == [1, 1, 1, 0]
    assert [rows[s]["lost_after"] for s in "ABCW"] == [1, 0, 0, 0]
    # time in stage: A: d1 2, d2 4, d3 1, d4 1 (d5 has not left); B: d1 3, d4 2
    assert rows["A"]["median_days_in_stage"] == pytest.approx(1.5)
    assert rows["A"]["p90_days_in_stage"] == pytest.approx(3.4)
    assert rows["B"]["median_days_in_stage"] == pytest.approx(2.5)
    assert rows["C"]["median_days_in_stage"] == pytest.approx(4.0)
    rows = _funnel(tiny_wh, as_of="2025-01-04")
    # by the end of Jan 4: d1 at B, d2 still in A, d3 lost, d4 back in A.
    assert [rows[s]["reached"] for s in "ABCW"] == [5, 2, 0, 0]
    assert [rows[s]["open_now"] for s in "ABC"] == [3, 1, 0]


def test_tiny_groups_window_and_velocity(tiny_wh) -> None:  # type: ignore[no-untyped-def]
    from crmlens.analytics.funnel import funnel_facts, stage_funnel
    from crmlens.analytics.funnel_velocity import pipeline_velocity
    from crmlens.insights.rules.funnel import inputs_of

    inputs = inputs_of(tiny_wh)
    rows = stage_funnel(inputs, as_of=AS_OF, by="manager").to_pyarrow().to_pylist()
    got = {(r["group_value"], r["stage"]): r["reached"] for r in rows}
    assert got[("m1", "A")] == 2
    assert got[("m1", "W")] == 1
    assert got[("m2", "B")] == 1
    later = stage_funnel(inputs, as_of=AS_OF, start=dt.date(2025, 2, 1))
    assert [r["stage"] for r in later.to_pyarrow().to_pylist()] == []
    _d, _e, facts = funnel_facts(inputs, as_of=AS_OF)
    vel = pipeline_velocity(facts).to_pyarrow().to_pylist()
    jan = {r["month"]: r for r in vel}["2025-01"]
    assert (jan["open_deals"], jan["closed_deals"], jan["won_deals"]) == (3, 2, 1)
    assert jan["win_rate"] == pytest.approx(0.5)
    assert jan["avg_won_amount"] == pytest.approx(100.0)
    assert jan["median_cycle_days"] == pytest.approx(9.0)
    assert jan["pipeline_velocity"] == pytest.approx(3 * 0.5 * 100 / 9)


def test_empty_warehouse_gives_no_rows(open_wh) -> None:  # type: ignore[no-untyped-def]
    result = run("funnel", open_wh(), as_of=AS_OF)
    assert result.rows.num_rows == 0
    assert result.findings == []


def test_demo_stage_drop_is_the_planted_one(demo_wh, demo_truth) -> None:  # type: ignore[no-untyped-def]
    truth = demo_truth["stage_drop"]
    demo_wh.refresh()  # Spark: views are named per table, another warehouse may own them
    found = run("funnel", demo_wh).findings
    drops = [f for f in found if f.kind == "stage_drop"]
    assert len(drops) == 1
    drop = drops[0]
    assert drop.subject["id"] == truth["stage"]
    assert drop.subject["next"] == truth["next"]
    assert drop.period == truth["from_month"]
    assert drop.value < drop.baseline
    assert drop.evidence["p_value"] < 1e-6
    assert drop.impact
    assert drop.impact > 0
    assert truth["after"] - 0.12 < drop.value < truth["after"] + 0.05


def test_no_stage_drop_without_planted_one(engine: str, tmp_path: Path) -> None:
    from crmlens.demo import generate
    from crmlens.demo.generator import PATTERNS
    from tests.backends import open_engine

    generate(tmp_path / "d7", seed=7, patterns=frozenset(PATTERNS) - {"stage_drop"})
    wh = open_engine(engine, tmp_path / "wh7")
    wh.import_files([tmp_path / "d7"])
    truth = json.loads((tmp_path / "d7" / "truth.json").read_text())
    assert truth["stage_drop"] is None
    found = run("funnel", wh).findings
    assert [f for f in found if f.kind == "stage_drop"] == []


def test_olist_lead_to_deal(engine: str, shared_data: Path, tmp_path: Path) -> None:
    from tests.backends import open_engine

    wh = open_engine(engine, tmp_path / "olist")
    wh.import_files([shared_data / "olist_marketing_funnel"], preset="olist_funnel")
    rows = _funnel(wh, as_of=dt.date(2018, 12, 31))
    assert rows["lead"]["reached"] == 8000
    assert rows["lead"]["conversion_to_next"] == pytest.approx(0.10525)
    assert rows["(deal)"]["reached"] == 842


def test_detect_drop_needs_a_lasting_significant_fall() -> None:
    flat = [Cohort(f"m{i}", 100, 60) for i in range(12)]
    assert detect_drop(flat) is None
    fall = flat[:8] + [Cohort(f"n{i}", 100, 35) for i in range(4)]
    cp = detect_drop(fall)
    assert cp is not None
    assert cp.first_cohort == "n0"
    assert cp.before_rate == pytest.approx(0.6)
    assert cp.after_rate == pytest.approx(0.35)
    small = [Cohort(c.label, 5, round(c.converted / 20)) for c in fall]
    assert detect_drop(small) is None
    back = [*fall[:10], Cohort("r0", 100, 60), Cohort("r1", 100, 61)]
    cp_back = detect_drop(back)
    assert cp_back is None or cp_back.first_cohort != "n0"


def test_detect_gap() -> None:
    rest = Cohort("rest", 1000, 600)
    assert detect_gap(Cohort("m1", 200, 60), rest, tests=30) is not None
    assert detect_gap(Cohort("m2", 200, 115), rest, tests=30) is None
    assert detect_gap(Cohort("m3", 10, 1), rest, tests=30) is None


def test_cli_funnel_json(demo_dir: Path, tmp_path: Path) -> None:
    """Acceptance: `crmlens funnel --format json` on the demo gives the planted drop."""
    from typer.testing import CliRunner

    import crmlens
    from crmlens.cli.app import app

    path = tmp_path / "demo.duckdb"
    wh = crmlens.open(path)
    wh.import_files([demo_dir])
    wh.close()
    result = CliRunner().invoke(app, ["funnel", "-w", str(path), "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    truth = json.loads((demo_dir / "truth.json").read_text())["stage_drop"]
    assert data["analysis"] == "funnel"
    assert {"stage", "reached", "conversion_to_next"} <= set(data["rows"][0])
    drops = [f for f in data["findings"] if f["kind"] == "stage_drop"]
    assert [(d["subject"]["id"], d["subject"]["next"], d["period"]) for d in drops] == [
        (truth["stage"], truth["next"], truth["from_month"])
    ]
