"""Client-level revenue forecast, reconciled bottom-up (docs/metrics.md#forecast).

**Model** (a seasonal, damped-trend exponential-smoothing-style model in numpy; no
forecasting library needed). For client c with monthly revenue y over the last
``window`` full months:

- seasonal index s_c(m) of calendar month m = the client's mean revenue in m over its mean
  month, shrunk towards the company's index with weight ``season_weight`` years:
  s_c = (w·own + k·company) / (w + k), w = years of history (≤ 2);
- level L_c = mean of the last 12 months de-seasonalised (y / s_c);
- trend b_c = monthly growth (last 12 vs previous 12 months)^(1/12), clipped to
  [``-max_growth``, ``+max_growth``], damped by φ = ``damping``: the multiplier for h months
  ahead is b_c^(φ + φ² + … + φ^h);
- forecast ŷ_c(h) = L_c · trend(h) · s_c(month of h), **rounded to whole roubles**.

**Periods**: the forecast covers the ``horizon`` months after the month of ``as_of``
(the future periods; the running month is the plan's business, :mod:`crmlens.analytics.plan`).
The model learns from the full months that ended by ``as_of``: a month still running at
``as_of`` is left out of the history (its orders so far would read as a collapse), and
the forecast skips it.

**Reconciliation**: every level above the client (manager = the account owner, else the
manager of its latest order; team and region of that manager; company) is the sum of its
clients' rounded forecasts, so the levels add up exactly.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Literal

import ibis.expr.types as ir
import numpy as np

from crmlens.analytics._checks import require_columns

if TYPE_CHECKING:
    import pandas as pd

Level = Literal["client", "manager", "team", "region", "company"]
LEVELS: tuple[Level, ...] = ("client", "manager", "team", "region", "company")


def month_index(year: int, month: int) -> int:
    """Months since year 0 (January = 0)."""
    return year * 12 + month - 1


def month_label(index: int) -> str:
    """``YYYY-MM`` of a month index."""
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def last_full_month(as_of: dt.date) -> int:
    """Month index of the last calendar month that ended on or before `as_of`."""
    current = month_index(as_of.year, as_of.month)
    return current if (as_of + dt.timedelta(days=1)).day == 1 else current - 1


def first_future_month(as_of: dt.date) -> int:
    """Month index of the first month that starts after `as_of`."""
    return month_index(as_of.year, as_of.month) + 1


def client_month_revenue(orders: ir.Table, *, as_of: dt.date) -> ir.Table:
    """Revenue per client and month, for the full months that ended by `as_of`.

    Returns
    -------
    ir.Table
        account_id, year, month, revenue.
    """
    require_columns(orders, "orders", ["account_id", "order_date", "amount"])
    after = last_full_month(as_of) + 1
    first = dt.date(after // 12, after % 12 + 1, 1)
    known = orders.filter(
        orders.order_date < first, orders.amount.notnull(), orders.account_id.notnull()
    )
    return known.group_by(
        "account_id", year=known.order_date.year(), month=known.order_date.month()
    ).agg(revenue=known.amount.cast("float64").sum())


def client_owners(
    orders: ir.Table, accounts: ir.Table, managers: ir.Table, *, as_of: dt.date
) -> ir.Table:
    """Manager, team and region each client's forecast rolls up to.

    Returns
    -------
    ir.Table
        account_id, manager_id, team, region — manager = account owner, else the
        manager of the latest order known at `as_of`; NULLs become "(none)".
    """
    known = orders.filter(orders.order_date <= as_of, orders.manager_id.notnull())
    last = known.group_by("account_id").agg(_last=known.order_date.max())
    latest = known.join(last, "account_id").filter(lambda t: t.order_date == t._last)
    by_order = latest.group_by("account_id").agg(_om=latest.manager_id.max())
    acc = accounts.select("account_id", _owner=accounts.owner_id)
    clients = orders.filter(orders.order_date <= as_of).select("account_id").distinct()
    t = clients.left_join(acc, "account_id").drop("account_id_right")
    t = t.left_join(by_order, "account_id").drop("account_id_right")
    t = t.select("account_id", manager_id=t._owner.fill_null(t._om).fill_null("(none)"))
    mgr = managers.select("manager_id", _team=managers.team, _region=managers.region)
    t = t.left_join(mgr, "manager_id").drop("manager_id_right")
    return t.select(
        "account_id",
        "manager_id",
        team=t._team.fill_null("(none)"),
        region=t._region.fill_null("(none)"),
    )


class SeasonalTrendForecaster:
    """The model of the module docstring, fitted on a clients × months matrix."""

    def __init__(
        self,
        window: int = 36,
        season_weight: float = 2.0,
        damping: float = 0.9,
        max_growth: float = 0.05,
    ) -> None:
        self.window = window
        self.season_weight = season_weight
        self.damping = damping
        self.max_growth = max_growth

    def fit(self, panel: np.ndarray, first_month: int) -> SeasonalTrendForecaster:
        """Fit on `panel` (clients × consecutive months starting at `first_month`)."""
        y = np.asarray(panel, dtype=float)[:, -self.window :]
        self.first_month_ = first_month + max(panel.shape[1] - self.window, 0)
        n = y.shape[1]
        cal = (self.first_month_ + np.arange(n)) % 12
        self.season_ = self._season(y, cal)
        s_hist = np.take_along_axis(self.season_, np.broadcast_to(cal, y.shape), axis=1)
        desea = np.divide(y, s_hist, out=np.zeros_like(y), where=s_hist > 0)
        self.level_ = desea[:, -12:].mean(axis=1)
        prev = desea[:, -24:-12].mean(axis=1) if n >= 24 else self.level_
        growth = np.divide(self.level_, prev, out=np.ones_like(prev), where=prev > 0)
        rate = np.power(np.maximum(growth, 1e-9), 1 / 12)
        self.trend_ = np.clip(rate, 1 - self.max_growth, 1 + self.max_growth)
        self.next_month_ = self.first_month_ + n
        return self

    def _season(self, y: np.ndarray, cal: np.ndarray) -> np.ndarray:
        mean = y.mean(axis=1, keepdims=True)
        own = np.stack([y[:, cal == m].mean(axis=1) for m in range(12)], axis=1)
        own = np.divide(own, mean, out=np.ones_like(own), where=mean > 0)
        tot = y.sum(axis=0)
        company = np.array([tot[cal == m].mean() for m in range(12)])
        company = company / company.mean() if company.mean() > 0 else np.ones(12)
        active = (y > 0).any(axis=0)
        w = np.minimum(active.sum() / 12.0, 2.0)
        k = self.season_weight
        return (w * own + k * company) / (w + k)

    def predict(self, horizon: int) -> np.ndarray:
        """Forecasts (clients × horizon), whole roubles."""
        if not hasattr(self, "level_"):
            from crmlens.errors import NotFittedError

            raise NotFittedError(
                "This SeasonalTrendForecaster instance is not fitted yet. Call 'fit' "
                "with appropriate arguments before using this estimator."
            )
        steps = np.arange(1, horizon + 1)
        power = np.cumsum(self.damping**steps)
        mult = np.power(self.trend_[:, None], power[None, :])
        cal = (self.next_month_ + steps - 1) % 12
        out = self.level_[:, None] * mult * self.season_[:, cal]
        return np.round(np.maximum(out, 0.0))


def to_panel(
    months: pd.DataFrame, *, last_month: int
) -> tuple[np.ndarray, np.ndarray, int]:
    """Clients × months matrix from account_id, year, month, revenue rows.

    Returns (account ids, panel, first month index); months run to `last_month`.
    """
    idx = months["year"].to_numpy() * 12 + months["month"].to_numpy() - 1
    ids, row = np.unique(
        months["account_id"].to_numpy().astype(str), return_inverse=True
    )
    first = int(idx.min()) if len(idx) else last_month
    panel = np.zeros((len(ids), last_month - first + 1))
    np.add.at(panel, (row, idx - first), months["revenue"].to_numpy(float))
    return ids, panel, first


def reconcile(
    clients: pd.DataFrame, owners: pd.DataFrame, *, level: Level
) -> pd.DataFrame:
    """Sum client forecasts (account_id, period, forecast_amount) up to `level`.

    Returns level_id, period, forecast_amount, clients_count; sums of whole roubles, so
    every level adds up exactly to the one below.
    """
    if level == "client":
        out = clients.rename(columns={"account_id": "level_id"})
        return out.assign(clients_count=1)[
            ["level_id", "period", "forecast_amount", "clients_count"]
        ]
    # As objects on both sides: an empty forecast's account_id is float64.
    key_as_object = {"account_id": "object"}
    t = clients.astype(key_as_object).merge(
        owners.astype(key_as_object), on="account_id", how="left"
    )
    key = {"manager": "manager_id", "team": "team", "region": "region"}.get(level)
    t["level_id"] = t[key].fillna("(none)") if key else "company"
    grouped = t.groupby(["level_id", "period"], sort=True)
    return grouped.agg(
        forecast_amount=("forecast_amount", "sum"),
        clients_count=("account_id", "nunique"),
    ).reset_index()
