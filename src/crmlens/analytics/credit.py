"""Team credit: who took part in each won deal and how its revenue is credited (issue 13).

Definitions:

- **Participants** of a won deal: its owner and every manager with an activity on it
  (created by `as_of`).
- **Effort minutes** of an activity: its duration_min when given and positive, else the
  standard minutes of its type (:data:`STANDARD_MINUTES`: a meeting 60, a visit 120 …).
- **Stage of an activity**: the deal's stage at the time the activity was done (the last
  stage entered before it; ``start`` before the first).
- **Schemes** — the share of a deal's revenue credited to each participant:
  ``owner`` all to the owner; ``equal`` 1 / participants; ``activity`` effort minutes /
  the deal's effort minutes; ``stage`` stages the person acted in / the sum of that over
  participants. A deal where nobody has effort (or stages) falls back to ``equal``, so
  every scheme credits exactly the revenue of won deals.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

import ibis
import ibis.expr.types as ir
from ibis import _

from crmlens.analytics._checks import require_columns
from crmlens.analytics.managers import closed_deals, next_midnight

Scheme = Literal["owner", "equal", "activity", "stage"]
SCHEMES: tuple[Scheme, ...] = ("owner", "equal", "activity", "stage")

#: Minutes counted for an activity without a duration.
STANDARD_MINUTES = {"call": 5.0, "email": 10.0, "meeting": 60.0, "visit": 120.0}


def _effort(activities: ir.Table) -> ir.FloatingValue:
    standard = activities.type.cases(*STANDARD_MINUTES.items(), else_=0.0)
    given = activities.duration_min
    return ibis.ifelse(given.notnull() & (given > 0), given, standard).cast("float64")


def _activity_stage(acts: ir.Table, deal_stages: ir.Table) -> ir.Table:
    """activity_id, stage: the deal's stage when the activity was done."""
    st = deal_stages.select(st_deal="deal_id", stage="stage", entered_at="entered_at")
    j = acts.select("activity_id", "deal_id", "at").join(
        st, (acts.deal_id == st.st_deal) & (st.entered_at <= acts.at)
    )
    last = j.group_by("activity_id").agg(last_at=_.entered_at.max())
    pick = j.join(last, "activity_id").filter(_.entered_at == _.last_at)
    return pick.group_by(sa_id="activity_id").agg(stage=_.stage.min())


def participation(
    deals: ir.Table,
    activities: ir.Table,
    deal_stages: ir.Table,
    *,
    as_of: dt.date,
    date_from: dt.date | None = None,
) -> ir.Table:
    """One row per won deal (closed in the window) × participant.

    Returns
    -------
    ir.Table
        deal_id, manager_id, owner_id, is_owner (0/1), amount (won revenue, 0 when
        empty), activity_count, effort_minutes, stages_touched.
    """
    require_columns(
        activities, "activities", ["deal_id", "manager_id", "type", "created_at"]
    )
    won = closed_deals(deals, date_from=date_from, as_of=as_of).filter(_.is_won == 1)
    won = won.filter(_.owner_id.notnull()).select(
        "deal_id", "owner_id", amount=_.won_amount
    )
    acts = activities.filter(
        _.deal_id.notnull(), _.manager_id.notnull(), _.created_at < next_midnight(as_of)
    )
    acts = acts.mutate(at=acts.done_at.coalesce(acts.created_at), effort=_effort(acts))
    wd = won.select(wd="deal_id")
    acts = acts.join(wd, acts.deal_id == wd.wd).drop("wd")
    stage = _activity_stage(acts, deal_stages)
    acts = acts.left_join(stage, acts.activity_id == stage.sa_id)
    acts = acts.mutate(stage=acts.stage.fill_null("start"))
    per = acts.group_by("deal_id", "manager_id").agg(
        activity_count=_.count(),
        effort_minutes=_.effort.sum(),
        stages_touched=_.stage.nunique(),
    )
    people = (
        per.select("deal_id", "manager_id")
        .union(won.select("deal_id", manager_id="owner_id"))
        .distinct()
    )
    t = people.join(won, "deal_id").left_join(per, ["deal_id", "manager_id"])
    t = t.drop(*[c for c in t.columns if c.endswith("_right")])
    return t.select(
        "deal_id",
        "manager_id",
        "owner_id",
        is_owner=(t.manager_id == t.owner_id).cast("int64"),
        amount=t.amount,
        activity_count=t.activity_count.fill_null(0),
        effort_minutes=t.effort_minutes.fill_null(0.0),
        stages_touched=t.stages_touched.fill_null(0),
    )


def credit_shares(part: ir.Table, *, scheme: Scheme) -> ir.Table:
    """Share and credited revenue of each participant of each won deal under `scheme`.

    Returns
    -------
    ir.Table
        the participation columns plus share (sums to 1 per deal) and credit
        (share × amount).
    """
    deal = part.group_by(dk="deal_id").agg(
        n_people=_.count(),
        total_effort=_.effort_minutes.sum(),
        total_stages=_.stages_touched.sum(),
    )
    t = part.join(deal, part.deal_id == deal.dk).drop("dk")
    equal = 1.0 / t.n_people.cast("float64")
    if scheme == "owner":
        share = t.is_owner.cast("float64")
    elif scheme == "equal":
        share = equal
    elif scheme == "activity":
        share = ibis.ifelse(
            t.total_effort > 0, t.effort_minutes / t.total_effort, equal
        )
    else:
        share = ibis.ifelse(
            t.total_stages > 0,
            t.stages_touched.cast("float64") / t.total_stages.cast("float64"),
            equal,
        )
    t = t.mutate(share=share)
    return t.mutate(credit=t.share * t.amount).drop(
        "n_people", "total_effort", "total_stages"
    )


def credit_by_person(part: ir.Table, *, scheme: Scheme) -> ir.Table:
    """Credited revenue and credited deals per person under `scheme`.

    Returns
    -------
    ir.Table
        manager_id, deals_credited (deals with a share > 0), credited_revenue.
    """
    s = credit_shares(part, scheme=scheme)
    return s.group_by("manager_id").agg(
        deals_credited=(s.share > 0).cast("int64").sum(),
        credited_revenue=s.credit.sum(),
    )


def credit_compare(part: ir.Table) -> ir.Table:
    """Every scheme side by side per person, with help given to others' deals.

    Returns
    -------
    ir.Table
        manager_id, deals_participated, deals_owned, deals_of_others, revenue_of_others
        (won revenue of others' deals they took part in), credited_owner,
        credited_equal, credited_activity, credited_stage, and gain_<scheme> =
        credited_<scheme> − credited_owner for the team schemes.
    """
    base = part.group_by("manager_id").agg(
        deals_participated=_.count(),
        deals_owned=_.is_owner.sum(),
        deals_of_others=(1 - _.is_owner).sum(),
        revenue_of_others=ibis.ifelse(_.is_owner == 0, _.amount, 0.0).sum(),
    )
    for scheme in SCHEMES:
        s = credit_by_person(part, scheme=scheme).select(
            mk="manager_id", **{f"credited_{scheme}": "credited_revenue"}
        )
        base = base.left_join(s, base.manager_id == s.mk).drop("mk")
    return base.mutate(
        **{
            f"gain_{s}": base[f"credited_{s}"] - base.credited_owner
            for s in SCHEMES
            if s != "owner"
        }
    ).order_by("manager_id")


def with_bonus(
    per_person: ir.Table,
    columns: list[str],
    *,
    pool: float | None = None,
    rate: float | None = None,
) -> ir.Table:
    """Add bonus_<col> for each credited column: pool × share of the total, or rate × it.

    Parameters
    ----------
    columns
        Credited-revenue columns, e.g. ["credited_owner", "credited_equal"].
    pool
        A bonus pool split in proportion to credited revenue.
    rate
        A bonus rate applied to credited revenue (used when `pool` is None).
    """
    if pool is None and rate is None:
        return per_person
    totals = per_person.aggregate(**{f"tot_{c}": per_person[c].sum() for c in columns})
    t = per_person.cross_join(totals)
    out = {}
    for c in columns:
        name = "bonus_" + c.removeprefix("credited_").removeprefix("credited")
        name = name if name != "bonus_" else "bonus"
        if pool is not None:
            out[name] = ibis.ifelse(t[f"tot_{c}"] > 0, pool * t[c] / t[f"tot_{c}"], 0.0)
        else:
            out[name] = t[c] * float(rate)  # type: ignore[arg-type]
    return t.mutate(**out).drop(*[f"tot_{c}" for c in columns])
