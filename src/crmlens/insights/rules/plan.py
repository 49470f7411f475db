"""Plan vs fact with traffic lights, and the backtest of the light (issue 9)."""

from __future__ import annotations

import datetime as dt
import math
from typing import TYPE_CHECKING, Any

from crmlens.insights.findings import Finding
from crmlens.insights.params import parse_date, resolve_as_of
from crmlens.insights.registry import AnalysisResult, register
from crmlens.insights.rules._money import both, money, pct

if TYPE_CHECKING:
    import pandas as pd

    from crmlens.warehouse import Warehouse


def _settings(wh: Warehouse, params: dict[str, Any]) -> Any:
    from crmlens.analytics import plan as pl
    from crmlens.errors import InputError
    from crmlens.insights.rules._plan_run import PlanSettings

    as_of = resolve_as_of(wh, params.get("as_of"))
    scope = params.get("scope") or "region"
    if scope not in pl.SCOPES:
        raise InputError(
            f"unknown scope {scope!r}", reason="use " + "|".join(pl.SCOPES)
        )
    return PlanSettings(
        period=params.get("period") or pl.period_of(as_of),
        scope=scope,
        as_of=as_of,
        seed=int(params.get("seed", 42)),
        n_sims=int(params.get("n_sims", 2000)),
        green=float(params.get("green", 0.8)),
        yellow=float(params.get("yellow", 0.4)),
    )


@register("plan", "Plan vs fact: forecast of the period and its traffic light")
def run(
    wh: Warehouse, *, as_of: str | dt.date | None = None, **params: Any
) -> AnalysisResult:
    """Plan table per scope with findings for yellow and red scopes."""
    import pyarrow as pa

    from crmlens.insights.rules._plan_run import plan_run

    s = _settings(wh, {**params, "as_of": as_of})
    result = plan_run(wh, s)
    findings = [
        _finding(row, result.deals, s.period, s.scope)
        for row in _records(result.rows)
        if row["light"] in ("yellow", "red")
    ]
    out = {k: str(v) if isinstance(v, dt.date) else v for k, v in vars(s).items()}
    return AnalysisResult(
        "plan", out, pa.Table.from_pandas(result.rows, preserve_index=False), findings
    )


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return frame.to_dict("records")  # type: ignore[return-value]


def deals_to_push(
    deals: pd.DataFrame, scope_id: str, limit: int = 5
) -> list[dict[str, Any]]:
    """The open deals of a scope most worth pushing: largest amount × win chance."""
    mine = deals[deals["scope_id"] == scope_id]
    mine = mine.assign(value=mine["amount"] * mine["p_win"])
    top = mine.sort_values(["value", "deal_id"], ascending=[False, True]).head(limit)
    records: list[dict[str, Any]] = top.to_dict("records")  # type: ignore[assignment]
    return [
        {
            "deal_id": r["deal_id"],
            "owner_id": r["owner_id"],
            "stage": r["stage"],
            "amount": round(float(r["amount"]), 2),
            "p_win": round(float(r["p_win"]), 3),
            "p_close_in_period": round(float(r["p_close"]), 3),
        }
        for r in records
    ]


def _finding(
    row: dict[str, Any], deals: pd.DataFrame, period: str, scope: str
) -> Finding:
    red = row["light"] == "red"
    push = deals_to_push(deals, row["scope_id"])
    gap = row["gap_amount"] if math.isfinite(row["gap_amount"]) else 0.0
    at_stake = max(gap, row["target_amount"] - row["forecast_p10"], 0.0)
    names = ", ".join(d["deal_id"] for d in push) or "—"
    sid, p = row["scope_id"], row["reach_probability"]
    text = both(
        f"План {period} по «{sid}» под угрозой: прогноз {money(row['forecast_amount'], 'ru')}"
        f" при плане {money(row['target_amount'], 'ru')}, вероятность выполнить "
        f"{pct(p, 'ru')}; факт на сегодня {money(row['fact_amount'], 'ru')}.",
        f"The {period} plan of “{sid}” is at risk: forecast "
        f"{money(row['forecast_amount'], 'en')} against a target of "
        f"{money(row['target_amount'], 'en')}, a {pct(p, 'en')} chance to hit it; "
        f"fact so far {money(row['fact_amount'], 'en')}.",
    )
    need = row["deals_needed"]
    if gap <= 0:
        action = both(
            f"Прогноз впритык к плану: дожмите сделки {names}, чтобы не зависеть от "
            "случайностей.",
            f"The forecast only just meets the plan: push deals {names} so that it "
            "does not hinge on luck.",
        )
    else:
        action = both(
            f"Дожмите сделки {names}; разрыв {money(gap, 'ru')} — это около "
            f"{need or 0} выигранных сделок среднего размера или дополнительные "
            "повторные заказы ключевых клиентов.",
            f"Push deals {names}; the gap of {money(gap, 'en')} is about {need or 0} "
            "average won deals, or extra repeat orders from key clients.",
        )
    return Finding(
        analysis="plan",
        kind="plan_at_risk",
        severity="high" if red else "medium",
        subject={"type": scope, "id": sid},
        metric="reach_probability",
        value=round(float(p), 4),
        baseline=0.8,
        impact=round(float(at_stake), 2),
        period=period,
        text=text,
        action=action,
        evidence={
            "light": row["light"],
            "target_amount": row["target_amount"],
            "fact_amount": row["fact_amount"],
            "forecast_amount": round(row["forecast_amount"], 2),
            "gap_amount": round(gap, 2),
            "deals_to_push": push,
        },
    )


@register(
    "plan_backtest",
    "Backtest of the plan forecast: MAPE and Brier score of the light",
    in_overview=False,
)
def backtest(
    wh: Warehouse,
    *,
    as_of: str | dt.date | None = None,
    date_from: str | dt.date | None = None,
    date_to: str | dt.date | None = None,
    **params: Any,
) -> AnalysisResult:
    """Replay past periods at the day of month of `as_of` (default the 15th)."""
    import pyarrow as pa

    from crmlens.insights.rules._plan_backtest import replay

    last = resolve_as_of(wh, as_of)
    day = parse_date(as_of).day if as_of else 15  # type: ignore[union-attr]
    first = parse_date(date_from, name="--from") or dt.date(
        last.year - 1, last.month, 1
    )
    end = parse_date(date_to, name="--to") or last
    s = _settings(wh, {**params, "as_of": last})
    rows, summary = replay(wh, s, first=first, last=end, day=day)
    out = {"scope": s.scope, "from": str(first), "to": str(end), "day": day, **summary}
    return AnalysisResult(
        "plan_backtest", out, pa.Table.from_pandas(rows, preserve_index=False)
    )
