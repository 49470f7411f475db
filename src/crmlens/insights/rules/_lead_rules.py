"""The rule model of lead scoring as analyses: ``leads_rules`` and ``score --rules``.

``leads_rules`` writes a starting rule file derived from signals (``--init``) or shows
one (``--file``); :func:`rule_scores` grades leads from a rule file for
``leads score --rules FILE``: points per lead, A/B/C by the file's thresholds, the
probability from the file's points-to-probability map (learned from the labelled leads
when the file has none), expected value and the three rules that gave most points.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from crmlens.errors import InputError
from crmlens.insights.params import resolve_as_of
from crmlens.insights.registry import AnalysisResult, register

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

    from crmlens.analytics.leads_rules import RuleModel, RuleScores
    from crmlens.warehouse import Warehouse


def read_rules(path: str | Path) -> RuleModel:
    """The rule model of a YAML rule file, with a one-line error when unusable."""
    import yaml

    from crmlens.analytics.leads_rules import RuleModel

    file = Path(path)
    if not file.is_file():
        raise InputError(
            f"rule file {file} does not exist",
            reason="write one with crmlens leads rules --init PATH",
        )
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as e:
        raise InputError(f"rule file {file} is not valid YAML: {e}") from e
    return RuleModel.from_dict(data).check_no_leakage()


def default_amount(labelled: pd.DataFrame) -> float:
    """Median potential amount of the labelled leads (1 when there is none)."""
    if "potential_amount" not in labelled.columns:
        return 1.0
    amounts = labelled["potential_amount"].to_numpy(dtype="float64", na_value=np.nan)
    return float(np.nanmedian(amounts)) if np.isfinite(amounts).any() else 1.0


def _points_word(n: int, lang: str) -> str:
    if lang == "en":
        return "point" if abs(n) == 1 else "points"
    n = abs(n)
    if n % 10 == 1 and n % 100 != 11:
        return "балл"
    if n % 10 in (2, 3, 4) and n % 100 not in (12, 13, 14):
        return "балла"
    return "баллов"


def rule_reason_texts(
    scores: RuleScores, frame: pd.DataFrame, names: dict[str, tuple[str, str]]
) -> tuple[list[str], list[str]]:
    """Top-3 rules of each lead as RU and EN text: ``source = X: +16 points``."""
    from crmlens.insights.rules._leads_score import show_value

    attrs = scores.attributes
    cols = {a: frame[a].tolist() for a in attrs}
    scored = scores.scored
    ru_all, en_all = [], []
    for i in range(len(frame)):
        ru, en = [], []
        for idx, w in zip(scored.reasons[i], scored.reason_weights[i], strict=True):
            if idx < 0 or w == 0:
                continue
            attr, pts = attrs[idx], int(w)
            lab_ru, lab_en = names.get(attr, (attr, attr))
            value = show_value(cols[attr][i])
            ru.append(f"{lab_ru} = {value}: {pts:+d} {_points_word(pts, 'ru')}")
            en.append(f"{lab_en} = {value}: {pts:+d} {_points_word(pts, 'en')}")
        ru_all.append("; ".join(ru))
        en_all.append("; ".join(en))
    return ru_all, en_all


def rule_scores(
    model: RuleModel,
    frame: pd.DataFrame,
    labelled: pd.DataFrame,
    names: dict[str, tuple[str, str]],
) -> tuple[pa.Table, dict[str, Any]]:
    """Scored rows of `frame` by the rule model, and what was used (for params).

    Rows as :func:`crmlens.insights.rules._leads_score.scored_rows` plus ``points``.
    """
    from crmlens.insights.rules._leads_score import leads_table

    info: dict[str, Any] = {
        "model": "rules",
        "thresholds": model.thresholds,
        "rule_attributes": model.attributes,
        "missing_attributes": model.missing(list(frame.columns)),
        "calibration_source": "file",
    }
    if not model.calibration:
        if labelled.empty:
            raise InputError(
                "the rule file has no calibration and no lead has an outcome yet",
                reason="add calibration: {intercept, slope} to the file",
            )
        model.calibrate(labelled)
        info["calibration_source"] = "learned from the labelled leads"
    info["calibration"] = model.calibration
    scores = model.score(frame, default_amount=default_amount(labelled))
    ru, en = rule_reason_texts(scores, frame, names)
    table = leads_table(frame, scores.scored, ru, en, points=scores.points)
    return table, info


@register(
    "leads_rules", "Rule model of lead scoring: points per value", in_overview=False
)
def leads_rules(
    wh: Warehouse,
    *,
    as_of: str | dt.date | None = None,
    init: str | None = None,
    file: str | None = None,
    shares: tuple[float, float] = (0.2, 0.3),
    exclude: tuple[str, ...] = (),
    **_: Any,
) -> AnalysisResult:
    """Write a starting rule file from signals (`init`) or show a rule file's points."""
    import pyarrow as pa
    import yaml

    from crmlens.analytics.leads import lead_signals
    from crmlens.analytics.leads_rules import RuleModel
    from crmlens.insights.rules._leads_score import load_frame
    from crmlens.insights.rules.leads import outcomes

    day = resolve_as_of(wh, as_of)
    if init:
        frame, attrs = load_frame(wh, day, moment="arrival", exclude=tuple(exclude))
        signals = lead_signals(outcomes(wh, day), attrs).to_pyarrow().to_pylist()
        model = RuleModel.from_signals(signals)
        model.fit(frame[frame["is_labelled"] == 1], shares=shares)
        Path(init).write_text(
            yaml.safe_dump(model.to_dict(), allow_unicode=True, sort_keys=False),
            encoding="utf-8",
        )
    elif file:
        model = read_rules(file)
    else:
        raise InputError(
            "give --init PATH to write a rule file or --file PATH to show one"
        )
    rows = [
        {"attribute": a, "value": v, "points": p}
        for table in (model.categories, model.numbers)
        for a, pts in table.items()
        for v, p in pts.items()
    ]
    params = {
        "as_of": day.isoformat(),
        "file": init or file,
        "thresholds": model.thresholds,
    }
    return AnalysisResult(
        "leads_rules",
        params,
        pa.Table.from_pylist(
            rows,
            schema=pa.schema(
                [
                    ("attribute", pa.string()),
                    ("value", pa.string()),
                    ("points", pa.int64()),
                ]
            ),
        ),
    )
