"""Seller analytics: KPIs per manager, team or region, and lost reasons (issue 5).

Definitions (DESIGN.md, "Metric definitions"):

- **Win rate** = won / (won + lost) among deals closed in the period.
- **Average check** = revenue of won deals / won deals with an amount.
- **Cycle days** = closed_at − created_at of won deals, in days; the median is reported.
- **Overdue task** = a task due before `as_of` and not done by then.

Periods are calendar months, quarters or years up to `as_of` (period to date); the trend
compares with the previous period to the same day, so a half month is compared with a
half month.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

import ibis
import ibis.expr.types as ir
from ibis import _

from crmlens.analytics._checks import require_columns
from crmlens.analytics._dates import next_midnight

Period = Literal["month", "quarter", "year", "all"]
GroupBy = Literal["manager", "team", "region"]
LossBy = Literal["manager", "stage", "source"]
CLIENT_TYPES = ("call", "meeting", "visit", "email")
EPOCH = dt.date(1970, 1, 1)


def period_bounds(as_of: dt.date, period: Period) -> tuple[dt.date, dt.date]:
    """First day of the period holding `as_of` and the same day of the previous period.

    >>> period_bounds(dt.date(2025, 12, 15), "quarter")
    (datetime.date(2025, 10, 1), datetime.date(2025, 7, 1))
    """
    if period == "all":
        return EPOCH, EPOCH
    months = {"month": 1, "quarter": 3, "year": 12}[period]
    first_month = (as_of.month - 1) // months * months + 1
    start = dt.date(as_of.year, first_month, 1)
    idx = start.year * 12 + start.month - 1 - months
    return start, dt.date(idx // 12, idx % 12 + 1, 1)


def shift_back(as_of: dt.date, start: dt.date, prev_start: dt.date) -> dt.date:
    """`as_of` moved into the previous period: the same number of days after its start."""
    end = prev_start + (as_of - start)
    return min(end, start - dt.timedelta(days=1))


def hours_between(
    later: ir.TimestampValue, earlier: ir.TimestampValue
) -> ir.FloatingValue:
    """Hours from `earlier` to `later` (float, both engines)."""
    secs = later.epoch_seconds() - earlier.epoch_seconds()  # type: ignore[attr-defined]
    return secs.cast("float64") / 3600.0  # type: ignore[no-any-return]


def resolve_owners(deals: ir.Table, managers: ir.Table) -> ir.Table:
    """Deals whose owner_id is a manager's name get that manager's id (CRM exports)."""
    names = managers.group_by(owner_name=_.name).agg(resolved_id=_.manager_id.min())
    joined = deals.left_join(names, deals.owner_id == names.owner_name)
    return joined.mutate(owner_id=joined.resolved_id.coalesce(joined.owner_id)).drop(
        "owner_name", "resolved_id"
    )


def closed_deals(
    deals: ir.Table, *, date_from: dt.date | None = None, as_of: dt.date
) -> ir.Table:
    """Deals won or lost with closed_at in [`date_from`, `as_of`], with is_won (0/1).

    Returns
    -------
    ir.Table
        every deal column plus is_won (int 0/1) and won_amount (amount of won deals,
        0 otherwise).
    """
    require_columns(deals, "deals", ["deal_id", "owner_id", "status", "closed_at"])
    out = deals.filter(
        _.status.isin(["won", "lost"]),
        _.closed_at.notnull(),
        _.closed_at < next_midnight(as_of),
    )
    if date_from is not None:
        out = out.filter(
            _.closed_at >= ibis.timestamp(dt.datetime.combine(date_from, dt.time()))
        )
    won = (out.status == "won").cast("int64")
    return out.mutate(
        is_won=won, won_amount=ibis.ifelse(won == 1, out.amount.fill_null(0.0), 0.0)
    )


def _window(t: ir.Table, col: str, start: dt.date, as_of: dt.date) -> ir.Table:
    begin = ibis.timestamp(dt.datetime.combine(start, dt.time()))
    return t.filter(t[col] >= begin, t[col] < next_midnight(as_of))


def _deal_kpis(deals: ir.Table, start: dt.date, as_of: dt.date) -> ir.Table:
    created = (
        _window(deals, "created_at", start, as_of)
        .group_by(manager_id=_.owner_id)
        .agg(deals_created=_.count())
    )
    closed = closed_deals(deals, date_from=start, as_of=as_of)
    cycle = hours_between(closed.closed_at, closed.created_at) / 24.0
    closed = closed.mutate(
        cycle_days=ibis.ifelse(closed.is_won == 1, cycle, ibis.null("float64")),
        won_with_amount=((closed.is_won == 1) & closed.amount.notnull()).cast("int64"),
    )
    agg = closed.group_by(manager_id=_.owner_id).agg(
        deals_won=_.is_won.sum(),
        deals_lost=(1 - _.is_won).sum(),
        revenue=_.won_amount.sum(),
        won_with_amount=_.won_with_amount.sum(),
        median_cycle_days=_.cycle_days.median(),
    )
    return (
        created.outer_join(agg, "manager_id")
        .mutate(manager_id=ibis.coalesce(created.manager_id, agg.manager_id))
        .drop("manager_id_right")
    )


def _activity_kpis(activities: ir.Table, start: dt.date, as_of: dt.date) -> ir.Table:
    acts = _window(activities, "created_at", start, as_of).filter(
        _.manager_id.notnull()
    )
    client = acts.type.isin(CLIENT_TYPES)
    minutes = ibis.ifelse(client, acts.duration_min.fill_null(0.0), 0.0)

    def count(kind: str) -> ir.IntegerValue:
        return (acts.type == kind).cast("int64")

    return (
        acts.mutate(
            is_call=count("call"),
            is_meeting=count("meeting"),
            is_visit=count("visit"),
            is_email=count("email"),
            is_client=client.cast("int64"),
            client_minutes=minutes,
        )
        .group_by("manager_id")
        .agg(
            calls=_.is_call.sum(),
            meetings=_.is_meeting.sum(),
            visits=_.is_visit.sum(),
            emails=_.is_email.sum(),
            client_activities=_.is_client.sum(),
            client_minutes=_.client_minutes.sum(),
        )
    )


def overdue_tasks(activities: ir.Table, *, as_of: dt.date) -> ir.Table:
    """Tasks due before `as_of` 00:00 and not done by then, per manager.

    Returns
    -------
    ir.Table
        manager_id, overdue_tasks.
    """
    cutoff = ibis.timestamp(dt.datetime.combine(as_of, dt.time()))
    late = activities.filter(
        _.type == "task",
        _.due_at.notnull(),
        _.due_at < cutoff,
        _.done_at.isnull() | (_.done_at >= cutoff),
        _.created_at < next_midnight(as_of),
        _.manager_id.notnull(),
    )
    return late.group_by("manager_id").agg(overdue_tasks=_.count())


def median_first_response(
    leads: ir.Table, activities: ir.Table, *, start: dt.date, as_of: dt.date
) -> ir.Table:
    """Median first-response hours of the leads created in the window, per owner."""
    from crmlens.analytics.managers_activity import first_response

    resp = _window(
        first_response(leads, activities, as_of=as_of), "created_at", start, as_of
    )
    return resp.group_by(manager_id=_.owner_id).agg(
        median_first_response_hours=_.first_response_hours.median()
    )


def _plan(targets: ir.Table, by: GroupBy, start: dt.date, as_of: dt.date) -> ir.Table:
    scope = "manager" if by == "manager" else by
    months = _.period.substr(0, 7)
    return (
        targets.filter(
            _.scope_type == scope,
            _.metric == "revenue",
            months >= start.strftime("%Y-%m"),
            months <= as_of.strftime("%Y-%m"),
        )
        .group_by(group_id=_.scope_id)
        .agg(plan_revenue=_.value.sum())
    )


def _per_manager(
    deals: ir.Table,
    activities: ir.Table,
    leads: ir.Table,
    start: dt.date,
    as_of: dt.date,
) -> ir.Table:
    base = _deal_kpis(deals, start, as_of)
    for extra in (
        _activity_kpis(activities, start, as_of),
        overdue_tasks(activities, as_of=as_of),
        median_first_response(leads, activities, start=start, as_of=as_of),
    ):
        base = (
            base.outer_join(extra, "manager_id")
            .mutate(manager_id=ibis.coalesce(base.manager_id, extra.manager_id))
            .drop("manager_id_right")
        )
    return base


def manager_kpis(
    deals: ir.Table,
    activities: ir.Table,
    leads: ir.Table,
    managers: ir.Table,
    targets: ir.Table | None = None,
    *,
    as_of: dt.date,
    period: Period = "quarter",
    by: GroupBy = "manager",
) -> ir.Table:
    """KPIs of each manager (or team, region) for the period to date, with the trend.

    Parameters
    ----------
    deals, activities, leads, managers, targets
        Canonical tables (`targets` optional: plan columns stay empty without it).
    as_of
        Last day counted; the period is the month/quarter/year holding it.
    period
        month, quarter, year or all (whole history, no trend).
    by
        manager, team or region.

    Returns
    -------
    ir.Table
        group_id (manager_id, team or region), deals_created, deals_won, deals_lost,
        win_rate, revenue, average_check, median_cycle_days, calls, meetings, visits,
        emails, client_minutes, activities_per_deal, overdue_tasks,
        median_first_response_hours, plan_revenue, plan_fact_rate, win_rate_prev,
        revenue_prev, revenue_change_rate. Medians of a team are over its managers.
    """
    require_columns(activities, "activities", ["manager_id", "type", "created_at"])
    start, prev_start = period_bounds(as_of, period)
    deals = resolve_owners(deals, managers)
    cur = _per_manager(deals, activities, leads, start, as_of)
    cur = _group(cur, managers, by)
    if period != "all":
        prev_end = shift_back(as_of, start, prev_start)
        prev = _group(_deal_kpis(deals, prev_start, prev_end), managers, by).select(
            "group_id",
            prev_won="deals_won",
            prev_lost="deals_lost",
            revenue_prev="revenue",
        )
        cur = cur.left_join(prev, "group_id").drop("group_id_right")
    else:
        cur = cur.mutate(
            prev_won=ibis.null("int64"),
            prev_lost=ibis.null("int64"),
            revenue_prev=ibis.null("float64"),
        )
    if targets is not None:
        plan = _plan(targets, by, start, as_of)
        cur = cur.left_join(plan, "group_id").drop("group_id_right")
    else:
        cur = cur.mutate(plan_revenue=ibis.null("float64"))
    return _finish(cur)


def _group(per_manager: ir.Table, managers: ir.Table, by: GroupBy) -> ir.Table:
    sums = [c for c in per_manager.columns if c not in ("manager_id",)]
    if by == "manager":
        return per_manager.rename(group_id="manager_id")
    key = managers.select(mid="manager_id", group_id=managers[by])
    joined = per_manager.left_join(key, per_manager.manager_id == key.mid)
    medians = {"median_cycle_days", "median_first_response_hours", "won_with_amount"}
    aggs = {c: joined[c].sum() for c in sums if c not in medians}
    aggs["won_with_amount"] = joined.won_with_amount.sum()
    for col in medians - {"won_with_amount"}:
        if col in joined.columns:
            aggs[col] = joined[col].median()
    return joined.group_by("group_id").agg(**aggs)


def _ratio(num: ir.NumericValue, den: ir.NumericValue) -> ir.FloatingValue:
    return ibis.ifelse(
        den > 0, num.cast("float64") / den.cast("float64"), ibis.null("float64")
    )


def _finish(t: ir.Table) -> ir.Table:
    closed = t.deals_won.fill_null(0) + t.deals_lost.fill_null(0)
    prev_closed = t.prev_won.fill_null(0) + t.prev_lost.fill_null(0)
    counts = (
        "deals_created",
        "deals_won",
        "deals_lost",
        "calls",
        "meetings",
        "visits",
        "emails",
        "overdue_tasks",
    )
    t = t.mutate(
        **{c: t[c].fill_null(0) for c in counts},
        revenue=t.revenue.fill_null(0.0),
        client_minutes=t.client_minutes.fill_null(0.0),
    )
    return (
        t.mutate(
            win_rate=_ratio(t.deals_won, closed),
            average_check=_ratio(t.revenue, t.won_with_amount),
            activities_per_deal=_ratio(t.client_activities, closed),
            plan_fact_rate=_ratio(t.revenue.fill_null(0.0), t.plan_revenue),
            win_rate_prev=_ratio(t.prev_won, prev_closed),
            revenue_change_rate=ibis.ifelse(
                t.revenue_prev > 0,
                t.revenue.fill_null(0.0) / t.revenue_prev - 1.0,
                ibis.null("float64"),
            ),
        )
        .select(
            "group_id",
            "deals_created",
            "deals_won",
            "deals_lost",
            "win_rate",
            "revenue",
            "average_check",
            "median_cycle_days",
            "calls",
            "meetings",
            "visits",
            "emails",
            "client_minutes",
            "activities_per_deal",
            "overdue_tasks",
            "median_first_response_hours",
            "plan_revenue",
            "plan_fact_rate",
            "win_rate_prev",
            "revenue_prev",
            "revenue_change_rate",
        )
        .order_by("group_id")
    )


def lost_stage(deal_stages: ir.Table, deals: ir.Table, pipelines: ir.Table) -> ir.Table:
    """The last working stage (not a won/lost stage) each deal reached.

    Returns
    -------
    ir.Table
        deal_id, stage.
    """
    work = pipelines.filter(~_.is_won.fill_null(False), ~_.is_lost.fill_null(False))
    hist = deal_stages.join(deals.select("deal_id", "pipeline_id"), "deal_id").join(
        work.select("pipeline_id", "stage", "position"), ["pipeline_id", "stage"]
    )
    top = hist.group_by("deal_id").agg(top=_.position.max())
    last = hist.join(top, "deal_id").filter(_.position == _.top)
    return last.group_by("deal_id").agg(stage=_.stage.min())


def lost_reasons(
    deals: ir.Table,
    *,
    groups: ir.Table,
    as_of: dt.date,
    date_from: dt.date | None = None,
) -> ir.Table:
    """Lost deals by group (manager, stage or source) and lost reason: count, share, money.

    Parameters
    ----------
    groups
        deal_id, group_id — the group of each deal (see :func:`loss_groups`).

    Returns
    -------
    ir.Table
        group_id, lost_reason, lost_deals, lost_amount, share (of the group's lost
        deals), rest_share (share of the reason among the other groups' lost deals),
        group_lost_deals.
    """
    lost = closed_deals(deals, date_from=date_from, as_of=as_of).filter(_.is_won == 0)
    lost = lost.left_join(groups, "deal_id").mutate(
        group_id=_.group_id.fill_null("—"),
        lost_reason=_.lost_reason.fill_null("—"),
        lost_value=_.amount.fill_null(0.0),
    )
    cell = lost.group_by("group_id", "lost_reason").agg(
        lost_deals=_.count(), lost_amount=_.lost_value.sum()
    )
    grp = cell.group_by("group_id").agg(group_lost_deals=_.lost_deals.sum())
    rsn = cell.group_by("lost_reason").agg(reason_total=_.lost_deals.sum())
    total = cell.aggregate(all_lost=_.lost_deals.sum())
    t = cell.join(grp, "group_id").join(rsn, "lost_reason").cross_join(total)
    rest = (t.all_lost - t.group_lost_deals).cast("float64")
    return (
        t.mutate(
            share=t.lost_deals.cast("float64") / t.group_lost_deals,
            rest_share=ibis.ifelse(
                rest > 0,
                (t.reason_total - t.lost_deals).cast("float64") / rest,
                ibis.null("float64"),
            ),
        )
        .select(
            "group_id",
            "lost_reason",
            "lost_deals",
            "lost_amount",
            "share",
            "rest_share",
            "group_lost_deals",
        )
        .order_by("group_id", ibis.desc("lost_deals"), "lost_reason")
    )


def loss_groups(
    by: LossBy,
    deals: ir.Table,
    *,
    leads: ir.Table | None = None,
    deal_stages: ir.Table | None = None,
    pipelines: ir.Table | None = None,
) -> ir.Table:
    """deal_id, group_id: the owner, the last working stage or the lead source."""
    if by == "manager":
        return deals.select("deal_id", group_id=_.owner_id)
    if by == "stage":
        assert deal_stages is not None
        assert pipelines is not None
        return lost_stage(deal_stages, deals, pipelines).rename(group_id="stage")
    assert leads is not None
    src = leads.group_by("lead_id").agg(group_id=_.source.min())
    return deals.left_join(src, "lead_id").select("deal_id", "group_id")
