"""Data-quality checks of consistency, relevance, reliability, timeliness, uniqueness and
the CRM process (deals without a next task, overdue tasks, leads not taken in time).

Same shape as :mod:`crmlens.analytics.quality_checks`: each builder returns the check's
population ``record_id, manager_id, failed``.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from crmlens.analytics.quality_checks import Builder, Context, Tables, _keys, _secs, pop

# ---- consistency ---------------------------------------------------------------------


def status_vs_closed(t: Tables, c: Context) -> ir.Table:
    """Closed deals without ``closed_at`` or open deals with one."""
    d = t["deals"]
    closed = d.status.isin(["won", "lost"])
    bad = (closed & d.closed_at.isnull()) | (
        (d.status == "open") & d.closed_at.notnull()
    )
    return pop(d, "deal_id", "owner_id", bad)


def won_without_orders(t: Tables, c: Context) -> ir.Table:
    """Won deals that no order refers to (run only when orders carry deal_id)."""
    d = t["deals"].filter(t["deals"].status == "won")
    return pop(d, "deal_id", "owner_id", ~d.deal_id.isin(_keys(t["orders"], "deal_id")))


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


def open_too_old(t: Tables, c: Context) -> ir.Table:
    """Open deals created more than a year before `as_of`."""
    d = t["deals"].filter(t["deals"].status == "open")
    return pop(d, "deal_id", "owner_id", d.created_at < c.ago(days=365))


# ---- relevance -----------------------------------------------------------------------


def stale_open_deals(t: Tables, c: Context) -> ir.Table:
    """Open deals with no activity or stage move in the last ``stale_days`` days."""
    d = t["deals"].filter(t["deals"].status == "open")
    a = t["activities"].filter(t["activities"].deal_id.notnull())
    last_act = a.group_by("deal_id").agg(last_act=a.created_at.max())
    s = t["deal_stages"]
    last_stage = s.group_by("deal_id").agg(last_stage=s.entered_at.max())
    j = d.left_join(last_act, "deal_id").left_join(last_stage, "deal_id")
    last = ibis.greatest(
        j.created_at,
        j.last_act.fill_null(j.created_at),
        j.last_stage.fill_null(j.created_at),
    )
    return pop(j, "deal_id", "owner_id", last < c.ago(days=c.stale_days))


def untouched_leads(t: Tables, c: Context) -> ir.Table:
    """Leads still in work with no activity at all after ``stale_days`` days."""
    ld = t["leads"].filter(~t["leads"].status.isin(["converted", "disqualified"]))
    touched = _keys(t["activities"], "lead_id")
    old = ld.created_at < c.ago(days=c.stale_days)
    return pop(ld, "lead_id", "owner_id", old & ~ld.lead_id.isin(touched))


def contacts_left(t: Tables, c: Context) -> ir.Table:
    """Contacts marked as no longer working at the client."""
    p = t["contacts"].left_join(
        t["accounts"].select("account_id", "owner_id"), "account_id"
    )
    return pop(p, "contact_id", "owner_id", p.still_employed == False)  # noqa: E712


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


def logged_late(t: Tables, c: Context) -> ir.Table:
    """Done activities (not tasks) entered more than ``log_lag_hours`` after they happened."""
    a = t["activities"].filter(
        t["activities"].done_at.notnull() & (t["activities"].type != "task")
    )
    return pop(
        a,
        "activity_id",
        "manager_id",
        _secs(a.created_at, a.done_at) > c.log_lag_hours * 3600,
    )


def first_response(t: Tables) -> ir.Table:
    """Leads with their first response: first_response_at, else the owner's first activity."""
    a = t["activities"].filter(t["activities"].lead_id.notnull())
    ld = t["leads"]
    j = a.inner_join(ld.select("lead_id", "owner_id", lead_at="created_at"), "lead_id")
    j = j.filter((j.manager_id == j.owner_id) & (j.created_at >= j.lead_at))
    first = j.group_by("lead_id").agg(first_act=j.created_at.min())
    out = ld.left_join(first, "lead_id")
    return out.mutate(responded_at=out.first_response_at.fill_null(out.first_act))


def slow_first_response(t: Tables, c: Context) -> ir.Table:
    """Answered leads whose first response came later than ``sla_hours``."""
    ld = first_response(t)
    ld = ld.filter(ld.responded_at.notnull())
    return pop(
        ld,
        "lead_id",
        "owner_id",
        _secs(ld.responded_at, ld.created_at) > c.sla_hours * 3600,
    )


# ---- uniqueness ----------------------------------------------------------------------


def duplicate_keys(table: str, key: str, manager: str | None) -> Builder:
    """Rows whose key appears more than once."""

    def build(t: Tables, c: Context) -> ir.Table:
        x = t[table]
        counts = x.group_by(key).agg(n_key=x.count())
        j = x.inner_join(counts, key)
        return pop(j, key, manager, j.n_key > 1)

    return build


def shared_value(table: str, key: str, manager: str | None, column: str) -> Builder:
    """Records sharing one non-empty value of `column` (e.g. two accounts, one INN)."""

    def build(t: Tables, c: Context) -> ir.Table:
        x = t[table].filter(
            t[table][column].notnull() & (t[table][column].strip() != "")
        )
        counts = x.group_by(column).agg(n_same=x.count())
        j = x.inner_join(counts, column)
        return pop(j, key, manager, j.n_same > 1)

    return build


def merged_duplicates(t: Tables, c: Context) -> ir.Table:
    """Accounts the dedup merge map folds into another account."""
    a = t["accounts"]
    m = t["account_merges"]
    dup = m.filter(m.record_id != m.canonical_id).record_id
    return pop(a, "account_id", "owner_id", a.account_id.isin(dup))


# ---- CRM process ---------------------------------------------------------------------


def without_next_task(t: Tables, c: Context) -> ir.Table:
    """Open deals without an open task due at or after `as_of`."""
    d = t["deals"].filter(t["deals"].status == "open")
    a = t["activities"]
    planned = a.filter(
        (a.type == "task") & a.done_at.isnull() & a.deal_id.notnull()
        & (a.due_at >= c.ago(days=1))
    ).deal_id  # fmt: skip
    return pop(d, "deal_id", "owner_id", ~d.deal_id.isin(planned))


def overdue_tasks(t: Tables, c: Context) -> ir.Table:
    """Tasks with a due date before `as_of` that are not done."""
    a = t["activities"].filter(
        (t["activities"].type == "task") & t["activities"].due_at.notnull()
    )
    return pop(
        a, "activity_id", "manager_id", a.done_at.isnull() & (a.due_at < c.ago(days=1))
    )


def lead_not_taken(t: Tables, c: Context) -> ir.Table:
    """Leads with no response at all, older than ``sla_hours``."""
    ld = first_response(t)
    ld = ld.filter(ld.created_at < c.ago(hours=c.sla_hours))
    return pop(ld, "lead_id", "owner_id", ld.responded_at.isnull())
