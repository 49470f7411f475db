"""Plan vs fact: the Ibis inputs of the plan forecast (docs/metrics.md#plan-forecast).

Everything here is "as known at `as_of`": a row dated after `as_of` does not exist, a deal
closed after `as_of` is still open, a stage entered after `as_of` was not entered yet. The
backtest relies on this: adding future rows to the warehouse changes none of these tables.

- **Fact** of a scope = revenue of orders dated in the period up to `as_of` (inclusive),
  attributed to the order's manager (or the account owner when the order has none).
- **Repeat orders** are orders without a ``deal_id``; orders of won deals come through the
  deals forecast instead. The run-rate reads them aggregated per client over a window of
  full months (:func:`client_repeat_stats`), so only one row per client leaves the
  warehouse.
- **Scope** of a manager: company (``scope_id`` = "company"), region, team, the manager.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Literal

import ibis
import ibis.expr.types as ir
from ibis import _

from crmlens.analytics._checks import require_columns
from crmlens.analytics._dates import next_midnight
from crmlens.errors import InputError

Scope = Literal["company", "region", "team", "manager"]
SCOPES: tuple[Scope, ...] = ("company", "region", "team", "manager")
DAY_SECONDS = 86400.0


def period_bounds(period: str) -> tuple[dt.date, dt.date]:
    """First day of the month ``YYYY-MM`` and the first day of the next month."""
    try:
        year, month = (int(p) for p in period.split("-"))
        start = dt.date(year, month, 1)
    except ValueError:
        raise InputError(
            f"period {period!r} is not a month", reason="expected YYYY-MM, e.g. 2025-06"
        ) from None
    end = dt.date(year + month // 12, month % 12 + 1, 1)
    return start, end


def period_of(day: dt.date) -> str:
    """The month label ``YYYY-MM`` of `day`."""
    return f"{day.year:04d}-{day.month:02d}"


def scope_of_managers(managers: ir.Table, *, scope: Scope) -> ir.Table:
    """Map each manager to a scope id.

    Returns
    -------
    ir.Table
        manager_id, scope_id — "company" for the company scope, the region, team or
        manager id otherwise (NULL region/team become "(none)").
    """
    require_columns(managers, "managers", ["manager_id"])
    if scope == "company":
        sid = ibis.literal("company")
    elif scope == "manager":
        sid = managers.manager_id
    else:
        sid = managers[scope].fill_null("(none)")
    return managers.select("manager_id", scope_id=sid)


def order_facts(orders: ir.Table, accounts: ir.Table, *, as_of: dt.date) -> ir.Table:
    """Orders known at `as_of` with the manager they count for.

    Returns
    -------
    ir.Table
        order_id, account_id, order_date, amount, manager_id, is_repeat — orders dated on
        or before `as_of`; manager = the order's manager, else the account owner;
        is_repeat = the order has no deal_id.
    """
    require_columns(
        orders, "orders", ["order_id", "account_id", "order_date", "amount"]
    )
    owners = accounts.select(_acc=accounts.account_id, _owner=accounts.owner_id)
    known = orders.filter(orders.order_date <= as_of, orders.amount.notnull())
    joined = known.left_join(owners, known.account_id == owners._acc)
    return joined.select(
        "order_id",
        "account_id",
        "order_date",
        amount=joined.amount.cast("float64"),
        manager_id=joined.manager_id.fill_null(joined._owner),
        is_repeat=joined.deal_id.isnull(),
    )


def fact_to_date(
    facts: ir.Table, scopes: ir.Table, *, start: dt.date, as_of: dt.date
) -> ir.Table:
    """Revenue of the period so far per scope.

    Returns
    -------
    ir.Table
        scope_id, fact_amount — sum of order amounts dated in [start, as_of].
    """
    inside = facts.filter(facts.order_date >= start, facts.order_date <= as_of)
    joined = inside.join(scopes, "manager_id")
    return joined.group_by("scope_id").agg(fact_amount=joined.amount.sum())


def targets_of(
    targets: ir.Table, *, period: str, scope: Scope, metric: str = "revenue"
) -> ir.Table:
    """Targets of one period and scope type.

    Returns
    -------
    ir.Table
        scope_id, target_amount — the company row gets scope_id "company".
    """
    require_columns(targets, "targets", ["period", "scope_type", "metric", "value"])
    rows = targets.filter(
        targets.period == period,
        targets.scope_type == scope,
        targets.metric == metric,
    )
    sid = ibis.literal("company") if scope == "company" else rows.scope_id
    return (
        rows.select(scope_id=sid, value=rows.value.cast("float64"))
        .group_by("scope_id")
        .agg(target_amount=_.value.sum())
    )


def _days_between(later: ir.Value, earlier: ir.Value) -> ir.Value:
    return (later.epoch_seconds() - earlier.epoch_seconds()).cast(
        "float64"
    ) / DAY_SECONDS


def _known_deals(deals: ir.Table, *, as_of: dt.date) -> ir.Table:
    """Deals created by `as_of` with their status as known then."""
    require_columns(deals, "deals", ["deal_id", "created_at", "pipeline_id", "status"])
    cutoff = next_midnight(as_of)
    known = deals.filter(deals.created_at < cutoff)
    closed_at = known.closed_at.cast("timestamp")
    is_closed = (known.status != "open") & closed_at.notnull() & (closed_at < cutoff)
    return known.mutate(
        status_then=ibis.ifelse(is_closed, known.status, "open"),
        closed_at_then=ibis.ifelse(is_closed, closed_at, ibis.null("timestamp")),
    )


def _working_stages(
    deal_stages: ir.Table, pipelines: ir.Table, *, as_of: dt.date
) -> ir.Table:
    """Stage entries known at `as_of` into stages that are neither won nor lost."""
    require_columns(deal_stages, "deal_stages", ["deal_id", "stage", "entered_at"])
    cutoff = next_midnight(as_of)
    stages = pipelines.filter(
        ~pipelines.is_won.fill_null(False), ~pipelines.is_lost.fill_null(False)
    ).select("pipeline_id", "stage", "position")
    known = deal_stages.filter(deal_stages.entered_at < cutoff)
    return known.join(stages, "stage").select(
        "deal_id", "pipeline_id", "stage", "position", "entered_at"
    )


def stage_history(
    deals: ir.Table, deal_stages: ir.Table, pipelines: ir.Table, *, as_of: dt.date
) -> ir.Table:
    """Training rows: closed deals' entries into working stages, known at `as_of`.

    Returns
    -------
    ir.Table
        deal_id, pipeline_id, position, days_to_close, is_won — one row per deal and
        working stage entered (first entry); days_to_close = closed_at − entered_at.
    """
    known = _known_deals(deals, as_of=as_of).filter(_.status_then != "open")
    entries = _working_stages(deal_stages, pipelines, as_of=as_of)
    first = entries.group_by("deal_id", "pipeline_id", "position").agg(
        entered_at=entries.entered_at.min()
    )
    joined = first.join(
        known.select("deal_id", "pipeline_id", "closed_at_then", "status_then"),
        ["deal_id", "pipeline_id"],
    )
    return joined.select(
        "deal_id",
        "pipeline_id",
        "position",
        days_to_close=_days_between(joined.closed_at_then, joined.entered_at),
        is_won=joined.status_then == "won",
    )


#: Above this many working positions :func:`stage_close_days` groups per deal and stage.
MAX_PIVOT_POSITIONS = 32


def working_positions(pipelines: ir.Table) -> ir.Table:
    """The distinct positions of the working stages (neither won nor lost).

    Returns
    -------
    ir.Table
        position — one row per position (NULL included when a stage has none).
    """
    stages = pipelines.filter(
        ~pipelines.is_won.fill_null(False), ~pipelines.is_lost.fill_null(False)
    )
    return stages.select("position").distinct()


def stage_close_days(
    deals: ir.Table,
    deal_stages: ir.Table,
    pipelines: ir.Table,
    *,
    as_of: dt.date,
    positions: Sequence[int] | None = None,
) -> ir.Table:
    """The stage history of :func:`stage_history` gathered per pipeline stage.

    One row per stage keeps what leaves the warehouse small (a handful of rows with
    arrays instead of a row per closed deal and stage).

    `positions`, when given, are all the positions of :func:`working_positions` (none
    NULL): the first entries are then found per deal, one column per position, instead
    of per deal and stage — the same rows with about a third less work on millions of
    stage entries (a group per deal instead of per deal and stage). Without them, or with
    more than :data:`MAX_PIVOT_POSITIONS`, the history is grouped per deal and stage.

    Returns
    -------
    ir.Table
        pipeline_id, position, days_to_close (array of every closed deal that entered
        the stage), won_days_to_close (array of the won ones; NULL when none won).
    """
    if positions is None or not 0 < len(positions) <= MAX_PIVOT_POSITIONS:
        h = stage_history(deals, deal_stages, pipelines, as_of=as_of)
        return h.group_by("pipeline_id", "position").agg(
            days_to_close=h.days_to_close.collect(),
            won_days_to_close=h.days_to_close.collect(where=h.is_won),
        )
    return _stage_close_days_pivot(
        deals, deal_stages, pipelines, as_of=as_of, positions=sorted(positions)
    )


def _stage_close_days_pivot(
    deals: ir.Table,
    deal_stages: ir.Table,
    pipelines: ir.Table,
    *,
    as_of: dt.date,
    positions: list[int],
) -> ir.Table:
    known = _known_deals(deals, as_of=as_of).filter(_.status_then != "open")
    entries = _working_stages(deal_stages, pipelines, as_of=as_of)
    first = entries.group_by("deal_id", "pipeline_id").agg(
        **{
            f"_m{i}": entries.entered_at.min(where=entries.position == p)
            for i, p in enumerate(positions)
        }
    )
    j = first.join(
        known.select("deal_id", "pipeline_id", "closed_at_then", "status_then"),
        ["deal_id", "pipeline_id"],
    )
    won = j.status_then == "won"
    aggs: dict[str, ir.Value] = {}
    for i in range(len(positions)):
        entered = j[f"_m{i}"]
        days = _days_between(j.closed_at_then, entered)
        aggs[f"_d{i}"] = days.collect(where=entered.notnull())
        aggs[f"_w{i}"] = days.collect(where=entered.notnull() & won)
    per = j.group_by("pipeline_id").agg(**aggs)
    stages = ibis.array(
        [
            ibis.struct(
                {
                    "position": ibis.literal(p, type=pipelines.position.type()),
                    "days_to_close": per[f"_d{i}"],
                    "won_days_to_close": per[f"_w{i}"],
                }
            )
            for i, p in enumerate(positions)
        ]
    )
    long = per.select("pipeline_id", _stage=stages).unnest("_stage").unpack("_stage")
    return long.filter(long.days_to_close.length() > 0)


def open_deals(
    deals: ir.Table, deal_stages: ir.Table, pipelines: ir.Table, *, as_of: dt.date
) -> ir.Table:
    """Deals open at `as_of`, at their latest working stage.

    Returns
    -------
    ir.Table
        deal_id, pipeline_id, account_id, owner_id, amount, position, stage, age_days —
        age = days from the entry into the current stage to the end of `as_of`; a deal
        with no stage entry is at position 1, aged from its creation.
    """
    known = _known_deals(deals, as_of=as_of).filter(_.status_then == "open")
    entries = _working_stages(deal_stages, pipelines, as_of=as_of)
    ids = known.select(_open_id=known.deal_id)
    entries = entries.join(ids, entries.deal_id == ids._open_id).drop("_open_id")
    latest = entries.group_by("deal_id").agg(last_at=entries.entered_at.max())
    current = entries.join(latest, "deal_id").filter(_.entered_at == _.last_at)
    current = current.group_by("deal_id").agg(
        position=current.position.max(),
        stage=current.stage.max(),
        entered_at=_.last_at.max(),
    )
    end = next_midnight(as_of)
    joined = known.left_join(current, known.deal_id == current.deal_id)
    return joined.select(
        deal_id=known.deal_id,
        pipeline_id=known.pipeline_id,
        account_id=known.account_id,
        owner_id=known.owner_id,
        amount=known.amount.cast("float64"),
        position=joined.position.fill_null(1),
        stage=joined.stage,
        age_days=_days_between(end, joined.entered_at.fill_null(known.created_at)),
    )


def won_amounts(deals: ir.Table, *, as_of: dt.date) -> ir.Table:
    """Mean won amount per pipeline (to value open deals without an amount).

    Returns
    -------
    ir.Table
        pipeline_id, mean_won_amount.
    """
    won = _known_deals(deals, as_of=as_of).filter(
        _.status_then == "won", _.amount.notnull()
    )
    return won.group_by("pipeline_id").agg(
        mean_won_amount=won.amount.cast("float64").mean()
    )


def window_start(start: dt.date, window: int) -> dt.date:
    """First day of the month `window` months before the month of `start`."""
    idx = start.year * 12 + start.month - 1 - window
    return dt.date(idx // 12, idx % 12 + 1, 1)


def _window_orders(
    orders: ir.Table, *, as_of: dt.date, start: dt.date, window: int
) -> ir.Table:
    """Orders known at `as_of` from the first day of the window on."""
    require_columns(
        orders,
        "orders",
        ["order_id", "account_id", "order_date", "amount", "deal_id", "manager_id"],
    )
    return orders.filter(
        orders.order_date >= window_start(start, window),
        orders.order_date <= as_of,
        orders.amount.notnull(),
        orders.account_id.notnull(),
    )


#: Managers' numbers in the (day, manager) key of :func:`client_repeat_stats` stay below.
_RANK_SPAN = 2**32


def client_repeat_stats(
    orders: ir.Table,
    accounts: ir.Table,
    *,
    as_of: dt.date,
    start: dt.date,
    window: int = 24,
) -> ir.Table:
    """Repeat orders of each client in the `window` full months before `start`.

    Repeat orders are orders without a ``deal_id``, dated in [first day of the month
    `window` months before `start`, `start`) and known at `as_of`.

    Returns
    -------
    ir.Table
        account_id, revenue, orders_count, sum_sq_amount (Σ amount²), first_month
        (year × 12 + month − 1 of the earliest month with a repeat order),
        same_month_revenue (revenue in the calendar month of `start`), manager_id —
        the manager of the client's latest order known at `as_of`: its own, else the
        account owner (as :func:`order_facts` attributes orders; ties: the largest
        id; NULL when neither is known). One row per client with at least one repeat
        order in the window.
    """
    win = _window_orders(orders, as_of=as_of, start=start, window=window)
    # The managers of the window's orders numbered in their order, so that the latest
    # (day, manager) of a client is the largest of one integer: day × 2³² + number.
    named = win.filter(win.manager_id.notnull())
    ids = named.select(_rid=named.manager_id).distinct()
    ids = ids.mutate(_rank=ibis.row_number().over(order_by=ids._rid).cast("int64"))
    win = win.left_join(ids, win.manager_id == ids._rid).drop("_rid")
    amount = win.amount.cast("float64")
    date = win.order_date
    rep = win.deal_id.isnull() & (date < start)
    day = date.epoch_days().cast("int64")
    stats = win.group_by("account_id").agg(
        revenue=amount.sum(where=rep),
        orders_count=win.count(where=rep),
        sum_sq_amount=(amount * amount).sum(where=rep),
        first_month=(date.year() * 12 + date.month() - 1).min(where=rep),
        same_month_revenue=amount.sum(where=rep & (date.month() == start.month)),
        _last=date.max(),
        _latest=(day * _RANK_SPAN + win._rank).max(where=win._rank.notnull()),
        _no_manager_day=date.max(where=win.manager_id.isnull()),
    )
    stats = stats.filter(stats.orders_count > 0)
    # The client's latest orders (all on day _last): those with a manager give the
    # largest of their ids; one without a manager counts for the account owner.
    own_rank = stats._latest - stats._last.epoch_days().cast("int64") * _RANK_SPAN
    stats = stats.mutate(
        _own_rank=ibis.ifelse(own_rank >= 0, own_rank, ibis.null("int64")),
        _needs_owner=(stats._no_manager_day == stats._last).fill_null(False),
    )
    stats = stats.left_join(ids, stats._own_rank == ids._rank).rename(_own="_rid")
    wanted = stats.filter(stats._needs_owner).select(_wacc=stats.account_id)
    owners = accounts.join(wanted, accounts.account_id == wanted._wacc).select(
        _oacc=accounts.account_id, _owner=accounts.owner_id
    )
    joined = stats.left_join(owners, stats.account_id == owners._oacc)
    owner = ibis.ifelse(joined._needs_owner, joined._owner, ibis.null("string"))
    manager = ibis.cases(
        (joined._own.isnull(), owner),
        (owner.isnull() | (joined._own >= owner), joined._own),
        else_=owner,
    )
    return joined.select(
        "account_id",
        "revenue",
        "orders_count",
        "sum_sq_amount",
        "first_month",
        same_month_revenue=joined.same_month_revenue.fill_null(0.0),
        manager_id=manager,
    )


def calendar_revenue(
    orders: ir.Table, *, as_of: dt.date, start: dt.date, window: int = 24
) -> ir.Table:
    """Repeat-order revenue of all clients per calendar month, over the same window.

    Returns
    -------
    ir.Table
        month (1–12), revenue — the months with repeat orders in the window of
        :func:`client_repeat_stats`.
    """
    win = _window_orders(orders, as_of=as_of, start=start, window=window)
    rep = win.filter(win.deal_id.isnull(), win.order_date < start)
    return rep.group_by(month=rep.order_date.month()).agg(
        revenue=rep.amount.cast("float64").sum()
    )


def quick_wins(
    deals: ir.Table, scopes: ir.Table, *, start: dt.date, before: dt.date
) -> ir.Table:
    """Deals created and won in the same month, in the months [start, before).

    Their revenue is the part of a period that no open deal at `as_of` explains yet.

    Returns
    -------
    ir.Table
        scope_id, quick_amount — sum of amounts of such deals, known at `before`.
    """
    known = _known_deals(deals, as_of=before - dt.timedelta(days=1))
    won = known.filter(
        known.status_then == "won",
        known.amount.notnull(),
        known.created_at >= ibis.timestamp(dt.datetime.combine(start, dt.time())),
        known.created_at.year() == known.closed_at_then.year(),
        known.created_at.month() == known.closed_at_then.month(),
    )
    joined = won.join(scopes, won.owner_id == scopes.manager_id)
    return joined.group_by("scope_id").agg(
        quick_amount=joined.amount.cast("float64").sum()
    )
