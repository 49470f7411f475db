"""Lead scoring as an analysis: ``leads_score`` (grades, backtest, export).

Training and scoring run on the per-lead table materialised from the warehouse
(:func:`crmlens.analytics.leads.lead_frame`); models are saved with joblib beside a JSON
file of their metadata. ``leads score --rules FILE`` grades by a rule file instead
(:mod:`crmlens.insights.rules._lead_rules`, which also registers ``leads_rules``).
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from crmlens.errors import InputError
from crmlens.insights.findings import Finding
from crmlens.insights.i18n import count, fmt_number, plural_form
from crmlens.insights.params import parse_date, resolve_as_of
from crmlens.insights.registry import AnalysisResult, register
from crmlens.insights.rules._money import money

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

    from crmlens.analytics.leads import Attribute
    from crmlens.analytics.leads_rules import RuleModel
    from crmlens.analytics.scoring import LeadScorer, ScoredLeads
    from crmlens.warehouse import Warehouse

Moment = Literal["arrival", "first_response"]


def load_frame(
    wh: Warehouse, day: dt.date, *, moment: Moment, exclude: tuple[str, ...]
) -> tuple[pd.DataFrame, list[Attribute]]:
    """The per-lead table (features known at `moment`) and its attributes.

    Ordered by created_at, then lead_id: the time split of the model reads it in that
    order without sorting again.
    """
    from crmlens.analytics.leads import lead_attributes, lead_frame
    from crmlens.insights.rules.leads import outcomes

    attrs = lead_attributes(
        wh.leads, with_response=moment == "first_response", exclude=exclude
    )
    rows = lead_frame(outcomes(wh, day), attrs).order_by(["created_at", "lead_id"])
    return rows.to_pyarrow().to_pandas(), attrs


def excluded_columns(wh: Warehouse, attrs: list[Attribute]) -> list[str]:
    """Lead columns left out of the model (ids, dates, outcome and later fields)."""
    used = {a.name for a in attrs} | {"lead_id", "created_at"}
    return [c for c in wh.columns("leads") if c not in used]


def _cutoff(frame: pd.DataFrame, cutoff: str | dt.date | None) -> tuple[Any, str]:
    import pandas as pd

    if frame["created_at"].nunique() <= 1:
        return None, "random 80/20 split (seed 0): every lead has the same created_at"
    day = parse_date(cutoff, name="--cutoff")
    if day is None:
        ts = frame["created_at"].sort_values().iloc[int(len(frame) * 0.8)]
        return ts, f"time split: train before {ts}, test from it (last 20 % of leads)"
    return pd.Timestamp(day), f"time split: train before {day}, test from it"


def backtest(
    wh: Warehouse,
    frame: pd.DataFrame,
    attrs: list[Attribute],
    day: dt.date,
    *,
    cutoff: str | dt.date | None,
    seed: int,
    shares: tuple[float, float],
    moment: Moment,
    rule_file: RuleModel | None = None,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Metrics of the model, the rule model and both baselines on the held-out leads.

    `rule_file` adds the row "rules (file)": the file's points, with the map from
    points to probability refitted on the training leads (the file's own map may have
    been fitted on leads after the cut-off).
    """
    from crmlens.analytics.scoring import LeadScorer, time_split
    from crmlens.analytics.scoring_models import (
        NaiveBayesBaseline,
        SourceBaseline,
        evaluate,
        reliability_table,
    )

    labelled = frame[frame["is_labelled"] == 1]
    ts, split = _cutoff(labelled, cutoff)
    if ts is None:
        train, test = time_split(labelled, 0.8, seed=seed)
    else:
        train, test = (
            labelled[labelled.created_at < ts],
            labelled[labelled.created_at >= ts],
        )
    if train["is_converted"].nunique() < 2 or test["is_converted"].nunique() < 2:
        raise InputError(
            "the backtest needs converted and lost leads on both sides of the cut-off",
            reason="choose another --cutoff",
        )
    feats = [a.name for a in attrs]
    scorer = LeadScorer(feats, moment=moment, seed=seed, grade_shares=shares).fit(train)
    rules = _train_rules(wh, train, day, ts, attrs, shares)
    models: dict[str, Any] = {
        f"model ({scorer.kind_})": scorer,
        "rules": rules,
        "source only": SourceBaseline().fit(train) if "source" in feats else None,
        "odoo naive bayes": NaiveBayesBaseline(feats).fit(
            train[[*feats, "is_converted"]]
        ),
    }
    if rule_file is not None:
        models["rules (file)"] = copy.deepcopy(rule_file).calibrate(train)
    y = test["is_converted"].to_numpy(dtype="float64")
    rows = []
    for name, model in models.items():
        if model is not None:
            metrics = evaluate(y, model.predict_proba(test))
            rows.append(
                {
                    "model": name,
                    **{k: round(v, 4) for k, v in metrics.items()},
                    "test_leads": len(test),
                    "converted": int(y.sum()),
                }
            )
    info = {
        "split": split,
        "train_leads": len(train),
        "test_leads": len(test),
        "chosen": scorer.kind_,
        "candidates_auc": scorer.candidates_,
        "reliability": reliability_table(y, scorer.predict_proba(test)),
    }
    return rows, info


def _train_rules(
    wh: Warehouse,
    train: pd.DataFrame,
    day: dt.date,
    ts: Any,
    attrs: list[Attribute],
    shares: tuple[float, float],
) -> Any:
    """The rule model derived from signals of the training leads only."""
    import ibis

    from crmlens.analytics.leads import lead_signals
    from crmlens.analytics.leads_rules import RuleModel
    from crmlens.insights.rules.leads import outcomes

    out = outcomes(wh, day)
    if ts is None:
        ids = ibis.memtable({"train_id": train["lead_id"].astype(str).tolist()})
        out = out.join(ids, out.lead_id == ids.train_id).drop("train_id")
    else:
        out = out.filter(out.created_at < ts.to_pydatetime())
    signals = lead_signals(out, attrs).to_pyarrow().to_pylist()
    return RuleModel.from_signals(signals).fit(train, shares=shares)


def save_model(scorer: LeadScorer, path: Path, metrics: list[dict[str, Any]]) -> None:
    """The model (joblib) and its metadata (features, cut-off, metrics, version)."""
    import joblib

    meta = {**scorer.metadata(), "metrics": metrics}
    path.parent.mkdir(parents=True, exist_ok=True)
    joblib.dump({"metadata": meta, "scorer": scorer}, path)
    path.with_suffix(path.suffix + ".json").write_text(
        json.dumps(meta, ensure_ascii=False, indent=2, default=str)
    )


def load_model(path: Path) -> LeadScorer:
    """A model saved by :func:`save_model`."""
    import joblib

    from crmlens.analytics.scoring import LeadScorer

    if not path.exists():
        raise InputError(
            f"model file {path} does not exist",
            reason="train one with crmlens leads score --save PATH",
        )
    data = joblib.load(path)
    if not isinstance(data, dict) or not isinstance(data.get("scorer"), LeadScorer):
        raise InputError(f"{path} is not a crmlens lead-scoring model")
    scorer: LeadScorer = data["scorer"]
    return scorer


def reason_texts(
    scored: ScoredLeads,
    frame: pd.DataFrame,
    features: list[str],
    names: dict[str, tuple[str, str]],
) -> tuple[list[str], list[str]]:
    """Top-3 reasons of each lead as RU and EN text."""
    cols = {f: frame[f].tolist() for f in features}
    ru_all, en_all = [], []
    for i in range(len(frame)):
        ru, en = [], []
        for idx, w in zip(scored.reasons[i], scored.reason_weights[i], strict=True):
            if idx < 0 or w == 0:
                continue
            f = features[idx]
            lab_ru, lab_en = names.get(f, (f, f))
            value = show_value(cols[f][i])
            up = w > 0
            ru.append(f"{lab_ru} = {value} {'повышает' if up else 'снижает'} шанс")
            en.append(f"{lab_en} = {value} {'raises' if up else 'lowers'} the chance")
        ru_all.append("; ".join(ru))
        en_all.append("; ".join(en))
    return ru_all, en_all


def show_value(v: Any) -> str:
    """A lead's value as reasons show it ('—' for empty, 1,200 for large numbers)."""
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return "—"
    if isinstance(v, float):
        return f"{v:,.0f}" if abs(v) >= 100 else f"{v:g}"
    return str(v).lower() if isinstance(v, bool) else str(v)


def scored_rows(
    frame: pd.DataFrame, scorer: LeadScorer, names: dict[str, tuple[str, str]]
) -> pa.Table:
    """lead_id, created_at, source, grade, probability, expected_value, reasons."""
    scored = scorer.score(frame)
    ru, en = reason_texts(scored, frame, scorer.features_, names)
    return leads_table(frame, scored, ru, en)


def leads_table(
    frame: pd.DataFrame,
    scored: ScoredLeads,
    ru: list[str],
    en: list[str],
    *,
    points: np.ndarray | None = None,
) -> pa.Table:
    """Rows of scored leads: grade A first, then by expected value (``points``: rules)."""
    import pyarrow as pa

    source = frame["source"] if "source" in frame.columns else [None] * len(frame)
    columns: dict[str, Any] = {
        "lead_id": frame["lead_id"].astype(str).tolist(),
        "created_at": pa.array(frame["created_at"]),
        "source": pa.array(source, type=pa.string()),
        "grade": scored.grade.tolist(),
    }
    if points is not None:
        columns["points"] = pa.array(np.round(points).astype("int64"))
    columns.update(
        probability=np.round(scored.probability, 4),
        expected_value=np.round(scored.expected_value, 2),
        reasons_ru=ru,
        reasons_en=en,
    )
    table = pa.table(columns)
    rank = np.searchsorted(np.array(["A", "B", "C"]), scored.grade.astype(str))
    order = np.lexsort((-scored.expected_value, rank))
    return table.take(pa.array(order))


def export_scores(rows: pa.Table, path: Path, lang: str) -> None:
    """lead_id, grade, probability, expected_value, reasons as CSV or XLSX."""
    data = rows.select(
        ["lead_id", "grade", "probability", "expected_value"]
    ).to_pandas()
    data["reasons"] = rows.column(f"reasons_{lang}").to_pylist()
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".xlsx":
        data.to_excel(path, index=False, engine="openpyxl")
    else:
        data.to_csv(path, index=False)


def call_first_finding(rows: pa.Table, day: dt.date) -> Finding:
    """Which leads to call first today: the A leads and the money they carry."""
    grades = np.asarray(rows.column("grade").to_pylist())
    ev = np.asarray(rows.column("expected_value").to_pylist(), dtype="float64")
    a = grades == "A"
    top = rows.column("lead_id").to_pylist()[:5]
    n, total = int(a.sum()), float(ev[a].sum())
    return Finding(
        "leads_score",
        "call_first",
        "high",
        {"type": "leads", "id": None},
        "grade_a",
        n,
        len(grades),
        total,
        day.isoformat(),
        {
            "ru": f"{count(n, 'lead', 'ru')} класса A "
            f"{'несёт' if plural_form(n, 'ru') == 'one' else 'несут'} "
            f"{money(total, 'ru')} ожидаемой выручки; первые: {', '.join(top)}.",
            "en": f"{fmt_number(n, 'en')} grade-A leads carry {money(total, 'en')} of "
            f"expected revenue; first: {', '.join(top)}.",
        },
        {
            "ru": "Позвоните лидам класса A сегодня, начиная с верха списка.",
            "en": "Call the grade-A leads today, starting from the top of the list.",
        },
        {"top_leads": top},
    )


@register(
    "leads_score",
    "Lead scores: probability, A/B/C grade, reasons; backtest",
    in_overview=False,
)
def leads_score(
    wh: Warehouse,
    *,
    as_of: str | dt.date | None = None,
    backtest_only: bool = False,
    model_path: str | None = None,
    save: str | None = None,
    rules: str | None = None,
    export: str | None = None,
    lang: str = "en",
    shares: tuple[float, float] = (0.2, 0.3),
    seed: int = 0,
    moment: Moment = "arrival",
    scope: Literal["open", "all"] = "open",
    exclude: tuple[str, ...] = (),
    cutoff: str | None = None,
    **_: Any,
) -> AnalysisResult:
    """Score leads by the predictive model or a rule file (`rules`), or backtest."""
    import pyarrow as pa

    from crmlens.analytics.leads import RESPONSE
    from crmlens.insights.rules._lead_rules import read_rules
    from crmlens.insights.rules.leads import labels

    if rules and (model_path or save):
        raise InputError(
            "--rules grades by a rule file; --model and --save are for the "
            "predictive model",
            reason="give either --rules or --model/--save",
        )
    day = resolve_as_of(wh, as_of)
    rule_model = read_rules(rules) if rules else None
    with_response = moment == "first_response" or (
        rule_model is not None and RESPONSE in rule_model.attributes
    )
    frame, attrs = load_frame(
        wh,
        day,
        moment="first_response" if with_response else "arrival",
        exclude=tuple(exclude),
    )
    attrs = [a for a in attrs if moment == "first_response" or a.name != RESPONSE]
    if not len(frame):
        raise InputError(
            f"no leads created by {day.isoformat()} to score",
            reason="import leads (leads.csv) or choose a later --as-of",
        )
    params: dict[str, Any] = {
        "as_of": day.isoformat(),
        "moment": moment,
        "excluded": excluded_columns(wh, attrs),
    }
    if backtest_only:
        rows, info = backtest(
            wh,
            frame,
            attrs,
            day,
            cutoff=cutoff,
            seed=seed,
            shares=shares,
            moment=moment,
            rule_file=rule_model,
        )
        if rules:
            info["rules_file"] = rules
        return AnalysisResult(
            "leads_score", {**params, **info}, pa.Table.from_pylist(rows)
        )
    labelled = frame[frame["is_labelled"] == 1]
    chosen = frame[frame["is_labelled"] == 0] if scope == "open" else frame
    scope_used = scope if len(chosen) else "all"
    chosen = (chosen if len(chosen) else frame).reset_index(drop=True)
    if rule_model is not None:
        from crmlens.insights.rules._lead_rules import rule_scores

        table, info = rule_scores(rule_model, chosen, labelled, labels(wh))
        params.update(scope=scope_used, rules_file=rules, **info)
        params["moment"] = "first_response" if with_response else "arrival"
    else:
        scorer = _scorer(labelled, attrs, model_path, save, moment, seed, shares)
        table = scored_rows(chosen, scorer, labels(wh))
        params.update(scope=scope_used, model=scorer.kind_, features=scorer.features_)
    if export:
        export_scores(table, Path(export), lang)
    return AnalysisResult(
        "leads_score", params, table, [call_first_finding(table, day)]
    )


def _scorer(
    labelled: pd.DataFrame,
    attrs: list[Attribute],
    model_path: str | None,
    save: str | None,
    moment: Moment,
    seed: int,
    shares: tuple[float, float],
) -> LeadScorer:
    """The saved model of `model_path`, or one trained now (and saved to `save`)."""
    from crmlens.analytics.scoring import LeadScorer

    if model_path and not save:
        return load_model(Path(model_path))
    _check_trainable(labelled)
    scorer = LeadScorer(
        [a.name for a in attrs], moment=moment, seed=seed, grade_shares=shares
    ).fit(labelled)
    if save:
        save_model(scorer, Path(save), [])
    return scorer


#: Fewest leads with a known outcome, of each outcome, a model is trained on.
MIN_PER_CLASS = 20


def _check_trainable(labelled: pd.DataFrame) -> None:
    """Refuse to train on too few converted or unconverted leads, in plain words."""
    from crmlens.analytics.scoring_models import TARGET

    won = int(labelled[TARGET].sum()) if len(labelled) else 0
    lost = len(labelled) - won
    if min(won, lost) < MIN_PER_CLASS:
        raise InputError(
            f"too few leads with a known outcome to train the scoring model: "
            f"{won} converted and {lost} not",
            reason=f"at least {MIN_PER_CLASS} of each are needed; import more lead "
            "history, or grade by a rule file with --rules",
        )
