"""Lead scoring: leakage guard, calibration, grades, reproducibility, demo backtest."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

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


RULES_YAML = """\
version: 1
categories:
  source:
    ref: 12
    cold: -8
    (other): 1
  budget_declared:
    'true': 5
numbers:
  company_size:
    '64': 3
    (empty): -2
thresholds: {A: 10, B: 0}
calibration: {intercept: -1.0, slope: 0.1}
"""


def _rule_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "lead_id": ["L1", "L2", "L3", "L4"],
            "created_at": pd.Timestamp("2025-01-01"),
            "source": ["ref", "cold", "web", None],
            "budget_declared": [True, False, True, None],
            "company_size": [100.0, 5.0, np.nan, 64.0],
            "potential_amount": [1000.0, np.nan, 500.0, 200.0],
        }
    )


def test_rule_file_scores_points_grades_probability_reasons() -> None:
    import yaml

    model = RuleModel.from_dict(yaml.safe_load(RULES_YAML))
    frame = _rule_frame()
    names, matrix = model.point_matrix(frame)
    assert names == ["source", "budget_declared", "company_size"]
    # L1: ref 12 + true 5 + [64, 128) 3; L2: cold -8, false 0, [4, 8) 0;
    # L3: web -> (other) 1, true 5, empty -2; L4: empty source -> (other) 1, 64 -> 3.
    np.testing.assert_array_equal(matrix.sum(axis=1), [20, -8, 4, 4])
    result = model.score(frame, default_amount=300.0)
    scored = result.scored
    assert scored.grade.tolist() == ["A", "C", "B", "B"]
    proba = 1 / (1 + np.exp(-(-1.0 + 0.1 * np.array([20, -8, 4, 4]))))
    np.testing.assert_allclose(scored.probability, proba)
    np.testing.assert_allclose(
        scored.expected_value, proba * np.array([1000.0, 300.0, 500.0, 200.0])
    )
    # L1's reasons: source (+12), budget (+5), size (+3), largest first.
    assert scored.reasons[0].tolist() == [0, 1, 2]
    assert scored.reason_weights[0].tolist() == [12, 5, 3]
    assert model.missing(["source"]) == ["budget_declared", "company_size"]


def test_rule_file_errors_are_clear() -> None:
    import yaml

    from crmlens.errors import InputError

    good = yaml.safe_load(RULES_YAML)
    with pytest.raises(InputError, match="not a crmlens rule file"):
        RuleModel.from_dict({"categories": {}})
    with pytest.raises(InputError, match="thresholds"):
        RuleModel.from_dict({**good, "thresholds": {"A": 5}})
    with pytest.raises(InputError, match="below threshold B"):
        RuleModel.from_dict({**good, "thresholds": {"A": 0, "B": 5}})
    with pytest.raises(InputError, match="whole number"):
        RuleModel.from_dict({**good, "categories": {"source": {"ref": 1.5}}})
    with pytest.raises(LeakageError, match="status"):
        RuleModel.from_dict(
            {**good, "categories": {"status": {"won": 50}}}
        ).check_no_leakage()
    no_map = RuleModel.from_dict({k: v for k, v in good.items() if k != "calibration"})
    with pytest.raises(NotFittedError):
        no_map.predict_proba(_rule_frame())
    frame = _rule_frame().assign(is_converted=[1, 0, 1, 0])
    assert no_map.calibrate(frame).calibration["slope"] > 0


@pytest.fixture(scope="module")
def demo_rules(duck_demo, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from crmlens.insights.registry import run

    path = tmp_path_factory.mktemp("rules") / "lead_rules.yaml"
    run("leads_rules", duck_demo, init=str(path))
    return path


def test_demo_score_by_rule_file(duck_demo, demo_rules: Path, tmp_path: Path) -> None:
    import yaml

    from crmlens.insights.registry import run

    out = tmp_path / "scores.csv"
    result = run(
        "leads_score", duck_demo, rules=str(demo_rules), export=str(out), scope="all"
    )
    rows = result.rows.to_pylist()
    assert result.params["model"] == "rules"
    assert result.params["missing_attributes"] == []
    assert len(rows) > 1000
    file = yaml.safe_load(demo_rules.read_text())
    a, b = file["thresholds"]["A"], file["thresholds"]["B"]
    for r in rows:
        want = "A" if r["points"] >= a else "B" if r["points"] >= b else "C"
        assert r["grade"] == want
        assert 0 < r["probability"] < 1
    assert all(r["reasons_en"] and r["reasons_ru"] for r in rows)
    assert "points" in rows[0]["reasons_en"]
    assert "балл" in rows[0]["reasons_ru"]
    grades = [r["grade"] for r in rows]
    assert grades == sorted(grades)  # A first
    sheet = pd.read_csv(out)
    assert list(sheet.columns) == [
        "lead_id",
        "grade",
        "probability",
        "expected_value",
        "reasons",
    ]
    assert len(sheet) == len(rows)
    assert result.findings[0].kind == "call_first"
    # the shares of the predictive model do not apply: the file's thresholds grade
    again = run("leads_score", duck_demo, rules=str(demo_rules), shares=(0.5, 0.5))
    assert again.params["thresholds"] == {"A": a, "B": b}


def test_demo_backtest_with_rule_file(duck_demo, demo_rules: Path) -> None:
    from crmlens.insights.registry import run

    result = run("leads_score", duck_demo, backtest_only=True, rules=str(demo_rules))
    rows = {r["model"]: r for r in result.rows.to_pylist()}
    assert {"rules", "rules (file)", "odoo naive bayes", "source only"} <= set(rows)
    assert rows["rules (file)"]["auc"] > rows["source only"]["auc"]
    assert result.params["rules_file"] == str(demo_rules)


def test_score_rules_refuses_model_options(duck_demo, demo_rules: Path) -> None:
    from crmlens.errors import InputError
    from crmlens.insights.registry import run

    with pytest.raises(InputError, match="either --rules or --model"):
        run("leads_score", duck_demo, rules=str(demo_rules), model_path="m.joblib")
    with pytest.raises(InputError, match="does not exist"):
        run("leads_score", duck_demo, rules="/nonexistent/rules.yaml")


def test_cli_score_rules(duck_demo, demo_rules: Path, tmp_path: Path) -> None:
    import json

    from tests.warehouse.test_fuzz import run_cli

    url = str(duck_demo.url.raw)
    out = tmp_path / "scores.xlsx"
    code, stdout, err = run_cli(
        [
            "leads",
            "score",
            "-w",
            url,
            "--rules",
            str(demo_rules),
            "--export",
            str(out),
            "-f",
            "json",
        ]
    )
    assert code == 0, err
    data = json.loads(stdout)
    assert data["params"]["model"] == "rules"
    assert all(r["grade"] in "ABC" for r in data["rows"])
    assert len(pd.read_excel(out, engine="openpyxl")) == len(data["rows"])
    code, _, err = run_cli(
        ["leads", "score", "-w", url, "--rules", str(demo_rules), "--model", "m"]
    )
    assert code != 0
    assert err.startswith("error:")
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) <= 2


@pytest.mark.parametrize(
    "series",
    [
        pd.Series(["a", None, "b", "a"], dtype="string[pyarrow]"),
        pd.Series(["a", None, "b", "a"], dtype=object),
        pd.Series([True, False, True]),
        pd.Series([True, None, False], dtype="boolean"),
        pd.Series([True, "x", None, 3, 3.5], dtype=object),
        pd.Series([], dtype=object),
    ],
)
def test_category_codes_match_category_values(series: pd.Series) -> None:
    from crmlens.analytics.scoring_models import category_codes, category_values

    codes, labels = category_codes(series)
    assert labels[codes].tolist() == category_values(series).tolist()


def test_time_split_same_for_ordered_and_shuffled_leads() -> None:
    from crmlens.analytics.scoring import time_split

    frame, _ = simulated(600)
    frame["created_at"] = frame["created_at"].dt.floor("D")  # 24 leads a day: ties
    shuffled = frame.sample(frac=1.0, random_state=0)
    for a, b in zip(time_split(frame, 0.7), time_split(shuffled, 0.7), strict=True):
        assert a["lead_id"].tolist() == b["lead_id"].tolist()
    train, test = time_split(frame, 0.7)
    assert train["created_at"].max() <= test["created_at"].min()


@given(
    values=st.lists(
        st.sampled_from([0.0, 1.0, 2.5, 7.0, float("nan"), -3.0]), max_size=60
    ),
    a=st.floats(0, 1),
    b=st.floats(0, 1),
)
def test_grades_match_a_stable_sort(values: list[float], a: float, b: float) -> None:
    if a + b > 1:
        b = 1 - a
    v = np.array(values, dtype="float64")
    # reference: a stable sort by value, NaN last
    order = np.argsort(-np.where(np.isnan(v), -np.inf, v), kind="stable")
    n_a, n_b = round(len(v) * a), round(len(v) * (a + b))
    want = np.full(len(v), "C", dtype=object)
    want[order[:n_a]] = "A"
    want[order[n_a:n_b]] = "B"
    assert assign_grades(v, (a, b)).tolist() == want.tolist()


@given(
    rows=st.lists(
        st.lists(st.sampled_from([0.0, -1.0, 2.0, 0.5, -2.0]), min_size=5, max_size=5),
        min_size=1,
        max_size=30,
    )
)
def test_top_reasons_are_the_largest_contributions(rows: list[list[float]]) -> None:
    from crmlens.analytics.scoring import top_reasons

    contrib = np.array(rows)
    idx = top_reasons(contrib, 3)
    for row, got in zip(contrib, idx, strict=True):
        size = np.abs(row)
        # the sizes picked are the three largest, in order, ties by position
        want = sorted(range(5), key=lambda j: (-size[j], j))[:3]
        assert got.tolist() == want
    assert top_reasons(contrib[:, :2], 3)[:, 2].tolist() == [-1] * len(rows)
