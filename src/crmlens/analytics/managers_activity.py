"""Behaviour of sellers: speed to lead, call quality checklists, activity mix (issue 5).

Definitions:

- **First response** (DESIGN.md) = the lead's first_response_at when given, else the
  first activity by the lead's owner after the lead's created_at (the time it was done:
  done_at, or created_at when done_at is empty). Hours from created_at.
- **Business hours** (optional): with a :class:`BusinessHours` calendar the response
  time and the age of a lead count only the hours inside the working window on working
  days (default Monday–Friday 9:00–18:00); see :mod:`crmlens.analytics.business_hours`.
- **Over SLA**: answered later than the SLA, or not answered and older than the SLA (in
  business hours when a calendar is given).
- **Checklist lift** of an item = win rate of closed deals where a reviewed call passed
  the item / win rate of reviewed closed deals where no call passed it; the interval is
  the log-ratio (Katz) interval.
- **Activity mix**: closed deals bucketed by the client activities on them; win rate per
  bucket with a Wilson interval.
"""

from __future__ import annotations

import datetime as dt

import ibis
import ibis.expr.types as ir
from ibis import _

from crmlens.analytics._checks import require_columns
from crmlens.analytics.business_hours import BusinessHours, business_hours_between
from crmlens.analytics.managers import closed_deals, hours_between, next_midnight

#: Response-time buckets: (label, upper bound in hours).
BUCKETS = (
    ("<15m", 0.25),
    ("15m-1h", 1.0),
    ("1-4h", 4.0),
    ("4-24h", 24.0),
    (">24h", None),
)
Z95 = 1.959963984540054


def first_response(
    leads: ir.Table,
    activities: ir.Table,
    *,
    as_of: dt.date,
    calendar: BusinessHours | None = None,
) -> ir.Table:
    """Leads created by `as_of` with their first response.

    Parameters
    ----------
    calendar
        Count hours only within these business hours (None: clock hours).

    Returns
    -------
    ir.Table
        lead_id, owner_id, created_at, first_response_at (NULL = no answer yet),
        first_response_hours (NULL = no answer yet), age_hours (from created_at to the
        end of `as_of`), is_converted (0/1: the lead has a deal). Hours are business
        hours when `calendar` is given.
    """
    require_columns(leads, "leads", ["lead_id", "created_at", "owner_id"])
    end = next_midnight(as_of)
    base = leads.filter(_.created_at < end)
    done = activities.done_at.coalesce(activities.created_at)
    acts = activities.filter(_.lead_id.notnull(), done < end).select(
        "lead_id", "manager_id", at=done
    )
    j = (
        base.select("lead_id", "owner_id", lead_at="created_at")
        .join(acts, "lead_id")
        .filter(lambda t: (t.manager_id == t.owner_id) & (t.at >= t.lead_at))
    )
    first = j.group_by(fr_lead="lead_id").agg(first_at=_.at.min())
    given = (
        base.first_response_at
        if "first_response_at" in base.columns
        else ibis.null("timestamp")
    )
    converted = (
        base.deal_id.notnull() if "deal_id" in base.columns else ibis.literal(False)
    )
    t = base.mutate(given_at=given, conv=converted).left_join(
        first, _.lead_id == first.fr_lead
    )
    at = t.given_at.coalesce(t.first_at)

    def hours(later: ir.TimestampValue) -> ir.FloatingValue:
        if calendar is None:
            return hours_between(later, t.created_at)
        return business_hours_between(later, t.created_at, calendar)

    return t.select(
        "lead_id",
        "owner_id",
        "created_at",
        first_response_at=at,
        first_response_hours=hours(at),
        age_hours=hours(end),
        is_converted=t.conv.cast("int64"),
    )


def response_bucket(hours: ir.FloatingValue) -> ir.StringValue:
    """The bucket label of a first-response time (NULL → "no response")."""
    cases = [(hours <= upper, label) for label, upper in BUCKETS if upper is not None]
    return ibis.cases(
        *cases, else_=ibis.ifelse(hours.isnull(), "no response", BUCKETS[-1][0])
    )


def response_by_manager(responses: ir.Table, *, sla_hours: float = 1.0) -> ir.Table:
    """Speed to lead per owner.

    Returns
    -------
    ir.Table
        manager_id, leads, leads_answered, median_first_response_hours,
        p90_first_response_hours, over_sla_rate, conversion_rate.
    """
    h = responses.first_response_hours
    over = ibis.ifelse(h.isnull(), responses.age_hours > sla_hours, h > sla_hours)
    t = responses.mutate(answered=h.notnull().cast("int64"), over=over.cast("int64"))
    return (
        t.group_by(manager_id=_.owner_id)
        .agg(
            leads=_.count(),
            leads_answered=_.answered.sum(),
            median_first_response_hours=_.first_response_hours.median(),
            p90_first_response_hours=_.first_response_hours.quantile(0.9),
            over_sla_rate=_.over.mean(),
            conversion_rate=_.is_converted.mean(),
        )
        .order_by("manager_id")
    )


def response_buckets(responses: ir.Table) -> ir.Table:
    """Conversion of leads by first-response bucket (speed to lead).

    Returns
    -------
    ir.Table
        bucket, bucket_order, leads, converted, conversion_rate.
    """
    order = {label: i for i, (label, _u) in enumerate(BUCKETS)}
    order["no response"] = len(BUCKETS)
    t = responses.mutate(bucket=response_bucket(responses.first_response_hours))
    agg = t.group_by("bucket").agg(leads=_.count(), converted=_.is_converted.sum())
    return agg.mutate(
        bucket_order=agg.bucket.cases(*order.items(), else_=99),
        conversion_rate=agg.converted.cast("float64") / agg.leads,
    ).order_by("bucket_order")


def review_outcomes(
    call_reviews: ir.Table, activities: ir.Table, deals: ir.Table, *, as_of: dt.date
) -> ir.Table:
    """One row per checklist item × closed deal with a reviewed call.

    Returns
    -------
    ir.Table
        item, deal_id, manager_id (deal owner), passed (0/1: some call passed it),
        is_won (0/1).
    """
    require_columns(call_reviews, "call_reviews", ["activity_id", "item", "passed"])
    acts = activities.filter(_.deal_id.notnull()).select("activity_id", "deal_id")
    closed = closed_deals(deals, as_of=as_of).select("deal_id", "owner_id", "is_won")
    rev = call_reviews.join(acts, "activity_id").join(closed, "deal_id")
    return rev.group_by("item", "deal_id").agg(
        manager_id=_.owner_id.min(),
        passed=_.passed.cast("int64").max(),
        is_won=_.is_won.max(),
    )


def checklist_items(
    call_reviews: ir.Table, activities: ir.Table, deals: ir.Table, *, as_of: dt.date
) -> ir.Table:
    """Per checklist item: share passed, win rate passed vs not, lift with interval.

    Returns
    -------
    ir.Table
        item, calls_reviewed, share_passed, deals_passed, deals_skipped,
        win_rate_passed, win_rate_skipped, lift, lift_low, lift_high — by lift.
    """
    calls = call_reviews.group_by("item").agg(
        calls_reviewed=_.count(), share_passed=_.passed.cast("float64").mean()
    )
    per = review_outcomes(call_reviews, activities, deals, as_of=as_of)
    agg = per.group_by("item").agg(
        deals_passed=_.passed.sum(),
        deals_skipped=(1 - _.passed).sum(),
        won_passed=(_.passed * _.is_won).sum(),
        won_skipped=((1 - _.passed) * _.is_won).sum(),
    )
    t = calls.join(agg, "item")
    p1 = ibis.ifelse(
        t.deals_passed > 0, t.won_passed.cast("float64") / t.deals_passed, None
    )
    p2 = ibis.ifelse(
        t.deals_skipped > 0, t.won_skipped.cast("float64") / t.deals_skipped, None
    )
    t = t.mutate(win_rate_passed=p1, win_rate_skipped=p2)
    ok = (t.won_passed > 0) & (t.won_skipped > 0)
    se = (
        (1.0 - t.win_rate_passed) / t.won_passed.cast("float64")
        + (1.0 - t.win_rate_skipped) / t.won_skipped.cast("float64")
    ).sqrt()
    lift = ibis.ifelse(ok, t.win_rate_passed / t.win_rate_skipped, None)
    return (
        t.mutate(
            lift=lift,
            lift_low=ibis.ifelse(ok, (lift.ln() - Z95 * se).exp(), None),
            lift_high=ibis.ifelse(ok, (lift.ln() + Z95 * se).exp(), None),
        )
        .select(
            "item",
            "calls_reviewed",
            "share_passed",
            "deals_passed",
            "deals_skipped",
            "win_rate_passed",
            "win_rate_skipped",
            "lift",
            "lift_low",
            "lift_high",
        )
        .order_by(ibis.desc("lift"), "item")
    )


def checklist_by_manager(call_reviews: ir.Table, activities: ir.Table) -> ir.Table:
    """Share of reviewed calls passing each item, per manager who made the call.

    Returns
    -------
    ir.Table
        manager_id, item, calls_reviewed, share_passed.
    """
    acts = activities.select("activity_id", "manager_id")
    return (
        call_reviews.join(acts, "activity_id")
        .group_by("manager_id", "item")
        .agg(calls_reviewed=_.count(), share_passed=_.passed.cast("float64").mean())
        .order_by("manager_id", "item")
    )


def wilson(
    won: ir.NumericValue, n: ir.NumericValue
) -> tuple[ir.FloatingValue, ir.FloatingValue]:
    """95 % Wilson interval of won / n (NULL when n = 0)."""
    nf = n.cast("float64")
    p = won.cast("float64") / nf
    z2 = Z95 * Z95
    centre = (p + z2 / (2 * nf)) / (1 + z2 / nf)
    half = Z95 * ((p * (1 - p) / nf + z2 / (4 * nf * nf)).sqrt()) / (1 + z2 / nf)
    return centre - half, centre + half


def deal_activity(deals: ir.Table, activities: ir.Table, *, as_of: dt.date) -> ir.Table:
    """Closed deals with counts of client activities and client minutes on them.

    Returns
    -------
    ir.Table
        deal_id, owner_id, is_won, amount, calls, meetings, visits, emails,
        client_minutes.
    """
    acts = activities.filter(
        _.deal_id.notnull(), _.type.isin(["call", "meeting", "visit", "email"])
    )
    per = acts.group_by("deal_id").agg(
        calls=(_.type == "call").cast("int64").sum(),
        meetings=(_.type == "meeting").cast("int64").sum(),
        visits=(_.type == "visit").cast("int64").sum(),
        emails=(_.type == "email").cast("int64").sum(),
        client_minutes=_.duration_min.fill_null(0.0).sum(),
    )
    closed = closed_deals(deals, as_of=as_of).select(
        "deal_id", "owner_id", "is_won", "amount"
    )
    j = closed.left_join(per, "deal_id").drop("deal_id_right")
    return j.mutate(
        **{c: j[c].fill_null(0) for c in ("calls", "meetings", "visits", "emails")},
        client_minutes=j.client_minutes.fill_null(0.0),
    )


def activity_by_manager(per_deal: ir.Table) -> ir.Table:
    """Calls, meetings, visits and minutes per won deal, and win rate, per owner.

    Returns
    -------
    ir.Table
        manager_id, deals_closed, deals_won, win_rate, calls_per_won_deal,
        meetings_per_won_deal, visits_per_won_deal, minutes_per_won_deal.
    """
    agg = per_deal.group_by(manager_id=_.owner_id).agg(
        deals_closed=_.count(),
        deals_won=_.is_won.sum(),
        calls=_.calls.sum(),
        meetings=_.meetings.sum(),
        visits=_.visits.sum(),
        minutes=_.client_minutes.sum(),
    )
    won = agg.deals_won.cast("float64")

    def per_won(col: ir.NumericValue) -> ir.FloatingValue:
        return ibis.ifelse(agg.deals_won > 0, col.cast("float64") / won, None)

    return (
        agg.mutate(
            win_rate=won / agg.deals_closed,
            calls_per_won_deal=per_won(agg.calls),
            meetings_per_won_deal=per_won(agg.meetings),
            visits_per_won_deal=per_won(agg.visits),
            minutes_per_won_deal=per_won(agg.minutes),
        )
        .drop("calls", "meetings", "visits", "minutes")
        .order_by("manager_id")
    )


def activity_mix(per_deal: ir.Table) -> ir.Table:
    """Win rate of closed deals by activity mix, with n and a Wilson interval.

    The mix of a deal: meetings or visits (face to face) yes/no × calls 0 / 1–3 / 4+.

    Returns
    -------
    ir.Table
        face_to_face, calls_bucket, deals_closed, deals_won, win_rate, win_rate_low,
        win_rate_high.
    """
    t = per_deal.mutate(
        face_to_face=ibis.ifelse(_.meetings + _.visits > 0, "yes", "no"),
        calls_bucket=ibis.cases((_.calls == 0, "0"), (_.calls <= 3, "1-3"), else_="4+"),
    )
    agg = t.group_by("face_to_face", "calls_bucket").agg(
        deals_closed=_.count(), deals_won=_.is_won.sum()
    )
    low, high = wilson(agg.deals_won, agg.deals_closed)
    return agg.mutate(
        win_rate=agg.deals_won.cast("float64") / agg.deals_closed,
        win_rate_low=low,
        win_rate_high=high,
    ).order_by("face_to_face", "calls_bucket")


WORKLOAD_BUCKETS = ((0, "0-4"), (5, "5-9"), (10, "10-19"), (20, "20-49"), (50, "50+"))


def workload_at_arrival(
    responses: ir.Table, deals: ir.Table, *, as_of: dt.date
) -> ir.Table:
    """The owner's workload at the moment each lead arrived.

    Workload = the owner's open deals (created, not yet closed) plus the owner's leads
    still waiting for a first response, both counted just before the lead arrived. It is
    computed with one running sum per owner over +1/-1 events (a deal opens or closes, a
    lead arrives or gets its first response), so it needs no range join.

    Parameters
    ----------
    responses
        The rows of :func:`first_response` (first_response_at marks the answer).

    Returns
    -------
    ir.Table
        lead_id, owner_id, first_response_hours, is_converted, workload (int64).
    """
    require_columns(deals, "deals", ["owner_id", "created_at", "closed_at"])
    require_columns(
        responses,
        "responses",
        ["lead_id", "owner_id", "created_at", "first_response_at"],
    )
    end = next_midnight(as_of)
    d = deals.filter(_.owner_id.notnull(), _.created_at < end)
    answered = responses.first_response_at
    opened = d.select(
        owner="owner_id",
        at="created_at",
        delta=ibis.literal(1),
        lead=ibis.null("string"),
    )
    closed = d.filter(_.closed_at.notnull(), _.closed_at < end).select(
        owner="owner_id",
        at="closed_at",
        delta=ibis.literal(-1),
        lead=ibis.null("string"),
    )
    leads_in = responses.select(
        owner="owner_id", at="created_at", delta=ibis.literal(1), lead="lead_id"
    )
    leads_out = responses.filter(answered.notnull()).select(
        owner="owner_id", at=answered, delta=ibis.literal(-1), lead=ibis.null("string")
    )
    events = ibis.union(opened, closed, leads_in, leads_out).mutate(
        # at equal times, closings and answers count first, then the arriving lead
        tie=ibis.ifelse(_.delta < 0, 0, ibis.ifelse(_.lead.isnull(), 1, 2)),
    )
    window = ibis.window(
        group_by="owner", order_by=["at", "tie", "lead"], rows=(None, 0)
    )
    running = events.mutate(load=_.delta.sum().over(window) - _.delta)
    arrivals = running.filter(_.lead.notnull()).select(w_lead="lead", workload="load")
    joined = responses.join(arrivals, responses.lead_id == arrivals.w_lead)
    return joined.select(
        "lead_id",
        "owner_id",
        "first_response_hours",
        "is_converted",
        workload=joined.workload.cast("int64"),
    )


def response_by_workload(loads: ir.Table) -> ir.Table:
    """First response and conversion by workload bucket at the lead's arrival.

    Returns
    -------
    ir.Table
        workload_bucket, bucket_order, leads, median_first_response_hours,
        conversion_rate.
    """
    cases = [
        (loads.workload >= low, label) for low, label in reversed(WORKLOAD_BUCKETS)
    ]
    order = {label: i for i, (_low, label) in enumerate(WORKLOAD_BUCKETS)}
    t = loads.mutate(workload_bucket=ibis.cases(*cases))
    agg = t.group_by("workload_bucket").agg(
        leads=_.count(),
        median_first_response_hours=_.first_response_hours.median(),
        conversion_rate=_.is_converted.mean(),
    )
    return agg.mutate(
        bucket_order=agg.workload_bucket.cases(*order.items(), else_=99)
    ).order_by("bucket_order")
