"""Team credit (issue 13): hand-computed schemes, sums equal won revenue, the demo."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import ibis
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmlens.analytics import credit as cr
from crmlens.insights.registry import run
from tests.analytics._managers_crm import AS_OF, tiny_wh

DAY = dt.date.fromisoformat(AS_OF)
EXPECTED = {  # W1 1000 owned by A (A: 10 min, 1 stage; B: 60+30 min, 2 stages); W2 600 by B
    "owner": {"A": 1000.0, "B": 600.0},
    "equal": {"A": 500.0, "B": 1100.0},
    "activity": {"A": 100.0, "B": 1500.0},
    "stage": {"A": 1000 / 3, "B": 600 + 2000 / 3},
}


@pytest.fixture
def part(engine: str, tmp_path_factory: pytest.TempPathFactory) -> Any:
    wh = tiny_wh(engine, tmp_path_factory.mktemp("tiny"))
    deals = wh.deals.filter(wh.deals.deal_id.startswith("W"))
    return cr.participation(deals, wh.activities, wh.deal_stages, as_of=DAY)


def test_participation(part: Any) -> None:
    rows = {(r["deal_id"], r["manager_id"]): r for r in part.to_pyarrow().to_pylist()}
    assert set(rows) == {("W1", "A"), ("W1", "B"), ("W2", "B")}
    b = rows[("W1", "B")]
    assert (
        b["activity_count"],
        b["effort_minutes"],
        b["stages_touched"],
        b["is_owner"],
    ) == (2, 90.0, 2, 0)
    assert rows[("W2", "B")]["activity_count"] == 0


@pytest.mark.parametrize("scheme", cr.SCHEMES)
def test_schemes_by_hand(part: Any, scheme: cr.Scheme) -> None:
    rows = cr.credit_by_person(part, scheme=scheme).to_pyarrow().to_pylist()
    got = {r["manager_id"]: r["credited_revenue"] for r in rows}
    assert got == pytest.approx(EXPECTED[scheme])
    assert sum(got.values()) == pytest.approx(1600.0)


def test_compare_and_bonus(part: Any) -> None:
    table = cr.credit_compare(part)
    cols = [f"credited_{s}" for s in cr.SCHEMES]
    rows = {
        r["manager_id"]: r
        for r in cr.with_bonus(table, cols, pool=160.0).to_pyarrow().to_pylist()
    }
    assert rows["B"]["gain_equal"] == pytest.approx(500.0)
    assert rows["B"]["deals_of_others"] == 1
    assert rows["B"]["revenue_of_others"] == 1000.0
    assert rows["A"]["bonus_activity"] == pytest.approx(10.0)
    assert rows["B"]["bonus_owner"] == pytest.approx(60.0)
    rate = cr.with_bonus(table, ["credited_stage"], rate=0.1).to_pyarrow().to_pylist()
    assert sum(r["bonus_stage"] for r in rate) == pytest.approx(160.0)


people = st.sampled_from(["M1", "M2", "M3", "M4"])
deal = st.tuples(
    people,
    st.lists(st.tuples(people, st.floats(0, 120), st.integers(0, 4)), max_size=4),
    st.floats(0, 1e6),
)


@given(st.lists(deal, min_size=1, max_size=8))
def test_every_scheme_sums_to_won_revenue(deals: list[Any]) -> None:
    rows: dict[str, list[Any]] = {
        k: []
        for k in (
            "deal_id",
            "manager_id",
            "owner_id",
            "is_owner",
            "amount",
            "activity_count",
            "effort_minutes",
            "stages_touched",
        )
    }
    for i, (owner, helpers, amount) in enumerate(deals):
        seen = {owner: (0.0, 0)}
        for who, minutes, stages in helpers:
            seen[who] = (minutes, stages)
        for who, (minutes, stages) in seen.items():
            for k, v in zip(
                rows,
                (f"D{i}", who, owner, int(who == owner), amount, 1, minutes, stages),
                strict=True,
            ):
                rows[k].append(v)
    part = ibis.memtable(rows)
    total = sum(a for _o, _h, a in deals)
    for scheme in cr.SCHEMES:
        got = cr.credit_by_person(part, scheme=scheme).to_pyarrow()["credited_revenue"]
        assert sum(got.to_pylist()) == pytest.approx(total, rel=1e-9, abs=1e-6)


def test_demo_credit_names_helper(demo_wh: Any, demo_truth: dict) -> None:  # type: ignore[type-arg]
    res = run(
        "managers_credit", demo_wh, compare=True, pool=1_000_000.0, as_of="2025-12-15"
    )
    rows = {r["manager_id"]: r for r in res.rows.to_pylist()}
    helper = demo_truth["team_credit"]["manager_id"]
    assert (
        rows[helper]["deals_of_others"]
        == demo_truth["team_credit"]["won_deals_of_others_touched"]
    )
    won = (
        demo_wh.deals.filter(demo_wh.deals.status == "won")
        .amount.sum()
        .to_pyarrow()
        .as_py()
    )
    for scheme in cr.SCHEMES:
        assert sum(r[f"credited_{scheme}"] for r in rows.values()) == pytest.approx(won)
        assert sum(r[f"bonus_{scheme}"] for r in rows.values()) == pytest.approx(
            1_000_000.0
        )
    assert res.findings
    assert res.findings[0].subject["id"] == helper
    assert helper in res.findings[0].text["en"]
    assert res.findings[0].text["ru"]


def test_cli_credit_compare_json(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    import crmlens
    from crmlens.cli.app import app
    from tests.analytics._managers_crm import write_crm

    crmlens.open(tmp_path / "w.duckdb").import_files([write_crm(tmp_path / "crm")])
    args = [
        "managers",
        "credit",
        "--compare",
        "-f",
        "json",
        "-w",
        str(tmp_path / "w.duckdb"),
    ]
    result = CliRunner().invoke(app, [*args, "--rate", "0.1"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    names = [f["subject"]["id"] for f in data["findings"]]
    assert names == []  # one deal of others is below the minimum of 5
    assert {r["manager_id"] for r in data["rows"]} >= {"A", "B"}
