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
from typing import TYPE_CHECKING, Any

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
        import pandas as pd

        indices = history.groupby(["pipeline_id", "position"], sort=True).indices
        keys: list[tuple[Any, Any]] = list(indices)  # type: ignore[arg-type]
        rows = list(indices.values())
        dtc = history["days_to_close"].to_numpy(float)
        won = history["is_won"].to_numpy(bool)
        groups = pd.DataFrame(
            {
                "pipeline_id": [k[0] for k in keys],
                "position": [k[1] for k in keys],
                "days_to_close": [dtc[i] for i in rows],
                "won_days_to_close": [dtc[i][won[i]] for i in rows],
            }
        )
        return self.fit_groups(groups)

    def fit_groups(self, groups: pd.DataFrame) -> StageCloseModel:
        """Learn from one row per stage, as :func:`crmlens.analytics.plan.stage_close_days`.

        Rows pipeline_id, position, days_to_close (the days from entering the stage to
        closing, of every closed deal that entered it: an array) and won_days_to_close
        (the same of the won ones).
        """
        self.groups_: dict[tuple[str, int], tuple[np.ndarray, np.ndarray]] = {}
        won_parts, n_all, n_won = [], 0, 0
        for pipeline, position, days, won in zip(
            groups["pipeline_id"],
            groups["position"],
            groups["days_to_close"],
            groups["won_days_to_close"],
            strict=True,
        ):
            all_days = np.sort(np.asarray(days, dtype=float))
            # No won deal in the stage: an empty array, or NULL from the warehouse.
            won_days = np.sort(np.asarray([] if won is None else won, dtype=float))
            self.groups_[(str(pipeline), int(position))] = (all_days, won_days)
            won_parts.append(won_days)
            n_all, n_won = n_all + len(all_days), n_won + len(won_days)
        self.base_rate_ = n_won / n_all if n_all else 0.0
        # The parts are sorted runs: a merge (stable sort) orders them fastest.
        self.won_days_ = (
            np.sort(np.concatenate(won_parts), kind="stable")
            if won_parts
            else np.empty(0)
        )
        return self

    def predict(
        self, deals: pd.DataFrame, *, rest_days: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """p_win and p_close for rows pipeline_id, position, age_days."""
        import pandas as pd

        if not hasattr(self, "groups_"):
            raise NotFittedError(type(self).__name__)
        p_win = np.full(len(deals), self.base_rate_)
        p_close = np.full(len(deals), _share_within(self.won_days_, 0.0, rest_days))
        if not len(deals):
            return p_win, p_close
        ages = deals["age_days"].to_numpy(float)
        keys = pd.DataFrame(
            {
                "p": deals["pipeline_id"].astype(str).to_numpy(),
                "s": deals["position"].to_numpy(np.int64),
            }
        )
        for key, rows in keys.groupby(["p", "s"]).indices.items():
            pair: tuple[Any, Any] = key  # type: ignore[assignment]
            group = self.groups_.get((str(pair[0]), int(pair[1])))
            if group is not None:
                p_win[rows], p_close[rows] = self._many(group, ages[rows], rest_days)
        return p_win, p_close

    def _many(
        self, group: tuple[np.ndarray, np.ndarray], age: np.ndarray, rest: float
    ) -> tuple[np.ndarray, np.ndarray]:
        all_days, won_days = group
        k = self.prior_weight
        stage_rate = len(won_days) / len(all_days) if len(all_days) else self.base_rate_
        n_alive = len(all_days) - np.searchsorted(all_days, age, side="left")
        w_alive = len(won_days) - np.searchsorted(won_days, age, side="left")
        closing = np.searchsorted(won_days, age + rest, side="right") - (
            len(won_days) - w_alive
        )
        prior = _share_within(won_days, 0.0, rest)
        with np.errstate(divide="ignore", invalid="ignore"):
            p_win = (w_alive + k * stage_rate) / (n_alive + k)
            p_close = (closing + k * prior) / (w_alive + k)
        return p_win.astype(float), p_close.astype(float)


def _share_within(days: np.ndarray, low: float, high: float) -> float:
    if len(days) == 0:
        return 0.0
    inside = np.searchsorted(days, high, side="right") - np.searchsorted(days, low)
    return float(inside / len(days))


def repeat_run_rate(
    clients: pd.DataFrame,
    calendar: pd.DataFrame,
    *,
    year: int,
    month: int,
    window: int = 24,
    season_weight: float = 2.0,
) -> pd.DataFrame:
    """Expected repeat revenue and orders of each client in month (`year`, `month`).

    `clients` has, per client, its repeat orders over the `window` full months before
    the target month (:func:`crmlens.analytics.plan.client_repeat_stats`): account_id,
    revenue, orders_count, sum_sq_amount, first_month, same_month_revenue; `calendar`
    the revenue of all clients per calendar month over the same window (month,
    revenue). Returns account_id, expected_revenue, expected_orders, mean_sq_amount
    (for the whole month).
    """
    import pandas as pd

    cols = ["account_id", "expected_revenue", "expected_orders", "mean_sq_amount"]
    if clients.empty:
        return pd.DataFrame({c: [] for c in cols})
    now = year * 12 + month - 1
    revenue = clients["revenue"].to_numpy(float)
    orders = clients["orders_count"].to_numpy(float)
    span = np.clip(now - clients["first_month"].to_numpy(float), 3, window)
    long_level = revenue / span
    cal = np.zeros(12)
    months = calendar["month"].to_numpy(int)
    np.add.at(cal, months - 1, calendar["revenue"].to_numpy(float))
    company_idx = cal / max(cal.mean(), 1e-9)
    years = np.maximum(span / 12.0, 1.0)
    own_idx = np.divide(
        clients["same_month_revenue"].to_numpy(float) / years,
        long_level,
        out=np.zeros_like(long_level),
        where=long_level > 0,
    )
    w = np.minimum(years, 2.0)
    idx = (w * own_idx + season_weight * company_idx[month - 1]) / (w + season_weight)
    return pd.DataFrame(
        {
            "account_id": clients["account_id"].to_numpy().copy(),
            "expected_revenue": long_level * idx,
            "expected_orders": orders / span * idx,
            "mean_sq_amount": clients["sum_sq_amount"].to_numpy(float)
            / np.maximum(orders, 1),
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
    # Single-precision uniforms halve the cost of the draws (tens of millions for a
    # scope with thousands of open deals); the sums stay in double precision.
    probs = np.asarray(deal_probs, dtype=np.float32)
    amounts = np.asarray(deal_amounts, dtype=np.float64)
    hits = np.empty((n_sims, min(len(amounts), 4000)))
    for lo in range(0, len(amounts), 4000):
        chunk = slice(lo, lo + 4000)
        draws = rng.random((n_sims, len(amounts[chunk])), dtype=np.float32)
        # 0/1 written straight as doubles: the product is the one of the boolean
        # matrix (which matmul converts to doubles first), without the temporaries.
        hit = hits[:, : draws.shape[1]]
        np.less(draws, probs[chunk], out=hit)
        totals += hit @ amounts[chunk]
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
