"""Fair comparison of managers: mix-adjusted win rate (DESIGN.md, issue 5).

Definitions:

- **client_type** of a deal: ``returning`` when its account had a won deal (closed_at)
  or an order (order_date, 00:00) before the deal's created_at, else ``new``.
- **Segment** of a closed deal: the values of the ``segment_by`` dimensions joined by
  " | " (default client_type × lead source; ``none`` where a value is missing).
- **Expected win rate** of a manager = Σ over segments of the manager's share of closed
  deals in the segment × the company's win rate in it.
- **mix_index** = actual win rate / expected win rate; 1 means "as the company does with
  the same clients". Its 95 % interval is a parametric bootstrap of the manager × segment
  count table (:func:`bootstrap_mix_index`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING

import ibis
import ibis.expr.types as ir
from ibis import _

from crmlens.analytics._checks import require_columns
from crmlens.analytics.managers import closed_deals

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

#: Dimensions a segment can be built from, and the table each comes from.
SEGMENT_DIMENSIONS = {
    "client_type": "deals",
    "source": "leads",
    "channel": "leads",
    "pipeline_id": "deals",
    "industry": "accounts",
    "size_segment": "accounts",
    "region": "accounts",
}


def client_types(deals: ir.Table, orders: ir.Table | None = None) -> ir.Table:
    """deal_id, client_type (new/returning) of every deal (see the module docstring)."""
    require_columns(deals, "deals", ["deal_id", "account_id", "created_at", "status"])
    firsts = deals.filter(_.status == "won", _.closed_at.notnull()).select(
        "account_id", first_at="closed_at"
    )
    if orders is not None:
        firsts = firsts.union(
            orders.select(
                "account_id", first_at=_.order_date.cast(deals.closed_at.type())
            )
        )
    first = firsts.group_by(acc="account_id").agg(first_at=_.first_at.min())
    j = deals.left_join(first, deals.account_id == first.acc)
    returning = j.first_at.notnull() & (j.first_at < j.created_at)
    return j.select("deal_id", client_type=ibis.ifelse(returning, "returning", "new"))


def segment_deals(
    deals: ir.Table,
    *,
    orders: ir.Table | None = None,
    leads: ir.Table | None = None,
    accounts: ir.Table | None = None,
    segment_by: Sequence[str] = ("client_type", "source"),
    as_of: dt.date,
    date_from: dt.date | None = None,
) -> ir.Table:
    """Closed deals with their segment.

    Returns
    -------
    ir.Table
        deal_id, manager_id (owner), segment, is_won, won_amount, amount.
    """
    t = closed_deals(deals, date_from=date_from, as_of=as_of)
    parts = []
    for dim in segment_by:
        source = SEGMENT_DIMENSIONS[dim]
        if dim == "client_type":
            t = t.left_join(client_types(deals, orders), "deal_id").drop(
                "deal_id_right"
            )
        elif source == "leads" and leads is not None and dim in leads.columns:
            lk = leads.group_by(lk="lead_id").agg(**{f"seg_{dim}": leads[dim].min()})
            t = t.left_join(lk, t.lead_id == lk.lk).drop("lk")
        elif source == "accounts" and accounts is not None and dim in accounts.columns:
            ak = accounts.group_by(ak="account_id").agg(
                **{f"seg_{dim}": accounts[dim].min()}
            )
            t = t.left_join(ak, t.account_id == ak.ak).drop("ak")
        col = dim if dim in ("client_type", "pipeline_id") else f"seg_{dim}"
        if col not in t.columns:
            t = t.mutate(**{col: ibis.null("string")})
        parts.append(t[col].cast("string").fill_null("none"))
    segment = parts[0] if len(parts) == 1 else ibis.literal(" | ").join(parts)
    return t.select(
        "deal_id",
        "is_won",
        "won_amount",
        "amount",
        manager_id=t.owner_id,
        segment=segment,
    )


def mix_cells(segmented: ir.Table) -> ir.Table:
    """The count table: manager_id, segment, deals_closed, deals_won."""
    return segmented.group_by("manager_id", "segment").agg(
        deals_closed=_.count(), deals_won=_.is_won.sum()
    )


def mix_adjusted(cells: ir.Table) -> ir.Table:
    """Actual and expected win rate of each manager, the mix index and both ranks.

    Returns
    -------
    ir.Table
        manager_id, deals_closed, deals_won, win_rate, expected_win_rate, mix_index,
        rank_raw (by win_rate, 1 = best), rank_adjusted (by mix_index).
    """
    seg = cells.group_by("segment").agg(
        seg_closed=_.deals_closed.sum(), seg_won=_.deals_won.sum()
    )
    seg = seg.mutate(segment_win_rate=seg.seg_won.cast("float64") / seg.seg_closed)
    j = cells.join(seg, "segment")
    per = j.group_by("manager_id").agg(
        deals_closed=_.deals_closed.sum(),
        deals_won=_.deals_won.sum(),
        expected_won=(_.deals_closed.cast("float64") * _.segment_win_rate).sum(),
    )
    n = per.deals_closed.cast("float64")
    per = per.mutate(
        win_rate=per.deals_won.cast("float64") / n,
        expected_win_rate=per.expected_won / n,
    )
    per = per.mutate(
        mix_index=ibis.ifelse(
            per.expected_win_rate > 0, per.win_rate / per.expected_win_rate, None
        )
    )
    raw = ibis.row_number().over(order_by=[ibis.desc(per.win_rate), per.manager_id]) + 1
    adj = (
        ibis.row_number().over(
            order_by=[ibis.desc(per.mix_index.fill_null(-1.0)), per.manager_id]
        )
        + 1
    )
    return (
        per.mutate(rank_raw=raw, rank_adjusted=adj)
        .select(
            "manager_id",
            "deals_closed",
            "deals_won",
            "win_rate",
            "expected_win_rate",
            "mix_index",
            "rank_raw",
            "rank_adjusted",
        )
        .order_by("rank_adjusted")
    )


def mix_index_arrays(
    closed: npt.NDArray[np.float64], won: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """Mix index of each manager from a (managers × segments) count table.

    `closed` and `won` have shape (..., managers, segments); leading axes are replicates.
    """
    import numpy as np

    seg_n = closed.sum(axis=-2, keepdims=True)
    seg_rate = np.divide(
        won.sum(axis=-2, keepdims=True),
        seg_n,
        out=np.zeros_like(seg_n),
        where=seg_n > 0,
    )
    n = closed.sum(axis=-1)
    expected = (closed * seg_rate).sum(axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where((n > 0) & (expected > 0), won.sum(axis=-1) / expected, np.nan)


def bootstrap_mix_index(
    closed: npt.NDArray[np.float64],
    won: npt.NDArray[np.float64],
    *,
    n_boot: int = 2000,
    seed: int = 42,
    level: float = 0.95,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Percentile bootstrap interval of each manager's mix index.

    Each replicate redraws the wins of every manager × segment cell from
    Binomial(deals_closed, observed win rate); the company's segment rates are recomputed
    from the redrawn table, so their uncertainty is in the interval too.

    Parameters
    ----------
    closed, won
        (managers × segments) counts (see :func:`mix_cells`).

    Returns
    -------
    (low, high)
        Arrays with one bound per manager (NaN where the index is undefined).
    """
    import warnings

    import numpy as np

    rng = np.random.default_rng(seed)
    rate = np.divide(
        won, closed, out=np.zeros_like(closed, dtype=float), where=closed > 0
    )
    draws = rng.binomial(closed.astype(np.int64), rate, size=(n_boot, *closed.shape))
    idx = mix_index_arrays(
        np.broadcast_to(closed, draws.shape).astype(float), draws.astype(float)
    )
    alpha = (1 - level) / 2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN: undefined index
        low = np.nanquantile(idx, alpha, axis=0)
        high = np.nanquantile(idx, 1 - alpha, axis=0)
    return low, high
