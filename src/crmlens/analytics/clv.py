"""Client lifetime value: historical value and the BG/NBD input, computed in Ibis.

Definitions (docs/metrics.md#clv):

- **Value of an order** = its margin, ``amount - cost``; where ``cost`` is missing the
  order counts with its full ``amount`` (``value_basis="margin"``). With
  ``value_basis="amount"`` the value is the amount. :func:`value_basis_counts` says how
  many orders had no cost, so a report can say so.
- **Historical value** of a client at ``as_of`` = the sum of the values of its orders
  dated on or before ``as_of`` (``historical_value``); ``revenue_amount`` is the sum of
  amounts.
- **The per-client summary** of the literature (Fader, Hardie & Lee 2005; lifetimes'
  ``summary_data_from_transaction_data``), with the literature's names. The orders of a
  client on one day count as one transaction (lifetimes with ``freq="D"``). Times are
  measured in days and divided by ``time_unit_days`` (7 by default: **weeks**, the unit of
  the CDNOW papers):

  - ``frequency`` = number of *repeat* transaction days (order days − 1);
  - ``recency`` = last order day − first order day (NOT the RFM recency, which is days
    since the last order);
  - ``T`` = ``as_of`` − first order day (the client's age);
  - ``monetary_value`` = mean value of the repeat transaction days (the first day
    excluded, as Gamma-Gamma requires); 0 when ``frequency`` = 0.

- A **purchase** is an order with ``amount >= 0``; returns and cancellations (negative
  amounts) reduce the historical value but are not transactions. A zero-amount order (a
  free shipment) is a transaction: CDNOW's published summary counts its eight $0
  purchases.
- **Holdout** orders of a client = its purchase days in ``(start, end]``, for the
  calibration/holdout check of the fitted model.

Everything here is an Ibis expression (runs on DuckDB and Spark alike); the fitting itself
runs on the small per-client table in :mod:`crmlens.analytics.clv_models`.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

import ibis
import ibis.expr.types as ir

from crmlens.analytics._checks import require_columns
from crmlens.analytics.client_days import ClientDays

ValueBasis = Literal["margin", "amount"]
VALUE_BASES: tuple[ValueBasis, ...] = ("margin", "amount")
ORDER_COLUMNS = ("account_id", "order_date", "amount")
#: Exact sums of money (to a millionth): see :func:`clv_summary`.
MONEY = "decimal(38, 6)"
#: The per-client sums of the summary, kept whole in the ``client_summary`` mart.
_SUMS = (
    "orders_count",
    "first_order_date",
    "last_order_date",
    "revenue_amount",
    "historical_value",
    "frequency",
)
SUMMARY_COLUMNS = ("account_id", *_SUMS, "recency", "T", "monetary_value")


def order_values(orders: ir.Table, *, value_basis: ValueBasis = "margin") -> ir.Table:
    """Orders with a ``value`` column: margin (amount − cost, amount when no cost).

    Returns
    -------
    ir.Table
        account_id, order_date, amount, value, has_cost — orders with an amount.
    """
    require_columns(orders, "orders", ORDER_COLUMNS)
    known = orders.filter(orders.amount.notnull(), orders.account_id.notnull())
    amount = known.amount.cast("float64")
    if value_basis == "margin" and "cost" in known.columns:
        cost = known.cost.cast("float64")
        value = (amount - cost).fill_null(amount)
        has_cost = cost.notnull()
    else:
        value, has_cost = amount, ibis.literal(False)
    return known.select(
        "account_id",
        order_date=known.order_date.cast("date"),
        amount=amount,
        value=value,
        has_cost=has_cost,
    )


def value_basis_counts(orders: ir.Table, *, as_of: dt.date) -> ir.Table:
    """How many orders up to `as_of` had a cost (margin) and how many had none.

    Returns
    -------
    ir.Table
        One row: orders_count, orders_with_cost_count, orders_without_cost_count.
    """
    v = order_values(orders, value_basis="margin")
    v = v.filter(v.order_date <= as_of)
    with_cost = v.has_cost.cast("int64").sum().fill_null(0)
    return v.aggregate(
        orders_count=v.count(),
        orders_with_cost_count=with_cost,
        orders_without_cost_count=v.count() - with_cost,
    )


def transaction_days(
    orders: ir.Table, *, as_of: dt.date, value_basis: ValueBasis = "margin"
) -> ir.Table:
    """One row per client and order day up to `as_of` (the BG/NBD transaction).

    A **purchase** is an order with ``amount >= 0``; returns and cancellations
    (negative amounts) count only in the net value.

    Returns
    -------
    ir.Table
        account_id, order_date, purchases_count, purchase_value (sum of the values of
        the day's purchases), net_value and net_amount (all orders of the day).
    """
    v = order_values(orders, value_basis=value_basis)
    v = v.filter(v.order_date <= as_of)
    buy = v.amount >= 0
    same = value_basis == "amount" or "cost" not in orders.columns  # value = amount
    days = v.group_by("account_id", "order_date").aggregate(
        purchases_count=v.amount.count(where=buy),
        purchase_value=v.value.sum(where=buy),
        net_amount=v.amount.sum(),
        **({} if same else {"net_value": v.value.sum()}),
    )
    return days.select(
        "account_id",
        "order_date",
        "purchases_count",
        purchase_value=days.purchase_value.fill_null(0.0),
        net_value=days.net_amount if same else days.net_value,
        net_amount=days.net_amount,
    )


def clv_summary(
    orders: ir.Table,
    *,
    as_of: dt.date,
    value_basis: ValueBasis = "margin",
    time_unit_days: float = 7.0,
    days: ClientDays | None = None,
) -> ir.Table:
    """The per-client summary (frequency, recency, T, monetary_value) at `as_of`.

    Parameters
    ----------
    orders
        Canonical ``orders`` (account_id, order_date, amount; cost optional).
    as_of
        Orders dated after it are ignored; ``T`` is measured up to it.
    value_basis
        ``"margin"`` (amount − cost, amount when cost is missing) or ``"amount"``.
    time_unit_days
        Days per time unit of ``recency`` and ``T`` (7: weeks; 1: days).
    days
        The ``client_days`` mart (:mod:`crmlens.analytics.client_days`): its days are
        the transaction days already, so the summary is one GROUP BY of them (the same
        rows as from `orders`).

    Returns
    -------
    ir.Table
        One row per client with a purchase up to `as_of`: account_id, orders_count
        (purchases), first_order_date, last_order_date (of purchases), revenue_amount
        and historical_value (net of returns), frequency (repeat purchase days),
        recency, T, monetary_value (mean value of the repeat purchase days).
    """
    if days is None:
        tx = transaction_days(orders, as_of=as_of, value_basis=value_basis)
        per = _per_client(tx, "account_id")
    elif days.summary is not None:
        per = days.with_ids(_from_summary(days.summary, value_basis))
    else:
        per = days.with_ids(
            _per_client(_mart_transaction_days(days, as_of, value_basis), "account_key")
        )
    unit = float(time_unit_days)
    recency_days = per.last_order_date.delta(per.first_order_date, unit="day")
    age_days = ibis.date(as_of).delta(per.first_order_date, unit="day")
    monetary = (per.frequency > 0).ifelse(
        per.repeat_value / per.frequency.cast("float64"), 0.0
    )
    return per.select(
        "account_id",
        orders_count=per.orders_count.cast("int64"),
        first_order_date=per.first_order_date,
        last_order_date=per.last_order_date,
        revenue_amount=per.revenue_amount,
        historical_value=per.historical_value,
        frequency=per.frequency.cast("int64"),
        recency=recency_days.cast("float64") / unit,
        T=age_days.cast("float64") / unit,
        monetary_value=monetary,
    )


def _mart_transaction_days(
    days: ClientDays, as_of: dt.date, value_basis: ValueBasis
) -> ir.Table:
    """:func:`transaction_days` from the ``client_days`` mart (keyed by account_key)."""
    return _mart_days(days.until(as_of), value_basis)


def _mart_days(d: ir.Table, value_basis: ValueBasis) -> ir.Table:
    """Rows of the ``client_days`` mart `d` as transaction days valued by `value_basis`."""
    by_amount = value_basis == "amount"
    value = d.transaction_amount if by_amount else d.transaction_value
    return d.select(
        "account_key",
        "order_date",
        purchases_count=d.transactions_count,
        purchase_value=value.fill_null(0.0),
        net_value=d.amount if by_amount else d.value,
        net_amount=d.amount,
    )


def summary_facts(days: ir.Table) -> ir.Table:
    """The ``client_summary`` mart: :func:`clv_summary`'s sums over all of `days`.

    `days` is the ``client_days`` mart. One row per client with a transaction: what the
    summary needs from the whole history, for both value bases (``repeat_value`` of the
    margin, ``repeat_amount`` of the amount), and ``last_order_day``, the client's last
    order of any kind: the row is the client's summary for every ``as_of`` on or after
    it (``T`` is computed from ``as_of``).
    """
    by_amount = _per_client(_mart_days(days, "amount"), "account_key").select(
        "account_key", repeat_amount="repeat_value"
    )
    by_margin = _per_client(_mart_days(days, "margin"), "account_key")
    last = days.group_by("account_key").aggregate(last_order_day=days.order_date.max())
    facts = by_margin.join(by_amount, "account_key").join(last, "account_key")
    return facts.select(
        "account_key", *_SUMS, "repeat_value", "repeat_amount", "last_order_day"
    ).order_by("account_key")


def _from_summary(summary: ir.Table, value_basis: ValueBasis) -> ir.Table:
    """The per-client sums of `value_basis` from the ``client_summary`` mart."""
    by_amount = value_basis == "amount"
    return summary.select(
        "account_key",
        "orders_count",
        "first_order_date",
        "last_order_date",
        "revenue_amount",
        historical_value=summary.revenue_amount
        if by_amount
        else summary.historical_value,
        frequency=summary.frequency,
        repeat_value=summary.repeat_amount if by_amount else summary.repeat_value,
    )


def _per_client(days: ir.Table, key: str) -> ir.Table:
    """Per client (`key`) of transaction days: counts, first and repeat value."""
    bought = days.purchases_count > 0
    # Days are unique per client, so the first purchase day's value is an arg-min and
    # the repeat value the rest: two GROUP BYs, no window over the orders. The values
    # are summed as decimals (6 places) so that the subtraction is exact: a client whose
    # repeat days add up to 0 gets 0, not a rounding residue.
    money = days.purchase_value.cast(MONEY)
    per = days.group_by(key).aggregate(
        orders_count=days.purchases_count.sum(),
        first_order_date=days.order_date.min(where=bought),
        last_order_date=days.order_date.max(where=bought),
        revenue_amount=days.net_amount.sum(),
        historical_value=days.net_value.sum(),
        purchase_days=days.purchases_count.count(where=bought),
        purchase_value=money.sum(where=bought),
        first_value=money.argmin(days.order_date, where=bought),
    )
    per = per.mutate(
        frequency=per.purchase_days - 1,
        repeat_value=(per.purchase_value - per.first_value).cast("float64"),
    )
    return per.filter(per.first_order_date.notnull())


def holdout_orders(orders: ir.Table, *, start: dt.date, end: dt.date) -> ir.Table:
    """Transaction days of each client in the holdout period ``(start, end]``.

    Returns
    -------
    ir.Table
        account_id, holdout_frequency (purchase days in the period), holdout_value
        (net sum of values, margin basis).
    """
    v = order_values(orders, value_basis="margin")
    v = v.filter(v.order_date > start, v.order_date <= end)
    return v.group_by("account_id").aggregate(
        holdout_frequency=v.order_date.nunique(where=v.amount >= 0).cast("int64"),
        holdout_value=v.value.sum(),
    )


def calibration_holdout(
    orders: ir.Table,
    *,
    calibration_end: dt.date,
    as_of: dt.date,
    value_basis: ValueBasis = "margin",
    time_unit_days: float = 7.0,
) -> ir.Table:
    """The summary at `calibration_end` with each client's orders after it up to `as_of`.

    Only clients whose first order is on or before `calibration_end` are included (the
    model can only predict clients it has seen), as in lifetimes'
    ``calibration_and_holdout_data``.

    Returns
    -------
    ir.Table
        The columns of :func:`clv_summary` plus holdout_frequency and holdout_value
        (0 for clients without orders in the holdout period).
    """
    calib = clv_summary(
        orders,
        as_of=calibration_end,
        value_basis=value_basis,
        time_unit_days=time_unit_days,
    )
    hold = holdout_orders(orders, start=calibration_end, end=as_of)
    hold = hold.rename(_hold_account="account_id")
    joined = calib.left_join(hold, calib.account_id == hold._hold_account)
    return joined.select(
        *SUMMARY_COLUMNS,
        holdout_frequency=joined.holdout_frequency.fill_null(0),
        holdout_value=joined.holdout_value.fill_null(0.0),
    )
