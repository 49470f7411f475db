"""Silent clients: each client's usual gap between purchases and its status as of a date.

Definitions (docs/metrics.md#churn):

- purchases are orders with ``amount > 0`` on or before ``as_of``;
- ``usual_gap_days`` = (last purchase - first purchase) / (purchases - 1), the client's
  own mean gap, when it has at least `min_orders` purchases; for clients with fewer, the
  base's typical gap (the mean of the own gaps of the clients that have one) stands in,
  since two dates say little about a rhythm; never less than `min_gap_days`;
- ``gap_ratio`` = days_since_last_order / usual_gap_days;
- ``status``: ``active`` when gap_ratio <= ratios[0], ``at_risk`` when <= ratios[1],
  ``silent`` when <= ratios[2], else ``lost``;
- ``revenue_at_stake`` = net revenue of the 365 days up to and including the last
  purchase: a year of what the client used to buy.
"""

from __future__ import annotations

import datetime as dt

import ibis
import ibis.expr.types as ir
from ibis import _

from crmlens.analytics.customers import orders_until

STATUSES = ("active", "at_risk", "silent", "lost")


def client_gaps(
    orders: ir.Table, *, as_of: dt.date, min_orders: int = 3, min_gap_days: float = 7.0
) -> ir.Table:
    """Per client: purchases, first/last purchase and the usual gap between purchases.

    Returns
    -------
    ir.Table
        account_id, orders_count, first_order_date, last_order_date,
        days_since_last_order, own_gap_days (null below `min_orders` purchases),
        usual_gap_days, gap_source (``own`` or ``base``), revenue_at_stake.
    """
    dated = orders_until(orders, as_of=as_of)
    buys = dated.filter(_.amount > 0)
    per = buys.group_by("account_id").agg(
        orders_count=_.count().cast("int64"),
        first_order_date=_.order_date.min(),
        last_order_date=_.order_date.max(),
    )
    span = per.last_order_date.delta(per.first_order_date, unit="day")
    per = per.mutate(
        own_gap_days=ibis.ifelse(
            per.orders_count >= min_orders,
            span.cast("float64") / (per.orders_count - 1).cast("float64"),
            None,
        ),
        days_since_last_order=ibis.literal(as_of)
        .delta(per.last_order_date, unit="day")
        .cast("int64"),
    )
    base_gap = per.own_gap_days.mean().over()
    per = per.mutate(
        usual_gap_days=ibis.greatest(
            per.own_gap_days.fill_null(base_gap), ibis.literal(min_gap_days)
        ),
        gap_source=ibis.ifelse(per.own_gap_days.isnull(), "base", "own"),
    )
    return per.join(_last_year_revenue(dated, per), "account_id")


def _last_year_revenue(dated: ir.Table, per: ir.Table) -> ir.Table:
    last = per.select(acc="account_id", last="last_order_date")
    joined = dated.join(last, dated.account_id == last.acc)
    age = joined.last.delta(joined.order_date, unit="day")
    return (
        joined.filter((age >= 0) & (age < 365))
        .group_by(account_id=_.acc)
        .agg(revenue_at_stake=_.amount.sum())
    )


def churn_status(
    orders: ir.Table,
    *,
    as_of: dt.date,
    ratios: tuple[float, float, float] = (1.5, 2.5, 5.0),
    min_orders: int = 3,
    min_gap_days: float = 7.0,
) -> ir.Table:
    """Status of every client as of `as_of` (see the module docstring).

    Returns
    -------
    ir.Table
        The columns of :func:`client_gaps` plus gap_ratio, status and
        expected_order_date (last purchase + usual gap, rounded to whole days).
    """
    gaps = client_gaps(
        orders, as_of=as_of, min_orders=min_orders, min_gap_days=min_gap_days
    )
    ratio = gaps.days_since_last_order.cast("float64") / gaps.usual_gap_days
    active, at_risk, silent = ratios
    out = gaps.mutate(gap_ratio=ratio).mutate(
        status=ibis.cases(
            (_.gap_ratio <= active, "active"),
            (_.gap_ratio <= at_risk, "at_risk"),
            (_.gap_ratio <= silent, "silent"),
            else_="lost",
        ),
        expected_order_date=_.last_order_date
        + _.usual_gap_days.round().cast("int64").as_interval("D"),
    )
    return out.select(
        "account_id", "orders_count", "first_order_date", "last_order_date",
        "days_since_last_order", "own_gap_days", "usual_gap_days", "gap_source",
        "gap_ratio", "status", "expected_order_date", "revenue_at_stake",
    ).order_by(ibis.desc("revenue_at_stake"), "account_id")  # fmt: skip


def status_summary(status: ir.Table) -> ir.Table:
    """Clients and revenue at stake by status: status, clients, revenue_at_stake."""
    return status.group_by("status").agg(
        clients=_.count().cast("int64"), revenue_at_stake=_.revenue_at_stake.sum()
    )
