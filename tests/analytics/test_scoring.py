"""Lead scoring: leakage guard, calibration, grades, reproducibility, demo backtest."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from crmlens.analytics.leads_rules import RuleModel
from crmlens.analytics.scoring import (
    LeadScorer,
    LeakageError,
    assign_grades,
    check_no_leakage,
)
from crmlens.analytics.scoring_models import (
    Calibrator,
    NaiveBayesBaseline,
    SourceBaseline,
    evaluate,
    expected_calibration_error,
)
from crmlens.errors import NotFittedError


@pytest.fixture(scope="module")
def duck_demo(demo_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    """The demo in DuckDB: scoring trains on pandas, so one engine is enough here."""
    import crmlens

    wh = crmlens.open(tmp_path_factory.mktemp("score-demo") / "wh.duckdb")
    wh.import_files([demo_dir])
    return wh


def simulated(n: int = 6000, seed: int = 1) -> tuple[pd.DataFrame, np.ndarray]:
    """Leads whose true conversion probability is known."""
    rng = np.random.default_rng(seed)
    source = rng.choice(["ref", "web", "cold"], n)
    size = rng.lognormal(4, 1.5, n).round()
    logit = -1.0 + np.select([source == "ref", source == "cold"], [1.5, -1.2], 0.0)
    logit = logit + 0.4 * np.log10(size + 1)
    p = 1 / (1 + np.exp(-logit))
    frame = pd.DataFrame(
        {
            "lead_id": [f"L{i:05d}" for i in range(n)],
            "created_at": pd.Timestamp("2024-01-01")
            + pd.to_timedelta(np.arange(n), "h"),
            "source": source,
            "company_size": size,
            "potential_amount": np.where(rng.random(n) < 0.3, np.nan, 1000.0),
            "is_converted": (rng.random(n) < p).astype(int),
            "is_labelled": 1,
            "revenue": 0.0,
        }
    )
    return frame, p


def test_leakage_guard_refuses_outcome_and_later_fields() -> None:
    frame, _ = simulated(200)
    frame["status"] = "won"
    frame["qualified_at"] = frame["created_at"]
    for bad in (["status"], ["deal_id"], ["qualified_at"], ["converted"], ["stage"]):
        with pytest.raises(LeakageError, match="leak"):
            LeadScorer(["source", *bad]).fit(frame)
    with pytest.raises(LeakageError):
        check_no_leakage(frame, ["first_response_hours"], moment="arrival")
    check_no_leakage(frame, ["first_response_hours"], moment="first_response")
    frame["visit_at"] = frame["created_at"]
    with pytest.raises(LeakageError, match="visit_at"):
        check_no_leakage(frame, ["visit_at"])


def test_not_fitted_errors() -> None:
    frame, _ = simulated(50)
    for est in (LeadScorer(), SourceBaseline(), NaiveBayesBaseline(), Calibrator()):
        method = getattr(est, "predict_proba", None) or est.predict
        with pytest.raises(NotFittedError, match="not fitted yet"):
            method(frame) if not isinstance(est, Calibrator) else method(np.zeros(3))


def test_fit_returns_self_and_is_reproducible() -> None:
    frame, _ = simulated(3000)
    a = LeadScorer(["source", "company_size"], seed=3)
    assert a.fit(frame) is a
    b = LeadScorer(["source", "company_size"], seed=3).fit(frame)
    np.testing.assert_array_equal(a.predict_proba(frame), b.predict_proba(frame))
    s1, s2 = a.score(frame), b.score(frame)
    np.testing.assert_array_equal(s1.grade, s2.grade)
    np.testing.assert_array_equal(s1.reasons, s2.reasons)


def test_calibration_on_known_probabilities() -> None:
    frame, p = simulated(20000, seed=5)
    train, test = frame.iloc[:14000], frame.iloc[14000:]
    scorer = LeadScorer(["source", "company_size"], seed=0).fit(train)
    prob = scorer.predict_proba(test)
    assert np.abs(prob - p[14000:]).mean() < 0.04
    y = test["is_converted"].to_numpy()
    assert expected_calibration_error(y, prob) < 0.04
    # the truth itself is calibrated; a constant 0.9 is not
    assert expected_calibration_error(y, p[14000:]) < 0.04
    assert expected_calibration_error(y, np.full(len(y), 0.9)) > 0.4


@pytest.mark.parametrize("shares", [(0.2, 0.3), (0.1, 0.6), (0.5, 0.5), (0.0, 0.25)])
def test_grade_shares_as_configured(shares: tuple[float, float]) -> None:
    values = np.random.default_rng(0).random(1000)
    grades = assign_grades(values, shares)
    assert (grades == "A").mean() == pytest.approx(shares[0])
    assert (grades == "B").mean() == pytest.approx(shares[1])
    assert values[grades == "A"].min(initial=1) >= values[grades == "B"].max(initial=0)


def test_every_lead_gets_grade_probability_reasons() -> None:
    frame, _ = simulated(2000)
    scored = LeadScorer(["source", "company_size"]).fit(frame).score(frame)
    assert len(scored.grade) == len(frame)
    assert set(scored.grade) <= {"A", "B", "C"}
    assert ((scored.probability >= 0) & (scored.probability <= 1)).all()
    assert (scored.reasons[:, 0] >= 0).all()


def test_naive_bayes_baseline_matches_hand_count() -> None:
    frame = pd.DataFrame({"source": ["a", "a", "b", "b"], "is_converted": [1, 0, 0, 0]})
    nb = NaiveBayesBaseline(["source"]).fit(frame)
    # won: (1+0.1)/(1+0.3) * (1+0.1) ; lost: (1+0.1)/(3+0.3) * (3+0.1)
    won = (1.1 / 1.3) * 1.1
    lost = (1.1 / 3.3) * 3.1
    assert nb.predict_proba(frame.iloc[:1])[0] == pytest.approx(won / (won + lost))


def test_rule_model_roundtrip_and_points() -> None:
    signals = [
        {
            "attribute": "source",
            "value": "ref",
            "bin_lower": None,
            "leads": 100,
            "woe": 1.04,
            "information_value": 0.3,
        },
        {
            "attribute": "company_size",
            "value": "[64, 128)",
            "bin_lower": 64.0,
            "leads": 100,
            "woe": -0.5,
            "information_value": 0.1,
        },
    ]
    model = RuleModel.from_signals(signals)
    frame = pd.DataFrame({"source": ["ref", "web"], "company_size": [100.0, 3.0]})
    np.testing.assert_array_equal(model.points(frame), [10 - 5, 0])
    again = RuleModel.from_dict(model.to_dict())
    np.testing.assert_array_equal(again.points(frame), model.points(frame))


def test_demo_backtest_beats_odoo_baseline(duck_demo) -> None:
    from crmlens.insights.registry import run

    result = run("leads_score", duck_demo, backtest_only=True)
    rows = {r["model"].split(" (")[0]: r for r in result.rows.to_pylist()}
    model, odoo = rows["model"], rows["odoo naive bayes"]
    assert model["auc"] > odoo["auc"]
    assert model["brier"] < odoo["brier"]
    assert model["ece"] <= 0.05
    assert {"rules", "source only"} <= set(rows)
    assert result.params["split"].startswith("time split")


def test_demo_score_export_and_model_reuse(duck_demo, tmp_path: Path) -> None:
    from crmlens.insights.registry import run

    model_path, out = tmp_path / "m.joblib", tmp_path / "scores.xlsx"
    first = run(
        "leads_score", duck_demo, save=str(model_path), export=str(out), scope="all"
    )
    rows = first.rows.to_pylist()
    assert rows
    assert all(
        r["grade"] in "ABC"
        and 0 <= r["probability"] <= 1
        and r["reasons_en"]
        and r["reasons_ru"]
        for r in rows
    )
    sheet = pd.read_excel(out, engine="openpyxl")
    assert list(sheet.columns) == [
        "lead_id",
        "grade",
        "probability",
        "expected_value",
        "reasons",
    ]
    assert len(sheet) == len(rows)
    assert model_path.with_suffix(".joblib.json").exists()
    again = run("leads_score", duck_demo, model_path=str(model_path), scope="all")
    assert again.rows.column("probability").to_pylist() == [
        r["probability"] for r in rows
    ]


def test_evaluate_perfect_scores() -> None:
    y = np.array([0, 0, 1, 1, 0])
    m = evaluate(y, y.astype(float))
    assert m["auc"] == 1.0
    assert m["brier"] == 0.0
    assert m["ece"] == 0.0
    assert m["lift_top20"] == pytest.approx(1 / 0.4)


def test_contributions_add_up_to_the_log_odds() -> None:
    frame, _ = simulated(3000)
    for kind in ("logistic", "lightgbm"):
        scorer = LeadScorer(
            ["source", "company_size", "potential_amount"], model=kind
        ).fit(frame)
        x = scorer.encoder_.matrix(frame)
        contrib = scorer.contributions(frame)
        est = scorer.estimator_
        raw = (
            est.model_.decision_function(est._design(x))
            if kind == "logistic"
            else est.raw(x)
        )
        np.testing.assert_allclose(contrib.sum(axis=1), raw, atol=1e-8)
