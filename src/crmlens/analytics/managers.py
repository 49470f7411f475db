"""Seller analytics: KPIs per manager, team or region, and lost reasons (issue 5).

Definitions (DESIGN.md, "Metric definitions"):

- **Win rate** = won / (won + lost) among deals closed in the period.
- **Average check** = revenue of won deals / won deals with an amount.
- **Cycle days** = closed_at − created_at of won deals, in days; the median is reported.
- **Overdue task** = a task due before `as_of` and not done by then.

Periods are calendar months, quarters or years up to `as_of` (period to date); the trend
compares with the previous period to the same day, so a half month is compared with a
half month.

**KPI trend** (:func:`kpi_trends`): per group, this period to date against the previous
period to the same day, for win rate, revenue and client activities, with a z-score that
says whether the change is more than noise:

- win rate: the difference of the two rates, pooled two-proportion z;
- revenue (a sum of won amounts, a compound Poisson total): relative change of the
  revenue per day, z = (R − k·R₀) / √(ΣA² + k²·ΣA₀²) over the won amounts A, where k =
  days of this period / days of the previous one (1 except where a month is shorter);
- client activities (calls, meetings, visits, e-mails; a Poisson count): relative change
  per day, z = (N − k·N₀) / √(N + k²·N₀).
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
        revenue_sq=(_.won_amount * _.won_amount).sum(),
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
        median_first_response_hours, plan_revenue, plan_fact_rate; the trend vs the
        previous period to the same day: deals_closed_prev, win_rate_prev, revenue_prev,
        revenue_change_rate, client_activities (calls, meetings, visits, e-mails),
        client_activities_prev, activity_change_rate (NULL with period "all"). Medians
        of a team are over its managers.
    """
    require_columns(activities, "activities", ["manager_id", "type", "created_at"])
    start, _prev_start = period_bounds(as_of, period)
    deals = resolve_owners(deals, managers)
    cur = _per_manager(deals, activities, leads, start, as_of)
    cur = _with_previous(
        _group(cur, managers, by),
        deals,
        activities,
        managers,
        as_of=as_of,
        period=period,
        by=by,
    )
    if targets is not None:
        plan = _plan(targets, by, start, as_of)
        cur = cur.left_join(plan, "group_id").drop("group_id_right")
    else:
        cur = cur.mutate(plan_revenue=ibis.null("float64"))
    return _finish(cur)


def _with_previous(
    cur: ir.Table,
    deals: ir.Table,
    activities: ir.Table,
    managers: ir.Table,
    *,
    as_of: dt.date,
    period: Period,
    by: GroupBy,
    previous_only: bool = False,
) -> ir.Table:
    """`cur` (grouped) with the previous period's won, lost, revenue and activities.

    With `previous_only` groups active only in the previous period are kept too (their
    current columns NULL): a manager whose deals and calls stopped is a trend.
    """
    if period == "all":
        return cur.mutate(
            prev_won=ibis.null("int64"),
            prev_lost=ibis.null("int64"),
            revenue_prev=ibis.null("float64"),
            revenue_sq_prev=ibis.null("float64"),
            client_activities_prev=ibis.null("int64"),
        )
    start, prev_start = period_bounds(as_of, period)
    prev_end = shift_back(as_of, start, prev_start)
    acts = _activity_kpis(activities, prev_start, prev_end).select(
        "manager_id", "client_activities"
    )
    dk = _deal_kpis(deals, prev_start, prev_end)
    per = (
        dk.outer_join(acts, "manager_id")
        .mutate(manager_id=ibis.coalesce(dk.manager_id, acts.manager_id))
        .drop("manager_id_right")
    )
    prev = _group(per, managers, by).select(
        "group_id",
        prev_won="deals_won",
        prev_lost="deals_lost",
        revenue_prev="revenue",
        revenue_sq_prev="revenue_sq",
        client_activities_prev="client_activities",
    )
    if previous_only:
        joined = (
            cur.outer_join(prev, "group_id")
            .mutate(group_id=ibis.coalesce(cur.group_id, prev.group_id))
            .drop("group_id_right")
        )
    else:
        joined = cur.left_join(prev, "group_id").drop("group_id_right")
    return joined.mutate(
        prev_won=joined.prev_won.fill_null(0),
        prev_lost=joined.prev_lost.fill_null(0),
        revenue_prev=joined.revenue_prev.fill_null(0.0),
        revenue_sq_prev=joined.revenue_sq_prev.fill_null(0.0),
        client_activities_prev=joined.client_activities_prev.fill_null(0),
    )


def period_days(as_of: dt.date, period: Period) -> tuple[int, int]:
    """Days of this period to `as_of` and of the previous period to the same day.

    >>> period_days(dt.date(2025, 3, 31), "month")
    (31, 28)
    """
    start, prev_start = period_bounds(as_of, period)
    prev_end = shift_back(as_of, start, prev_start)
    return (as_of - start).days + 1, (prev_end - prev_start).days + 1


def kpi_trends(
    deals: ir.Table,
    activities: ir.Table,
    managers: ir.Table,
    *,
    as_of: dt.date,
    period: Literal["month", "quarter", "year"] = "quarter",
    by: GroupBy = "manager",
) -> ir.Table:
    """How each group's win rate, revenue and client activities moved vs the previous period.

    This period runs from its first day to `as_of`; the previous period from its first
    day to the same day (see the module docstring for the z-scores).

    Besides its own change, each group is set against **the other groups together**: a
    department whose every manager made 25 % more calls in a busy quarter is one
    seasonal swing, not twelve findings. ``change_vs_rest`` is the change beyond the
    others' (win rate: own change − theirs, in points; revenue and activities: own
    value / what the others' change per day predicts − 1) and ``z_vs_rest`` its z-score.

    Returns
    -------
    ir.Table
        group_id, is_total (True for the one row of all groups together, whose
        group_id is NULL), metric (win_rate | revenue | client_activities), value,
        value_prev, n and n_prev (the sample: closed deals for win rate, won deals for
        revenue, activities for client_activities), change (win rate: difference in
        points; revenue and activities: relative change per day, NULL without a
        previous value), z_score (NULL when a period has no sample), rest_change (the
        other groups' change, same units; NULL without others), change_vs_rest,
        z_vs_rest — one row per group and metric with a sample in either period.
    """
    if period not in ("month", "quarter", "year"):
        raise ValueError(f"a trend needs a month, quarter or year, not {period!r}")
    start, _prev = period_bounds(as_of, period)
    deals = resolve_owners(deals, managers)
    per = _deal_kpis(deals, start, as_of)
    acts = _activity_kpis(activities, start, as_of).select(
        "manager_id", "client_activities"
    )
    per = (
        per.outer_join(acts, "manager_id")
        .mutate(manager_id=ibis.coalesce(per.manager_id, acts.manager_id))
        .drop("manager_id_right")
    )
    t = _with_previous(
        _group(per, managers, by),
        deals,
        activities,
        managers,
        as_of=as_of,
        period=period,
        by=by,
        previous_only=True,
    )
    days, days_prev = period_days(as_of, period)
    return _trend_rows(t, days / days_prev)


TREND_COLUMNS = (
    "won",
    "lost",
    "rev",
    "sq",
    "acts",
    "won0",
    "lost0",
    "rev0",
    "sq0",
    "acts0",
)


def _trend_rows(t: ir.Table, k: float) -> ir.Table:
    """Long rows per group and metric, plus the total of all groups (is_total)."""
    f = "float64"
    facts = t.select(
        "group_id",
        won=t.deals_won.fill_null(0).cast(f),
        lost=t.deals_lost.fill_null(0).cast(f),
        rev=t.revenue.fill_null(0.0),
        sq=t.revenue_sq.fill_null(0.0),
        acts=t.client_activities.fill_null(0).cast(f),
        won0=t.prev_won.fill_null(0).cast(f),
        lost0=t.prev_lost.fill_null(0).cast(f),
        rev0=t.revenue_prev.fill_null(0.0),
        sq0=t.revenue_sq_prev.fill_null(0.0),
        acts0=t.client_activities_prev.fill_null(0).cast(f),
    )
    total = facts.aggregate(**{c: facts[c].sum() for c in TREND_COLUMNS})
    facts = ibis.union(
        facts.mutate(is_total=ibis.literal(False)),
        total.mutate(group_id=ibis.null("string"), is_total=ibis.literal(True)).select(
            "group_id", *TREND_COLUMNS, "is_total"
        ),
    )
    # the other groups together (nothing for the total row)
    rest = {
        c: ibis.ifelse(
            facts.is_total, 0.0, facts[c].sum(where=~facts.is_total).over() - facts[c]
        )
        for c in TREND_COLUMNS
    }
    rows = [
        _win_rate_rows(facts, rest),
        _sum_rows(facts, rest, "revenue", "rev", "sq", "won", k),
        _sum_rows(facts, rest, "client_activities", "acts", "acts", "acts", k),
    ]
    out = ibis.union(*rows)
    return out.filter((out.n > 0) | (out.n_prev > 0)).order_by(
        "is_total", "group_id", "metric"
    )


def _win_rate_rows(t: ir.Table, rest: dict[str, ir.FloatingValue]) -> ir.Table:
    n, n0 = t.won + t.lost, t.won0 + t.lost0
    p, p0 = _ratio(t.won, n), _ratio(t.won0, n0)
    rest_n, rest_n0 = rest["won"] + rest["lost"], rest["won0"] + rest["lost0"]
    rest_change = _ratio(rest["won"], rest_n) - _ratio(rest["won0"], rest_n0)
    pool = (t.won + t.won0) / (n + n0)
    se = (pool * (1 - pool) * (1.0 / n + 1.0 / n0)).sqrt()
    closed = (n > 0) & (n0 > 0)

    def z(diff: ir.FloatingValue) -> ir.FloatingValue:
        return ibis.ifelse(closed, ibis.ifelse(se > 0, diff / se, 0.0), None)

    vs_rest = (p - p0) - rest_change.fill_null(0.0)
    return t.select(
        "group_id",
        "is_total",
        metric=ibis.literal("win_rate"),
        value=p,
        value_prev=p0,
        n=n.cast("int64"),
        n_prev=n0.cast("int64"),
        change=p - p0,
        z_score=z(p - p0),
        rest_change=rest_change,
        change_vs_rest=vs_rest,
        z_vs_rest=z(vs_rest),
    )


def _sum_rows(
    t: ir.Table,
    rest: dict[str, ir.FloatingValue],
    metric: str,
    col: str,
    sq: str,
    count: str,
    k: float,
) -> ir.Table:
    """Revenue (sq = the won amounts squared) or activities (a count: sq = itself)."""
    v, v0 = t[col], t[f"{col}0"]
    spread, spread0 = t[sq], t[f"{sq}0"]
    # the others' change per day; 1 when there are no others to compare with
    growth = ibis.ifelse(
        rest[f"{col}0"] > 0, rest[col] / (k * rest[f"{col}0"]), ibis.null("float64")
    )
    g = growth.fill_null(1.0)

    def z(expected_ratio: ir.FloatingValue) -> ir.FloatingValue:
        sd = (spread + expected_ratio * expected_ratio * spread0).sqrt()
        return ibis.ifelse(sd > 0, (v - expected_ratio * v0) / sd, None)

    return t.select(
        "group_id",
        "is_total",
        metric=ibis.literal(metric),
        value=v,
        value_prev=v0,
        n=t[count].cast("int64"),
        n_prev=t[f"{count}0"].cast("int64"),
        change=ibis.ifelse(v0 > 0, v / (k * v0) - 1.0, None),
        z_score=z(ibis.literal(k)),
        rest_change=growth - 1.0,
        change_vs_rest=ibis.ifelse(v0 > 0, v / (k * g * v0) - 1.0, None),
        z_vs_rest=z(k * g),
    )


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
        client_activities=t.client_activities.fill_null(0),
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
            deals_closed_prev=ibis.ifelse(
                t.prev_won.isnull(), ibis.null("int64"), prev_closed
            ),
            activity_change_rate=ibis.ifelse(
                t.client_activities_prev > 0,
                t.client_activities.cast("float64") / t.client_activities_prev - 1.0,
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
            "deals_closed_prev",
            "win_rate_prev",
            "revenue_prev",
            "revenue_change_rate",
            "client_activities",
            "client_activities_prev",
            "activity_change_rate",
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
