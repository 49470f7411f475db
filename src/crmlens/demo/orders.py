"""Orders: each client keeps ordering with its own rhythm after it became a client.

Clients the company had before 2023 order from January 2023; new clients from the day
their first deal was won (that deal's own order carries its ``deal_id``). Planted:
seasonal clients buy several times more in one month a year; churned clients stop.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from crmlens.demo import clock, funnel
from crmlens.demo import entities as ent
from crmlens.demo.accounts import Cols, concat

PRODUCT_CATEGORY_WEIGHTS = np.array([0.22, 0.1, 0.18, 0.2, 0.14, 0.12, 0.04])
SEASON_BOOST = 3.0


def repeat_orders(rng: np.random.Generator, acc: Cols, pool: np.ndarray) -> Cols:
    """Rhythmic orders of the client pool (without the orders of won deals)."""
    gap = acc["gap"][pool]
    legacy = acc["legacy"][pool]
    start = acc["since"][pool] + np.where(legacy, 0, gap * clock.DAY).astype(np.int64)
    end = np.where(acc["churn"][pool] >= 0, acc["churn"][pool], clock.CUTOFF)
    n_each = np.maximum(0, np.ceil((end - start) / (gap * clock.DAY))).astype(np.int64)
    who = np.repeat(np.arange(len(pool)), n_each)
    first = np.cumsum(n_each) - n_each
    k = np.arange(len(who)) - np.repeat(first, n_each)
    jitter = rng.normal(0.0, 0.18, len(who)) * (k > 0)
    t = start[who] + ((k + jitter) * gap[who] * clock.DAY).astype(np.int64)
    t = clock.snap_to_work(np.maximum(t, start[who]), rng)
    keep = t < end[who]
    out = {"account": pool[who][keep], "at": t[keep]}
    extra = _peak_orders(rng, acc, pool, start, end)
    return concat([out, extra])


def _peak_orders(
    rng: np.random.Generator,
    acc: Cols,
    pool: np.ndarray,
    start: np.ndarray,
    end: np.ndarray,
) -> Cols:
    seasonal = np.flatnonzero(acc["peak"][pool] > 0)
    accs, times = [], []
    for year in (2023, 2024, 2025):
        for _ in range(2):
            month = acc["peak"][pool[seasonal]]
            first = np.array(
                [clock.day_of(dt.date(year, m, 1)) for m in month], dtype=np.int64
            )
            day = first + rng.integers(0, 28, len(seasonal))
            t = clock.snap_to_work(
                day * clock.DAY + clock.work_seconds(rng, len(day)), rng
            )
            ok = (t >= start[seasonal]) & (t < end[seasonal])
            ok &= clock.month_of_year(t) == month
            accs.append(pool[seasonal][ok])
            times.append(t[ok])
    return {
        "account": np.concatenate(accs).astype(np.int64),
        "at": np.concatenate(times).astype(np.int64),
    }


def all_orders(
    rng: np.random.Generator,
    acc: Cols,
    pool: np.ndarray,
    deals: Cols,
    prices: np.ndarray,
    costs: np.ndarray,
    categories: np.ndarray,
) -> Cols:
    """Repeat orders and the orders of won deals, with amounts and products; sorted."""
    rep = repeat_orders(rng, acc, pool)
    n_rep = len(rep["at"])
    won = np.flatnonzero(deals["status"] == funnel.WON)
    dl = {"account": deals["account"][won], "at": deals["closed"][won]}
    orders = concat([rep, dl])
    orders["deal"] = np.concatenate([np.full(n_rep, -1), won])
    owner = acc["owner"][rep["account"]]
    gone = rep["at"] >= ent.left_ts()[owner]
    owner = np.where(gone, ent.successor()[owner], owner)
    orders["manager"] = np.concatenate([owner, deals["owner"][won]])
    base = _account_base(rng, acc)
    amount = base[orders["account"]] * rng.lognormal(0.0, 0.35, len(orders["at"]))
    month = clock.month_of_year(orders["at"])
    amount *= clock.SEASON[month - 1]
    peak = acc["peak"][orders["account"]]
    amount *= np.where((peak > 0) & (month == peak), SEASON_BOOST, 1.0)
    deal_amount = deals["amount"][won]
    deal_amount = np.where(np.isnan(deal_amount), amount[n_rep:], deal_amount)
    amount[n_rep:] = deal_amount
    orders["amount"] = np.round(amount, -1)
    _products(rng, orders, acc, deals, prices, costs, categories)
    churn = acc["churn"][orders["account"]]
    keep = (churn < 0) | (orders["at"] < churn)
    orders = {k: v[keep] for k, v in orders.items()}
    orders["day"] = orders["at"] // clock.DAY
    order = np.lexsort((orders["account"], orders["at"]))
    return {k: v[order] for k, v in orders.items()}


def _account_base(rng: np.random.Generator, acc: Cols) -> np.ndarray:
    n = len(acc["created"])
    size = np.maximum(acc["size"], 1)
    return 70_000 * (size / 100.0) ** 0.3 * rng.lognormal(0.0, 0.6, n)


def _products(
    rng: np.random.Generator,
    orders: Cols,
    acc: Cols,
    deals: Cols,
    prices: np.ndarray,
    costs: np.ndarray,
    categories: np.ndarray,
) -> None:
    n = len(orders["at"])
    n_acc = len(acc["created"])
    w = PRODUCT_CATEGORY_WEIGHTS / PRODUCT_CATEGORY_WEIGHTS.sum()
    favourite = rng.choice(len(w), size=n_acc, p=w)
    cat = np.where(
        rng.random(n) < 0.75,
        favourite[orders["account"]],
        rng.choice(len(w), size=n, p=w),
    )
    by_cat = [np.flatnonzero(categories == c) for c in range(len(w))]
    sizes = np.array([len(b) for b in by_cat])
    starts = np.cumsum(sizes) - sizes
    flat = np.concatenate(by_cat)
    product = flat[starts[cat] + (rng.random(n) * sizes[cat]).astype(np.int64)]
    has_deal = orders["deal"] >= 0
    deal_product = deals["product"][np.maximum(orders["deal"], 0)]
    product = np.where(has_deal & (deal_product >= 0), deal_product, product)
    orders["product"] = product
    orders["quantity"] = np.maximum(1, np.round(orders["amount"] / prices[product]))
    ratio = costs[product] / prices[product]
    orders["cost"] = np.round(orders["amount"] * ratio * rng.uniform(0.96, 1.04, n), -1)
