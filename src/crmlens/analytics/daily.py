"""The day in the CRM: activity of each manager, new leads and their answers, overdue tasks.

Definitions (the daily report of ``crmlens report --period day``):

- **Activity of the day** = activities created on `day` (00:00 ≤ created_at < next
  midnight), counted per manager and type; a task counts as done on the day its done_at
  falls on. Client minutes = the sum of duration_min of calls, meetings and visits.
- **New leads of the day** = leads created on `day`, each with its first response
  (:func:`crmlens.analytics.managers_activity.first_response`, known by the end of `day`)
  and whether it came within ``sla_hours``.
- **Overdue task** = a task with a due_at before the end of `day` that is not done by then;
  days overdue = whole days from due_at to the end of `day`, rounded up.
"""

from __future__ import annotations

import datetime as dt

import ibis
import ibis.expr.types as ir
from ibis import _

from crmlens.analytics._checks import require_columns
from crmlens.analytics._dates import next_midnight
from crmlens.analytics.managers import hours_between

ACTIVITY_TYPES = ("call", "meeting", "visit", "email")
_CLIENT_TYPES = ("call", "meeting", "visit")


def _start(day: dt.date) -> ir.TimestampScalar:
    return ibis.timestamp(dt.datetime.combine(day, dt.time()))


def day_activity(activities: ir.Table, *, day: dt.date) -> ir.Table:
    """Activities of each manager on `day`.

    Returns
    -------
    ir.Table
        manager_id, calls, meetings, visits, emails, tasks_done, activities (all types
        created on the day), client_minutes — one row per manager with any activity.

    Examples
    --------
    >>> import ibis, datetime as dt
    >>> acts = ibis.memtable({
    ...     "activity_id": ["a1", "a2", "a3", "a4"], "manager_id": ["M1", "M1", "M2", "M1"],
    ...     "type": ["call", "task", "meeting", "call"],
    ...     "created_at": [dt.datetime(2025, 3, 3, 10), dt.datetime(2025, 3, 1, 9),
    ...                    dt.datetime(2025, 3, 3, 12), dt.datetime(2025, 3, 2, 9)],
    ...     "done_at": [None, dt.datetime(2025, 3, 3, 15), None, None],
    ...     "duration_min": [5.0, None, 60.0, 3.0]})
    >>> r = day_activity(acts, day=dt.date(2025, 3, 3)).order_by("manager_id").to_pyarrow()
    >>> r.select(["manager_id", "calls", "meetings", "tasks_done", "activities"]).to_pylist()[0]
    {'manager_id': 'M1', 'calls': 1, 'meetings': 0, 'tasks_done': 1, 'activities': 1}
    """
    require_columns(activities, "activities", ["manager_id", "type", "created_at"])
    start, end = _start(day), next_midnight(day)
    created = (activities.created_at >= start) & (activities.created_at < end)
    done = (
        (activities.done_at >= start) & (activities.done_at < end)
        if "done_at" in activities.columns
        else ibis.literal(False)
    )
    minutes = (
        activities.duration_min.cast("float64")
        if "duration_min" in activities.columns
        else ibis.literal(None, "float64")
    )
    t = activities.filter(_.manager_id.notnull(), created | done).mutate(
        is_created=created.cast("int64"),
        is_task_done=((activities.type == "task") & done).cast("int64"),
        minutes=ibis.ifelse(
            created & activities.type.isin(_CLIENT_TYPES), minutes.fill_null(0.0), 0.0
        ),
        **{
            f"is_{kind}": (created & (activities.type == kind)).cast("int64")
            for kind in ACTIVITY_TYPES
        },
    )
    return t.group_by("manager_id").agg(
        calls=_.is_call.sum(),
        meetings=_.is_meeting.sum(),
        visits=_.is_visit.sum(),
        emails=_.is_email.sum(),
        tasks_done=_.is_task_done.sum(),
        activities=_.is_created.sum(),
        client_minutes=_.minutes.sum(),
    )


def day_leads(
    responses: ir.Table, leads: ir.Table, *, day: dt.date, sla_hours: float = 1.0
) -> ir.Table:
    """Leads created on `day` with their first response and whether it was in time.

    Parameters
    ----------
    responses
        The rows of :func:`crmlens.analytics.managers_activity.first_response` as of `day`.
    leads
        The leads table (for source, channel, account and status).

    Returns
    -------
    ir.Table
        lead_id, created_at, owner_id, source, channel, account_id, first_response_at,
        first_response_hours, is_answered, is_in_sla — one row per lead of the day.
    """
    require_columns(responses, "responses", ["lead_id", "created_at", "owner_id"])
    start, end = _start(day), next_midnight(day)
    extra = [c for c in ("source", "channel", "account_id") if c in leads.columns]
    info = leads.select("lead_id", *extra).rename(info_lead_id="lead_id")
    today = responses.filter(_.created_at >= start, _.created_at < end)
    t = today.left_join(info, today.lead_id == info.info_lead_id).drop("info_lead_id")
    for column in ("source", "channel", "account_id"):
        if column not in extra:
            t = t.mutate(**{column: ibis.literal(None, "string")})
    answered = t.first_response_at.notnull()
    return t.select(
        "lead_id",
        "created_at",
        "owner_id",
        "source",
        "channel",
        "account_id",
        "first_response_at",
        "first_response_hours",
        is_answered=answered,
        is_in_sla=answered & (t.first_response_hours <= sla_hours),
    )


def overdue_task_list(activities: ir.Table, *, day: dt.date) -> ir.Table:
    """Tasks due before the end of `day` and not done by then, most overdue first.

    Returns
    -------
    ir.Table
        activity_id, manager_id, account_id, deal_id, lead_id, created_at, due_at,
        days_overdue.

    Examples
    --------
    >>> import ibis, datetime as dt
    >>> acts = ibis.memtable({
    ...     "activity_id": ["t1", "t2", "t3"], "manager_id": ["M1", "M1", "M2"],
    ...     "type": ["task", "task", "task"],
    ...     "created_at": [dt.datetime(2025, 3, 1)] * 3,
    ...     "due_at": [dt.datetime(2025, 3, 1, 12), dt.datetime(2025, 3, 5),
    ...                dt.datetime(2025, 3, 3, 18)],
    ...     "done_at": [None, None, dt.datetime(2025, 3, 3, 17)]})
    >>> r = overdue_task_list(acts, day=dt.date(2025, 3, 3)).to_pyarrow()
    >>> r.select(["activity_id", "days_overdue"]).to_pylist()
    [{'activity_id': 't1', 'days_overdue': 3}]
    """
    require_columns(activities, "activities", ["activity_id", "type", "due_at"])
    end = next_midnight(day)
    done = (
        activities.done_at
        if "done_at" in activities.columns
        else ibis.literal(None, "timestamp")
    )
    late = activities.filter(
        activities.type == "task",
        activities.due_at.notnull(),
        activities.due_at < end,
        activities.created_at < end,
        done.isnull() | (done >= end),
    )
    cols = [
        c
        for c in ("manager_id", "account_id", "deal_id", "lead_id")
        if c in late.columns
    ]
    days = (hours_between(end, late.due_at) / 24.0).ceil().cast("int64")
    out = late.select("activity_id", *cols, "created_at", "due_at", days_overdue=days)
    return out.order_by([ibis.desc("days_overdue"), "activity_id"])
