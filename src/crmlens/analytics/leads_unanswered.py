"""Unanswered new leads: who is still waiting for a first answer right now, past the SLA.

Definitions (docs/metrics.md#first-response)
--------------------------------------------
- A lead is **answered** at an instant ``now`` when its ``first_response_at`` is at or
  before ``now``, or an activity on the lead by its owner (by anyone when the lead has no
  owner) was done between the lead's ``created_at`` and ``now``. An activity is done at
  its ``done_at``; one without ``done_at`` counts at its ``created_at`` unless it is a
  task (a task not done yet is a plan, not an answer). This is the first response of
  DESIGN.md, seen at an instant instead of after the fact.
- A lead is **waiting** when it is not answered, has no deal (``deal_id``), is not
  qualified by ``now`` (``qualified_at``) and its status is not a closed one
  (:data:`CLOSED_STATUSES`).
- It is **unanswered past the SLA** when it is waiting and it arrived more than
  ``sla_hours`` before ``now``; it is **new** when it arrived less than
  ``max_age_hours`` before ``now`` (older leads are a data-quality matter, not an alert).
"""

from __future__ import annotations

import datetime as dt

import ibis
import ibis.expr.types as ir
from ibis import _

from crmlens.analytics._checks import require_columns
from crmlens.analytics.managers import hours_between

#: Lead statuses that close a lead: it waits for nobody's answer any more.
CLOSED_STATUSES = (
    "converted",
    "won",
    "qualified_converted",
    "disqualified",
    "lost",
    "junk",
    "spam",
    "closed",
    "rejected",
)
#: Lead columns carried into the result when the warehouse has them.
EXTRA_COLUMNS = ("account_id", "contact_id", "source", "channel", "potential_amount")


def unanswered_leads(
    leads: ir.Table,
    activities: ir.Table,
    *,
    now: dt.datetime,
    sla_hours: float,
    max_age_hours: float = 168.0,
) -> ir.Table:
    """New leads still waiting at `now` for a first answer longer than `sla_hours`.

    Parameters
    ----------
    leads, activities
        The canonical tables.
    now
        The instant the leads are seen at (naive, in the warehouse's clock).
    sla_hours
        Hours a lead may wait for its first answer.
    max_age_hours
        Leads that arrived earlier than this many hours before `now` are not new.

    Returns
    -------
    ir.Table
        lead_id, owner_id, created_at, the :data:`EXTRA_COLUMNS` the leads have, and
        waited_hours (from created_at to `now`); oldest first.

    Examples
    --------
    >>> import datetime as dt
    >>> import ibis
    >>> leads = ibis.memtable({
    ...     "lead_id": ["L1", "L2"], "owner_id": ["M1", "M1"],
    ...     "created_at": [dt.datetime(2025, 1, 1, 9), dt.datetime(2025, 1, 1, 9)],
    ...     "first_response_at": [None, dt.datetime(2025, 1, 1, 9, 30)]})
    >>> acts = ibis.memtable({"activity_id": ["X"], "type": ["call"],
    ...     "created_at": [dt.datetime(2024, 1, 1)], "manager_id": ["M1"],
    ...     "lead_id": [None], "done_at": [None]},
    ...     schema={"activity_id": "string", "type": "string",
    ...             "created_at": "timestamp", "manager_id": "string",
    ...             "lead_id": "string", "done_at": "timestamp"})
    >>> out = unanswered_leads(leads, acts, now=dt.datetime(2025, 1, 1, 12), sla_hours=2)
    >>> out.select("lead_id", "waited_hours").to_pyarrow().to_pylist()
    [{'lead_id': 'L1', 'waited_hours': 3.0}]
    """
    require_columns(leads, "leads", ["lead_id", "created_at", "owner_id"])
    require_columns(activities, "activities", ["lead_id", "manager_id", "created_at"])
    at = ibis.timestamp(now)
    oldest = ibis.timestamp(now - dt.timedelta(hours=max_age_hours))
    latest = ibis.timestamp(now - dt.timedelta(hours=sla_hours))
    new = leads.filter(_.created_at < latest, _.created_at >= oldest)
    new = new.filter(_open(new, at))
    answered = _answered(new, activities, at)
    waiting = new.anti_join(answered, new.lead_id == answered.answered_id)
    extra = [c for c in EXTRA_COLUMNS if c in leads.columns]
    return waiting.select(
        "lead_id",
        "owner_id",
        "created_at",
        *extra,
        waited_hours=hours_between(at, waiting.created_at),
    ).order_by("created_at", "lead_id")


def _open(leads: ir.Table, at: ir.TimestampScalar) -> ir.BooleanValue:
    """No deal, not qualified by `at`, status not closed, no first response by `at`."""
    cond = ibis.literal(True)
    if "deal_id" in leads.columns:
        cond &= leads.deal_id.isnull()
    if "qualified_at" in leads.columns:
        cond &= leads.qualified_at.isnull() | (leads.qualified_at > at)
    if "status" in leads.columns:
        status = leads.status.cast("string").lower().strip()
        cond &= status.isnull() | ~status.isin(CLOSED_STATUSES)
    if "first_response_at" in leads.columns:
        cond &= leads.first_response_at.isnull() | (leads.first_response_at > at)
    return cond


def _answered(
    leads: ir.Table, activities: ir.Table, at: ir.TimestampScalar
) -> ir.Table:
    """Ids of `leads` with an activity by their owner done after arrival, by `at`."""
    acts = activities.filter(_.lead_id.notnull())
    if "type" in activities.columns:
        is_task = acts.type.cast("string").lower() == "task"
    else:
        is_task = ibis.literal(False)
    done = (
        acts.done_at.coalesce(
            ibis.ifelse(is_task, ibis.null("timestamp"), acts.created_at)
        )
        if "done_at" in activities.columns
        else acts.created_at
    )
    acts = acts.select(act_lead="lead_id", act_by="manager_id", act_at=done).filter(
        _.act_at.notnull(), _.act_at <= at
    )
    j = leads.select("lead_id", "owner_id", "created_at").join(
        acts, _.lead_id == acts.act_lead
    )
    by_owner = j.owner_id.isnull() | (j.act_by == j.owner_id)
    return (
        j.filter(by_owner, j.act_at >= j.created_at)
        .select(answered_id="lead_id")
        .distinct()
    )
