"""Per-client seasonality: which clients buy much more in the same month every year.

Definitions (docs/metrics.md#seasonality):

- the series of a client is its net revenue in each **complete** calendar month from the
  month of its first purchase to the month before ``as_of`` (months without orders are 0);
  only clients with at least ``min_months`` (24) such months are tested;
- ``seasonal_index[m]`` = mean revenue in calendar month m / mean monthly revenue;
  ``peak_month`` = the month with the largest index;
- the **repeat test**: a *usual month* is the median revenue of the client's months with
  orders outside the peak month; the client ``is_seasonal`` when the peak month was
  observed in at least ``min_years`` years, in **every** one of them its revenue is at
  least ``1 + min_uplift`` usual months (default 2.5x), and its index is at least
  ``1 + min_uplift`` times the second-largest index (so a client that orders every
  four months, in the same three months each year, has no single peak). One big order
  lifts one year only, so it fails the test; company-wide seasonality (~15 %) and two
  orders falling into one month by chance rarely pass it every year;
- ``peak_uplift`` = mean revenue in the peak month / mean revenue in the other months - 1
  (0.3 = "30 % more than usual"); ``next_peak`` = the first day of the next peak month
  after ``as_of``.

The monthly aggregation runs in the warehouse (:func:`client_months`); the test runs on
that small per-client table with numpy (:func:`seasonal_profile`), like a model fit.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ibis import _

from crmlens.analytics.customers import month_index, orders_until

if TYPE_CHECKING:
    import ibis.expr.types as ir
    import numpy as np
    import pyarrow as pa


def client_months(orders: ir.Table, *, as_of: dt.date) -> ir.Table:
    """Net revenue per client and complete month before `as_of`.

    Returns
    -------
    ir.Table
        account_id, month (months since January of year 0), revenue, first_month (of the
        client's first purchase) — one row per client and month with orders.
    """
    current = as_of.year * 12 + as_of.month - 1
    dated = orders_until(orders, as_of=as_of).mutate(month=month_index(_.order_date))
    dated = dated.filter(_.month < current)
    first = (
        dated.filter(_.amount > 0).group_by("account_id").agg(first_month=_.month.min())
    )
    monthly = dated.group_by("account_id", "month").agg(revenue=_.amount.sum())
    return monthly.join(first, "account_id").filter(_.month >= _.first_month)


@dataclass(frozen=True)
class Season:
    """The seasonal profile of one client (see the module docstring)."""

    account_id: str
    history_months: int
    peak_month: int
    peak_uplift: float
    peak_years: int
    repeated_years: int
    is_seasonal: bool
    monthly_revenue: float
    next_peak: dt.date


def seasonal_profile(
    months: pa.Table,
    *,
    as_of: dt.date,
    min_months: int = 24,
    min_years: int = 2,
    min_uplift: float = 1.5,
) -> list[Season]:
    """The seasonal profile of each client with `min_months` of history.

    Parameters
    ----------
    months
        The result of :func:`client_months`, executed.

    Returns
    -------
    list[Season]
        One profile per client with enough history; empty when `months` has no rows (no
        orders, or a scope or filter without orders).
    """
    import numpy as np

    if months.num_rows == 0:
        return []
    current = as_of.year * 12 + as_of.month - 1
    ids = months.column("account_id").to_numpy(zero_copy_only=False)
    month = months.column("month").to_numpy().astype(np.int64)
    revenue = months.column("revenue").to_numpy().astype(np.float64)
    first = months.column("first_month").to_numpy().astype(np.int64)
    order = np.lexsort((month, ids))
    ids, month, revenue, first = ids[order], month[order], revenue[order], first[order]
    out = []
    bounds = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1], True])
    for lo, hi in itertools.pairwise(bounds):
        start = int(first[lo])
        if current - start < min_months:
            continue
        series = np.zeros(current - start)
        np.add.at(series, month[lo:hi] - start, revenue[lo:hi])
        season = _profile(str(ids[lo]), series, start, as_of, min_years, min_uplift)
        if season is not None:
            out.append(season)
    return out


def _profile(
    account_id: str,
    series: np.ndarray,
    start: int,
    as_of: dt.date,
    min_years: int,
    min_uplift: float,
) -> Season | None:
    import numpy as np

    moy = (start + np.arange(len(series))) % 12
    mean = series.mean()
    if mean <= 0:
        return None
    index = np.array([series[moy == m].mean() for m in range(12)]) / mean
    peak = int(np.argmax(index))
    runner_up = float(np.sort(index)[-2])
    at_peak = np.flatnonzero(moy == peak)
    usual = _usual_month(series[moy != peak])
    ratios = [series[i] / usual if usual > 0 else float("inf") for i in at_peak]
    repeated = sum(r >= 1 + min_uplift for r in ratios)
    others = series[moy != peak].mean()
    uplift = series[at_peak].mean() / others - 1 if others > 0 else float("inf")
    return Season(
        account_id=account_id,
        history_months=len(series),
        peak_month=peak + 1,
        peak_uplift=float(uplift),
        peak_years=len(at_peak),
        repeated_years=int(repeated),
        is_seasonal=bool(
            len(at_peak) >= min_years
            and repeated == len(at_peak)
            and index[peak] >= (1 + min_uplift) * runner_up
        ),
        monthly_revenue=float(mean),
        next_peak=_next_month(as_of, peak + 1),
    )


def _usual_month(values: np.ndarray) -> float:
    """Median revenue of the months with orders (0 when there are none)."""
    import numpy as np

    bought = values[values > 0]
    return float(np.median(bought)) if len(bought) else 0.0


def _next_month(as_of: dt.date, month: int) -> dt.date:
    year = as_of.year if month > as_of.month else as_of.year + 1
    return dt.date(year, month, 1)


def seasons_table(seasons: list[Season]) -> pa.Table:
    """The profiles as rows: the fields of :class:`Season`, one row per client.

    The columns and their types are the same when `seasons` is empty.
    """
    import pyarrow as pa

    schema = pa.schema(
        [
            ("account_id", pa.string()),
            ("history_months", pa.int64()),
            ("peak_month", pa.int64()),
            ("peak_uplift", pa.float64()),
            ("peak_years", pa.int64()),
            ("repeated_years", pa.int64()),
            ("is_seasonal", pa.bool_()),
            ("monthly_revenue", pa.float64()),
            ("next_peak", pa.date32()),
        ]
    )
    columns = {f: [getattr(s, f) for s in seasons] for f in schema.names}
    return pa.table(columns, schema=schema)
