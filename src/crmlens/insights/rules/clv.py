"""Client lifetime value: margin so far, P(alive), expected orders and value (issue 6).

Registers ``customers_clv`` (one row per client, findings for valuable clients the model
thinks are slipping away) and ``customers_clv_fit`` (the fit report: parameters and the
calibration/holdout check).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from crmlens.errors import InputError
from crmlens.insights.findings import Finding
from crmlens.insights.params import resolve_as_of
from crmlens.insights.registry import AnalysisResult, register
from crmlens.insights.rules._money import both, money, pct

if TYPE_CHECKING:
    import pandas as pd

    from crmlens.warehouse import Warehouse

TIME_UNIT_DAYS = 7.0
#: A client "slipping away": P(alive) below this, ≥ 3 purchase days, and a purchase in
#: the last RECENT_DAYS days (still winnable), ranked by its value if still active.
AT_RISK_P_ALIVE = 0.5
AT_RISK_MIN_FREQUENCY = 2
RECENT_DAYS = 365
MAX_FINDINGS = 10
PREDICTIVE = (
    "p_alive",
    "expected_orders",
    "expected_average_value",
    "expected_value",
    "expected_value_if_active",
)


@dataclass(frozen=True)
class ClvSettings:
    """Parameters of the CLV analysis, checked."""

    as_of: dt.date
    horizon: int
    value_basis: str
    discount_rate: float
    penalizer: float

    def params(self) -> dict[str, Any]:
        """Plain parameters for the result."""
        return {
            "as_of": str(self.as_of),
            "horizon_months": self.horizon,
            "value_basis": self.value_basis,
            "discount_rate": self.discount_rate,
            "penalizer": self.penalizer,
            "time_unit": "weeks (recency, T)",
        }


def _settings(wh: Warehouse, as_of: Any, params: dict[str, Any]) -> ClvSettings:
    from crmlens.analytics.clv import VALUE_BASES

    horizon = int(params.get("horizon") or 12)
    basis = str(params.get("value_basis") or "margin")
    if horizon < 1:
        raise InputError(f"--horizon {horizon}", reason="use a number of months ≥ 1")
    if basis not in VALUE_BASES:
        raise InputError(
            f"unknown value basis {basis!r}", reason="use margin or amount"
        )
    return ClvSettings(
        as_of=resolve_as_of(wh, as_of),
        horizon=horizon,
        value_basis=basis,
        discount_rate=float(params.get("discount_rate") or 0.0),
        penalizer=float(params.get("penalizer") or 0.0),
    )


def client_summary(wh: Warehouse, s: ClvSettings) -> pd.DataFrame:
    """The per-client summary at `as_of` with the client's name (pandas)."""
    from crmlens.analytics.clv import clv_summary
    from crmlens.insights.rules.customers import client_marts

    summary = clv_summary(
        wh.orders,
        as_of=s.as_of,
        value_basis=s.value_basis,  # type: ignore[arg-type]
        time_unit_days=TIME_UNIT_DAYS,
        days=client_marts(wh, s.as_of, region=None, manager=None),
    )
    names = wh.accounts.select(_acc=wh.accounts.account_id, name=wh.accounts.name)
    names = names.distinct(on="_acc", keep="first")
    joined = summary.left_join(names, summary.account_id == names._acc)
    table = joined.drop("_acc").to_pyarrow()
    frame = table.to_pandas()
    for column in ("first_order_date", "last_order_date"):
        frame[column] = [d.as_py() for d in table[column]]
    return frame.sort_values("account_id", kind="stable").reset_index(drop=True)


def _value_note(wh: Warehouse, s: ClvSettings) -> dict[str, Any]:
    from crmlens.analytics.clv import value_basis_counts

    row = value_basis_counts(wh.orders, as_of=s.as_of).to_pyarrow().to_pylist()[0]
    total, missing = (
        int(row["orders_count"] or 0),
        int(row["orders_without_cost_count"] or 0),
    )
    if s.value_basis == "amount":
        note = "value = order amount"
    elif missing == 0:
        note = "value = margin (amount − cost)"
    else:
        note = (
            f"value = margin (amount − cost); {missing} of {total} orders have no cost "
            "and count with their full amount"
        )
    return {"value_note": note, "orders_without_cost": missing, "orders_count": total}


@register(
    "customers_clv",
    "Client lifetime value: margin so far, P(alive), expected orders and value",
)
def run(
    wh: Warehouse, *, as_of: str | dt.date | None = None, **params: Any
) -> AnalysisResult:
    """Historical and predictive CLV per client, with findings for clients at risk."""

    from crmlens.analytics.clv_models import fit_clv, not_enough_history, predict_clv

    s = _settings(wh, as_of, params)
    summary = client_summary(wh, s)
    out = {**s.params(), **_value_note(wh, s), "clients_count": len(summary)}
    reason = not_enough_history(summary)
    if reason is not None:
        out["predictive"] = f"skipped: {reason}"
        rows = summary.assign(**dict.fromkeys(PREDICTIVE, math.nan))
        return AnalysisResult("customers_clv", out, _arrow(rows), [])
    bg, gg = fit_clv(summary, penalizer=s.penalizer)
    rows = predict_clv(
        summary,
        bg,
        gg,
        horizon_months=s.horizon,
        time_unit_days=TIME_UNIT_DAYS,
        discount_rate=s.discount_rate,
    )
    rows = rows.sort_values(["expected_value", "account_id"], ascending=[False, True])
    out.update(bg_nbd=_rounded(bg.params_), gamma_gamma=_rounded(gg.params_))
    out["expected_value_total"] = round(float(rows["expected_value"].sum()), 2)
    return AnalysisResult("customers_clv", out, _arrow(rows), at_risk_findings(rows, s))


def _arrow(frame: pd.DataFrame) -> Any:
    import pyarrow as pa

    return pa.Table.from_pandas(frame.reset_index(drop=True), preserve_index=False)


def _rounded(params: dict[str, float]) -> dict[str, float]:
    return {k: float(f"{v:.6g}") for k, v in params.items()}


def at_risk_findings(rows: pd.DataFrame, s: ClvSettings) -> list[Finding]:
    """Valuable clients who bought recently and regularly but look likely to be lost."""
    since = [(s.as_of - d).days for d in rows["last_order_date"]]
    risky = rows.assign(days_since_last_order=since)
    risky = risky[
        (risky["p_alive"] < AT_RISK_P_ALIVE)
        & (risky["frequency"] >= AT_RISK_MIN_FREQUENCY)
        & (risky["days_since_last_order"] <= RECENT_DAYS)
        & (risky["expected_value_if_active"] > 0)
    ]
    risky = risky.sort_values(
        ["expected_value_if_active", "account_id"], ascending=[False, True]
    )
    return [_finding(r, s) for r in risky.head(MAX_FINDINGS).to_dict("records")]


def _chance(p: float, lang: str) -> str:
    """A probability in words; below 1 % as "< 1 %" rather than a bare 0 %."""
    return ("< 1 %" if lang == "ru" else "<1%") if p < 0.005 else pct(p, lang)


def _finding(row: dict[Any, Any], s: ClvSettings) -> Finding:
    name = row.get("name") or row["account_id"]
    p, stake = float(row["p_alive"]), float(row["expected_value_if_active"])
    gap_days = row["recency"] * TIME_UNIT_DAYS / max(row["frequency"], 1)
    silent = int(row["days_since_last_order"])
    text = both(
        f"Клиент {name} похоже уходит: вероятность, что он ещё покупает, "
        f"{_chance(p, 'ru')}. Он покупал примерно раз в {gap_days:.0f} дн., а молчит уже "
        f"{silent} дн.; за {s.horizon} мес. он принёс бы {money(stake, 'ru')} маржи.",
        f"Client {name} looks likely to be lost: a {_chance(p, 'en')} chance it still "
        f"buys. It bought about every {gap_days:.0f} days and has been silent for "
        f"{silent} days; over {s.horizon} months it would bring "
        f"{money(stake, 'en')} of margin.",
    )
    action = both(
        "Позвоните лицу, принимающему решение, на этой неделе: узнайте причину "
        "паузы и предложите условия повторного заказа.",
        "Call the decision maker this week: find out why orders stopped and offer "
        "terms for a repeat order.",
    )
    return Finding(
        analysis="customers_clv",
        kind="valuable_client_at_risk",
        severity="high" if p < 0.2 else "medium",
        subject={"type": "account", "id": str(row["account_id"]), "name": str(name)},
        metric="p_alive",
        value=round(p, 4),
        baseline=AT_RISK_P_ALIVE,
        impact=round(stake, 2),
        period=f"{s.as_of} +{s.horizon}m",
        text=text,
        action=action,
        evidence={
            "frequency": int(row["frequency"]),
            "last_order_date": str(row["last_order_date"]),
            "days_since_last_order": silent,
            "historical_value": round(float(row["historical_value"]), 2),
            "expected_value": round(float(row["expected_value"]), 2),
            "expected_value_if_active": round(stake, 2),
        },
    )


def _add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = [
        31,
        29 if year % 4 == 0 and (year % 100 or year % 400 == 0) else 28,
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ][month]
    return dt.date(year, month + 1, min(day.day, last))


@register(
    "customers_clv_fit",
    "CLV fit report: BG/NBD and Gamma-Gamma parameters, holdout check",
    in_overview=False,
)
def fit_report(
    wh: Warehouse, *, as_of: str | dt.date | None = None, **params: Any
) -> AnalysisResult:
    """Fitted parameters, and predicted vs actual orders in a holdout period.

    The calibration model is fitted on orders up to ``as_of − holdout`` months
    (default: the horizon) and predicts each client's orders in the rest, compared by
    frequency bucket with what the clients really bought.
    """
    from crmlens.analytics.clv import calibration_holdout
    from crmlens.analytics.clv_models import (
        DAYS_PER_MONTH,
        BetaGeo,
        fit_clv,
        holdout_check,
        not_enough_history,
    )

    s = _settings(wh, as_of, params)
    holdout = int(params.get("holdout") or s.horizon)
    cut = _add_months(s.as_of, -holdout)
    calib = calibration_holdout(
        wh.orders,
        calibration_end=cut,
        as_of=s.as_of,
        value_basis=s.value_basis,  # type: ignore[arg-type]
        time_unit_days=TIME_UNIT_DAYS,
    ).to_pandas()
    # In one order every run: the engine returns clients in any order, and the fit of a
    # nearly degenerate dropout (a, b very large) is sensitive to it.
    calib = calib.sort_values("account_id", kind="stable").reset_index(drop=True)
    summary = client_summary(wh, s)
    out = {
        **s.params(),
        **_value_note(wh, s),
        "calibration_end": str(cut),
        "holdout_months": holdout,
    }
    reason = not_enough_history(summary) or not_enough_history(calib)
    if reason is not None:
        raise InputError(
            f"cannot fit the CLV models: {reason}", reason="import more order history"
        )
    bg, gg = fit_clv(summary, penalizer=s.penalizer)
    bg_cal = BetaGeo(penalizer=s.penalizer).fit(calib)
    check = holdout_check(
        calib, bg_cal, holdout=holdout * DAYS_PER_MONTH / TIME_UNIT_DAYS
    )
    out["calibration_bg_nbd"] = _rounded(bg_cal.params_)
    rows = _param_rows("bg_nbd", bg) + _param_rows("gamma_gamma", gg)
    rows.append(_row("gamma_gamma", "corr_frequency_value", _independence(summary)))
    rows += [
        _row("holdout", r["frequency_bucket"], None, **{k: r[k] for k in HOLDOUT_KEYS})
        for r in check.to_dict("records")
    ]
    total = check[check["frequency_bucket"] == "all"].iloc[0].to_dict()
    findings = (
        [_fit_finding(total, out)] if abs(total["error_rate"]) > FIT_TOLERANCE else []
    )
    return AnalysisResult("customers_clv_fit", out, _report_table(rows), findings)


HOLDOUT_KEYS = ("clients_count", "actual_orders", "predicted_orders", "error_rate")
FIT_TOLERANCE = 0.2


def _row(section: str, name: str, value: float | None, **extra: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "section": section,
        "name": name,
        "value": value,
        "se": None,
    }
    base.update(dict.fromkeys(HOLDOUT_KEYS))
    base.update(extra)
    return base


def _param_rows(section: str, model: Any) -> list[dict[str, Any]]:
    table = model.summary
    rows = [
        _row(
            section,
            str(name),
            float(r["coef"]),
            se=float(r["se(coef)"]),
            clients_count=model.n_clients_,
        )
        for name, r in table.iterrows()
    ]
    rows.append(
        _row(
            section,
            "log_likelihood",
            model.log_likelihood_,
            clients_count=model.n_clients_,
        )
    )
    return rows


def _independence(summary: pd.DataFrame) -> float:
    """Correlation of frequency and monetary value among repeat clients.

    Gamma-Gamma assumes none; a strong correlation makes the value per order biased.
    """
    repeat = summary[(summary["frequency"] > 0) & (summary["monetary_value"] > 0)]
    if len(repeat) < 3:
        return math.nan
    return float(repeat["frequency"].corr(repeat["monetary_value"]))


def _report_table(rows: list[dict[str, Any]]) -> Any:
    import pyarrow as pa

    schema = pa.schema(
        [
            ("section", pa.string()),
            ("name", pa.string()),
            ("value", pa.float64()),
            ("se", pa.float64()),
            ("clients_count", pa.int64()),
            ("actual_orders", pa.float64()),
            ("predicted_orders", pa.float64()),
            ("error_rate", pa.float64()),
        ]
    )
    return pa.Table.from_pylist(rows, schema=schema)


def _fit_finding(total: dict[Any, Any], out: dict[str, Any]) -> Finding:
    err = float(total["error_rate"])
    over_ru, over_en = (
        ("завышает", "overstates") if err > 0 else ("занижает", "understates")
    )
    months, cut = out["holdout_months"], out["calibration_end"]
    text = both(
        f"Модель CLV {over_ru} число заказов: на проверке за {months} мес. после "
        f"{cut} она ожидала {total['predicted_orders']:.2f} заказа на клиента, а было "
        f"{total['actual_orders']:.2f} ({pct(abs(err), 'ru')} ошибки).",
        f"The CLV model {over_en} orders: checked on the {months} months after {cut}, "
        f"it expected {total['predicted_orders']:.2f} orders per client against "
        f"{total['actual_orders']:.2f} actual ({pct(abs(err), 'en')} off).",
    )
    action = both(
        "Используйте прогноз CLV для ранжирования клиентов, а не как точную сумму; "
        "проверьте, не изменился ли порядок закупок клиентов.",
        "Use the CLV forecast to rank clients, not as an exact amount; check whether "
        "the way clients order has changed.",
    )
    return Finding(
        analysis="customers_clv_fit",
        kind="clv_fit_off",
        severity="medium",
        subject={"type": "model", "id": "bg_nbd"},
        metric="error_rate",
        value=round(err, 4),
        baseline=0.0,
        impact=None,
        period=f"{cut}..{out['as_of']}",
        text=text,
        action=action,
        evidence={k: total[k] for k in HOLDOUT_KEYS},
    )
