"""Groups of the funnel (``--by``): one label per deal and per lead.

- ``manager``: the owner (deal's ``owner_id``, lead's ``owner_id``);
- ``team`` / ``region``: the owner's team or region in ``managers``;
- ``source`` / ``channel``: of the deal's lead (``deals.lead_id`` or ``leads.deal_id``);
- ``segment``: the account's ``size_segment``;
- ``client_type``: ``returning`` when the account had a won deal closed or an order
  before the deal (lead) was created, else ``new``;
- ``month`` / ``quarter``: of the deal's (lead's) creation, ``YYYY-MM`` / ``YYYY-Qn``.

A missing label is ``(none)``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import ibis
import ibis.expr.types as ir
from ibis import _

GROUP_COLUMN = "group_value"
NONE_LABEL = "(none)"

GroupBy = Literal[
    "manager",
    "team",
    "region",
    "source",
    "channel",
    "segment",
    "client_type",
    "month",
    "quarter",
]
GROUPS: tuple[GroupBy, ...] = (
    "manager",
    "team",
    "region",
    "source",
    "channel",
    "segment",
    "client_type",
    "month",
    "quarter",
)


@dataclass(frozen=True)
class FunnelInputs:
    """The canonical tables a funnel needs (any may be empty)."""

    deals: ir.Table
    deal_stages: ir.Table
    pipelines: ir.Table
    leads: ir.Table | None = None
    managers: ir.Table | None = None
    accounts: ir.Table | None = None
    orders: ir.Table | None = None
    #: ``mart(name, as_of)``: a mart of the warehouse covering `as_of`, or None
    #: (:meth:`crmlens.warehouse.Warehouse.mart`); without it everything is computed.
    mart: Callable[[str, dt.date], ir.Table | None] | None = None


def period_label(ts: ir.TimestampValue, grain: GroupBy) -> ir.StringValue:
    """``YYYY-MM`` (month) or ``YYYY-Qn`` (quarter) of a timestamp."""
    year = ts.year().cast("string")
    if grain == "month":
        return year.concat("-", _two(ts.month()))
    return year.concat("-Q", ts.quarter().cast("string"))


def _two(v: ir.IntegerValue) -> ir.StringValue:
    return v.cast("string").lpad(2, "0")


def _owner_attr(
    t: ir.Table, owner_col: str, managers: ir.Table | None, attr: str
) -> ir.Table:
    if managers is None or attr not in managers.columns:
        return t.mutate(**{GROUP_COLUMN: ibis.literal(NONE_LABEL)})
    m = managers.select(_mid=_.manager_id, _attr=managers[attr])
    j = t.left_join(m, t[owner_col] == m._mid)
    return j.mutate(**{GROUP_COLUMN: j._attr}).drop("_mid", "_attr")


def _returning(
    t: ir.Table, at_col: str, inputs: FunnelInputs, facts: ir.Table | None
) -> ir.Table:
    firsts = []
    if facts is not None:
        firsts.append(
            facts.filter(_.status_as_of == "won").select(
                _acc=_.account_id, _at=_.closed_at_as_of
            )
        )
    if inputs.orders is not None and "order_date" in inputs.orders.columns:
        firsts.append(
            inputs.orders.select(_acc=_.account_id, _at=_.order_date.cast("timestamp"))
        )
    if not firsts or "account_id" not in t.columns:
        return t.mutate(**{GROUP_COLUMN: ibis.literal("new")})
    union = firsts[0] if len(firsts) == 1 else ibis.union(*firsts)
    first = union.group_by("_acc").agg(_first=_._at.min())
    j = t.left_join(first, t.account_id == first._acc)
    label = ibis.cases((j._first < j[at_col], "returning"), else_="new")
    return j.mutate(**{GROUP_COLUMN: label}).drop("_acc", "_first")


def _lead_attr_for_deals(t: ir.Table, leads: ir.Table | None, attr: str) -> ir.Table:
    if leads is None or attr not in leads.columns:
        return t.mutate(**{GROUP_COLUMN: ibis.literal(NONE_LABEL)})
    by_id = leads.select(_lid=_.lead_id, _a=leads[attr])
    j = t.left_join(by_id, t.lead_id == by_id._lid)
    j = j.mutate(**{GROUP_COLUMN: j._a}).drop("_lid", "_a")
    if "deal_id" not in leads.columns:
        return j
    by_deal = (
        leads.filter(_.deal_id.notnull())
        .group_by(_did=_.deal_id)
        .agg(_b=leads[attr].min())
    )
    k = j.left_join(by_deal, j.deal_id == by_deal._did)
    return k.mutate(**{GROUP_COLUMN: k[GROUP_COLUMN].fill_null(k._b)}).drop(
        "_did", "_b"
    )


def _account_attr(t: ir.Table, accounts: ir.Table | None, attr: str) -> ir.Table:
    if (
        accounts is None
        or attr not in accounts.columns
        or "account_id" not in t.columns
    ):
        return t.mutate(**{GROUP_COLUMN: ibis.literal(NONE_LABEL)})
    a = accounts.select(_aid=_.account_id, _a=accounts[attr])
    j = t.left_join(a, t.account_id == a._aid)
    return j.mutate(**{GROUP_COLUMN: j._a}).drop("_aid", "_a")


def with_deal_group(facts: ir.Table, inputs: FunnelInputs, by: GroupBy) -> ir.Table:
    """`facts` (one row per deal) with the deal's label of `by` as ``group_value``."""
    if by == "manager":
        t = facts.mutate(**{GROUP_COLUMN: facts.owner_id})
    elif by in ("team", "region"):
        t = _owner_attr(facts, "owner_id", inputs.managers, by)
    elif by in ("source", "channel"):
        t = _lead_attr_for_deals(facts, inputs.leads, by)
    elif by == "segment":
        t = _account_attr(facts, inputs.accounts, "size_segment")
    elif by == "client_type":
        t = _returning(facts, "created_at", inputs, facts)
    else:
        t = facts.mutate(**{GROUP_COLUMN: period_label(facts.created_at, by)})
    return t.mutate(
        **{GROUP_COLUMN: t[GROUP_COLUMN].cast("string").fill_null(NONE_LABEL)}
    )


def with_lead_group(
    leads: ir.Table, inputs: FunnelInputs, by: GroupBy, facts: ir.Table
) -> ir.Table:
    """`leads` with the lead's label of `by` as ``group_value``."""
    if by == "manager":
        t = leads.mutate(**{GROUP_COLUMN: leads.owner_id})
    elif by in ("team", "region"):
        t = _owner_attr(leads, "owner_id", inputs.managers, by)
    elif by in ("source", "channel"):
        t = leads.mutate(**{GROUP_COLUMN: leads[by]})
    elif by == "segment":
        t = _account_attr(leads, inputs.accounts, "size_segment")
    elif by == "client_type":
        t = _returning(leads, "created_at", inputs, facts)
    else:
        t = leads.mutate(**{GROUP_COLUMN: period_label(leads.created_at, by)})
    return t.mutate(
        **{GROUP_COLUMN: t[GROUP_COLUMN].cast("string").fill_null(NONE_LABEL)}
    )
