"""Leads and deals of the demo company, with the planted sales patterns.

New prospects arrive as leads (each one a new account); a share converts into deals,
which walk the main pipeline. Accounts that won a deal (and the clients the company had
before 2023) become the client pool: they send new leads, get direct deals and service
deals, and keep ordering (see `orders`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from crmlens.demo import clock, funnel
from crmlens.demo import entities as ent
from crmlens.demo.accounts import INDUSTRY_LEAD_EFFECT, Cols, concat, new_accounts

POSITION_EFFECT = np.array([0.7, 0.6, 0.4, 0.2, 0.0, -0.45, -0.6])
RETURNING_FACTOR = 2.0
CHECK_PASS, CHECK_FAIL = 1.3, 0.7


@dataclass(frozen=True)
class Plan:
    """Which patterns to plant and how big the company is."""

    patterns: frozenset[str]
    scale: float

    def has(self, name: str) -> bool:
        """Whether a pattern is planted."""
        return name in self.patterns

    def count(self, base: float) -> int:
        """A count of ``base`` at scale 1, scaled."""
        return max(1, round(base * self.scale))


def sigmoid(x: np.ndarray) -> np.ndarray:
    """The logistic function."""
    return 1.0 / (1.0 + np.exp(-x))


def calibrate(logit: np.ndarray, target: float) -> float:
    """The intercept that makes the mean of ``sigmoid(logit + b)`` equal ``target``."""
    lo, hi = -12.0, 12.0
    for _ in range(40):
        mid = (lo + hi) / 2
        if sigmoid(logit + mid).mean() < target:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def assign_owner(
    rng: np.random.Generator,
    segment: np.ndarray,
    region: np.ndarray,
    day: np.ndarray,
    plan: Plan,
) -> np.ndarray:
    """Manager of each lead or deal from its segment, region and date.

    Segments: 0 new & cold source, 1 new & other source, 2 returning client.
    """
    weights = ent.mix_matrix(plan.has("manager_mix"))[segment]
    weights = weights * np.where(
        ent.manager_regions()[None, :] == region[:, None], ent.REGION_AFFINITY, 1.0
    )
    active = ent.manager_active(clock.START_DAY - 400, clock.CUTOFF_DAY + 1)
    weights *= active[np.clip(day - clock.START_DAY + 400, 0, len(active) - 1)]
    cum = np.cumsum(weights, axis=1)
    u = rng.random(len(segment)) * cum[:, -1]
    return (cum < u[:, None]).sum(axis=1)


def lead_features(rng: np.random.Generator, source: np.ndarray) -> Cols:
    """Custom lead fields filled by the web form and the managers."""
    n = len(source)
    web = np.isin(source, [1, 4])
    inbound = np.isin(source, [0, 1, 2, 3, 4])
    pages = np.where(inbound, rng.geometric(0.2, n) - 1, rng.geometric(0.7, n) - 1)
    fields = np.where(web, rng.integers(3, 9, n), 0)
    budget = rng.random(n) < np.where(inbound, 0.38, 0.18)
    return {"pages": pages, "fields": fields, "budget": budget}


def response_delay(
    rng: np.random.Generator, created: np.ndarray, owner: np.ndarray, plan: Plan
) -> tuple[np.ndarray, np.ndarray]:
    """First response time of each lead (-1 when none was recorded), and its hours."""
    n = len(created)
    slow = (owner == ent.CARELESS) & plan.has("careless_manager")
    hours = np.where(
        slow, rng.lognormal(np.log(11.0), 0.7, n), rng.lognormal(np.log(0.45), 1.0, n)
    )
    at = clock.snap_to_work(created + (hours * clock.HOUR).astype(np.int64), rng)
    recorded = (rng.random(n) < 0.92) & (at < clock.CUTOFF)
    return np.where(recorded, at, -1), hours


def lead_logit(leads: Cols, acc: Cols, plan: Plan) -> np.ndarray:
    """Log-odds (without intercept) that a lead becomes a deal."""
    n = len(leads["created"])
    x = np.zeros(n)
    a = leads["account"]
    if plan.has("sources"):
        size = acc["size"][a]
        x += ent.SOURCE_LEAD_EFFECT[leads["source"]]
        x += 0.3 * np.clip(np.log10(size / 50.0), -1.5, 2.0)
        x += INDUSTRY_LEAD_EFFECT[acc["industry"][a]]
        x += POSITION_EFFECT[acc["position"][a]]
        x += 0.9 * leads["budget"]
        x += 1.4 * ((leads["pages"] >= 5) & (size >= 250))
        hours = leads["hours"]
        x += np.where(hours < 1.0, 0.4, np.where(hours > 24.0, -0.5, 0.0))
        x -= 0.5 * (leads["first_response"] < 0)
    if plan.has("campaigns"):
        quality = np.array([c.quality for c in ent.CAMPAIGNS] + [0.0])
        x += quality[leads["campaign"]]
    return x


def _campaign_leads(rng: np.random.Generator, plan: Plan) -> tuple[np.ndarray, ...]:
    created, source, campaign = [], [], []
    for i, c in enumerate(ent.CAMPAIGNS):
        n = plan.count(c.leads)
        last = min(clock.day_of(c.ended) + 1, clock.CUTOFF_DAY)
        created.append(clock.sample_times(rng, n, clock.day_of(c.started), last))
        source.append(np.full(n, c.source))
        campaign.append(np.full(n, i))
    return np.concatenate(created), np.concatenate(source), np.concatenate(campaign)


def new_prospect_leads(rng: np.random.Generator, plan: Plan) -> tuple[Cols, Cols]:
    """Leads of new prospects and the accounts they create."""
    c_created, c_source, c_campaign = _campaign_leads(rng, plan)
    n_plain = max(plan.count(13_500) - len(c_created), 1)
    weights = ent.NEW_SOURCE_WEIGHTS / ent.NEW_SOURCE_WEIGHTS.sum()
    created = np.concatenate(
        [clock.sample_times(rng, n_plain, clock.START_DAY, clock.CUTOFF_DAY), c_created]
    )
    source = np.concatenate(
        [rng.choice(len(ent.SOURCES), size=n_plain, p=weights), c_source]
    )
    campaign = np.concatenate([np.full(n_plain, len(ent.CAMPAIGNS)), c_campaign])
    acc = new_accounts(rng, created - rng.integers(60, 1800, len(created)), 60.0, False)
    acc["source"] = source
    leads = {
        "created": created,
        "account": np.arange(len(created)),
        "source": source,
        "campaign": campaign,
        "returning": np.zeros(len(created), dtype=bool),
        **lead_features(rng, source),
    }
    segment = np.where(ent.COLD[source], 0, 1)
    leads["owner"] = assign_owner(
        rng, segment, acc["region"], created // clock.DAY, plan
    )
    acc["owner"] = leads["owner"]
    return leads, acc


def convert_leads(
    rng: np.random.Generator, leads: Cols, acc: Cols, plan: Plan, target: float
) -> None:
    """Decide which leads become deals, when, and the lead's status fields."""
    n = len(leads["created"])
    leads["first_response"], leads["hours"] = response_delay(
        rng, leads["created"], leads["owner"], plan
    )
    x = lead_logit(leads, acc, plan)
    p = sigmoid(x + calibrate(x, target))
    start = np.where(
        leads["first_response"] >= 0, leads["first_response"], leads["created"]
    )
    deal_at = clock.snap_to_work(start + clock.lognormal_days(rng, 3.0, 0.8, n), rng)
    converted = (rng.random(n) < p) & (deal_at < clock.CUTOFF)
    decided = leads["created"] + 21 * clock.DAY < clock.CUTOFF
    leads["p"] = p
    leads["converted"] = converted
    leads["deal_at"] = np.where(converted, deal_at, -1)
    leads["status"] = np.where(converted, 0, np.where(decided, 1, 2))
    qualified = converted | (~converted & decided & (rng.random(n) < 0.3))
    q_at = np.where(converted, deal_at - rng.integers(0, 4 * clock.HOUR, n), deal_at)
    leads["qualified"] = np.where(qualified & (q_at < clock.CUTOFF), q_at, -1)
    leads["lost_reason"] = np.where(
        leads["status"] == 1, rng.integers(0, len(ent.LEAD_LOST_REASONS), n), -1
    )
    leads["potential"] = np.round(
        rng.lognormal(np.log(300_000), 1.0, n)
        * (acc["size"][leads["account"]] / 60) ** 0.2,
        -3,
    )
    leads["potential"][rng.random(n) < 0.35] = np.nan
    leads["need"] = rng.integers(0, len(ent.NEED_TYPES), n)


def pick_clients(
    rng: np.random.Generator, t: np.ndarray, acc: Cols, pool: np.ndarray
) -> np.ndarray:
    """An existing client for each time ``t``: a client by then, not about to churn."""
    since = acc["since"][pool]
    order = np.argsort(since, kind="stable")
    s_sorted = since[order]
    avail = np.searchsorted(s_sorted, t, side="left")
    pick = np.zeros(len(t), dtype=np.int64)
    todo = np.ones(len(t), dtype=bool)
    for _ in range(6):
        idx = np.flatnonzero(todo)
        k = (rng.random(len(idx)) * np.maximum(avail[idx], 1)).astype(np.int64)
        pick[idx] = pool[order[k]]
        churn = acc["churn"][pick]
        todo = (churn >= 0) & (t >= churn - 90 * clock.DAY)
        todo |= (acc["since"][pick] >= t) | (acc["peak"][pick] > 0)
        if not todo.any():
            break
    steady = (acc["churn"][pool] < 0) & (acc["peak"][pool] == 0)
    safe = pool[steady & (acc["since"][pool] <= t.min())]
    pick[todo] = rng.choice(safe, size=int(todo.sum()))
    return pick


def client_leads(
    rng: np.random.Generator, acc: Cols, pool: np.ndarray, plan: Plan
) -> Cols:
    """Leads sent by existing clients."""
    n = plan.count(2_300)
    created = clock.sample_times(rng, n, clock.START_DAY + 45, clock.CUTOFF_DAY)
    weights = ent.RETURNING_SOURCE_WEIGHTS / ent.RETURNING_SOURCE_WEIGHTS.sum()
    source = rng.choice(len(ent.SOURCES), size=n, p=weights)
    account = pick_clients(rng, created, acc, pool)
    leads = {
        "created": created,
        "account": account,
        "source": source,
        "campaign": np.full(n, len(ent.CAMPAIGNS)),
        "returning": np.ones(n, dtype=bool),
        **lead_features(rng, source),
    }
    leads["owner"] = assign_owner(
        rng, np.full(n, 2), acc["region"][account], created // clock.DAY, plan
    )
    return leads


def deal_block(leads: Cols, pipeline: int, *, lead_offset: int) -> Cols:
    """Deals of converted leads (pipeline 0 = main, 1 = service)."""
    conv = np.flatnonzero(leads["converted"])
    return {
        "created": leads["deal_at"][conv],
        "account": leads["account"][conv],
        "owner": leads["owner"][conv],
        "source": leads["source"][conv],
        "lead": conv + lead_offset,
        "campaign": leads["campaign"][conv],
        "returning": leads["returning"][conv],
        "pipeline": np.full(len(conv), pipeline),
    }


def direct_deals(
    rng: np.random.Generator,
    acc: Cols,
    pool: np.ndarray,
    plan: Plan,
    n: int,
    pipeline: int,
) -> Cols:
    """Deals opened by managers for existing clients, without a lead."""
    created = clock.sample_times(rng, n, clock.START_DAY + 45, clock.CUTOFF_DAY)
    account = pick_clients(rng, created, acc, pool)
    owner = assign_owner(
        rng, np.full(n, 2), acc["region"][account], created // clock.DAY, plan
    )
    return {
        "created": created,
        "account": account,
        "owner": owner,
        "source": np.full(n, -1),
        "lead": np.full(n, -1),
        "campaign": np.full(n, len(ent.CAMPAIGNS)),
        "returning": np.ones(n, dtype=bool),
        "pipeline": np.full(n, pipeline),
    }


def win_factor(rng: np.random.Generator, deals: Cols, plan: Plan) -> np.ndarray:
    """Multiplier of each deal's win probability (segment, manager, checklist)."""
    n = len(deals["created"])
    src_factor = np.append(ent.SOURCE_WIN_FACTOR, 1.0)[deals["source"]]
    f = src_factor * np.where(deals["returning"], RETURNING_FACTOR, 1.0)
    careless = plan.has("careless_manager")
    f *= ent.manager_factor(plan.has("manager_mix"), careless)[deals["owner"]]
    deals["next_step"] = rng.random(n) < 2.0 / 3.0
    if plan.has("checklist"):
        f *= np.where(deals["next_step"], CHECK_PASS, CHECK_FAIL)
    return f


def walk_deals(rng: np.random.Generator, deals: Cols, plan: Plan) -> funnel.Walk:
    """Stage histories of a block of deals of one pipeline."""
    n = len(deals["created"])
    factor = win_factor(rng, deals, plan)
    if deals["pipeline"][0] == 1 if n else False:
        return funnel.walk(rng, deals["created"], factor, funnel.SERVICE)
    journeys = plan.has("journeys")
    return funnel.walk(
        rng,
        deals["created"],
        factor,
        funnel.MAIN,
        drop=plan.has("stage_drop"),
        skip=rng.random(n) < (0.15 if journeys else 0.0),
        second=rng.random(n) < (0.6 if journeys else 0.0),
        reopen=0.05,
    )


def merge_walks(blocks: list[Cols], walks: list[funnel.Walk]) -> tuple[Cols, Cols]:
    """One deal store and one stage-row store from per-block results."""
    rows: list[Cols] = []
    offset = 0
    for d, w in zip(blocks, walks, strict=True):
        d["status"] = w.status
        d["closed"] = w.closed_at
        d["lost_step"] = w.lost_step
        rows.append({"deal": w.deal + offset, "stage": w.stage, "time": w.time})
        offset += len(d["created"])
    return concat(blocks), concat(rows)


def choose_clients(
    rng: np.random.Generator, acc: Cols, deals: Cols, plan: Plan
) -> np.ndarray:
    """Mark clients (legacy and first wins) with ordering rhythm, churn and season."""
    won = deals["status"] == funnel.WON
    first_win = np.full(len(acc["created"]), np.iinfo(np.int64).max)
    np.minimum.at(first_win, deals["account"][won], deals["closed"][won])
    new_client = (first_win < np.iinfo(np.int64).max) & ~acc["legacy"]
    acc["since"] = np.where(new_client, first_win, acc["since"])
    pool = np.flatnonzero(acc["since"] >= 0)
    fresh = pool[~acc["legacy"][pool]]
    acc["gap"][fresh] = np.clip(rng.lognormal(np.log(36.0), 0.5, len(fresh)), 8, 200)
    if plan.has("churn"):
        _plant_churn(rng, acc, pool)
    if plan.has("seasonal"):
        _plant_seasonal(rng, acc, pool)
    return pool


def _plant_churn(rng: np.random.Generator, acc: Cols, pool: np.ndarray) -> None:
    early = acc["since"][pool] <= clock.ts_of(dt.date(2024, 9, 1))
    cand = pool[early & (acc["gap"][pool] <= 60)]
    chosen = rng.choice(cand, size=round(0.05 * len(pool)), replace=False)
    lo = clock.day_of(dt.date(2025, 1, 15))
    quiet = np.maximum(3.5 * acc["gap"][chosen], 100).astype(np.int64)
    hi = clock.CUTOFF_DAY - quiet
    ok = hi > lo + 10
    chosen, hi = chosen[ok], hi[ok]
    day = lo + (rng.random(len(chosen)) * (hi - lo)).astype(np.int64)
    acc["churn"][chosen] = day * clock.DAY


def _plant_seasonal(rng: np.random.Generator, acc: Cols, pool: np.ndarray) -> None:
    cand = pool[
        acc["legacy"][pool] & (acc["gap"][pool] <= 45) & (acc["churn"][pool] < 0)
    ]
    chosen = rng.choice(cand, size=round(0.05 * len(pool)), replace=False)
    acc["peak"][chosen] = rng.integers(1, 13, len(chosen))


def legacy_accounts(rng: np.random.Generator, plan: Plan) -> Cols:
    """Clients the company already had before 2023, ordering from the first weeks."""
    n = plan.count(650)
    first = clock.day_of(dt.date(2012, 1, 1))
    days = rng.integers(first, clock.START_DAY - 30, n)
    created = clock.snap_to_work(days * clock.DAY + clock.work_seconds(rng, n), rng)
    acc = new_accounts(rng, created, 150.0, True)
    acc["gap"] = np.clip(rng.lognormal(np.log(28.0), 0.45, n), 7, 150)
    offset = (rng.random(n) * np.minimum(acc["gap"], 40) * clock.DAY).astype(np.int64)
    acc["since"] = clock.snap_to_work(clock.START_TS + offset, rng)
    acc["owner"] = assign_owner(
        rng, np.full(n, 2), acc["region"], np.full(n, clock.START_DAY), plan
    )
    acc["source"] = rng.choice(len(ent.SOURCES), size=n, p=ent.RETURNING_SOURCE_WEIGHTS)
    return acc
