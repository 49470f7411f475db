"""Campaign payback (docs/metrics.md#campaigns): leads, deals, revenue, CPL, CAC, ROMI.

- **Attribution**: a lead belongs to the campaign named in its ``campaign_id``. A campaign
  with no lead naming it gets the leads without a campaign_id whose ``source`` equals the
  campaign's ``source`` (or, lacking that column, its ``channel``) and that were created
  between ``started_at`` and ``ended_at``; the row says ``attribution = source_dates``.
- **Qualified** = leads with ``qualified_at`` or a deal; **deals** = deals of those leads
  (by ``deals.lead_id`` or ``leads.deal_id``); **won**, **revenue** = won deals and their
  amount; **margin** = amount − cost of the orders of those won deals.
- **CPL** = cost / leads; **CAC** = cost / won deals; **ROMI** = (revenue − cost) / cost.
- **Uplift** over the seasonal baseline of the clients touched: order revenue of the
  accounts of the campaign's leads from ``started_at`` to 90 days after ``ended_at``,
  minus the same accounts' revenue in the same dates one year earlier.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

import ibis
import ibis.expr.types as ir

from crmlens.analytics._checks import require_columns
from crmlens.analytics._dates import next_midnight

AFTER_DAYS = 90


def campaign_leads(leads: ir.Table, campaigns: ir.Table, *, as_of: dt.date) -> ir.Table:
    """Leads attributed to campaigns.

    Returns
    -------
    ir.Table
        lead_id, campaign_id, attribution ("campaign_id" or "source_dates").
    """
    require_columns(campaigns, "campaigns", ["campaign_id", "started_at", "ended_at"])
    known = leads.filter(leads.created_at < next_midnight(as_of))
    by_id = known.filter(known.campaign_id.notnull()).select(
        "lead_id", "campaign_id", attribution=ibis.literal("campaign_id")
    )
    named = by_id.select(_named=by_id.campaign_id).distinct()
    key = "source" if "source" in campaigns.columns else "channel"
    orphans = campaigns.anti_join(named, campaigns.campaign_id == named._named)
    free = known.filter(known.campaign_id.isnull()).select(
        "lead_id", "source", "created_at"
    )
    windows = orphans.select("campaign_id", "started_at", "ended_at", _key=orphans[key])
    matched = free.join(
        windows,
        [
            free.source == windows._key,
            free.created_at >= windows.started_at,
            free.created_at <= windows.ended_at,
        ],
    ).select("lead_id", "campaign_id", attribution=ibis.literal("source_dates"))
    return by_id.union(matched)


def _lead_deals(leads: ir.Table, deals: ir.Table) -> ir.Table:
    from_deals = deals.filter(deals.lead_id.notnull()).select("lead_id", "deal_id")
    from_leads = leads.filter(leads.deal_id.notnull()).select("lead_id", "deal_id")
    return from_deals.union(from_leads).distinct()


def campaign_payback(
    campaigns: ir.Table,
    leads: ir.Table,
    deals: ir.Table,
    orders: ir.Table,
    *,
    as_of: dt.date,
    by: Literal["campaign", "tag"] = "campaign",
) -> ir.Table:
    """Payback per campaign (or tag).

    Returns
    -------
    ir.Table
        campaign_id, tag, name, attribution, leads_count, qualified_count, deals_count,
        won_count, revenue_amount, margin_amount, cost_amount, cpl_amount, cac_amount,
        romi, planned_leads, planned_revenue, leads_plan_rate, revenue_plan_rate,
        touched_revenue, baseline_revenue, uplift_amount (by tag: tag and the sums).
    """
    attributed = campaign_leads(leads, campaigns, as_of=as_of)
    per_lead = _per_lead(attributed, leads, deals, orders, as_of=as_of)
    stats = per_lead.group_by("campaign_id").agg(
        attribution=per_lead.attribution.max(),
        leads_count=per_lead.lead_id.nunique(),
        qualified_count=per_lead.is_qualified.cast("int64").sum(),
        deals_count=per_lead.deal_id.nunique(),
        won_count=per_lead.won_deal_id.nunique(),
        revenue_amount=per_lead.won_amount.sum(),
        margin_amount=per_lead.margin.sum(),
    )
    uplift = _uplift(attributed, leads, campaigns, orders, as_of=as_of)
    base = campaigns.select(
        "campaign_id",
        "tag",
        "name",
        cost_amount=campaigns.cost.cast("float64"),
        planned_leads=campaigns.planned_leads.cast("float64"),
        planned_revenue=campaigns.planned_revenue.cast("float64"),
    )
    rows = base.left_join(stats, "campaign_id").drop("campaign_id_right")
    rows = rows.left_join(uplift, "campaign_id").drop("campaign_id_right")
    rows = rows.mutate(
        leads_count=rows.leads_count.fill_null(0),
        qualified_count=rows.qualified_count.fill_null(0),
        deals_count=rows.deals_count.fill_null(0),
        won_count=rows.won_count.fill_null(0),
        revenue_amount=rows.revenue_amount.fill_null(0.0),
        margin_amount=rows.margin_amount.fill_null(0.0),
        touched_revenue=rows.touched_revenue.fill_null(0.0),
        baseline_revenue=rows.baseline_revenue.fill_null(0.0),
    )
    if by == "tag":
        rows = rows.group_by("tag").agg(
            campaigns_count=rows.campaign_id.nunique(),
            **{c: rows[c].sum() for c in _SUMMED},
        )
    return _ratios(rows)


_SUMMED = (
    "leads_count",
    "qualified_count",
    "deals_count",
    "won_count",
    "revenue_amount",
    "margin_amount",
    "cost_amount",
    "planned_leads",
    "planned_revenue",
    "touched_revenue",
    "baseline_revenue",
)


def _ratios(rows: ir.Table) -> ir.Table:
    cost = rows.cost_amount
    return rows.mutate(
        cpl_amount=ibis.ifelse(rows.leads_count > 0, cost / rows.leads_count, None),
        cac_amount=ibis.ifelse(rows.won_count > 0, cost / rows.won_count, None),
        romi=ibis.ifelse(cost > 0, (rows.revenue_amount - cost) / cost, None),
        leads_plan_rate=ibis.ifelse(
            rows.planned_leads > 0, rows.leads_count / rows.planned_leads, None
        ),
        revenue_plan_rate=ibis.ifelse(
            rows.planned_revenue > 0, rows.revenue_amount / rows.planned_revenue, None
        ),
        uplift_amount=rows.touched_revenue - rows.baseline_revenue,
    )


def _per_lead(
    attributed: ir.Table,
    leads: ir.Table,
    deals: ir.Table,
    orders: ir.Table,
    *,
    as_of: dt.date,
) -> ir.Table:
    """One row per attributed lead and its deal: qualified, won amount, margin."""
    end = next_midnight(as_of)
    info = leads.select("lead_id", _q=leads.qualified_at)
    links = _lead_deals(leads, deals)
    known = deals.filter(deals.created_at < end)
    won = known.filter(
        known.status == "won", known.closed_at.cast("timestamp") < end
    ).select(_won=known.deal_id, _amount=known.amount.cast("float64"))
    cost = orders.filter(orders.order_date <= as_of, orders.deal_id.notnull())
    margins = cost.group_by(_mdeal=cost.deal_id).agg(
        _margin=(cost.amount - cost.cost).sum()
    )
    ids = known.select(_d=known.deal_id)
    t = attributed.left_join(info, "lead_id").drop("lead_id_right")
    t = t.left_join(links, "lead_id").drop("lead_id_right")
    t = t.left_join(ids, t.deal_id == ids._d)
    t = t.mutate(deal_id=t._d).drop("_d")
    t = t.left_join(won, t.deal_id == won._won)
    t = t.left_join(margins, t._won == margins._mdeal)
    return t.select(
        "lead_id",
        "campaign_id",
        "attribution",
        "deal_id",
        is_qualified=t._q.notnull() | t.deal_id.notnull(),
        won_deal_id=t._won,
        won_amount=t._amount.fill_null(0.0),
        margin=t._margin.cast("float64").fill_null(0.0),
    )


def _uplift(
    attributed: ir.Table,
    leads: ir.Table,
    campaigns: ir.Table,
    orders: ir.Table,
    *,
    as_of: dt.date,
) -> ir.Table:
    """Revenue of touched accounts during the campaign (+90 days) vs a year earlier."""
    acc = attributed.join(leads.select("lead_id", "account_id"), "lead_id")
    touched = acc.filter(acc.account_id.notnull()).select("campaign_id", "account_id")
    touched = touched.distinct()
    win = campaigns.select(
        "campaign_id",
        _from=campaigns.started_at.date(),
        _to=campaigns.ended_at.date() + ibis.interval(days=AFTER_DAYS),
    )
    known = orders.filter(orders.order_date <= as_of).select(
        "account_id", "order_date", amount=orders.amount.cast("float64")
    )
    t = touched.join(win, "campaign_id").join(known, "account_id")
    shifted = t.order_date + ibis.interval(days=365)
    now = (t.order_date >= t._from) & (t.order_date <= t._to)
    before = (shifted >= t._from) & (shifted <= t._to)
    return t.group_by("campaign_id").agg(
        touched_revenue=ibis.ifelse(now, t.amount, 0.0).sum(),
        baseline_revenue=ibis.ifelse(before, t.amount, 0.0).sum(),
    )
