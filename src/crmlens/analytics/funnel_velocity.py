"""Pipeline velocity by month (docs/metrics.md#pipeline-velocity).

**Pipeline velocity** = open deals × win rate × average won amount / median cycle days:
money the pipeline turns into revenue per day. Per month (``YYYY-MM``) of each pipeline
(and group):

- open_deals: deals open at the end of the month (created by then, not yet closed; the
  last month ends at ``as_of``);
- win_rate = won / (won + lost) among deals closed in the month;
- avg_won_amount: mean amount of the deals won in the month;
- median_cycle_days: median days from creation to closing of the deals won in the month;
- pipeline_velocity: NULL when a factor is missing or the cycle is 0 days.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir
from ibis import _

from crmlens.analytics.funnel import days_between
from crmlens.analytics.funnel_groups import GROUP_COLUMN, period_label


def pipeline_velocity(facts: ir.Table, *, grouped: bool = False) -> ir.Table:
    """Velocity per month from deal facts (:func:`crmlens.analytics.funnel.deal_facts`).

    Parameters
    ----------
    facts
        One row per deal known at ``as_of`` with status_as_of and closed_at_as_of.
    grouped
        The facts carry ``group_value`` (``--by``): one series per group.

    Returns
    -------
    ir.Table
        pipeline_id, [group_value,] month, open_deals, closed_deals, won_deals,
        win_rate, avg_won_amount, median_cycle_days, pipeline_velocity.
    """
    keys = ["pipeline_id", GROUP_COLUMN] if grouped else ["pipeline_id"]
    created = facts.group_by([*keys, period_label(_.created_at, "month").name("month")])
    created = created.agg(n_created=_.count())
    closed_f = facts.filter(_.status_as_of != "open").mutate(
        month=period_label(_.closed_at_as_of, "month")
    )
    closed = closed_f.group_by([*keys, "month"]).agg(
        closed_deals=_.count(), won_deals=(_.status_as_of == "won").cast("int64").sum()
    )
    won = (
        closed_f.filter(_.status_as_of == "won")
        .mutate(cycle=days_between(_.created_at, _.closed_at_as_of))
        .group_by([*keys, "month"])
        .agg(avg_won_amount=_.amount.mean(), median_cycle_days=_.cycle.median())
    )
    months = created.select(*keys, "month").union(closed.select(*keys, "month"))
    t = months.distinct()
    for part in (created, closed, won):
        t = t.left_join(part, [*keys, "month"])
        t = t.drop(*[c for c in t.columns if c.endswith("_right")])
    return _finish(t, keys)


def _finish(t: ir.Table, keys: list[str]) -> ir.Table:
    t = t.mutate(
        n_created=_.n_created.fill_null(0).cast("int64"),
        closed_deals=_.closed_deals.fill_null(0).cast("int64"),
        won_deals=_.won_deals.fill_null(0).cast("int64"),
    )
    w = ibis.window(group_by=keys, order_by="month", preceding=None, following=0)
    t = t.mutate(open_deals=(_.n_created.sum().over(w) - _.closed_deals.sum().over(w)))
    t = t.mutate(
        open_deals=_.open_deals.cast("int64"),
        win_rate=ibis.cases(
            (_.closed_deals > 0, _.won_deals.cast("float64") / _.closed_deals),
            else_=ibis.null("float64"),
        ),
    )
    velocity = ibis.cases(
        (
            _.median_cycle_days > 0,
            _.open_deals * _.win_rate * _.avg_won_amount / _.median_cycle_days,
        ),
        else_=ibis.null("float64"),
    )
    return t.select(
        *keys,
        "month",
        "open_deals",
        "closed_deals",
        "won_deals",
        "win_rate",
        "avg_won_amount",
        "median_cycle_days",
        pipeline_velocity=velocity,
    ).order_by([*keys, "month"])
