"""Plan forecast models: win and close-time of open deals, repeat run-rate, Monte Carlo.

They work on small per-entity tables (pandas) materialised from the Ibis inputs of
:mod:`crmlens.analytics.plan`, and never read the clock.

- **Win probability by stage and age**: among closed deals that entered working stage S
  and were still open `a` days later, the share won, shrunk towards S's overall win rate
  (weight ``prior_weight`` deals).
- **Close date from the stage-time distribution**: among won deals of S still open `a`
  days after entering it, the share that closed within `a + r` days (r = days left in the
  period), shrunk towards the same share ignoring age.
- **Repeat run-rate aware of seasonality**: a client's mean monthly repeat revenue over
  the last 24 full months times its seasonal index of the month, the client's own index
  shrunk towards the company's (weight ``season_weight`` years); scaled by the share of
  the period left. Counts of orders the same way; variance by compound Poisson.
- **Probability of reaching the target**: seeded Monte Carlo — each open deal is won
  inside the period with probability p_win × p_close, repeat revenue is Gamma with the
  run-rate's mean and variance (plus a level uncertainty ``level_cv``).
"""

from __future__ import annotations

import math
import zlib
from typing import TYPE_CHECKING

import numpy as np

from crmlens.errors import NotFittedError

if TYPE_CHECKING:
    import pandas as pd

GREEN, YELLOW = 0.8, 0.4


class StageCloseModel:
    """P(win) and P(close within r days | win) by pipeline stage and age in stage."""

    def __init__(self, prior_weight: float = 10.0) -> None:
        self.prior_weight = prior_weight

    def fit(self, history: pd.DataFrame) -> StageCloseModel:
        """Learn from rows pipeline_id, position, days_to_close, is_won."""
        self.groups_: dict[tuple[str, int], tuple[np.ndarray, np.ndarray]] = {}
        for key, g in history.groupby(["pipeline_id", "position"], sort=True):
            dtc = g["days_to_close"].to_numpy(float)
            won = g["is_won"].to_numpy(bool)
            pipeline, position = key
            pos = int(position)  # type: ignore[call-overload]
            self.groups_[(str(pipeline), pos)] = (np.sort(dtc), np.sort(dtc[won]))
        won_all = history["is_won"].to_numpy(bool)
        self.base_rate_ = float(won_all.mean()) if len(won_all) else 0.0
        self.won_days_ = np.sort(history["days_to_close"].to_numpy(float)[won_all])
        return self

    def predict(
        self, deals: pd.DataFrame, *, rest_days: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """p_win and p_close for rows pipeline_id, position, age_days."""
        if not hasattr(self, "groups_"):
            raise NotFittedError(
                "This StageCloseModel instance is not fitted yet. Call 'fit' with "
                "appropriate arguments before using this estimator."
            )
        p_win = np.full(len(deals), self.base_rate_)
        p_close = np.full(len(deals), _share_within(self.won_days_, 0.0, rest_days))
        keys = list(zip(deals["pipeline_id"], deals["position"], strict=True))
        ages = deals["age_days"].to_numpy(float)
        for i, (key, age) in enumerate(zip(keys, ages, strict=True)):
            group = self.groups_.get((str(key[0]), int(key[1])))
            if group is not None:
                p_win[i], p_close[i] = self._one(group, age, rest_days)
        return p_win, p_close

    def _one(
        self, group: tuple[np.ndarray, np.ndarray], age: float, rest: float
    ) -> tuple[float, float]:
        all_days, won_days = group
        k = self.prior_weight
        stage_rate = len(won_days) / len(all_days) if len(all_days) else self.base_rate_
        n_alive = len(all_days) - np.searchsorted(all_days, age, side="left")
        w_alive = len(won_days) - np.searchsorted(won_days, age, side="left")
        p_win = (w_alive + k * stage_rate) / (n_alive + k)
        closing = np.searchsorted(won_days, age + rest, side="right") - (
            len(won_days) - w_alive
        )
        prior = _share_within(won_days, 0.0, rest)
        p_close = (closing + k * prior) / (w_alive + k)
        return float(p_win), float(p_close)


def _share_within(days: np.ndarray, low: float, high: float) -> float:
    if len(days) == 0:
        return 0.0
    inside = np.searchsorted(days, high, side="right") - np.searchsorted(days, low)
    return float(inside / len(days))


def repeat_run_rate(
    months: pd.DataFrame,
    *,
    year: int,
    month: int,
    window: int = 24,
    season_weight: float = 2.0,
) -> pd.DataFrame:
    """Expected repeat revenue and orders of each client in month (`year`, `month`).

    `months` has account_id, year, month, revenue, orders_count, sum_sq_amount for the
    full months before the target month. Returns account_id, expected_revenue,
    expected_orders, mean_sq_amount (for the whole month).
    """
    import pandas as pd

    first = year * 12 + month - 1 - window
    m = months.assign(idx=months["year"] * 12 + months["month"] - 1)
    m = m[m["idx"] >= first]
    cols = ["account_id", "expected_revenue", "expected_orders", "mean_sq_amount"]
    if m.empty:
        return pd.DataFrame({c: [] for c in cols})
    per = m.groupby("account_id").agg(
        revenue=("revenue", "sum"),
        orders=("orders_count", "sum"),
        sum_sq=("sum_sq_amount", "sum"),
        since=("idx", "min"),
    )
    now = year * 12 + month - 1
    span = np.clip(now - per["since"].to_numpy(), 3, window)
    long_level = per["revenue"].to_numpy() / span
    cal = m.groupby("month")["revenue"].sum().reindex(range(1, 13), fill_value=0.0)
    company_idx = cal.to_numpy() / max(cal.mean(), 1e-9)
    same = m[m["month"] == month].groupby("account_id")["revenue"].sum()
    years = np.maximum(span / 12.0, 1.0)
    own_idx = np.divide(
        same.reindex(per.index, fill_value=0.0).to_numpy() / years,
        long_level,
        out=np.zeros_like(long_level),
        where=long_level > 0,
    )
    w = np.minimum(years, 2.0)
    idx = (w * own_idx + season_weight * company_idx[month - 1]) / (w + season_weight)
    level = long_level
    rate = per["orders"].to_numpy() / span
    per.index.name = None
    return pd.DataFrame(
        {
            "account_id": per.index.to_numpy().copy(),
            "expected_revenue": level * idx,
            "expected_orders": rate * idx,
            "mean_sq_amount": per["sum_sq"].to_numpy() / np.maximum(per["orders"], 1),
        }
    )


def reach_probability(
    *,
    fact: float,
    target: float,
    deal_amounts: np.ndarray,
    deal_probs: np.ndarray,
    repeat_mean: float,
    repeat_var: float,
    seed: int,
    key: str,
    n_sims: int = 2000,
    level_cv: float = 0.15,
) -> tuple[float, float, float]:
    """P(fact + simulated rest ≥ target), and the 10th and 90th percentiles.

    The random stream depends only on `seed` and `key` (the scope), so a scope's result
    does not change when other scopes are added.
    """
    rng = np.random.default_rng([seed, zlib.crc32(key.encode())])
    totals = np.full(n_sims, float(fact))
    for lo in range(0, len(deal_amounts), 4000):
        hit = rng.random((n_sims, len(deal_amounts[lo : lo + 4000])))
        totals += (hit < deal_probs[lo : lo + 4000]) @ deal_amounts[lo : lo + 4000]
    var = repeat_var + (level_cv * repeat_mean) ** 2
    if repeat_mean > 0 and var > 0:
        shape = repeat_mean**2 / var
        totals += rng.gamma(shape, var / repeat_mean, n_sims)
    p10, p90 = np.percentile(totals, [10, 90])
    if not math.isfinite(target) or target <= 0:
        return float("nan"), float(p10), float(p90)
    return float((totals >= target).mean()), float(p10), float(p90)


def light(probability: float, *, green: float = GREEN, yellow: float = YELLOW) -> str:
    """green when probability ≥ `green`, yellow when ≥ `yellow`, else red; none if NaN."""
    if not math.isfinite(probability):
        return "none"
    if probability >= green:
        return "green"
    return "yellow" if probability >= yellow else "red"
