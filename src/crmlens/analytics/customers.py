"""Buyer analytics on ``orders``: RFM, ABC/XYZ and first-order cohorts (docs/metrics.md).

Returns and cancellations are orders with ``amount <= 0`` (the ``online_retail`` preset
keeps cancelled invoices as negative orders). Throughout this module a **purchase** is an
order with ``amount > 0``: recency, frequency, cohort membership and "active in period k"
count purchases only, while money (monetary, revenue) is **net**, i.e. the sum of all
amounts, cancellations included, so that it matches the revenue a ledger shows.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

import ibis
import ibis.expr.types as ir
from ibis import _

from crmlens.analytics._checks import require_columns
from crmlens.analytics.client_days import ClientDays

ORDER_COLUMNS = ("account_id", "order_date", "amount")

#: RFM segment of each (R score, F score) cell, after the usual R x F segment map.
SEGMENT_RULES: tuple[tuple[str, tuple[int, ...], tuple[int, ...]], ...] = (
    ("champions", (5,), (4, 5)),
    ("loyal", (3, 4), (4, 5)),
    ("potential_loyalists", (4, 5), (2, 3)),
    ("new", (5,), (1,)),
    ("promising", (4,), (1,)),
    ("need_attention", (3,), (3,)),
    ("about_to_sleep", (3,), (1, 2)),
    ("cant_lose", (1, 2), (5,)),
    ("at_risk", (1, 2), (3, 4)),
    ("hibernating", (1, 2), (1, 2)),
)

#: Plain names of the RFM segments: id -> (English, Russian).
SEGMENT_NAMES: dict[str, tuple[str, str]] = {
    "champions": ("Champions", "Чемпионы"),
    "loyal": ("Loyal", "Лояльные"),
    "potential_loyalists": ("Potential loyalists", "Потенциально лояльные"),
    "new": ("New", "Новые"),
    "promising": ("Promising", "Перспективные"),
    "need_attention": ("Need attention", "Требуют внимания"),
    "about_to_sleep": ("About to sleep", "Засыпающие"),
    "cant_lose": ("Can't lose", "Нельзя потерять"),
    "at_risk": ("At risk", "Под угрозой ухода"),
    "hibernating": ("Hibernating", "Спящие"),
    "none": ("No purchases", "Нет покупок"),
}


def orders_until(orders: ir.Table, *, as_of: dt.date) -> ir.Table:
    """Orders dated on or before `as_of` (the day included), with a plain date column."""
    require_columns(orders, "orders", ORDER_COLUMNS)
    day = orders.order_date.cast("date")
    return orders.mutate(order_date=day).filter(day <= as_of)


def quintile_score(
    value: ir.NumericColumn, *, higher_is_better: bool = True
) -> ir.Value:
    """1..5 by quintile of `value` over the whole table; ties share a score.

    score = 1 + floor(5 x r / n), where r is the number of rows strictly worse than the
    row (a 0-based minimum rank) and n the number of rows.
    """
    order = value if higher_is_better else ibis.desc(value)
    worse = ibis.rank().over(order_by=order)
    n = value.count().over()
    return ((worse * 5) // n + 1).cast("int64")


def _histogram_scores(
    t: ir.Table, column: str, score: str, *, higher_is_better: bool
) -> ir.Table:
    """Each distinct value of `column` with its :func:`quintile_score` as `score`.

    From the value counts (a GROUP BY and a running sum over the distinct values), so a
    column with few distinct values is scored without ranking every row.
    """
    total = t.aggregate(_rows=t[column].count())
    hist = t.group_by(_value=t[column]).agg(_count=t[column].count())
    order = hist._value if higher_is_better else ibis.desc(hist._value)
    hist = hist.mutate(_worse=hist._count.cumsum(order_by=order) - hist._count)
    hist = hist.cross_join(total)
    return hist.select(
        **{f"_{score}_value": hist._value},
        **{score: ((hist._worse * 5) // hist._rows + 1).cast("int64")},
    )


def rfm_scores(
    orders: ir.Table,
    *,
    as_of: dt.date,
    window_days: int = 365,
    days: ClientDays | None = None,
) -> ir.Table:
    """RFM per client: recency, frequency and money in the `window_days` before `as_of`.

    A client is scored when it has at least one purchase (``amount > 0``) in the window
    ``(as_of - window_days, as_of]``; orders without a client are left out. With `days`
    (the ``client_days`` mart, :mod:`crmlens.analytics.client_days`) the per-client sums
    come from the mart's days instead of the orders: the same rows.

    Returns
    -------
    ir.Table
        account_id, days_since_last_order (``as_of`` - last purchase, days),
        frequency (purchases), monetary (net sum of amount, returns subtracted),
        r_score, f_score, m_score (1..5 by quintile; 5 = most recent / most frequent /
        most money), rfm_score (e.g. ``"545"``), segment (an id of ``SEGMENT_NAMES``).
    """
    start = as_of - dt.timedelta(days=window_days)
    if days is None:
        recent = orders_until(orders, as_of=as_of).filter(
            _.order_date > start, _.account_id.notnull()
        )
        per_client = (
            recent.group_by("account_id")
            .agg(
                last_order=_.order_date.max(where=_.amount > 0),
                frequency=(_.amount > 0).sum().cast("int64"),
                monetary=_.amount.sum(),
            )
            .filter(_.frequency > 0)
        )
    else:
        recent = days.until(as_of).filter(_.order_date > start)
        per_key = recent.group_by("account_key").agg(
            last_order=_.order_date.max(where=_.purchases_count > 0),
            frequency=_.purchases_count.sum().cast("int64"),
            monetary=_.amount.sum(),
        )
        per_client = days.with_ids(per_key.filter(_.frequency > 0))
    since = ibis.literal(as_of).delta(per_client.last_order, unit="day")
    scored = per_client.mutate(days_since_last_order=since.cast("int64"))
    # Recency (at most window_days + 1 values) and frequency take few distinct values:
    # their scores come from a histogram (a GROUP BY) joined back, which is cheaper than
    # ranking every client; money is continuous and ranked.
    recency = _histogram_scores(
        scored, "days_since_last_order", "r_score", higher_is_better=False
    )
    frequency = _histogram_scores(scored, "frequency", "f_score", higher_is_better=True)
    scored = scored.join(
        recency, scored.days_since_last_order == recency._r_score_value
    ).join(frequency, scored.frequency == frequency._f_score_value)
    scored = scored.mutate(m_score=quintile_score(scored.monetary))
    return scored.mutate(
        rfm_score=(_.r_score * 100 + _.f_score * 10 + _.m_score).cast("string"),
        segment=rfm_segment(_.r_score, _.f_score),
    ).select(
        "account_id", "days_since_last_order", "frequency", "monetary",
        "r_score", "f_score", "m_score", "rfm_score", "segment",
    )  # fmt: skip


def rfm_segment(r_score: ir.IntegerValue, f_score: ir.IntegerValue) -> ir.StringValue:
    """The segment id of an (R, F) score pair (see ``SEGMENT_RULES``)."""
    cases = [
        (r_score.isin(list(rs)) & f_score.isin(list(fs)), name)
        for name, rs, fs in SEGMENT_RULES
    ]
    return ibis.cases(*cases, else_="hibernating")


def rfm_transitions(
    orders: ir.Table,
    *,
    date_from: dt.date,
    date_to: dt.date,
    window_days: int = 365,
    days: ClientDays | None = None,
) -> ir.Table:
    """How clients moved between RFM segments from `date_from` to `date_to`.

    A client without purchases in the window of one date is in segment ``"none"``.
    `days`: the ``client_days`` mart (see :func:`rfm_scores`).

    Returns
    -------
    ir.Table
        segment_from, segment_to, clients, monetary_to (money of those clients in the
        window before `date_to`).
    """
    before = rfm_scores(
        orders, as_of=date_from, window_days=window_days, days=days
    ).select("account_id", segment_from="segment")
    after = rfm_scores(
        orders, as_of=date_to, window_days=window_days, days=days
    ).select(account_to="account_id", segment_to="segment", monetary="monetary")
    both = before.outer_join(after, before.account_id == after.account_to)
    both = both.mutate(
        segment_from=_.segment_from.fill_null("none"),
        segment_to=_.segment_to.fill_null("none"),
        monetary=_.monetary.fill_null(0.0),
    )
    return (
        both.group_by("segment_from", "segment_to")
        .agg(clients=_.count().cast("int64"), monetary_to=_.monetary.sum())
        .order_by("segment_from", "segment_to")
    )


def month_index(day: ir.DateValue) -> ir.IntegerValue:
    """Months since January of year 0 (consecutive integers for consecutive months)."""
    return (day.year() * 12 + day.month() - 1).cast("int64")


def _period_index(day: ir.DateValue, period: str) -> ir.IntegerValue:
    if period == "month":
        return month_index(day)
    if period == "quarter":
        return (day.year() * 4 + (day.month() - 1) // 3).cast("int64")
    raise ValueError(f"unknown period {period!r}: use month or quarter")


def _period_number(day: dt.date, period: str) -> int:
    """:func:`_period_index` of a Python date."""
    if period == "month":
        return day.year * 12 + day.month - 1
    if period == "quarter":
        return day.year * 4 + (day.month - 1) // 3
    raise ValueError(f"unknown period {period!r}: use month or quarter")


def _period_start(index: ir.IntegerValue, period: str) -> ir.DateValue:
    months = index if period == "month" else index * 3
    return ibis.date(months // 12, months % 12 + 1, 1)


def abc_xyz(
    orders: ir.Table,
    *,
    as_of: dt.date,
    by: str = "account_id",
    measure: Literal["revenue", "margin"] = "revenue",
    thresholds: tuple[float, float] = (0.80, 0.95),
    cv: tuple[float, float] = (0.10, 0.25),
    months: int = 12,
) -> ir.Table:
    """ABC by cumulative share of value and XYZ by variation of monthly value.

    The window is the `months` calendar months ending with the month of `as_of`. ABC:
    items sorted by value (ties by id); ``cumulative_share`` = running sum / total of
    positive values; A when <= thresholds[0] (the largest item is always A), B when
    <= thresholds[1], else C (and C for value <= 0). XYZ: ``cv`` = population standard
    deviation / mean of the item's value over all `months` months (months without orders
    count as 0); X when cv <= cv[0], Y when <= cv[1], Z otherwise (and Z for mean <= 0).

    Returns
    -------
    ir.Table
        <by>, value, share, cumulative_share, abc, mean_monthly, cv, xyz, abc_xyz.
    """
    require_columns(orders, "orders", [by, "amount"])
    if measure == "margin":
        require_columns(orders, "orders", ["cost"])
    last = as_of.year * 12 + as_of.month - 1
    dated = orders_until(orders, as_of=as_of).filter(_[by].notnull())
    dated = dated.mutate(m=month_index(_.order_date)).filter(_.m > last - months)
    value = _.amount - _.cost.fill_null(0.0) if measure == "margin" else _.amount
    monthly = dated.group_by(by, "m").agg(v=value.sum())
    items = monthly.group_by(by).agg(value=_.v.sum(), sq=(_.v * _.v).sum())
    return _classify(items, by=by, thresholds=thresholds, cv=cv, months=months)


def _classify(
    items: ir.Table,
    *,
    by: str,
    thresholds: tuple[float, float],
    cv: tuple[float, float],
    months: int,
) -> ir.Table:
    positive = ibis.greatest(items.value, 0.0)
    total = positive.sum().over()
    ranked = items.mutate(
        share=positive / total,
        cumulative_share=positive.cumsum(order_by=[ibis.desc(items.value), items[by]])
        / total,
        first=ibis.row_number().over(order_by=[ibis.desc(items.value), items[by]]),
        mean_monthly=items.value / months,
    )
    var = ibis.greatest(ranked.sq / months - ranked.mean_monthly**2, 0.0)
    ranked = ranked.mutate(
        cv=ibis.ifelse(ranked.mean_monthly > 0, var.sqrt() / ranked.mean_monthly, None)
    )
    a, b = thresholds
    x, y = cv
    out = ranked.mutate(
        abc=ibis.cases(
            (_.value <= 0, "C"),
            ((_.cumulative_share <= a) | (_.first == 0), "A"),
            (_.cumulative_share <= b, "B"),
            else_="C",
        ),
        xyz=ibis.cases(
            (_.cv.isnull(), "Z"), (_.cv <= x, "X"), (_.cv <= y, "Y"), else_="Z"
        ),
    )
    return out.mutate(abc_xyz=_.abc + _.xyz).select(
        by, "value", "share", "cumulative_share", "abc", "mean_monthly", "cv", "xyz",
        "abc_xyz",
    )  # fmt: skip


def abc_xyz_matrix(classified: ir.Table) -> ir.Table:
    """Counts and value in each ABC x XYZ cell: abc, xyz, items, value, value_share."""
    cells = classified.group_by("abc", "xyz").agg(
        items=_.count().cast("int64"), value=_.value.sum()
    )
    return cells.mutate(value_share=_.value / _.value.sum().over()).order_by(
        "abc", "xyz"
    )


def cohorts(
    orders: ir.Table,
    *,
    as_of: dt.date,
    period: Literal["month", "quarter"] = "month",
    days: ClientDays | None = None,
) -> ir.Table:
    """First-purchase cohorts and what they bought in each period since (long format).

    Cohort = the period of a client's first purchase (``amount > 0``). For period k after
    it: ``clients`` = clients of the cohort with a purchase in that period,
    ``retention_rate`` = clients / cohort_size, ``revenue`` = net sum of amount of the
    cohort's clients in that period (cancellations subtracted). Returns dated before a
    client's first purchase (of purchases made before the data begins) are left out.

    How it is computed (one scan of orders, no distinct count): per client, one pass
    records its first purchase period and the set of periods with a purchase as bits of
    an integer (one 62-bit word per 62 periods counted back from `as_of`); the clients of
    a cell are then the set bits, and the revenue a join of the orders with the
    client's cohort. This avoids counting distinct (client, period) pairs, which costs a
    hash table as large as the orders. With `days` (the ``client_days`` mart) it is one
    scan of the mart's days: each day knows its client's first purchase and whether it is
    the client's first purchase of its period, so a cell's clients are a sum. Orders
    without a client are left out.

    Returns
    -------
    ir.Table
        cohort (start date of the cohort period), period_index (k, 0 = first period),
        period_start, cohort_size, clients, retention_rate, revenue,
        revenue_per_client (revenue / cohort_size) — one row per cohort and period with
        orders; the web draws it as a heatmap.
    """
    if days is None:
        cells = _cohort_cells(orders, as_of=as_of, period=period)
    else:
        cells = _cohort_cells_from_days(days, as_of=as_of, period=period)
    return cells.mutate(
        cohort=_period_start(_.cohort_p, period),
        period_index=(_.p - _.cohort_p).cast("int64"),
        period_start=_period_start(_.p, period),
        retention_rate=_.clients / _.cohort_size,
        revenue_per_client=_.revenue / _.cohort_size,
    ).select(
        "cohort", "period_index", "period_start", "cohort_size", "clients",
        "retention_rate", "revenue", "revenue_per_client",
    ).order_by("cohort", "period_index")  # fmt: skip


def _cohort_cells(orders: ir.Table, *, as_of: dt.date, period: str) -> ir.Table:
    """cohort_p, p, revenue, clients, cohort_size from the orders."""
    last = _period_number(as_of, period)
    dated = orders_until(orders, as_of=as_of).filter(_.account_id.notnull())
    dated = dated.select("account_id", "amount", p=_period_index(_.order_date, period))
    words = _purchase_words(dated, last)
    first = (
        words.group_by("account_id")
        .agg(cohort_p=_.first_p.min())
        .filter(_.cohort_p.notnull())
    )
    sizes = first.group_by("cohort_p").agg(cohort_size=_.count().cast("int64"))
    joined = dated.join(first, "account_id")
    revenue = (
        joined.filter(joined.p >= joined.cohort_p)
        .group_by("cohort_p", "p")
        .agg(revenue=_.amount.sum())
    )
    clients = _clients_from_words(words, first, last)
    cells = revenue.left_join(clients, ["cohort_p", "p"]).select(
        revenue.cohort_p,
        revenue.p,
        revenue.revenue,
        clients=clients.clients.fill_null(0),
    )
    return cells.join(sizes, "cohort_p")


def _cohort_cells_from_days(
    days: ClientDays, *, as_of: dt.date, period: str
) -> ir.Table:
    """The same cells from the ``client_days`` mart, in one scan of its days."""
    d = days.until(as_of).filter(_.first_purchase_date <= as_of)
    is_first = d.is_month_first if period == "month" else d.is_quarter_first
    d = d.select(
        "amount",
        cohort_p=_period_index(d.first_purchase_date, period),
        p=_period_index(d.order_date, period),
        first=is_first.cast("int64"),
    )
    cells = (
        d.filter(d.p >= d.cohort_p)
        .group_by("cohort_p", "p")
        .agg(revenue=_.amount.sum(), clients=_.first.sum())
    )
    sizes = cells.filter(_.p == _.cohort_p).select(
        "cohort_p", cohort_size=_.clients.cast("int64")
    )
    return cells.join(sizes, "cohort_p").select(
        "cohort_p", "p", "revenue", "clients", "cohort_size"
    )


#: Periods per word of the purchase bit set (bit 62 and the sign bit stay clear).
WORD_BITS = 62


def _purchase_words(dated: ir.Table, last: int) -> ir.Table:
    """Per client and word: first purchase period and the purchase periods as bits.

    Bit b of word w stands for period ``last - (w * WORD_BITS + b)``.
    """
    buy = dated.amount > 0
    back = last - dated.p
    one = ibis.literal(1).cast("int64")  # a 64-bit 1 (Spark's literal 1 is 32-bit)
    return dated.group_by("account_id", w=back // WORD_BITS).agg(
        first_p=dated.p.min(where=buy),
        mask=(one << (back % WORD_BITS)).bit_or(where=buy),
    )


def _clients_from_words(words: ir.Table, first: ir.Table, last: int) -> ir.Table:
    """cohort_p, p, clients: the set bits of every client's words, counted per cell."""
    bits = (
        words.filter(_.mask.notnull())
        .join(first, "account_id")
        .mutate(b=ibis.range(0, WORD_BITS).unnest())
    )
    bits = bits.mutate(p=last - (bits.w * WORD_BITS + bits.b))
    bits = bits.filter(((bits.mask >> bits.b) & 1) == 1, bits.p >= bits.cohort_p)
    return bits.group_by("cohort_p", "p").agg(clients=_.count().cast("int64"))
