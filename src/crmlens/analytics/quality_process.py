"""Data-quality checks of consistency, relevance, reliability, timeliness, uniqueness and
the CRM process (deals without a next task, overdue tasks, leads not taken in time).

Same shape as :mod:`crmlens.analytics.quality_checks`: each builder returns the check's
population ``record_id, manager_id, failed``; the row-level ones are :class:`Rows`.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from crmlens.analytics import normalise_names as nn
from crmlens.analytics.quality_checks import (
    Builder,
    Context,
    Rows,
    Tables,
    _keys,
    _secs,
    contacts_with_owner,
    pop,
)

# ---- consistency ---------------------------------------------------------------------


def _status_vs_closed(d: ir.Table, t: Tables, c: Context) -> ir.BooleanValue:
    closed = d.status.isin(["won", "lost"])
    return (closed & d.closed_at.isnull()) | (
        (d.status == "open") & d.closed_at.notnull()
    )


#: Closed deals without ``closed_at`` or open deals with one.
status_vs_closed = Rows("deals", "deal_id", "owner_id", failed=_status_vs_closed)

#: Won deals that no order refers to (run only when orders carry deal_id).
won_without_orders = Rows(
    "deals", "deal_id", "owner_id",
    failed=lambda d, t, c: ~d.deal_id.isin(_keys(t["orders"], "deal_id")),
    where=lambda d, t, c: d.status == "won",
)  # fmt: skip


def stages_outside_deal(t: Tables, c: Context) -> ir.Table:
    """Stage entries before the deal was created (1 h tolerance) or after it closed."""
    d = t["deals"].select("deal_id", "owner_id", "created_at", "closed_at")
    s = t["deal_stages"].inner_join(d, "deal_id")
    s = s.mutate(record_id=s.deal_id.cast("string") + "/" + s.stage.cast("string"))
    early = _secs(s.created_at, s.entered_at) > 3600
    late = s.closed_at.notnull() & (_secs(s.entered_at, s.closed_at) > 86400)
    return pop(s, "record_id", "owner_id", early | late)


def mixed_currency(t: Tables, c: Context) -> ir.Table:
    """Deals in a currency other than the most common one."""
    d = t["deals"].filter(t["deals"].currency.notnull())
    counts = d.group_by("currency").agg(n=d.count())
    top = counts.order_by([ibis.desc("n"), "currency"]).limit(1).select(main="currency")
    j = d.cross_join(top)
    return pop(j, "deal_id", "owner_id", j.currency != j.main)


#: Open deals created more than a year before `as_of`.
open_too_old = Rows(
    "deals", "deal_id", "owner_id",
    failed=lambda d, t, c: d.created_at < c.ago(days=365),
    where=lambda d, t, c: d.status == "open",
)  # fmt: skip


# ---- relevance -----------------------------------------------------------------------


def _stale(d: ir.Table, t: Tables, c: Context) -> ir.BooleanValue:
    # The latest of creation, activity and stage move is before the cutoff exactly when
    # none of them is at or after it; the recent activities and moves are few.
    cutoff = c.ago(days=c.stale_days)
    a, s = t["activities"], t["deal_stages"]
    acted = a.filter(a.deal_id.notnull() & (a.created_at >= cutoff)).deal_id
    moved = s.filter(s.deal_id.notnull() & (s.entered_at >= cutoff)).deal_id
    return (d.created_at < cutoff) & ~d.deal_id.isin(acted) & ~d.deal_id.isin(moved)


#: Open deals with no activity or stage move in the last ``stale_days`` days.
stale_open_deals = Rows(
    "deals",
    "deal_id",
    "owner_id",
    failed=_stale,
    where=lambda d, t, c: d.status == "open",
)


def _untouched(ld: ir.Table, t: Tables, c: Context) -> ir.BooleanValue:
    old = ld.created_at < c.ago(days=c.stale_days)
    return old & ~ld.lead_id.isin(_keys(t["activities"], "lead_id"))


#: Leads still in work with no activity at all after ``stale_days`` days.
untouched_leads = Rows(
    "leads", "lead_id", "owner_id", failed=_untouched,
    where=lambda ld, t, c: ~ld.status.isin(["converted", "disqualified"]),
)  # fmt: skip

#: Contacts marked as no longer working at the client.
contacts_left = Rows(
    contacts_with_owner, "contact_id", "owner_id",
    failed=lambda p, t, c: p.still_employed == False,  # noqa: E712
)  # fmt: skip


# ---- reliability ---------------------------------------------------------------------


def activity_after_close(t: Tables, c: Context) -> ir.Table:
    """Activities dated before a deal closed but entered after it (back-dated edits)."""
    d = t["deals"].filter(t["deals"].closed_at.notnull()).select("deal_id", "closed_at")
    a = (
        t["activities"]
        .filter(t["activities"].deal_id.notnull())
        .inner_join(d, "deal_id")
    )
    when = a.done_at.fill_null(a.due_at)
    bad = (
        when.notnull()
        & (when < a.closed_at)
        & (_secs(a.created_at, a.closed_at) > 86400)
    )
    return pop(a, "activity_id", "manager_id", bad)


def amount_equals_lead(t: Tables, c: Context) -> ir.Table:
    """Open deals whose amount is still the lead's first estimate (never revised)."""
    ld = t["leads"].select("lead_id", "potential_amount")
    d = t["deals"].filter(t["deals"].status == "open").inner_join(ld, "lead_id")
    d = d.filter(d.amount.notnull() & d.potential_amount.notnull())
    return pop(d, "deal_id", "owner_id", d.amount == d.potential_amount)


# ---- timeliness ----------------------------------------------------------------------


#: Done activities (not tasks) entered more than ``log_lag_hours`` after they happened.
logged_late = Rows(
    "activities", "activity_id", "manager_id",
    failed=lambda a, t, c: _secs(a.created_at, a.done_at) > c.log_lag_hours * 3600,
    where=lambda a, t, c: a.done_at.notnull() & (a.type != "task"),
)  # fmt: skip


def first_response(t: Tables) -> ir.Table:
    """Leads with their first response: first_response_at, else the owner's first activity
    (looked up only for the leads without first_response_at)."""
    a = t["activities"].filter(t["activities"].lead_id.notnull())
    ld = t["leads"]
    waiting = ld.filter(ld.first_response_at.isnull())
    j = a.inner_join(
        waiting.select("lead_id", "owner_id", lead_at="created_at"), "lead_id"
    )
    j = j.filter((j.manager_id == j.owner_id) & (j.created_at >= j.lead_at))
    first = j.group_by("lead_id").agg(first_act=j.created_at.min())
    out = ld.left_join(first, "lead_id")
    return out.mutate(responded_at=out.first_response_at.fill_null(out.first_act))


def _first_response(t: Tables, c: Context) -> ir.Table:
    return first_response(t)


#: Answered leads whose first response came later than ``sla_hours``.
slow_first_response = Rows(
    _first_response, "lead_id", "owner_id",
    failed=lambda ld, t, c: _secs(ld.responded_at, ld.created_at) > c.sla_hours * 3600,
    where=lambda ld, t, c: ld.responded_at.notnull(),
)  # fmt: skip


# ---- uniqueness ----------------------------------------------------------------------


def _repeated(x: ir.Table, column: str) -> ir.Column:
    """Values of `column` that occur in more than one row of `x` (usually few)."""
    x = x.filter(x[column].notnull())
    counts = x.group_by(column).agg(n_same=x.count())
    return counts.filter(counts.n_same > 1)[column]


def duplicate_keys(table: str, key: str, manager: str | None) -> Builder:
    """Rows whose key appears more than once (none where the import refuses repeats)."""

    def failed(x: ir.Table, t: Tables, c: Context) -> ir.BooleanValue:
        if c.keys_unique:
            return ibis.literal(False)
        return x[key].isin(_repeated(t[table], key))

    return Rows(
        table, key, manager, failed=failed, where=lambda x, t, c: x[key].notnull()
    )


def shared_value(table: str, key: str, manager: str | None, column: str) -> Builder:
    """Records sharing one non-empty value of `column` (e.g. two accounts, one INN)."""

    def filled(x: ir.Table) -> ir.BooleanValue:
        return x[column].notnull() & nn.filled_expr(x[column])

    def shared(x: ir.Table, t: Tables, c: Context) -> ir.BooleanValue:
        rows = t[table]
        return x[column].isin(_repeated(rows.filter(filled(rows)), column))

    return Rows(table, key, manager, failed=shared, where=lambda x, t, c: filled(x))


def _merged(a: ir.Table, t: Tables, c: Context) -> ir.BooleanValue:
    m = t["account_merges"]
    return a.account_id.isin(m.filter(m.record_id != m.canonical_id).record_id)


#: Accounts the dedup merge map folds into another account.
merged_duplicates = Rows("accounts", "account_id", "owner_id", failed=_merged)


# ---- CRM process ---------------------------------------------------------------------


def _no_next_task(d: ir.Table, t: Tables, c: Context) -> ir.BooleanValue:
    a = t["activities"]
    planned = a.filter(
        (a.type == "task") & a.done_at.isnull() & a.deal_id.notnull()
        & (a.due_at >= c.ago(days=1))
    ).deal_id  # fmt: skip
    return ~d.deal_id.isin(planned)


#: Open deals without an open task due at or after `as_of`.
without_next_task = Rows(
    "deals", "deal_id", "owner_id", failed=_no_next_task,
    where=lambda d, t, c: d.status == "open",
)  # fmt: skip

#: Tasks with a due date before `as_of` that are not done.
overdue_tasks = Rows(
    "activities", "activity_id", "manager_id",
    failed=lambda a, t, c: a.done_at.isnull() & (a.due_at < c.ago(days=1)),
    where=lambda a, t, c: (a.type == "task") & a.due_at.notnull(),
)  # fmt: skip

#: Leads with no response at all, older than ``sla_hours``.
lead_not_taken = Rows(
    _first_response, "lead_id", "owner_id",
    failed=lambda ld, t, c: ld.responded_at.isnull(),
    where=lambda ld, t, c: ld.created_at < c.ago(hours=c.sla_hours),
)  # fmt: skip
