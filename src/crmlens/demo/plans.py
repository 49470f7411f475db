"""Plans and marketing money: monthly targets and campaign costs.

Targets are set the way a sales department sets them: from the last three months'
revenue, adjusted for the season, plus a little ambition. Campaign costs are set from
the revenue their leads brought, so that the planted return on marketing is exact.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np

from crmlens.demo import clock, funnel
from crmlens.demo import entities as ent
from crmlens.demo.accounts import Cols
from crmlens.demo.names import REGIONS
from crmlens.demo.sales import Plan

FIRST_MONTH = clock.month_index_of(clock.START)
PLAN_MONTH = clock.month_index_of(clock.AS_OF)
N_MONTHS = PLAN_MONTH - FIRST_MONTH + 1


def monthly(values: np.ndarray, at: np.ndarray, who: np.ndarray) -> np.ndarray:
    """Sum of ``values`` by (month since 2023-01, manager)."""
    m = clock.month_index(at) - FIRST_MONTH
    out = np.zeros((N_MONTHS, len(ent.MANAGERS)))
    ok = (m >= 0) & (m < N_MONTHS)
    np.add.at(out, (m[ok], who[ok]), values[ok])
    return out


def _baseline(fact: np.ndarray) -> np.ndarray:
    """Expected value of each month from the three months before it and the season."""
    out = np.empty_like(fact)
    season = clock.SEASON[(np.arange(N_MONTHS) + FIRST_MONTH) % 12]
    for m in range(N_MONTHS):
        if m < 3:
            out[m] = fact[m]
            continue
        prev = fact[m - 3 : m].mean(axis=0) / season[m - 3 : m].mean()
        out[m] = prev * season[m]
    return out


def targets(
    rng: np.random.Generator,
    revenue: np.ndarray,
    won: np.ndarray,
    calls: np.ndarray,
    plan: Plan,
    pace: np.ndarray,
) -> tuple[dict[str, list[Any]], dict[str, Any]]:
    """The ``targets`` columns and what was planted for the plan month.

    ``pace`` is each region's revenue so far in the plan month divided by the elapsed
    share of the month; the plan month's target is set from it, so that the planted
    region ahead and the one behind are clear and the others near their plan.
    """
    regions = ent.manager_regions()
    base = _baseline(revenue) * rng.uniform(1.02, 1.1, (N_MONTHS, 1))
    region_base = np.stack(
        [base[:, regions == r].sum(axis=1) for r in range(len(REGIONS))], axis=1
    )
    region_t = region_base.copy()
    picked = rng.choice(len(REGIONS), size=2, replace=False)
    ahead, behind = (int(picked[0]), int(picked[1]))
    ambition = rng.uniform(0.96, 1.06, len(REGIONS))
    if plan.has("plan"):
        ambition[ahead] = rng.uniform(0.45, 0.55)
        ambition[behind] = rng.uniform(2.0, 2.4)
    region_t[-1] = np.where(pace > 0, pace * ambition, region_t[-1])
    share = base / np.maximum(region_base[:, regions], 1e-9)
    manager_t = share * region_t[:, regions]
    rows: dict[str, list[Any]] = {
        k: [] for k in ("period", "scope_type", "scope_id", "metric", "value")
    }
    won_t = np.ceil(_baseline(won) * 1.1)
    calls_t = np.ceil(_baseline(calls) * 1.1 / 10) * 10
    for m in range(N_MONTHS):
        period = clock.month_label(FIRST_MONTH + m)
        _row(rows, period, "company", None, "revenue", region_t[m].sum())
        for r, name in enumerate(REGIONS):
            _row(rows, period, "region", name, "revenue", region_t[m, r])
        for j, spec in enumerate(ent.MANAGERS):
            if base[m, j] <= 0:
                continue
            _row(rows, period, "manager", spec.manager_id, "revenue", manager_t[m, j])
            _row(rows, period, "manager", spec.manager_id, "deals", won_t[m, j])
            _row(rows, period, "manager", spec.manager_id, "calls", calls_t[m, j])
    info = {
        "period": clock.month_label(PLAN_MONTH),
        "ahead_region": REGIONS[ahead] if plan.has("plan") else None,
        "behind_region": REGIONS[behind] if plan.has("plan") else None,
        "region_by": "region of the order's (deal's) manager",
        "targets": {REGIONS[r]: round(float(region_t[-1, r]), 2) for r in range(5)},
    }
    return rows, info


def _row(
    rows: dict[str, list[Any]],
    period: str,
    scope: str,
    scope_id: str | None,
    metric: str,
    value: float,
) -> None:
    rows["period"].append(period)
    rows["scope_type"].append(scope)
    rows["scope_id"].append(scope_id)
    rows["metric"].append(metric)
    rows["value"].append(round(float(value), -3) if metric == "revenue" else value)


def elapsed_share() -> float:
    """Share of the plan month's days before ``as_of``."""
    first = dt.date(clock.AS_OF.year, clock.AS_OF.month, 1)
    nxt = dt.date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return (clock.AS_OF - first).days / (nxt - first).days


def fact_to_date(orders: Cols) -> np.ndarray:
    """Revenue of the plan month before ``as_of``, per region (of the manager)."""
    regions = ent.manager_regions()
    month_start = clock.ts_of(dt.date(clock.AS_OF.year, clock.AS_OF.month, 1))
    in_month = orders["at"] >= month_start
    return np.bincount(
        regions[orders["manager"][in_month]],
        weights=orders["amount"][in_month],
        minlength=len(REGIONS),
    )


def plan_facts(orders: Cols, deals: Cols, info: dict[str, Any]) -> None:
    """Add fact-to-date and open pipeline of the plan month, per region, to ``info``."""
    regions = ent.manager_regions()
    fact = fact_to_date(orders)
    open_ = (deals["status"] == funnel.OPEN) & ~np.isnan(deals["amount"])
    pipe = np.bincount(
        regions[deals["owner"][open_]],
        weights=deals["amount"][open_],
        minlength=len(REGIONS),
    )
    info["elapsed_share"] = round(elapsed_share(), 4)
    info["fact_to_date"] = {r: round(float(fact[i]), 2) for i, r in enumerate(REGIONS)}
    info["open_pipeline"] = {r: round(float(pipe[i]), 2) for i, r in enumerate(REGIONS)}
    info["pace"] = {
        r: round(float(fact[i] / (info["targets"][r] * elapsed_share())), 3)
        for i, r in enumerate(REGIONS)
    }
    info["pace_definition"] = "fact_to_date / (target x elapsed_share)"


def campaigns(
    rng: np.random.Generator, leads: Cols, deals: Cols, plan: Plan
) -> tuple[dict[str, list[Any]], dict[str, Any]]:
    """The ``campaigns`` columns and each campaign's revenue, cost and ROMI."""
    n_c = len(ent.CAMPAIGNS)
    camp = leads["campaign"][np.maximum(deals["lead"], 0)]
    camp = np.where(deals["lead"] >= 0, camp, n_c)
    won = (deals["status"] == funnel.WON) & (camp < n_c)
    revenue = np.bincount(
        camp[won], weights=np.nan_to_num(deals["amount"][won]), minlength=n_c + 1
    )[:n_c]
    n_leads = np.bincount(leads["campaign"], minlength=n_c + 1)[:n_c]
    romi = (
        rng.uniform(0.2, 1.6, n_c)
        if plan.has("campaigns")
        else rng.uniform(0.5, 1.1, n_c)
    )
    if plan.has("campaigns"):
        romi[ent.BEST_CAMPAIGN] = 4.0
        romi[ent.WORST_CAMPAIGN] = -0.65
    cost = np.where(revenue > 0, revenue / (1.0 + romi), 400_000 * plan.scale)
    cost = np.round(cost, -3)
    cols: dict[str, list[Any]] = {
        k: []
        for k in (
            "campaign_id",
            "tag",
            "name",
            "goal",
            "description",
            "channel",
            "started_at",
            "ended_at",
            "cost",
            "planned_leads",
            "planned_revenue",
        )
    }
    for i, c in enumerate(ent.CAMPAIGNS):
        cols["campaign_id"].append(c.campaign_id)
        cols["tag"].append(c.tag)
        cols["name"].append(c.name)
        cols["goal"].append(c.goal)
        cols["description"].append(
            f"{c.name}: {c.goal.lower()}. Источник заявок — {ent.SOURCES[c.source]}."
        )
        cols["channel"].append(ent.CAMPAIGN_CHANNEL[c.source])
        cols["started_at"].append(dt.datetime.combine(c.started, dt.time(9)))
        cols["ended_at"].append(dt.datetime.combine(c.ended, dt.time(18)))
        cols["cost"].append(float(cost[i]))
        cols["planned_leads"].append(float(round(n_leads[i] * rng.uniform(0.85, 1.25))))
        cols["planned_revenue"].append(
            float(round(cost[i] * rng.uniform(2.0, 3.0), -3))
        )
    actual = (revenue - cost) / cost
    info = {
        "best": ent.CAMPAIGNS[ent.BEST_CAMPAIGN].campaign_id
        if plan.has("campaigns")
        else None,
        "worst": ent.CAMPAIGNS[ent.WORST_CAMPAIGN].campaign_id
        if plan.has("campaigns")
        else None,
        "romi_basis": "(won deal amount of the campaign's leads - cost) / cost",
        "romi": {
            c.campaign_id: round(float(actual[i]), 3)
            for i, c in enumerate(ent.CAMPAIGNS)
        },
        "leads": {c.campaign_id: int(n_leads[i]) for i, c in enumerate(ent.CAMPAIGNS)},
    }
    return cols, info
