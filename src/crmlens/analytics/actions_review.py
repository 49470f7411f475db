"""Outcome review of next-best-action lists: was the action done, and what came of it.

Definitions (docs/metrics.md#actions-review), for an action on a list of day ``D``:

- **Followed**: a call, meeting, visit or e-mail (by anyone) was logged on the action's
  object — the lead or the lead's client (``call_lead``: once a lead becomes a deal,
  CRMs log the calls on the deal and its client), the deal (``push_deal``) or the
  client (the other kinds) — at a time in ``[D, D + follow_days)``.
- **Outcome** within ``[D, D + outcome_days)``: ``call_lead`` — a deal was made from the
  lead; ``push_deal`` — the deal was won; ``offer_product`` — the client ordered the
  offered product; ``seasonal_order`` and ``win_back`` — the client placed an order.
  ``outcome_amount``: the new deal's amount, the won deal's amount, or the orders'
  amount in the window.
- **Conversion** = actions with an outcome / actions, compared between followed and not
  followed actions (with a 95 % Wilson interval); ``window_complete`` says whether the
  data reaches ``D + outcome_days``.
"""

from __future__ import annotations

import datetime as dt

import ibis
import ibis.expr.types as ir
from ibis import _

from crmlens.analytics._checks import require_columns
from crmlens.analytics.actions import CONTACT_TYPES, activity_time
from crmlens.analytics.managers_activity import wilson

DAY = 86400
LIST_COLUMNS = ("action_id", "list_date", "manager_id", "kind", "list", "account_id",
                "lead_id", "deal_id", "product_id", "expected_value")  # fmt: skip


def _epoch(day: ir.Value) -> ir.IntegerValue:
    return day.cast("timestamp").epoch_seconds().cast("int64")  # type: ignore[no-any-return]


def _windowed(items: ir.Table, days: int, at: ir.Value) -> ir.BooleanValue:
    t = at.epoch_seconds().cast("int64")  # type: ignore[attr-defined]
    return (t >= items.start_s) & (t < items.start_s + days * DAY)  # type: ignore[no-any-return]


def followed_actions(
    items: ir.Table, activities: ir.Table, *, follow_days: int
) -> ir.Table:
    """action_id of the items with a contact activity on their object in the window."""
    acts = activities.filter(_.type.isin(CONTACT_TYPES))
    acts = acts.select(
        a_lead="lead_id", a_deal="deal_id", a_acc="account_id", a_at=activity_time(acts)
    )
    parts = []
    for kind_filter, left, right in (
        (items.kind == "call_lead", "lead_id", "a_lead"),
        (items.kind == "push_deal", "deal_id", "a_deal"),
        (items.kind != "push_deal", "account_id", "a_acc"),
    ):
        chosen = items.filter(kind_filter)
        j = chosen.join(acts, chosen[left] == acts[right])
        j = j.filter(_windowed(j, follow_days, j.a_at))
        parts.append(j.select(f_id="action_id"))
    return ibis.union(*parts).distinct()


def outcome_actions(
    items: ir.Table,
    leads: ir.Table,
    deals: ir.Table,
    orders: ir.Table,
    *,
    outcome_days: int,
) -> ir.Table:
    """action_id and outcome_amount of the items with an outcome in the window."""
    links = (
        leads.filter(_.deal_id.notnull())
        .select(l_lead="lead_id", l_deal="deal_id")
        .union(
            deals.filter(_.lead_id.notnull()).select(l_lead="lead_id", l_deal="deal_id")
        )
        .distinct()
    )
    d = deals.select(
        d_deal="deal_id", d_created="created_at", d_status="status",
        d_closed="closed_at", d_amount=_.amount.cast("float64"),
    )  # fmt: skip
    leads_i = items.filter(_.kind == "call_lead")
    j1 = leads_i.join(links, leads_i.lead_id == links.l_lead)
    lj = j1.join(d, j1.l_deal == d.d_deal)
    lj = lj.filter(_windowed(lj, outcome_days, lj.d_created)).select(
        o_id="action_id", o_amount=_.d_amount.fill_null(0.0)
    )
    deals_i = items.filter(_.kind == "push_deal")
    dj = deals_i.join(d, deals_i.deal_id == d.d_deal).filter(_.d_status == "won")
    dj = dj.filter(_.d_closed.notnull())
    dj = dj.filter(_windowed(dj, outcome_days, dj.d_closed)).select(
        o_id="action_id", o_amount=_.d_amount.fill_null(0.0)
    )
    o = orders.filter(_.amount > 0).select(
        c_acc="account_id", c_product=_.product_id.cast("string"),
        c_at=_.order_date.cast("timestamp"), c_amount=_.amount.cast("float64"),
    )  # fmt: skip
    acc_i = items.filter(_.kind.isin(["seasonal_order", "win_back", "offer_product"]))
    oj = acc_i.join(o, acc_i.account_id == o.c_acc)
    same = (oj.kind != "offer_product") | (oj.product_id == oj.c_product)
    oj = oj.filter(same, _windowed(oj, outcome_days, oj.c_at)).select(
        o_id="action_id", o_amount="c_amount"
    )
    return ibis.union(lj, dj, oj).group_by("o_id").agg(outcome_amount=_.o_amount.sum())


def review_join(
    lists: ir.Table,
    activities: ir.Table,
    leads: ir.Table,
    deals: ir.Table,
    orders: ir.Table,
    *,
    as_of: dt.date,
    follow_days: int = 7,
    outcome_days: int = 30,
) -> ir.Table:
    """Every listed action with whether it was followed and what came of it.

    Parameters
    ----------
    lists
        Stored (or replayed) actions: at least the columns of ``LIST_COLUMNS``.
    as_of
        The data's last day: windows ending after it are marked incomplete.

    Returns
    -------
    ir.Table
        the columns of `lists` in ``LIST_COLUMNS`` plus is_followed, has_outcome (0/1),
        outcome_amount, window_complete (bool).
    """
    require_columns(lists, "action_lists", LIST_COLUMNS)
    items = lists.select(*LIST_COLUMNS).mutate(start_s=_epoch(_.list_date))
    fol = followed_actions(items, activities, follow_days=follow_days)
    out = outcome_actions(items, leads, deals, orders, outcome_days=outcome_days)
    t = items.left_join(fol, items.action_id == fol.f_id).left_join(
        out, items.action_id == out.o_id
    )
    last_start = as_of - dt.timedelta(days=outcome_days - 1)
    return t.select(
        *LIST_COLUMNS,
        is_followed=t.f_id.notnull().cast("int64"),
        has_outcome=t.o_id.notnull().cast("int64"),
        outcome_amount=t.outcome_amount.fill_null(0.0),
        window_complete=t.list_date <= last_start,
    )


def review_summary(joined: ir.Table, *, by: tuple[str, ...] = ("kind",)) -> ir.Table:
    """Conversion of followed vs not followed actions, per group and for all.

    Returns
    -------
    ir.Table
        the `by` columns (``all`` for the total rows), is_followed, actions, outcomes,
        conversion_rate, conversion_low, conversion_high, outcome_amount,
        expected_value — ordered by the groups, followed first.
    """
    keys = [*by, "is_followed"]
    parts = [joined.group_by(keys)]
    total = joined.mutate(**{c: ibis.literal("all") for c in by}).group_by(keys)
    parts.append(total)
    aggs = []
    for g in parts:
        aggs.append(
            g.agg(
                actions=_.count().cast("int64"),
                outcomes=_.has_outcome.sum().cast("int64"),
                outcome_amount=_.outcome_amount.sum(),
                expected_value=_.expected_value.sum(),
            )
        )
    t = ibis.union(*aggs)
    low, high = wilson(t.outcomes, t.actions)
    return t.mutate(
        conversion_rate=t.outcomes.cast("float64") / t.actions,
        conversion_low=low,
        conversion_high=high,
    ).order_by([*by, ibis.desc("is_followed")])
