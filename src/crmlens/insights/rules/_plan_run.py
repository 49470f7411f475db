"""Execute the plan forecast for one period, scope type and `as_of` (used by plan rules).

This is the interface edge of :mod:`crmlens.analytics.plan`: it executes the Ibis inputs
once, fits the models of :mod:`crmlens.analytics.plan_model` on the small results and
assembles one row per scope.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from crmlens.analytics import plan as pl
from crmlens.analytics import plan_model as pm

if TYPE_CHECKING:
    import ibis.expr.types as ir
    import pandas as pd

    from crmlens.warehouse import Warehouse


@dataclass(frozen=True)
class PlanSettings:
    """Parameters of one plan run."""

    period: str
    scope: pl.Scope
    as_of: dt.date
    seed: int = 42
    n_sims: int = 2000
    green: float = pm.GREEN
    yellow: float = pm.YELLOW


@dataclass(frozen=True)
class PlanRun:
    """Rows per scope and the open deals behind them (with probabilities)."""

    rows: pd.DataFrame
    deals: pd.DataFrame


def _df(expr: ir.Table) -> pd.DataFrame:
    return expr.to_pyarrow().to_pandas()


def _clock(s: PlanSettings) -> tuple[dt.date, dt.date, float, float]:
    start, end = pl.period_bounds(s.period)
    days = (end - start).days
    first_unknown = min(max(s.as_of + dt.timedelta(days=1), start), end)
    rest = float((end - first_unknown).days)
    return start, end, rest, 1.0 - rest / days


def _open_deals(
    wh: Warehouse, s: PlanSettings, scopes: ir.Table, rest: float
) -> pd.DataFrame:
    found = pl.working_positions(wh.pipelines).to_pyarrow()["position"].to_pylist()
    days = pl.stage_close_days(
        wh.deals,
        wh.deal_stages,
        wh.pipelines,
        as_of=s.as_of,
        positions=None if None in found else found,
    )
    model = pm.StageCloseModel().fit_groups(_df(days))
    od = pl.open_deals(wh.deals, wh.deal_stages, wh.pipelines, as_of=s.as_of)
    od = od.left_join(scopes, od.owner_id == scopes.manager_id).drop("manager_id")
    od = od.left_join(pl.won_amounts(wh.deals, as_of=s.as_of), "pipeline_id")
    deals = _df(
        od.drop("pipeline_id_right") if "pipeline_id_right" in od.columns else od
    )
    deals["scope_id"] = deals["scope_id"].fillna("(none)")
    deals["amount"] = deals["amount"].fillna(deals["mean_won_amount"]).fillna(0.0)
    p_win, p_close = model.predict(deals, rest_days=rest)
    deals["p_win"], deals["p_close"] = p_win, p_close
    deals["expected_amount"] = deals["amount"] * p_win * p_close
    return deals.sort_values("deal_id", kind="stable").reset_index(drop=True)


def _repeat(
    wh: Warehouse, s: PlanSettings, scopes: ir.Table, share: float
) -> pd.DataFrame:
    start, _end = pl.period_bounds(s.period)
    stats = pl.client_repeat_stats(
        wh.orders, wh.accounts, as_of=s.as_of, start=start
    ).view()
    sc = scopes.select(_sm=scopes.manager_id, scope_id=scopes.scope_id)
    clients = _df(
        stats.left_join(sc, stats.manager_id == sc._sm).drop("manager_id", "_sm")
    )
    calendar = _df(pl.calendar_revenue(wh.orders, as_of=s.as_of, start=start))
    rr = pm.repeat_run_rate(clients, calendar, year=start.year, month=start.month)
    rr["scope_id"] = clients["scope_id"].fillna("(none)").to_numpy()
    rr["mean"] = rr["expected_revenue"] * share
    rr["var"] = rr["expected_orders"] * share * rr["mean_sq_amount"]
    # Exact sums (math.fsum): the clients arrive in the warehouse's order, which may
    # change between runs, and a rounded sum would change in its last digit with it.
    return rr.groupby("scope_id")[["mean", "var"]].agg(math.fsum)


def plan_run(wh: Warehouse, s: PlanSettings) -> PlanRun:
    """The plan table of `s` (one row per scope) and its open deals."""
    import pandas as pd

    start, _end, rest, elapsed = _clock(s)
    share = 1.0 - elapsed
    scopes = pl.scope_of_managers(wh.managers, scope=s.scope)
    facts = pl.order_facts(wh.orders, wh.accounts, as_of=s.as_of)
    fact = _df(pl.fact_to_date(facts, scopes, start=start, as_of=s.as_of))
    target = _df(pl.targets_of(wh.targets, period=s.period, scope=s.scope))
    deals = _open_deals(wh, s, scopes, rest)
    repeat = _repeat(wh, s, scopes, share)
    back = dt.date(start.year - 1, start.month, 1)
    quick = _df(pl.quick_wins(wh.deals, scopes, start=back, before=start))
    quick_of = {
        k: v * share / 12.0
        for k, v in zip(quick["scope_id"], quick["quick_amount"], strict=True)
    }
    ids = sorted(
        set(target["scope_id"].dropna())
        | set(fact["scope_id"].dropna())
        | set(deals["scope_id"])
        | set(repeat.index)
    )
    repeat["mean"] = repeat["mean"].add(
        pd.Series(quick_of, dtype=float), fill_value=0.0
    )
    repeat = repeat.fillna(0.0)
    fact_of = dict(zip(fact["scope_id"], fact["fact_amount"], strict=True))
    target_of = dict(zip(target["scope_id"], target["target_amount"], strict=True))
    mean_won = float(deals["mean_won_amount"].mean()) if len(deals) else float("nan")
    rows = [
        _scope_row(s, sid, fact_of, target_of, deals, repeat, elapsed, mean_won)
        for sid in ids
    ]
    frame = pd.DataFrame(rows)
    if len(frame):
        frame["deals_needed"] = frame["deals_needed"].astype("Int64")
    return PlanRun(frame, deals)


def _scope_row(
    s: PlanSettings,
    sid: str,
    fact_of: dict[str, float],
    target_of: dict[str, float],
    deals: pd.DataFrame,
    repeat: pd.DataFrame,
    elapsed: float,
    mean_won: float,
) -> dict[str, Any]:
    mine = deals[deals["scope_id"] == sid]
    fact = float(fact_of.get(sid, 0.0) or 0.0)
    target = float(target_of.get(sid, float("nan")))
    rep_mean = float(repeat["mean"].get(sid, 0.0))
    rep_var = float(repeat["var"].get(sid, 0.0))
    exp_deals = float(mine["expected_amount"].sum())
    forecast = fact + exp_deals + rep_mean
    prob, p10, p90 = pm.reach_probability(
        fact=fact,
        target=target,
        deal_amounts=mine["amount"].to_numpy(float),
        deal_probs=(mine["p_win"] * mine["p_close"]).to_numpy(float),
        repeat_mean=rep_mean,
        repeat_var=rep_var,
        seed=s.seed,
        key=f"{s.scope}:{sid}",
        n_sims=s.n_sims,
    )
    gap = max(target - forecast, 0.0) if math.isfinite(target) else float("nan")
    return {
        "scope_id": sid,
        "target_amount": target,
        "fact_amount": fact,
        "open_deals_count": len(mine),
        "pipeline_amount": float(mine["amount"].sum()),
        "expected_deals_amount": exp_deals,
        "expected_repeat_amount": rep_mean,
        "forecast_amount": forecast,
        "forecast_p10": p10,
        "forecast_p90": p90,
        "reach_probability": prob,
        "light": pm.light(prob, green=s.green, yellow=s.yellow),
        "gap_amount": gap,
        "deals_needed": _needed(gap, mean_won),
    }


def _needed(gap: float, unit: float) -> int | None:
    if not (math.isfinite(gap) and math.isfinite(unit)) or unit <= 0:
        return None
    return int(np.ceil(gap / unit))
