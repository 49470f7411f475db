"""Backtest of the plan forecast: replay finished periods at a chosen day of the month.

For each month between `first` and `last` whose end is known, the plan is computed as of
that month's `day` using only rows known then (see :mod:`crmlens.analytics.plan`), and
compared with the month's actual revenue:

- **MAPE** = mean over scopes and months of |forecast − actual| / actual (actual > 0);
- **Brier score of the light** = mean of (reach_probability − hit)², hit = actual ≥ target;
- **calibration**: per band of probability, mean probability vs share of targets hit.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
from typing import TYPE_CHECKING, Any

import numpy as np

from crmlens.analytics import plan as pl
from crmlens.insights.rules._plan_run import PlanSettings, plan_run

if TYPE_CHECKING:
    import pandas as pd

    from crmlens.warehouse import Warehouse

BANDS = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0001)


def _months(first: dt.date, last: dt.date) -> list[str]:
    out: list[str] = []
    cur = dt.date(first.year, first.month, 1)
    while True:
        _start, end = pl.period_bounds(pl.period_of(cur))
        if end > last + dt.timedelta(days=1):
            return out
        out.append(pl.period_of(cur))
        cur = end


def _actual(wh: Warehouse, s: PlanSettings) -> dict[str, float]:
    start, end = pl.period_bounds(s.period)
    last_day = end - dt.timedelta(days=1)
    scopes = pl.scope_of_managers(wh.managers, scope=s.scope)
    facts = pl.order_facts(wh.orders, wh.accounts, as_of=last_day)
    got = pl.fact_to_date(facts, scopes, start=start, as_of=last_day).to_pyarrow()
    return dict(
        zip(got["scope_id"].to_pylist(), got["fact_amount"].to_pylist(), strict=True)
    )


def replay(
    wh: Warehouse, base: PlanSettings, *, first: dt.date, last: dt.date, day: int
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Rows per (period, scope) and the summary: MAPE, Brier score, calibration."""
    import pandas as pd

    frames = []
    for period in _months(first, last):
        start, end = pl.period_bounds(period)
        at = min(start + dt.timedelta(days=day - 1), end - dt.timedelta(days=1))
        s = dataclasses.replace(base, period=period, as_of=at)
        rows = plan_run(wh, s).rows
        if rows.empty:  # no scope with a target in this month
            continue
        actual = _actual(wh, s)
        rows.insert(0, "period", period)
        rows.insert(1, "as_of", at)
        rows["actual_amount"] = rows["scope_id"].map(actual).fillna(0.0)
        frames.append(rows[rows["target_amount"].notna()])
    cols = [
        "period",
        "as_of",
        "scope_id",
        "target_amount",
        "forecast_amount",
        "actual_amount",
        "reach_probability",
        "light",
    ]
    if not frames:
        return pd.DataFrame({c: [] for c in cols}), {"periods": 0}
    rows = pd.concat(frames, ignore_index=True)[cols]
    rows["hit"] = rows["actual_amount"] >= rows["target_amount"]
    rows["abs_pct_error"] = (
        (rows["forecast_amount"] - rows["actual_amount"]).abs() / rows["actual_amount"]
    ).where(rows["actual_amount"] > 0)
    return rows, _summary(rows)


def _summary(rows: pd.DataFrame) -> dict[str, Any]:
    p = rows["reach_probability"].to_numpy(float)
    hit = rows["hit"].to_numpy(float)
    bands = []
    for lo, hi in itertools.pairwise(BANDS):
        m = (p >= lo) & (p < hi)
        if m.any():
            bands.append(
                {
                    "band": f"{lo:.1f}-{min(hi, 1.0):.1f}",
                    "n": int(m.sum()),
                    "mean_probability": round(float(p[m].mean()), 3),
                    "hit_rate": round(float(hit[m].mean()), 3),
                }
            )
    return {
        "periods": int(rows["period"].nunique()),
        "cases": len(rows),
        "mape": round(float(np.nanmean(rows["abs_pct_error"])), 4),
        "brier": round(float(np.mean((p - hit) ** 2)), 4),
        "brier_base_rate": round(float(np.mean((hit.mean() - hit) ** 2)), 4),
        "calibration": bands,
    }
