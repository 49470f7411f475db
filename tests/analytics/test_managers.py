"""Seller analytics (issue 5): hand-computed cases, the demo truth, both engines."""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from crmlens.analytics import managers as m
from crmlens.analytics import managers_activity as ma
from crmlens.analytics import managers_compare as mc
from crmlens.insights.registry import run
from tests.analytics._managers_crm import AS_OF, tiny_wh

DAY = dt.date.fromisoformat(AS_OF)


@pytest.fixture
def wh(engine: str, tmp_path_factory: pytest.TempPathFactory) -> Any:
    return tiny_wh(engine, tmp_path_factory.mktemp("tiny"))


def _by(rows: list[dict[str, Any]], key: str) -> dict[Any, dict[str, Any]]:
    return {r[key]: r for r in rows}


def test_mix_index_reverses_ranking(wh: Any) -> None:
    seg = mc.segment_deals(
        wh.deals.filter(wh.deals.deal_id.startswith("X")),
        orders=wh.orders,
        leads=wh.leads,
        as_of=DAY,
    )
    rows = _by(
        mc.mix_adjusted(mc.mix_cells(seg)).to_pyarrow().to_pylist(), "manager_id"
    )
    cold, warm = 3 / 15, 13 / 22
    exp_a, exp_b = (10 * cold + 2 * warm) / 12, (5 * cold + 20 * warm) / 25
    assert rows["A"]["win_rate"] == pytest.approx(5 / 12)
    assert rows["B"]["win_rate"] == pytest.approx(11 / 25)
    assert rows["A"]["expected_win_rate"] == pytest.approx(exp_a)
    assert rows["B"]["mix_index"] == pytest.approx((11 / 25) / exp_b)
    assert (rows["A"]["rank_raw"], rows["B"]["rank_raw"]) == (2, 1)
    assert (rows["A"]["rank_adjusted"], rows["B"]["rank_adjusted"]) == (1, 2)


def test_client_types(engine: str, tmp_path: Path) -> None:
    import ibis

    deals = ibis.memtable(
        {
            "deal_id": ["d1", "d2", "d3", "d4"],
            "account_id": ["X", "X", "Y", "Y"],
            "created_at": [
                dt.datetime(2025, 1, 4),
                dt.datetime(2025, 2, 1),
                dt.datetime(2025, 2, 1),
                dt.datetime(2025, 3, 2),
            ],
            "status": ["lost", "lost", "won", "open"],
            "closed_at": [
                dt.datetime(2025, 1, 9),
                dt.datetime(2025, 2, 9),
                dt.datetime(2025, 3, 1),
                None,
            ],
        }
    )
    orders = ibis.memtable({"account_id": ["X"], "order_date": [dt.date(2025, 1, 5)]})
    out = _by(mc.client_types(deals, orders).to_pyarrow().to_pylist(), "deal_id")
    assert {k: v["client_type"] for k, v in out.items()} == {
        "d1": "new",
        "d2": "returning",
        "d3": "new",
        "d4": "returning",
    }


def test_mix_index_arrays_and_bootstrap_coverage() -> None:
    closed = np.array([[10.0, 2.0], [5.0, 20.0]])
    won = np.array([[3.0, 2.0], [0.0, 11.0]])
    idx = mc.mix_index_arrays(closed, won)
    assert idx[0] == pytest.approx((5 / 12) / ((10 * 0.2 + 2 * 13 / 22) / 12))
    # intervals cover the true index in a simulation
    rng = np.random.default_rng(1)
    n = np.array([[120.0, 30.0], [40.0, 160.0], [80.0, 80.0]])
    p = np.array([[0.30, 0.60], [0.15, 0.55], [0.20, 0.50]])
    truth = mc.mix_index_arrays(n, n * p)
    hits, sims = np.zeros(3), 120
    for s in range(sims):
        w = rng.binomial(n.astype(int), p).astype(float)
        low, high = mc.bootstrap_mix_index(n, w, n_boot=300, seed=s)
        hits += (low <= truth) & (truth <= high)
    assert (hits / sims).min() >= 0.85


def test_response(wh: Any) -> None:
    resp = ma.first_response(
        wh.leads.filter(wh.leads.lead_id.startswith("R")), wh.activities, as_of=DAY
    )
    per = _by(
        ma.response_by_manager(resp, sla_hours=1.0).to_pyarrow().to_pylist(),
        "manager_id",
    )
    assert per["A"]["median_first_response_hours"] == pytest.approx(1.25)
    assert per["A"]["over_sla_rate"] == pytest.approx(0.5)
    assert per["B"]["leads_answered"] == 0
    assert per["B"]["median_first_response_hours"] is None
    assert per["B"]["over_sla_rate"] == pytest.approx(1.0)
    buckets = _by(ma.response_buckets(resp).to_pyarrow().to_pylist(), "bucket")
    assert {k: v["leads"] for k, v in buckets.items()} == {
        "15m-1h": 1,
        "1-4h": 1,
        "no response": 1,
    }


def test_checklist_lift(wh: Any) -> None:
    rows = ma.checklist_items(wh.call_reviews, wh.activities, wh.deals, as_of=DAY)
    r = rows.to_pyarrow().to_pylist()[0]
    assert (r["calls_reviewed"], r["deals_passed"], r["deals_skipped"]) == (5, 2, 3)
    assert r["share_passed"] == pytest.approx(0.4)
    assert r["lift"] == pytest.approx(1.5)
    se = math.sqrt(0.5 / 1 + (2 / 3) / 1)
    assert r["lift_low"] == pytest.approx(1.5 * math.exp(-ma.Z95 * se))


def test_kpis_and_losses(wh: Any) -> None:
    rows = (
        m.manager_kpis(
            wh.deals,
            wh.activities,
            wh.leads,
            wh.managers,
            None,
            as_of=DAY,
            period="year",
        )
        .to_pyarrow()
        .to_pylist()
    )
    a = _by(rows, "group_id")["A"]
    assert (a["deals_won"], a["deals_lost"]) == (6, 8)
    assert a["revenue"] == pytest.approx(5 * 100 + 1000)
    assert a["win_rate"] == pytest.approx(6 / 14)
    assert a["median_first_response_hours"] == pytest.approx(1.25)
    groups = m.loss_groups("manager", wh.deals)
    lost = m.lost_reasons(wh.deals, groups=groups, as_of=DAY).to_pyarrow().to_pylist()
    a_lost = next(r for r in lost if r["group_id"] == "A")
    assert (a_lost["lost_reason"], a_lost["lost_deals"]) == ("Дорого", 8)
    assert a_lost["share"] == pytest.approx(1.0)


def test_period_bounds() -> None:
    assert m.period_bounds(dt.date(2025, 2, 10), "quarter") == (
        dt.date(2025, 1, 1),
        dt.date(2024, 10, 1),
    )
    assert m.shift_back(
        dt.date(2025, 3, 31), dt.date(2025, 3, 1), dt.date(2025, 2, 1)
    ) == (dt.date(2025, 2, 28))


# ---- the demo, against truth.json ----------------------------------------------------


def test_demo_compare_reverses_planted_pair(demo_wh: Any, demo_truth: dict) -> None:  # type: ignore[type-arg]
    res = run("managers_compare", demo_wh, n_boot=500)
    rows = _by(res.rows.to_pylist(), "manager_id")
    cold, warm = (
        demo_truth["managers"]["cold_strong"],
        demo_truth["managers"]["warm_weak"],
    )
    assert rows[cold]["rank_adjusted"] < rows[warm]["rank_adjusted"]
    assert rows[cold]["rank_raw"] > rows[warm]["rank_raw"]
    truth = demo_truth["manager_mix"]
    for mid in (cold, warm):
        assert rows[mid]["mix_index"] == pytest.approx(
            truth[mid]["mix_adjusted_index"], abs=0.08
        )
        assert (
            rows[mid]["mix_index_low"]
            <= rows[mid]["mix_index"]
            <= rows[mid]["mix_index_high"]
        )
    kinds = {(f.kind, f.subject["id"]) for f in res.findings}
    assert ("hidden_strength", cold) in kinds
    assert ("hidden_weakness", warm) in kinds
    strong = next(f for f in res.findings if f.kind == "hidden_strength")
    assert warm in strong.evidence["overtakes"]
    assert all(f.text["ru"] and f.text["en"] and f.action["ru"] for f in res.findings)


def test_demo_checklist_and_response(demo_wh: Any, demo_truth: dict) -> None:  # type: ignore[type-arg]
    chk = run("managers_checklist", demo_wh)
    first = chk.rows.to_pylist()[0]
    truth = demo_truth["checklist"]
    assert first["item"] == demo_truth["checklist_key_item"]
    assert first["win_rate_passed"] == pytest.approx(truth["win_rate_passed"], abs=0.03)
    assert 1 - first["share_passed"] == pytest.approx(truth["skipped_share"], abs=0.01)
    assert chk.findings[0].subject["id"] == demo_truth["checklist_key_item"]
    resp = run("managers_response", demo_wh)
    rows = resp.rows.to_pylist()
    slowest = max(rows, key=lambda r: r["median_first_response_hours"] or 0)
    careless = demo_truth["careless"]
    assert slowest["manager_id"] == careless["manager_id"]
    assert slowest["median_first_response_hours"] == pytest.approx(
        careless["median_first_response_hours"], rel=0.1
    )
    assert any(
        f.kind == "slow_response" and f.subject["id"] == careless["manager_id"]
        for f in resp.findings
    )


def test_demo_kpis_activity_losses(demo_wh: Any, demo_truth: dict) -> None:  # type: ignore[type-arg]
    kp = run("managers_kpis", demo_wh, as_of="2025-12-15", period="all")
    over = {r["manager_id"]: r["overdue_tasks"] for r in kp.rows.to_pylist()}
    assert over == demo_truth["careless"]["overdue_tasks_by_manager"]
    assert run("managers_kpis", demo_wh, by="team").rows.num_rows >= 2
    act = run("managers_activity", demo_wh, by="mix")
    assert act.rows.num_rows == 6
    assert act.findings
    assert run("managers_losses", demo_wh, by="stage").rows.num_rows > 5


def test_no_findings_where_nothing_planted(tmp_path: Path) -> None:
    import crmlens
    from crmlens.demo import generate

    generate(tmp_path / "d", seed=7, patterns="none")
    wh = crmlens.open(tmp_path / "w.duckdb")
    wh.import_files([tmp_path / "d"])
    kinds = {f.kind for f in run("managers_compare", wh, n_boot=300).findings}
    assert not kinds & {"hidden_strength", "hidden_weakness"}
    assert not run("managers_checklist", wh).findings
    assert not [
        f for f in run("managers_response", wh).findings if f.kind == "slow_response"
    ]
    assert not list(run("managers_kpis", wh, period="all").findings)


@pytest.mark.parametrize("fmt", ["table", "json", "csv"])
def test_cli_formats(
    fmt: str, demo_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    from typer.testing import CliRunner

    from crmlens.cli.app import app
    from tests.analytics._managers_crm import write_crm

    root = tmp_path_factory.mktemp("cli")
    import crmlens

    crmlens.open(root / "w.duckdb").import_files([write_crm(root / "crm")])
    for cmd in (
        "kpis",
        "compare",
        "checklist",
        "losses",
        "response",
        "activity",
        "credit",
    ):
        args = [
            "managers",
            cmd,
            "-w",
            str(root / "w.duckdb"),
            "-f",
            fmt,
            "--lang",
            "ru",
        ]
        result = CliRunner().invoke(
            app, [*args, *(["--min-deals", "1"] if cmd == "compare" else [])]
        )
        assert result.exit_code == 0, result.output
        if fmt == "json":
            data = json.loads(result.output)
            assert data["analysis"] == f"managers_{cmd}"
            assert data["rows"]
        if fmt == "csv":
            assert "," in result.output.splitlines()[0]


def test_segment_keys_read_as_words() -> None:
    from crmlens.insights.rules.managers import segment_words

    assert segment_words("returning | none", "en") == "returning clients, no lead"
    assert (
        segment_words("new | Холодный обзвон", "ru")
        == "новые клиенты, «Холодный обзвон»"
    )
    assert segment_words("new | Cold calls", "en") == "new clients, “Cold calls”"
