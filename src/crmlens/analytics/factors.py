"""Revenue factors: revenue = L x C x P x Qs = clients x LTV, and why revenue moved.

Definitions per period (docs/metrics.md#revenue-identity), optionally per group:

- ``leads`` (L): leads created in the period;
- ``clients``: distinct clients with an order in the period;
- ``conversion`` (C) = clients / leads — paying clients per lead (it can exceed 1 when
  returning clients order without a new lead);
- ``orders``: orders in the period; ``average_check`` (P) = revenue / orders;
- ``orders_per_client`` (Qs) = orders / clients;
- ``revenue`` = net sum of amount = L x C x P x Qs exactly;
  ``ltv`` = revenue / clients (revenue per client in the period), so revenue =
  clients x ltv.

The change of revenue from one period to the next is split with the log-mean Divisia
index (LMDI-I, Ang 2004): with the logarithmic mean
``Lm(R0, R1) = (R1 - R0) / (ln R1 - ln R0)`` (``= R0`` when equal), the part of factor x
is ``Lm(R0, R1) x ln(x1 / x0)``; the parts add up to R1 - R0 exactly because
``sum ln(x1/x0) = ln(R1/R0)``. Parts are then rounded to the kopeck with the largest
remainder method, so that the rounded parts add up to the rounded change to the kopeck.
A period where a factor is 0 or revenue is not positive has no split (parts are null).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import ibis
import ibis.expr.types as ir
from ibis import _

from crmlens.analytics._checks import require_columns
from crmlens.analytics.customers import orders_until

if TYPE_CHECKING:
    import pyarrow as pa

FACTORS = ("leads", "conversion", "average_check", "orders_per_client")
LTV_FACTORS = ("clients", "ltv")
Period = Literal["month", "quarter", "year"]
#: Where each grouping comes from: (column on orders side, column on leads side).
GROUPS = {
    "region": ("region", "region"),
    "manager": ("manager_id", "owner_id"),
    "source": ("source", "source"),
}


def period_label(day: ir.DateValue, period: Period) -> ir.StringValue:
    """``YYYY-MM``, ``YYYY-Qn`` or ``YYYY`` of a date."""
    year = day.year().cast("string")
    if period == "year":
        return year
    if period == "quarter":
        return year + "-Q" + ((day.month() - 1) // 3 + 1).cast("string")
    month = day.month()
    return year + ibis.ifelse(month < 10, "-0", "-") + month.cast("string")


def revenue_factors(
    orders: ir.Table,
    leads: ir.Table,
    accounts: ir.Table | None = None,
    *,
    as_of: dt.date,
    period: Period = "month",
    by: str | None = None,
) -> ir.Table:
    """L, C, P, Qs, clients, ltv and revenue per period (and group) up to `as_of`.

    Returns
    -------
    ir.Table
        period, [group,] leads, clients, orders, revenue, conversion, average_check,
        orders_per_client, ltv — one row per period (and group) with orders or leads.
    """
    require_columns(leads, "leads", ["lead_id", "created_at"])
    o = orders_until(orders, as_of=as_of)
    ld = leads.mutate(day=leads.created_at.cast("date")).filter(_.day <= as_of)
    o, ld = _with_groups(o, ld, accounts, by)
    o = o.mutate(period=period_label(o.order_date, period))
    ld = ld.mutate(period=period_label(ld.day, period))
    sales = o.group_by("period", "group").agg(
        clients=_.account_id.nunique().cast("int64"),
        orders=_.count().cast("int64"),
        revenue=_.amount.sum(),
    )
    inflow = ld.group_by(lp="period", lg="group").agg(leads=_.count().cast("int64"))
    both = sales.outer_join(
        inflow, (sales.period == inflow.lp) & _same_group(sales.group, inflow.lg)
    )
    both = both.mutate(
        period=ibis.coalesce(both.period, both.lp),
        group=ibis.coalesce(both.group, both.lg),
        leads=both.leads.fill_null(0),
        clients=both.clients.fill_null(0),
        orders=both.orders.fill_null(0),
        revenue=both.revenue.fill_null(0.0),
    )
    out = both.mutate(
        conversion=_ratio(both.clients, both.leads),
        average_check=_ratio(both.revenue, both.orders),
        orders_per_client=_ratio(both.orders, both.clients),
        ltv=_ratio(both.revenue, both.clients),
    )
    cols = ["period", "leads", "clients", "orders", "revenue", *FACTORS[1:], "ltv"]
    if by is not None:
        out = out.rename({by: "group"})
        cols.insert(1, by)
    return out.select(*cols).order_by(*cols[: 2 if by else 1])


def _same_group(a: ir.Value, b: ir.Value) -> ir.BooleanValue:
    return (a == b) | (a.isnull() & b.isnull())


def _ratio(num: ir.NumericValue, den: ir.NumericValue) -> ir.FloatingValue:
    return ibis.ifelse(den > 0, num.cast("float64") / den.cast("float64"), None)


def _with_groups(
    o: ir.Table, ld: ir.Table, accounts: ir.Table | None, by: str | None
) -> tuple[ir.Table, ir.Table]:
    """Orders and leads with a ``group`` column (``"all"`` without a grouping)."""
    if by is None:
        return o.mutate(group=ibis.literal("all")), ld.mutate(group=ibis.literal("all"))
    if by not in GROUPS:
        raise ValueError(f"unknown grouping {by!r}: use {', '.join(GROUPS)}")
    o_col, l_col = GROUPS[by]
    if by == "manager":
        require_columns(o, "orders", [o_col])
        require_columns(ld, "leads", [l_col])
        return o.mutate(group=o[o_col]), ld.mutate(group=ld[l_col])
    if accounts is None:
        raise ValueError(f"grouping by {by} needs the accounts table")
    require_columns(accounts, "accounts", ["account_id", by])
    acc = accounts.select(acc_id="account_id", group=accounts[by]).distinct(
        on="acc_id", keep="first"
    )
    o = o.left_join(acc, o.account_id == acc.acc_id).drop("acc_id")
    if by == "region":
        ld = ld.left_join(acc, ld.account_id == acc.acc_id).drop("acc_id")
        return o, ld
    require_columns(ld, "leads", [l_col])
    return o, ld.mutate(group=ld[l_col])


@dataclass(frozen=True)
class Split:
    """The change of revenue between two periods split among factors.

    ``parts`` are exact floats; ``parts_kopecks`` are integers that add up to
    ``change_kopecks`` exactly; ``parts_rounded`` are the same in roubles.
    """

    change: float
    parts: dict[str, float]
    change_kopecks: int
    parts_kopecks: dict[str, int]

    @property
    def change_rounded(self) -> float:
        """The change in roubles, rounded to the kopeck."""
        return self.change_kopecks / 100

    @property
    def parts_rounded(self) -> dict[str, float]:
        """The parts in roubles, rounded to the kopeck (adding up in kopecks)."""
        return {f: k / 100 for f, k in self.parts_kopecks.items()}


def log_mean(a: float, b: float) -> float:
    """The logarithmic mean (b - a) / (ln b - ln a) of two positive numbers (a if equal)."""
    if a == b:
        return a
    gap = math.log(b) - math.log(a)
    if gap == 0.0:  # a and b differ in the last bits only: their logarithms coincide
        return (a + b) / 2
    return (b - a) / gap


def lmdi_split(
    before: Mapping[str, float],
    after: Mapping[str, float],
    factors: Sequence[str],
    *,
    total: str | None = None,
) -> Split | None:
    """LMDI-I split of the change of the product of `factors` from `before` to `after`.

    With `total`, the change is that of ``before[total]`` to ``after[total]`` (the
    measured revenue, equal to the product up to rounding). None when a factor is not
    positive in either period (the logarithm is undefined).
    """
    values = [(before[f], after[f]) for f in factors]
    if any(v0 is None or v1 is None or v0 <= 0 or v1 <= 0 for v0, v1 in values):
        return None
    r0 = math.prod(v0 for v0, _v1 in values)
    r1 = math.prod(v1 for _v0, v1 in values)
    if total is not None:
        r0, r1 = before[total], after[total]
    weight = log_mean(r0, r1)
    parts = {
        f: weight * math.log(v1 / v0)
        for f, (v0, v1) in zip(factors, values, strict=True)
    }
    change_kop = round((r1 - r0) * 100)
    return Split(r1 - r0, parts, change_kop, _to_kopecks(parts, change_kop))


def _to_kopecks(parts: dict[str, float], total_kop: int) -> dict[str, int]:
    """Round parts to kopecks so that they add up to `total_kop` (largest remainder)."""
    floors = {f: math.floor(v * 100) for f, v in parts.items()}
    each, rest = divmod(total_kop - sum(floors.values()), len(parts))
    by_rest = sorted(parts, key=lambda f: (floors[f] - parts[f] * 100, f))
    for i, f in enumerate(by_rest):
        floors[f] += each + (1 if i < rest else 0)
    return floors


def factor_changes(rows: pa.Table, *, by: str | None = None) -> pa.Table:
    """Each period's change against the previous one, split by LMDI (see module doc).

    Parameters
    ----------
    rows
        The executed result of :func:`revenue_factors`.

    Returns
    -------
    pa.Table
        The input columns plus revenue_change and, for each factor f of
        ``FACTORS + LTV_FACTORS``, ``f_effect`` (rounded to the kopeck; null for the
        first period of a group and where no split exists).
    """
    import pyarrow as pa

    records = rows.to_pylist()
    previous: dict[object, dict[str, float]] = {}
    for rec in records:
        key = rec.get(by) if by else None
        prev = previous.get(key)
        previous[key] = rec
        rec["revenue_change"] = (
            round(rec["revenue"] - prev["revenue"], 2) if prev else None
        )
        for names in (FACTORS, LTV_FACTORS):
            split = lmdi_split(prev, rec, names, total="revenue") if prev else None
            for f in names:
                rec[f"{f}_effect"] = split.parts_rounded[f] if split else None
    return pa.Table.from_pylist(records, schema=_change_schema(rows.schema))


def _change_schema(schema: pa.Schema) -> pa.Schema:
    import pyarrow as pa

    extra = ["revenue_change"] + [f"{f}_effect" for f in (*FACTORS, *LTV_FACTORS)]
    return pa.schema([*schema, *(pa.field(n, pa.float64()) for n in extra)])
