"""Orders collapsed to one row per client and order day: the ``client_days`` mart.

RFM, cohorts and the CLV summary each start by scanning every order and grouping it by a
client's text id (the CLV summary even by client *and* day, a hash table as large as the
orders). The ``client_days`` mart does that once per import: per client (an integer
``account_key``; the ``client_keys`` mart maps it back to ``account_id``) and order day, the
counts and sums these analyses add up, plus three facts of the client's purchase history
that cohorts need:

- ``purchases_count`` — orders with ``amount > 0`` (a *purchase* of
  :mod:`crmlens.analytics.customers`); ``transactions_count`` — orders with
  ``amount >= 0`` (a *transaction* of :mod:`crmlens.analytics.clv`);
- ``amount`` — net sum of the day's amounts (returns subtracted; NULL when every amount of
  the day is NULL); ``transaction_amount`` — sum of the amounts of the transactions;
- ``value`` / ``transaction_value`` — the same for the margin (``amount - cost``, the
  amount where cost is missing), the CLV value;
- ``first_purchase_date`` — the client's first purchase day;
  ``is_month_first`` / ``is_quarter_first`` — the day is the client's first purchase day
  of its month / quarter.

Every column is a fact about the day itself or about days *before* it, so the rows dated
on or before any ``as_of`` give exactly what the orders up to ``as_of`` give: a client's
first purchase up to ``as_of`` is its first purchase (when it has one by then), and its
first purchase of a month is on or before ``as_of`` exactly when it bought in that month
by then. Analyses filter the days by ``as_of`` and their window like they filter orders,
so the mart serves any date; the warehouse hands it out from the end of the data on
(:meth:`crmlens.warehouse.connect.Warehouse.mart`).

The rows are stored sorted by client and day, so a GROUP BY client meets each client's
days together (about twice as fast on the scale-200 demo as rows in date order, measured).
Building the mart costs about one GROUP BY of the orders by client and day plus one sort:
about 11 CPU seconds for 7.9M orders (``benchmarks/customers_bench.py --build-marts``).

Sums of money add day sums instead of single orders: the same numbers in another order
of addition (bit-identical for whole amounts, within a double's rounding otherwise; a
multithreaded engine already adds in no fixed order).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import ibis
import ibis.expr.types as ir

from crmlens.analytics._checks import require_columns

ORDER_COLUMNS = ("account_id", "order_date", "amount")
DAY_COLUMNS = (
    "account_key",
    "order_date",
    "purchases_count",
    "transactions_count",
    "amount",
    "transaction_amount",
    "value",
    "transaction_value",
    "first_purchase_date",
    "is_month_first",
    "is_quarter_first",
)


@dataclass(frozen=True)
class ClientDays:
    """The ``client_days`` mart and the ``client_keys`` map of its integer client keys.

    ``summary`` is the ``client_summary`` mart (:func:`crmlens.analytics.clv.summary_facts`)
    when it covers the date asked about (on or after the last order), else None.
    """

    days: ir.Table
    keys: ir.Table
    summary: ir.Table | None = None

    def until(self, as_of: dt.date) -> ir.Table:
        """The days on or before `as_of`."""
        return self.days.filter(self.days.order_date <= as_of)

    def with_ids(self, per_client: ir.Table) -> ir.Table:
        """`per_client` (keyed by ``account_key``) with ``account_id`` in its place."""
        joined = per_client.join(self.keys, "account_key")
        rest = [c for c in per_client.columns if c != "account_key"]
        return joined.select("account_id", *rest)


def client_days_of(
    mart: Callable[[str, dt.date], ir.Table | None] | None, as_of: dt.date
) -> ClientDays | None:
    """The client marts from ``Warehouse.mart`` when the warehouse has them for `as_of`."""
    if mart is None:
        return None
    days, keys = mart("client_days", as_of), mart("client_keys", as_of)
    if days is None or keys is None:
        return None
    return ClientDays(days=days, keys=keys, summary=mart("client_summary", as_of))


def client_keys(orders: ir.Table) -> ir.Table:
    """account_key (0, 1, … in the order of account_id) for each client with orders."""
    require_columns(orders, "orders", ORDER_COLUMNS)
    ids = orders.filter(orders.account_id.notnull()).select("account_id").distinct()
    key = ibis.dense_rank().over(order_by=ids.account_id).cast("int32")
    return ids.select(account_key=key, account_id=ids.account_id)


def client_days(orders: ir.Table, keys: ir.Table | None = None) -> ir.Table:
    """One row per client and order day (see the module docstring for the columns).

    Orders without a client are left out. `keys` is :func:`client_keys` of `orders`
    (computed when not given).
    """
    require_columns(orders, "orders", ORDER_COLUMNS)
    keys = client_keys(orders) if keys is None else keys
    o = orders.filter(orders.account_id.notnull())
    amount = o.amount.cast("float64")
    if "cost" in o.columns:
        value = (amount - o.cost.cast("float64")).fill_null(amount)
    else:
        value = amount
    o = o.select("account_id", order_date=o.order_date.cast("date"), a=amount, v=value)
    # Keys first: grouping by two integers is cheaper than by a text id and a date.
    o = o.join(keys, "account_id").drop("account_id")
    sale, kept = o.a > 0, o.a >= 0
    per_day = o.group_by("account_key", "order_date").aggregate(
        purchases_count=o.a.count(where=sale),
        transactions_count=o.a.count(where=kept),
        amount=o.a.sum(),
        transaction_amount=o.a.sum(where=kept),
        value=o.v.sum(),
        transaction_value=o.v.sum(where=kept),
    )
    return _with_history(per_day)


def _with_history(days: ir.Table) -> ir.Table:
    """first_purchase_date, is_month_first and is_quarter_first of each day."""
    bought = days.purchases_count > 0
    buy_day = ibis.ifelse(bought, days.order_date, ibis.null("date"))
    # Both windows sort the client's days by date (one sort for the two).
    client = ibis.window(
        group_by=days.account_key, order_by=days.order_date, rows=(None, None)
    )
    before = ibis.window(
        group_by=days.account_key, order_by=days.order_date, rows=(None, -1)
    )
    days = days.mutate(
        first_purchase_date=buy_day.min().over(client),
        _previous=buy_day.max().over(before),
    )
    prev, day = days._previous, days.order_date
    new_year = prev.isnull() | (prev.year() != day.year())
    is_month_first = bought & (new_year | (prev.month() != day.month()))
    is_quarter_first = bought & (new_year | (prev.quarter() != day.quarter()))
    return days.select(
        "account_key",
        "order_date",
        purchases_count=days.purchases_count.cast("int32"),
        transactions_count=days.transactions_count.cast("int32"),
        amount=days.amount,
        transaction_amount=days.transaction_amount,
        value=days.value,
        transaction_value=days.transaction_value,
        first_purchase_date=days.first_purchase_date,
        is_month_first=is_month_first.fill_null(False),
        is_quarter_first=is_quarter_first.fill_null(False),
    ).order_by("account_key", "order_date")
