"""Lead signals and source economics: hand-computed cases, the demo, both engines."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import pytest

from crmlens.analytics.leads import (
    Attribute,
    bin_lower_of,
    lead_attributes,
    lead_outcomes,
    lead_signals,
    source_economics,
)
from crmlens.analytics.scoring_models import pow2_lower

AS_OF = dt.date(2025, 3, 31)

LEADS = """lead_id,created_at,source,channel,campaign_id,status,deal_id,qualified_at,pages_viewed
L1,2025-01-10,Ref,inbound,C1,converted,D1,2025-01-11,5
L2,2025-01-12,Ref,inbound,C1,disqualified,,2025-01-13,0
L3,2025-02-01,Cold,outbound,,disqualified,,,1
L4,2025-02-03,Cold,outbound,,converted,D2,,3
L5,2025-02-05,Cold,outbound,,in_work,,,
L6,2025-04-05,Cold,outbound,,converted,D3,,2
"""
DEALS = """deal_id,created_at,pipeline_id,lead_id,status,amount,closed_at
D1,2025-01-20,main,L1,won,1000,2025-02-01
D2,2025-02-13,main,L4,lost,,2025-03-01
D3,2025-04-06,main,L6,won,500,2025-04-10
"""
CAMPAIGNS = "campaign_id,tag,cost\nC1,ref,400\n"


@pytest.fixture
def tiny_wh(open_wh, tmp_path: Path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "leads.csv").write_text(LEADS)
    (data / "deals.csv").write_text(DEALS)
    (data / "campaigns.csv").write_text(CAMPAIGNS)
    wh = open_wh()
    wh.import_files([data])
    return wh


def _by(rows: list[dict], key: str) -> dict:
    return {r[key]: r for r in rows}


def test_outcomes_and_attributes(tiny_wh) -> None:
    out = lead_outcomes(tiny_wh.leads, tiny_wh.deals, as_of=AS_OF)
    rows = _by(out.to_pyarrow().to_pylist(), "lead_id")
    assert set(rows) == {"L1", "L2", "L3", "L4", "L5"}  # L6 is after as_of
    assert [rows[k]["is_converted"] for k in ("L1", "L2", "L3", "L4")] == [1, 0, 0, 1]
    assert rows["L5"]["is_labelled"] == 0
    assert rows["L4"]["is_labelled"] == 1
    assert rows["L1"]["is_won"] == 1
    assert rows["L4"]["is_won"] == 0
    assert rows["L2"]["is_qualified"] == 1
    assert rows["L3"]["is_qualified"] == 0
    names = [a.name for a in lead_attributes(tiny_wh.leads)]
    assert "source" in names
    assert "pages_viewed" in names
    assert not {"status", "deal_id", "qualified_at", "lead_id"} & set(names)


def test_signals_hand_computed(tiny_wh) -> None:
    out = lead_outcomes(tiny_wh.leads, tiny_wh.deals, as_of=AS_OF)
    attrs = [
        Attribute("source", "implicit", "category"),
        Attribute("pages_viewed", "implicit", "number"),
    ]
    rows = lead_signals(out, attrs, min_leads=1).to_pyarrow().to_pylist()
    src = _by([r for r in rows if r["attribute"] == "source"], "value")
    # labelled: L1..L4; Ref 1/2, Cold 1/2; overall 2/4
    assert src["Ref"]["leads"] == 2
    assert src["Ref"]["converted"] == 1
    assert src["Cold"]["conversion_rate"] == pytest.approx(0.5)
    assert src["Ref"]["lift"] == pytest.approx(1.0)
    assert src["Ref"]["information_value"] == pytest.approx(0.0)
    # Wilson interval for 1/2 at z = 1.96
    z = 1.96
    centre = (0.5 + z * z / 4) / (1 + z * z / 2)
    half = z * math.sqrt(0.25 / 2 + z * z / 16) / (1 + z * z / 2)
    assert src["Ref"]["ci_low"] == pytest.approx(centre - half)
    pages = _by([r for r in rows if r["attribute"] == "pages_viewed"], "value")
    assert set(pages) == {"[4, 8)", "[0, 1)", "[1, 2)", "[2, 4)"}
    assert pages["[4, 8)"]["bin_lower"] == 4.0
    assert pages["[4, 8)"]["converted"] == 0 + 1


def test_sources_economics_hand_computed(tiny_wh) -> None:
    out = lead_outcomes(tiny_wh.leads, tiny_wh.deals, as_of=AS_OF)
    rows = _by(
        source_economics(out, tiny_wh.campaigns, by="source").to_pyarrow().to_pylist(),
        "source",
    )
    ref, cold = rows["Ref"], rows["Cold"]
    assert (ref["leads"], ref["qualified"], ref["deals"], ref["won"]) == (2, 2, 1, 1)
    assert ref["cost"] == pytest.approx(400.0)
    assert ref["cpl"] == pytest.approx(200.0)
    assert ref["cac"] == pytest.approx(400.0)
    assert ref["romi"] == pytest.approx(1.5)
    assert ref["median_days_to_first_deal"] == pytest.approx(10.0)
    assert cold["cost"] is None
    assert cold["romi"] is None
    assert (cold["leads"], cold["deals"], cold["won"]) == (3, 1, 0)
    assert cold["deal_rate"] == pytest.approx(1.0)  # qualified = converted here
    months = _by(
        source_economics(out, tiny_wh.campaigns, by="month").to_pyarrow().to_pylist(),
        "month",
    )
    assert set(months) == {"2025-01", "2025-02"}


def test_signals_name_planted_sources_on_demo(demo_wh, demo_truth) -> None:
    from crmlens.insights.registry import run

    result = run("leads_signals", demo_wh)
    sources = [
        f
        for f in result.findings
        if f.subject["id"] == "source" and f.kind.endswith("_signal")
    ]
    best = [f.subject["value"] for f in sources if f.kind == "strongest_signal"]
    worst = [f.subject["value"] for f in sources if f.kind == "weakest_signal"]
    assert demo_truth["sources"]["best"] in best
    assert demo_truth["sources"]["worst"] in worst
    kinds = {r["attribute"]: r["kind"] for r in result.rows.to_pylist()}
    assert kinds["budget_declared"] == "explicit"
    assert kinds["source"] == "implicit"
    weak = {f.subject["id"] for f in result.findings if f.kind == "no_signal"}
    assert "form_fields_filled" in weak


def test_sources_on_demo_match_truth(demo_wh, demo_truth) -> None:
    from crmlens.insights.registry import run

    result = run("leads_sources", demo_wh, by="campaign")
    romi = {r["campaign"]: r["romi"] for r in result.rows.to_pylist()}
    for cid, value in demo_truth["campaigns"]["romi"].items():
        assert romi[cid] == pytest.approx(value, abs=0.01)
    kinds = {f.kind: f.subject["id"] for f in result.findings}
    assert kinds["best_romi"] == demo_truth["campaigns"]["best"]
    assert kinds["negative_romi"] == demo_truth["campaigns"]["worst"]


def test_no_source_finding_without_planted_pattern(tmp_path: Path) -> None:
    import crmlens
    from crmlens.demo import generate
    from crmlens.insights.registry import run

    generate(tmp_path / "d", seed=7, patterns="none")
    wh = crmlens.open(tmp_path / "w.duckdb")
    wh.import_files([tmp_path / "d"])
    found = run("leads_signals", wh).findings
    assert not [
        f
        for f in found
        if f.subject["id"] in ("company_size", "budget_declared")
        and f.kind in ("strongest_signal", "weakest_signal")
    ]


@pytest.mark.parametrize("value", [0.0, 0.5, 1.0, 3.0, 4.0, 1000.0, -2.0])
def test_numpy_bins_match_ibis_bins(value: float) -> None:
    assert pow2_lower([value])[0] == bin_lower_of(value)


def test_cli_leads_commands(tiny_wh, tmp_path: Path) -> None:
    import json

    from tests.warehouse.test_fuzz import run_cli

    url = tiny_wh.url.raw
    code, out, err = run_cli(
        ["leads", "sources", "-w", url, "--by", "channel", "-f", "json"]
    )
    assert code == 0, err
    data = json.loads(out)
    assert data["analysis"] == "leads_sources"
    assert {r["channel"] for r in data["rows"]} == {"inbound", "outbound"}
    code, out, err = run_cli(["leads", "signals", "-w", url, "-f", "csv"])
    assert code == 0, err
    assert out.splitlines()[0].startswith("attribute,kind,value,bin_lower,leads")
    code, _, err = run_cli(
        ["leads", "rules", "-w", url, "--init", str(tmp_path / "r.yaml")]
    )
    assert code == 0, err
    assert (tmp_path / "r.yaml").read_text().startswith("version: 1")
