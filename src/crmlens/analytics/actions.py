"""Next best actions: one ranked list per manager of what to do today (docs/metrics.md#actions).

A list for the day ``D`` uses only what was known before ``D`` (every input below is
computed ``as_of = D - 1 day``). Five kinds of action, each with a probability, an amount
and ``expected_value = probability × amount`` — the money the action may bring within
about 90 days:

``call_lead`` — an open lead (no deal, status still open) of the owner.
    Probability: the calibrated lead-scoring model (:mod:`crmlens.analytics.scoring`)
    trained on the leads whose outcome was known before ``D``. Amount: the lead's
    ``potential_amount`` (the training median when empty). Grade and reasons come from
    the same model.
``offer_product`` — the client's best item-to-item recommendation
    (:mod:`crmlens.analytics.affinity`). Probability: the backtest precision at the
    recommendation's rank (share of such recommendations bought within 90 days on the
    last 90 days). Amount: the median order amount of the product in the last year.
``seasonal_order`` — a seasonal client (:mod:`crmlens.analytics.seasonality`) whose
    peak month is the month after ``D``. Probability: the rule of succession over its
    past peaks, (peaks with the peak order + 1) / (peaks + 2) — 0.75 after two good
    years. Amount: its mean revenue in the peak month.
``win_back`` — a client silent longer than usual (:mod:`crmlens.analytics.churn`:
    gap ratio above ``min_ratio``, at most ``max_days`` since its last order).
    Probability: the share of clients in the same status half a year earlier that
    ordered again within the next 90 days (:func:`return_rates`). Amount: 90 days of its
    old rhythm, revenue_at_stake × 90 / 365.
``push_deal`` — an open deal in a stage longer than ``quantile`` (75 %) of the deals that
    left that stage took (:func:`stuck_deals`). Probability: the win rate of closed
    deals that also stayed longer than usual in that stage, shrunk towards the stage's
    win rate with the weight of ``prior`` deals. Amount: the deal's amount (the
    pipeline's median won amount when empty).

Each item goes to the manager who owns the lead, deal or client. **Capacity** of a manager
(:func:`manager_capacity`) is the median number of calls and meetings on their working
days (days with any logged activity) of the last ``window_days``; the top ``capacity``
items by expected value form today's list, the rest the "later" list
(:func:`rank_actions`). For one client only its most valuable client action is kept (the
others are named in its evidence).
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

import ibis
import ibis.expr.types as ir
from ibis import _

from crmlens.analytics._checks import require_columns
from crmlens.analytics._dates import next_midnight
from crmlens.analytics.churn import churn_status
from crmlens.analytics.funnel import (
    days_between,
    deal_facts,
    stage_design,
    stage_events,
    stage_times,
)

KINDS = ("call_lead", "push_deal", "seasonal_order", "win_back", "offer_product")
CLIENT_KINDS = ("seasonal_order", "win_back", "offer_product")
CONTACT_TYPES = ("call", "meeting", "visit", "email")
CAPACITY_TYPES = ("call", "meeting")


def activity_time(activities: ir.Table) -> ir.TimestampValue:
    """When an activity happened: done_at, or created_at when it has no done_at."""
    return activities.done_at.coalesce(activities.created_at)  # type: ignore[no-any-return]


def manager_capacity(
    activities: ir.Table, *, as_of: dt.date, window_days: int = 90
) -> ir.Table:
    """Calls and meetings per working day of each manager in the last `window_days`.

    A working day of a manager is a day with at least one activity logged by them.

    Returns
    -------
    ir.Table
        manager_id, working_days, calls_meetings, median_per_day, mean_per_day.
    """
    require_columns(activities, "activities", ["manager_id", "type", "created_at"])
    since = next_midnight(as_of - dt.timedelta(days=window_days))
    at = activity_time(activities)
    a = activities.filter(
        _.manager_id.notnull(), at < next_midnight(as_of), at >= since
    ).mutate(day=at.date(), is_cm=_.type.isin(CAPACITY_TYPES).cast("int64"))
    per_day = a.group_by("manager_id", "day").agg(n=_.is_cm.sum())
    return per_day.group_by("manager_id").agg(
        working_days=_.count().cast("int64"),
        calls_meetings=_.n.sum().cast("int64"),
        median_per_day=_.n.cast("float64").median(),
        mean_per_day=_.n.cast("float64").mean(),
    )


def capacity_of(median_per_day: float | None, fallback: int = 5) -> int:
    """Items a manager can handle in a day: the median rounded half up, at least 1."""
    if median_per_day is None or not math.isfinite(median_per_day):
        return max(1, fallback)
    return max(1, math.floor(median_per_day + 0.5))


def stuck_deals(
    deals: ir.Table,
    deal_stages: ir.Table,
    pipelines: ir.Table,
    *,
    as_of: dt.date,
    quantile: float = 0.75,
    min_days: float = 3.0,
    prior: float = 10.0,
) -> ir.Table:
    """Open deals in their current stage longer than `quantile` of the deals that left it.

    Returns
    -------
    ir.Table
        deal_id, pipeline_id, owner_id, account_id, lead_id, amount, stage, position,
        days_in_stage, usual_days (the quantile), median_days, stuck_win_rate (smoothed
        win rate of closed deals that stayed longer than usual there), stage_win_rate,
        deals_compared (closed deals that stayed longer than usual).
    """
    design = stage_design(pipelines, deals)
    events = stage_events(deals, deal_stages, design, as_of=as_of)
    facts = deal_facts(deals, deal_stages, design, as_of=as_of)
    times = stage_times(events)
    left = times.filter(_.days_in_stage.notnull())
    usual = left.group_by("pipeline_id", "stage", "position").agg(
        usual_days=_.days_in_stage.quantile(quantile),
        median_days=_.days_in_stage.median(),
    )
    rates = _stage_win_rates(times, facts, usual, prior)
    last = events.group_by(l_deal="deal_id").agg(last_at=_.entered_at.max())
    open_ = facts.filter(_.status_as_of == "open", _.current_position.notnull())
    t = open_.join(last, open_.deal_id == last.l_deal)
    t = t.mutate(days_in_stage=days_between(t.last_at, next_midnight(as_of)))
    u = usual.select(
        u_pipe="pipeline_id", u_pos="position", stage="stage",
        usual_days="usual_days", median_days="median_days",
    )  # fmt: skip
    t = t.join(u, (t.pipeline_id == u.u_pipe) & (t.current_position == u.u_pos))
    t = t.filter(_.days_in_stage > _.usual_days, _.days_in_stage >= min_days)
    t = t.left_join(rates, (t.pipeline_id == rates.r_pipe) & (t.stage == rates.r_stage))
    return t.select(
        "deal_id", "pipeline_id", "owner_id", "account_id", "lead_id", "amount",
        "stage", position=t.current_position, days_in_stage=t.days_in_stage,
        usual_days=t.usual_days, median_days=t.median_days,
        stuck_win_rate=t.stuck_win_rate, stage_win_rate=t.stage_win_rate,
        deals_compared=t.deals_compared.fill_null(0),
    )  # fmt: skip


def _stage_win_rates(
    times: ir.Table, facts: ir.Table, usual: ir.Table, prior: float
) -> ir.Table:
    """Win rate of closed deals per stage entered, and of those stuck there."""
    closed = facts.filter(_.status_as_of != "open").select(
        c_deal="deal_id", won=(_.status_as_of == "won").cast("float64")
    )
    u = usual.select(u_pipe="pipeline_id", u_stage="stage", limit_days="usual_days")
    t = times.join(closed, times.deal_id == closed.c_deal)
    t = t.join(u, (t.pipeline_id == u.u_pipe) & (t.stage == u.u_stage))
    stuck = t.days_in_stage.notnull() & (t.days_in_stage > t.limit_days)
    t = t.mutate(is_stuck=stuck.cast("float64"))
    agg = t.group_by(r_pipe="pipeline_id", r_stage="stage").agg(
        stage_deals=_.count(),
        stage_won=_.won.sum(),
        deals_compared=_.is_stuck.sum().cast("int64"),
        stuck_won=(_.won * _.is_stuck).sum(),
    )
    base = agg.stage_won / agg.stage_deals.cast("float64")
    return agg.select(
        "r_pipe",
        "r_stage",
        "deals_compared",
        stage_win_rate=base,
        stuck_win_rate=(agg.stuck_won + prior * base) / (agg.deals_compared + prior),
    )


def win_back_candidates(
    orders: ir.Table, *, as_of: dt.date, min_ratio: float = 2.5, max_days: int = 450
) -> ir.Table:
    """Clients silent longer than usual: the churn status with gap_ratio > `min_ratio`.

    Returns
    -------
    ir.Table
        the columns of :func:`crmlens.analytics.churn.churn_status` for clients whose
        gap ratio is above `min_ratio` and whose last order is at most `max_days` old.
    """
    status = churn_status(orders, as_of=as_of)
    return status.filter(_.gap_ratio > min_ratio, _.days_since_last_order <= max_days)


def return_rates(
    orders: ir.Table,
    *,
    as_of: dt.date,
    lookback_days: int = 180,
    horizon_days: int = 90,
    min_ratio: float = 2.5,
    max_days: int = 450,
) -> ir.Table:
    """How often silent clients come back: status at ``as_of - lookback_days`` → orders.

    Returns
    -------
    ir.Table
        status, clients (silent or lost then), returned (ordered within `horizon_days`
        after), return_rate.
    """
    past = as_of - dt.timedelta(days=lookback_days)
    then = win_back_candidates(
        orders, as_of=past, min_ratio=min_ratio, max_days=max_days
    )
    until = min(past + dt.timedelta(days=horizon_days), as_of)
    later = (
        orders.filter(
            _.amount > 0,
            _.order_date.cast("date") > past,
            _.order_date.cast("date") <= until,
        )
        .select(r_acc="account_id")
        .distinct()
    )
    t = then.left_join(later, then.account_id == later.r_acc)
    agg = t.group_by("status").agg(
        clients=_.count().cast("int64"),
        returned=_.r_acc.notnull().cast("int64").sum(),
    )
    return agg.mutate(return_rate=agg.returned.cast("float64") / agg.clients)


def lead_open_at(
    leads: ir.Table, deals: ir.Table, activities: ir.Table, *, as_of: dt.date
) -> ir.Table:
    """Leads created by `as_of` and whether they were still open then.

    CRM exports keep a lead's current status, not its history, so a lead whose outcome
    is known now counts as open at `as_of` when its last trace — a deal made from it, an
    activity on it, its first response or qualification — is dated after `as_of`. At the
    data's last day this is simply "no deal and an open status".

    Returns
    -------
    ir.Table
        lead_id, owner_id, account_id, is_open (int 0/1).
    """
    from crmlens.analytics.leads import CONVERTED_STATUSES, OPEN_STATUSES

    require_columns(leads, "leads", ["lead_id", "created_at", "status", "deal_id"])
    end = next_midnight(as_of)
    by_deal = deals.filter(_.lead_id.notnull()).select(
        t_lead="lead_id", at=_.created_at
    )
    linked = leads.filter(_.deal_id.notnull()).select(
        x_lead="lead_id", x_deal="deal_id"
    )
    dl = deals.select(y_deal="deal_id", at=_.created_at)
    by_link = linked.join(dl, linked.x_deal == dl.y_deal).select(
        t_lead="x_lead", at="at"
    )
    acts = activities.filter(_.lead_id.notnull())
    by_act = acts.select(t_lead="lead_id", at=activity_time(acts))
    traces = ibis.union(by_deal, by_link, by_act)
    per = traces.group_by("t_lead").agg(last_at=_.at.max())
    deal_known = (
        ibis.union(by_deal, by_link)
        .filter(_.at < end)
        .select(d_lead="t_lead")
        .distinct()
    )
    base = leads.filter(_.created_at < end)
    t = base.left_join(per, base.lead_id == per.t_lead).left_join(
        deal_known, base.lead_id == deal_known.d_lead
    )
    status = t.status.lower()
    open_now = status.isnull() | status.isin(OPEN_STATUSES)
    closed_now = status.isin(CONVERTED_STATUSES) | ~open_now
    marks = [t.last_at]
    for col in ("first_response_at", "qualified_at"):
        if col in leads.columns:
            marks.append(t[col])
    last = ibis.greatest(*[m.fill_null(t.created_at) for m in marks])
    is_open = t.d_lead.isnull() & (open_now | (closed_now & (last >= end)))
    account = t.account_id if "account_id" in t.columns else ibis.null("string")
    return t.select(
        "lead_id", "owner_id", account_id=account, is_open=is_open.cast("int64")
    )


def lead_flow(
    leads: ir.Table, activities: ir.Table, *, as_of: dt.date, window_days: int = 90
) -> ir.Table:
    """New leads per owner in the last `window_days`, with working days and capacity.

    Returns
    -------
    ir.Table
        manager_id, new_leads, working_days, calls_meetings, median_per_day,
        leads_per_working_day (NULL without working days).
    """
    since = next_midnight(as_of - dt.timedelta(days=window_days))
    new = (
        leads.filter(
            _.owner_id.notnull(),
            _.created_at >= since,
            _.created_at < next_midnight(as_of),
        )
        .group_by(manager_id=_.owner_id)
        .agg(new_leads=_.count().cast("int64"))
    )
    cap = manager_capacity(activities, as_of=as_of, window_days=window_days)
    t = cap.outer_join(new, cap.manager_id == new.manager_id)
    t = t.mutate(manager_id=t.manager_id.coalesce(t.manager_id_right)).drop(
        "manager_id_right"
    )
    days = t.working_days.fill_null(0)
    return t.select(
        "manager_id",
        new_leads=t.new_leads.fill_null(0).cast("int64"),
        working_days=days.cast("int64"),
        calls_meetings=t.calls_meetings.fill_null(0).cast("int64"),
        median_per_day=t.median_per_day,
        leads_per_working_day=ibis.ifelse(
            days > 0, t.new_leads.fill_null(0).cast("float64") / days, None
        ),
    )


def lead_handling(
    leads: ir.Table,
    deals: ir.Table,
    activities: ir.Table,
    *,
    as_of: dt.date,
    window_days: int = 365,
    min_age_days: int = 14,
) -> ir.Table:
    """Share of leads sales rejected or never touched, by source.

    Leads created in the `window_days` up to `as_of` and at least `min_age_days` old.
    **Rejected**: the outcome is known and the lead has no deal (disqualified, lost).
    **Never touched**: no deal, no first response and no activity on the lead by `as_of`.

    Returns
    -------
    ir.Table
        source, leads, converted, rejected, untouched, converted_rate, rejected_rate,
        untouched_rate — by leads, most first.
    """
    from crmlens.analytics.leads import lead_outcomes

    end = next_midnight(as_of)
    oldest = next_midnight(as_of - dt.timedelta(days=window_days))
    youngest = next_midnight(as_of - dt.timedelta(days=min_age_days))
    out = lead_outcomes(leads, deals, as_of=as_of).filter(
        _.created_at >= oldest, _.created_at < youngest
    )
    acts = activities.filter(_.lead_id.notnull())
    touched = acts.filter(activity_time(acts) < end).select(t_lead="lead_id").distinct()
    t = out.left_join(touched, out.lead_id == touched.t_lead)
    responded = t.first_response_at.notnull() & (t.first_response_at < end)
    untouched = t.t_lead.isnull() & ~responded & (t.is_converted == 0)
    rejected = (t.is_labelled == 1) & (t.is_converted == 0)
    t = t.mutate(
        source=t.source.fill_null("(empty)"),
        rej=rejected.cast("int64"),
        unt=untouched.cast("int64"),
    )
    agg = t.group_by("source").agg(
        leads=_.count().cast("int64"),
        converted=_.is_converted.sum().cast("int64"),
        rejected=_.rej.sum().cast("int64"),
        untouched=_.unt.sum().cast("int64"),
    )
    n = agg.leads.cast("float64")
    return agg.mutate(
        converted_rate=agg.converted / n,
        rejected_rate=agg.rejected / n,
        untouched_rate=agg.untouched / n,
    ).order_by(ibis.desc("leads"), "source")


def succession(successes: int, trials: int) -> float:
    """Laplace's rule of succession: (successes + 1) / (trials + 2)."""
    return (successes + 1) / (trials + 2)


def _object_key(item: Mapping[str, Any]) -> str:
    kind = item["kind"]
    if kind == "call_lead":
        return f"lead:{item['lead_id']}"
    if kind == "push_deal":
        return f"deal:{item['deal_id']}"
    return f"account:{item['account_id']}"


def rank_actions(
    items: Iterable[Mapping[str, Any]],
    capacity: Mapping[str, int],
    *,
    default_capacity: int = 5,
    override: int | None = None,
) -> list[dict[str, Any]]:
    """Rank each manager's items by expected value; the top `capacity` are for today.

    One client keeps only its most valuable client action (``CLIENT_KINDS``); the other
    kinds proposed for it are listed in its evidence under ``also``. Ties are broken by
    kind (in ``KINDS`` order) and the object's id, so the ranking is deterministic.

    Returns
    -------
    list of dict
        The items with ``rank`` (1 = first, per manager), ``list`` (``today`` or
        ``later``) and ``capacity``, ordered by manager and rank.
    """
    best: dict[tuple[str, str], dict[str, Any]] = {}
    also: dict[tuple[str, str], list[str]] = defaultdict(list)
    for raw in items:
        item = dict(raw)
        if item.get("manager_id") is None:
            continue
        key = (str(item["manager_id"]), _object_key(item))
        if key in best:
            keep, drop = _better(best[key], item)
            also[key].append(drop["kind"])
            best[key] = keep
        else:
            best[key] = item
    per: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for key, item in best.items():
        if also[key]:
            ev = dict(item.get("evidence") or {})
            ev["also"] = sorted(set(also[key]) - {item["kind"]})
            item["evidence"] = ev
        per[key[0]].append(item)
    out = []
    for manager in sorted(per):
        cap = (
            override
            if override is not None
            else capacity.get(manager, default_capacity)
        )
        ranked = sorted(per[manager], key=_order)
        for i, item in enumerate(ranked, start=1):
            item.update(rank=i, list="today" if i <= cap else "later", capacity=cap)
            out.append(item)
    return out


def _better(
    a: dict[str, Any], b: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    return (a, b) if _order(a) <= _order(b) else (b, a)


def _order(item: Mapping[str, Any]) -> tuple[float, int, str]:
    ev = item.get("expected_value")
    value = float(ev) if ev is not None and math.isfinite(float(ev)) else 0.0
    return (-value, KINDS.index(item["kind"]), _object_key(item))
