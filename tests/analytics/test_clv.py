"""CLV: the Ibis summary, BG/NBD and Gamma-Gamma fits, findings and the command."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmlens.analytics.clv import calibration_holdout, clv_summary, value_basis_counts
from crmlens.analytics.clv_models import (
    BetaGeo,
    GammaGamma,
    holdout_check,
    not_enough_history,
)
from crmlens.errors import NotFittedError

CDNOW = "cdnow_lifetimes"
PUBLISHED_BG = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
PUBLISHED_GG = {"p": 6.25, "q": 3.74, "gamma": 15.44}


def _cdnow(shared_data: Path, name: str) -> pd.DataFrame:
    frame = pd.read_csv(shared_data / CDNOW / name)
    return frame.rename(
        columns={"x": "frequency", "t_x": "recency", "zbar": "monetary_value"}
    )


@pytest.fixture(scope="module")
def cdnow_bg(shared_data: Path) -> BetaGeo:
    return BetaGeo().fit(_cdnow(shared_data, "cdnow_customers_summary.csv"))


def _within(fitted: dict[str, float], published: dict[str, float]) -> None:
    for name, value in published.items():
        assert fitted[name] == pytest.approx(value, rel=0.005), name


# --- published CDNOW figures -------------------------------------------------------


def test_bgnbd_reproduces_cdnow_published_parameters(cdnow_bg: BetaGeo) -> None:
    _within(cdnow_bg.params_, PUBLISHED_BG)
    assert cdnow_bg.n_clients_ == 2357
    assert cdnow_bg.log_likelihood_ == pytest.approx(-9582.4, abs=0.05)


def test_bgnbd_predictions_match_hardie(cdnow_bg: BetaGeo) -> None:
    one = pd.DataFrame({"frequency": [2], "recency": [30.43], "T": [38.86]})
    assert cdnow_bg.expected_purchases(one, t=39)[0] == pytest.approx(1.226, abs=1e-3)
    t = np.array([0.1429, 1, 3, 31.8571, 32, 78])
    published = [0.0078, 0.0532, 0.1506, 1.0405, 1.0437, 1.8576]
    assert cdnow_bg.expected_purchases_new(t) == pytest.approx(published, abs=2e-3)


def test_gamma_gamma_reproduces_cdnow_published(shared_data: Path) -> None:
    summary = _cdnow(shared_data, "cdnow_customers_summary_with_transactions.csv")
    gg = GammaGamma().fit(summary)
    _within(gg.params_, PUBLISHED_GG)
    assert gg.n_clients_ == 946
    published = [24.65, 18.91, 35.17, 35.17, 35.17, 71.46, 18.91, 35.17, 27.28, 35.17]
    got = gg.expected_average_value(summary.head(10))
    assert got == pytest.approx(published, abs=0.015)


def test_summary_from_cdnow_transactions_equals_published(shared_data: Path) -> None:
    import ibis

    raw = pd.read_csv(
        shared_data / CDNOW / "CDNOW_sample.txt",
        sep=r"\s+",
        header=None,
        names=["master_id", "account_id", "date", "cds", "amount"],
        dtype={"account_id": str, "date": str},
    )
    orders = ibis.memtable(
        raw.assign(order_date=pd.to_datetime(raw["date"]).dt.date)[
            ["account_id", "order_date", "amount"]
        ]
    )
    ours = clv_summary(orders, as_of=dt.date(1997, 9, 30), value_basis="amount")
    ours = ours.to_pandas()
    ours = ours.assign(ID=ours["account_id"].astype(int)).sort_values("ID")
    ref = pd.read_csv(
        shared_data / CDNOW / "cdnow_customers_summary_with_transactions.csv"
    )
    assert ours["ID"].tolist() == ref["ID"].tolist()
    assert ours["frequency"].tolist() == ref["x"].tolist()
    # the published file rounds to 2 decimals
    for column, published in (
        ("recency", "t_x"),
        ("T", "T"),
        ("monetary_value", "zbar"),
    ):
        diff = np.abs(ours[column].to_numpy() - ref[published].to_numpy())
        assert diff.max() <= 0.005 + 1e-9, column
    # and the fit on our own summary gives the published parameters too
    _within(BetaGeo().fit(ours).params_, PUBLISHED_BG)


# --- the summary, by hand ----------------------------------------------------------

TINY = """order_id,account_id,order_date,amount,cost
O1,A1,2024-01-01,100,60
O2,A1,2024-01-01,50,
O3,A1,2024-01-15,200,150
O4,A1,2024-01-29,300,100
O5,A1,2024-02-05,-80,-40
O6,A2,2024-01-22,500,300
O7,A2,2024-03-01,900,700
O8,A3,2024-02-26,70,20
"""


@pytest.fixture
def tiny_wh(open_wh, tmp_path: Path):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "orders.csv").write_text(TINY)
    wh = open_wh()
    wh.import_files([tmp_path / "in" / "orders.csv"])
    return wh


def test_summary_by_hand(engine: str, tiny_wh) -> None:
    rows = clv_summary(tiny_wh.orders, as_of=dt.date(2024, 2, 26)).to_pyarrow()
    got = {r["account_id"]: r for r in rows.to_pylist()}
    a1 = got["A1"]
    # A1: purchase days 01-01 (margin 40 + 50 without cost), 01-15 (50), 01-29 (200);
    # the return of 02-05 only lowers the historical value (margin −40).
    assert (a1["orders_count"], a1["frequency"]) == (4, 2)
    assert a1["recency"] == pytest.approx(28 / 7)
    assert a1["T"] == pytest.approx(56 / 7)
    assert a1["monetary_value"] == pytest.approx((50 + 200) / 2)
    assert a1["historical_value"] == pytest.approx(40 + 50 + 50 + 200 - 40)
    assert a1["revenue_amount"] == pytest.approx(100 + 50 + 200 + 300 - 80)
    assert a1["last_order_date"] == dt.date(2024, 1, 29)
    # A2's order of 03-01 is after as_of; A3 bought on as_of: T = 0
    assert (got["A2"]["frequency"], got["A2"]["monetary_value"]) == (0, 0.0)
    assert got["A2"]["T"] == pytest.approx(5.0)
    assert (got["A3"]["T"], got["A3"]["recency"]) == (0.0, 0.0)


def test_amount_basis_and_cost_counts(engine: str, tiny_wh) -> None:
    rows = clv_summary(
        tiny_wh.orders,
        as_of=dt.date(2024, 3, 31),
        value_basis="amount",
        time_unit_days=1,
    ).to_pyarrow()
    a2 = {r["account_id"]: r for r in rows.to_pylist()}["A2"]
    assert (a2["frequency"], a2["recency"], a2["monetary_value"]) == (1, 39.0, 900.0)
    counts = value_basis_counts(tiny_wh.orders, as_of=dt.date(2024, 3, 31))
    assert counts.to_pyarrow().to_pylist() == [
        {"orders_count": 8, "orders_with_cost_count": 7, "orders_without_cost_count": 1}
    ]


def test_calibration_holdout_by_hand(engine: str, tiny_wh) -> None:
    rows = calibration_holdout(
        tiny_wh.orders, calibration_end=dt.date(2024, 1, 15), as_of=dt.date(2024, 3, 31)
    ).to_pyarrow()
    got = {r["account_id"]: r for r in rows.to_pylist()}
    assert set(got) == {"A1"}  # A2 and A3 first bought after the cut-off
    assert (got["A1"]["frequency"], got["A1"]["holdout_frequency"]) == (1, 1)
    assert got["A1"]["holdout_value"] == pytest.approx(200 - 40)


# --- engine parity on the demo -----------------------------------------------------


def _pandas_summary(orders: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    """An independent pandas computation of the summary (weeks, margin basis)."""
    o = orders[pd.to_datetime(orders["order_date"]).dt.date <= as_of].copy()
    o["value"] = (o["amount"] - o["cost"]).fillna(o["amount"])
    o["day"] = pd.to_datetime(o["order_date"])
    days = (
        o[o["amount"] >= 0].groupby(["account_id", "day"])["value"].sum().reset_index()
    )
    end = pd.Timestamp(as_of)
    rows = []
    for account, g in days.groupby("account_id"):
        g = g.sort_values("day")
        first, last, n = g["day"].iloc[0], g["day"].iloc[-1], len(g)
        rows.append(
            {
                "account_id": account,
                "frequency": n - 1,
                "recency": (last - first).days / 7,
                "T": (end - first).days / 7,
                "monetary_value": g["value"].iloc[1:].mean() if n > 1 else 0.0,
            }
        )
    return pd.DataFrame(rows).sort_values("account_id").reset_index(drop=True)


def test_demo_summary_same_on_every_engine(
    engine: str, demo_wh, demo_dir: Path
) -> None:
    as_of = dt.date(2025, 6, 30)
    ours = clv_summary(demo_wh.orders, as_of=as_of).to_pandas()
    ours = ours.sort_values("account_id").reset_index(drop=True)
    ref = _pandas_summary(pd.read_csv(demo_dir / "orders.csv"), as_of)
    assert ours["account_id"].tolist() == ref["account_id"].tolist()
    assert ours["frequency"].tolist() == ref["frequency"].tolist()
    for column in ("recency", "T", "monetary_value"):
        assert ours[column].to_numpy() == pytest.approx(ref[column].to_numpy()), column


# --- estimator conformance ---------------------------------------------------------

ESTIMATORS = [
    (BetaGeo, "cdnow_customers_summary.csv", "p_alive"),
    (
        GammaGamma,
        "cdnow_customers_summary_with_transactions.csv",
        "expected_average_value",
    ),
]


@pytest.mark.parametrize(("cls", "data", "method"), ESTIMATORS)
def test_estimator_conformance(shared_data: Path, cls, data: str, method: str) -> None:
    summary = _cdnow(shared_data, data)
    model = cls(penalizer=0.0)
    assert model.penalizer == 0.0
    assert not hasattr(model, "params_")
    with pytest.raises(NotFittedError, match=f"This {cls.__name__} instance is not"):
        getattr(model, method)(summary)
    with pytest.raises(NotFittedError):
        _ = model.summary
    assert model.fit(summary) is model
    first = dict(model.params_)
    assert list(model.summary.index) == list(model.NAMES)
    assert model.fit(summary).params_ == first
    assert cls(penalizer=0.0).fit(summary).params_ == first


def test_penalizer_shrinks_parameters(shared_data: Path) -> None:
    summary = _cdnow(shared_data, "cdnow_customers_summary.csv")
    plain, shrunk = BetaGeo().fit(summary), BetaGeo(penalizer=0.1).fit(summary)
    assert sum(v**2 for v in shrunk.params_.values()) < sum(
        v**2 for v in plain.params_.values()
    )


@given(
    x=st.integers(0, 60),
    recency_share=st.floats(0, 1),
    age=st.floats(0.1, 200),
    t=st.floats(0.1, 100),
)
def test_predictions_are_sane(cdnow_bg: BetaGeo, x, recency_share, age, t) -> None:
    recency = 0.0 if x == 0 else recency_share * age
    one = pd.DataFrame({"frequency": [x], "recency": [recency], "T": [age]})
    p = cdnow_bg.p_alive(one)[0]
    near, far = (
        cdnow_bg.expected_purchases(one, t=t)[0],
        cdnow_bg.expected_purchases(one, t=2 * t)[0],
    )
    assert 0.0 <= p <= 1.0
    assert 0.0 <= near <= far + 1e-9
    assert near <= cdnow_bg.expected_purchases_if_alive(one, t=t)[0] + 1e-9


def test_holdout_check_buckets_add_up(shared_data: Path) -> None:
    calib = _cdnow(shared_data, "cdnow_customers_summary.csv")
    rng = np.random.default_rng(0)
    calib = calib.assign(holdout_frequency=rng.poisson(1.0, len(calib)))
    bg = BetaGeo().fit(calib)
    check = holdout_check(calib, bg, holdout=39.0)
    parts = check[check["frequency_bucket"] != "all"]
    total = check[check["frequency_bucket"] == "all"].iloc[0]
    assert parts["clients_count"].sum() == total["clients_count"] == len(calib)
    weighted = (parts["actual_orders"] * parts["clients_count"]).sum() / len(calib)
    assert weighted == pytest.approx(total["actual_orders"])
    assert parts["frequency_bucket"].iloc[0] == "0"


def test_not_enough_history_is_explained() -> None:
    few = pd.DataFrame({"frequency": [0, 1], "monetary_value": [0.0, 10.0]})
    assert "2 clients" in (not_enough_history(few) or "")


# --- the registered analyses on the demo (fitting is pandas: DuckDB is enough) -----

DUCKDB_ONLY = pytest.mark.parametrize("engine", ["duckdb"])


@DUCKDB_ONLY
def test_clv_findings_name_planted_lost_clients(
    engine: str, demo_wh, demo_truth: dict
) -> None:
    from crmlens.insights.findings import validate
    from crmlens.insights.registry import run

    result = run("customers_clv", demo_wh, as_of=demo_truth["as_of"])
    rows = result.rows.to_pandas()
    assert rows["account_id"].is_unique
    assert rows["p_alive"].between(0, 1).all()
    assert (rows["expected_value"] <= rows["expected_value_if_active"] + 1e-6).all()
    churned = {c["account_id"] for c in demo_truth["churned_clients"]}
    flagged = [f.subject["id"] for f in result.findings]
    assert len(flagged) >= 5
    assert sum(a in churned for a in flagged) / len(flagged) >= 0.9
    lost = rows[rows["account_id"].isin(churned)]["p_alive"].median()
    kept = rows[~rows["account_id"].isin(churned)]["p_alive"].median()
    assert lost < kept
    for f in result.findings:
        validate(json.loads(json.dumps(f.to_dict(), default=str)))
    assert result.params["value_note"].startswith("value = margin")


def test_no_at_risk_findings_without_planted_churn(tmp_path: Path) -> None:
    import crmlens
    from crmlens.demo import generate
    from crmlens.insights.registry import run

    truth = generate(tmp_path / "demo", seed=7, patterns="none")
    wh = crmlens.open(tmp_path / "w.duckdb")
    wh.import_files([tmp_path / "demo"])
    as_of = json.loads((tmp_path / "demo" / "truth.json").read_text())["as_of"]
    result = run("customers_clv", wh, as_of=as_of)
    assert truth is not None
    assert len(result.rows) > 100
    assert result.findings == []


@DUCKDB_ONLY
def test_fit_report_on_demo(engine: str, demo_wh, demo_truth: dict) -> None:
    from crmlens.insights.registry import run

    result = run("customers_clv_fit", demo_wh, as_of=demo_truth["as_of"], holdout=6)
    rows = result.rows.to_pylist()
    names = {(r["section"], r["name"]) for r in rows}
    assert {("bg_nbd", "r"), ("gamma_gamma", "gamma"), ("holdout", "all")} <= names
    total = next(r for r in rows if r["name"] == "all")
    assert abs(total["error_rate"]) < 0.2
    assert result.params["calibration_end"] < demo_truth["as_of"]


def test_too_little_history_skips_the_prediction(engine: str, tiny_wh) -> None:
    from crmlens.insights.registry import run

    result = run("customers_clv", tiny_wh, as_of="2024-03-31")
    assert result.params["predictive"].startswith("skipped")
    assert result.rows.num_rows == 3
    assert result.findings == []


# --- the command (through a throwaway Typer app) -----------------------------------


@pytest.fixture
def clv_cli():
    import typer
    from typer.testing import CliRunner

    from crmlens.cli.commands.customers_clv import HELP, clv_command

    app = typer.Typer()
    app.command("clv", help=HELP)(clv_command)
    app.command("noop")(lambda: None)  # two commands keep "clv" a sub-command
    runner = CliRunner()
    return lambda *args: runner.invoke(app, ["clv", *args])


@DUCKDB_ONLY
def test_clv_command_json(engine: str, demo_wh, demo_truth: dict, clv_cli) -> None:
    url = demo_wh.url.raw
    result = clv_cli(
        "-w", url, "--as-of", demo_truth["as_of"], "--horizon", "6", "--format", "json"
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["analysis"] == "customers_clv"
    assert data["params"]["horizon_months"] == 6
    assert {"p_alive", "expected_orders", "expected_value", "historical_value"} <= set(
        data["rows"][0]
    )
    assert data["findings"][0]["kind"] == "valuable_client_at_risk"


@DUCKDB_ONLY
def test_clv_command_fit_report_table(engine: str, demo_wh, clv_cli) -> None:
    result = clv_cli("-w", demo_wh.url.raw, "--fit-report", "--holdout", "6")
    assert result.exit_code == 0, result.output
    assert "customers_clv_fit" in result.output
    assert "holdout" in result.output


def test_clv_is_a_customers_subcommand() -> None:
    from typer.testing import CliRunner

    from crmlens.cli.app import app

    result = CliRunner().invoke(app, ["customers", "clv", "--help"])
    assert result.exit_code == 0, result.output
    assert "--fit-report" in result.output
    assert "--horizon" in result.output
