"""Stage drops and segment gaps: when a stage started leaking, and who leaks most.

**Matured conversion.** Recent cohorts are right-censored (many of their deals are still
open), so raw conversion of a young cohort is never compared with an old one. For each
transition S → next the *usual window* W is the 90th percentile of the days from a deal's
first entry into S to its first entry into a later stage (among deals that moved on,
rounded up to whole days). A deal that entered S counts for the transition only when W
full days have passed by ``as_of``; it *converted* when it reached a later stage (skips
count) within W days. Every deal in every cohort is thus measured on the same window.

**Stage drop.** Over monthly cohorts of first entry into S, the split into "before" and
"after" that maximises the two-proportion z statistic (after below before) is the change
point; its one-sided p-value is multiplied by the number of candidate splits
(Bonferroni). A drop needs at least ``min_deals`` matured deals on each side, two cohorts
after, p below ``alpha``, a fall of ``min_fall`` (absolute) and ``min_relative``
(relative), and it must last: the later half of the "after" cohorts stays below the
midpoint of the two levels.

**Segment gap.** A group (manager, source, region) whose matured conversion at a stage is
far below the rest of its pipeline (two-proportion test, Bonferroni over every
group × stage, minimum sample, absolute and relative gap).

**One query.** Entries come from the ``stage_entries`` mart when it covers ``as_of`` (see
:mod:`crmlens.warehouse.marts`) and are computed from the stage history otherwise. Drops
and every group's gaps are then counted from one small table: matured entries per
transition, cohort and the deal's label of each group (:func:`transition_cells`), fetched
once and rolled up in Arrow (:func:`cohort_rows`, :func:`segment_rows`).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import ibis
import ibis.expr.types as ir
from ibis import _

from crmlens.analytics.funnel import DAY_SECONDS, day_end, days_between, window_filter
from crmlens.analytics.funnel_groups import (
    GROUP_COLUMN,
    FunnelInputs,
    GroupBy,
    with_deal_group,
)

if TYPE_CHECKING:
    import pyarrow as pa

WINDOW_QUANTILE = 0.9
#: Keys of a transition (one stage to the next) in the rows of this module.
TRANSITION = ("pipeline_id", "stage", "position", "next_stage")
#: ``transition_cells`` column: the deal is among the funnel's facts (has its labels).
LABELLED = "labelled"


def stage_entries(events: ir.Table, design: ir.Table) -> ir.Table:
    """First entry of each deal into each non-terminal stage, with the next designed stage.

    Returns
    -------
    ir.Table
        deal_id, pipeline_id, stage, position, next_stage, first_at, moved_at (first
        entry into any later non-lost stage after first_at; NULL if none yet).
    """
    steps = design.filter(~_.is_lost)
    w = ibis.window(group_by="pipeline_id", order_by="position")
    steps = steps.mutate(next_stage=_.stage.lead().over(w))
    steps = steps.filter(_.next_stage.notnull() & ~_.is_won)
    first = events.group_by("deal_id", "pipeline_id", "stage", "position").agg(
        first_at=_.entered_at.min()
    )
    first = first.join(
        steps.select("pipeline_id", "stage", "next_stage"),
        [
            "pipeline_id",
            "stage",
        ],
    )
    later = events.filter(~_.is_lost).select(
        l_deal=_.deal_id, l_pos=_.position, l_at=_.entered_at
    )
    j = first.left_join(
        later,
        (first.deal_id == later.l_deal)
        & (later.l_pos > first.position)
        & (later.l_at >= first.first_at),
    )
    return j.group_by(
        "deal_id", "pipeline_id", "stage", "position", "next_stage", "first_at"
    ).agg(moved_at=_.l_at.min())


def selected_entries(
    inputs: FunnelInputs,
    events: ir.Table,
    design: ir.Table,
    *,
    as_of: dt.date,
    pipeline: str | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> ir.Table:
    """:func:`stage_entries` of one funnel selection, read from a mart when it can be.

    `events` and `design` are those of :func:`crmlens.analytics.funnel.funnel_facts` for
    the same selection (deals created in ``[start, end]``, of `pipeline`). The
    ``stage_entries`` mart holds the entries of every deal as of the end of the data;
    when it covers `as_of` (nothing happened after it) it is those rows, narrowed to the
    selection.
    """
    mart = inputs.mart("stage_entries", as_of) if inputs.mart is not None else None
    if mart is None:
        return stage_entries(events, design)
    if pipeline is not None:
        mart = mart.filter(_.pipeline_id == pipeline)
    if start is not None or end is not None:
        deals = window_filter(inputs.deals, "created_at", start, end)
        mart = mart.semi_join(deals.select("deal_id"), "deal_id")
    return mart


def transition_windows(entries: ir.Table) -> ir.Table:
    """The usual window of each transition: p90 of days to move on, whole days (≥ 1).

    Returns
    -------
    ir.Table
        pipeline_id, stage, window_days (float64).
    """
    moved = entries.filter(_.moved_at.notnull()).mutate(
        d=days_between(_.first_at, _.moved_at)
    )
    q = moved.group_by("pipeline_id", "stage").agg(p=_.d.quantile(WINDOW_QUANTILE))
    return q.select(
        "pipeline_id",
        "stage",
        window_days=ibis.greatest(q.p.ceil().cast("float64"), 1.0),
    )


def matured_entries(
    entries: ir.Table, windows: ir.Table, *, as_of: dt.date
) -> ir.Table:
    """Entries observed for their whole window by `as_of`, with ``converted`` (0/1).

    Returns
    -------
    ir.Table
        deal_id, pipeline_id, stage, position, next_stage, cohort (first day of the month
        of first entry, date), window_days, converted (int64).
    """
    t = entries.join(windows, ["pipeline_id", "stage"])
    end_s = day_end(as_of).epoch_seconds()
    start_s = t.first_at.epoch_seconds()
    t = t.filter(start_s + t.window_days * DAY_SECONDS <= end_s)
    in_window = t.moved_at.notnull() & (
        days_between(t.first_at, t.moved_at) <= t.window_days
    )
    return t.select(
        "deal_id",
        "pipeline_id",
        "stage",
        "position",
        "next_stage",
        cohort=t.first_at.truncate("M").date(),
        window_days=t.window_days,
        converted=in_window.cast("int64"),
    )


def cohort_conversion(matured: ir.Table) -> ir.Table:
    """Matured conversion of each transition by monthly cohort of first entry.

    Returns
    -------
    ir.Table
        pipeline_id, stage, position, next_stage, cohort, window_days, entered,
        converted, conversion_rate — ordered by pipeline, position, cohort.
    """
    g = matured.group_by(
        "pipeline_id", "stage", "position", "next_stage", "cohort", "window_days"
    ).agg(entered=_.count(), converted=_.converted.sum())
    return g.mutate(
        entered=_.entered.cast("int64"),
        converted=_.converted.cast("int64"),
        conversion_rate=_.converted.cast("float64") / _.entered,
    ).order_by("pipeline_id", "position", "cohort")


@dataclass(frozen=True)
class Cohort:
    """One cohort of a transition: its label, deals entered and converted."""

    label: str
    entered: int
    converted: int


@dataclass(frozen=True)
class ChangePoint:
    """A lasting fall of a conversion: the first cohort of the new level and the test."""

    first_cohort: str
    before_rate: float
    after_rate: float
    before_deals: int
    after_deals: int
    z: float
    p_value: float
    cohorts_after: int


def _z(k1: int, n1: int, k2: int, n2: int) -> float:
    pooled = (k1 + k2) / (n1 + n2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    return 0.0 if se == 0 else (k1 / n1 - k2 / n2) / se


def normal_sf(z: float) -> float:
    """P(Z > z) for a standard normal Z."""
    return 0.5 * math.erfc(z / math.sqrt(2))


def detect_drop(
    cohorts: Sequence[Cohort],
    *,
    min_deals: int = 60,
    alpha: float = 0.001,
    min_fall: float = 0.05,
    min_relative: float = 0.15,
) -> ChangePoint | None:
    """The lasting fall of conversion in `cohorts` (ordered), or None (see module doc)."""
    n = [c.entered for c in cohorts]
    k = [c.converted for c in cohorts]
    splits = range(2, len(cohorts) - 1)
    best: tuple[float, int] | None = None
    for i in splits:
        n1, k1, n2, k2 = sum(n[:i]), sum(k[:i]), sum(n[i:]), sum(k[i:])
        if min(n1, n2) < min_deals:
            continue
        z = _z(k1, n1, k2, n2)
        if best is None or z > best[0]:
            best = (z, i)
    if best is None:
        return None
    z, i = best
    p = min(1.0, normal_sf(z) * max(1, len(splits)))
    n1, k1, n2, k2 = sum(n[:i]), sum(k[:i]), sum(n[i:]), sum(k[i:])
    before, after = k1 / n1, k2 / n2
    lasting = _lasting(n[i:], k[i:], (before + after) / 2)
    fall_ok = before - after >= min_fall and after <= before * (1 - min_relative)
    if p >= alpha or not fall_ok or not lasting:
        return None
    return ChangePoint(cohorts[i].label, before, after, n1, n2, z, p, len(cohorts) - i)


def _lasting(n: Sequence[int], k: Sequence[int], midpoint: float) -> bool:
    half = len(n) // 2
    tail_n, tail_k = sum(n[half:]), sum(k[half:])
    return tail_n > 0 and tail_k / tail_n < midpoint


@dataclass(frozen=True)
class Gap:
    """A group converting far below the rest of its pipeline at one stage."""

    group: str
    rate: float
    rest_rate: float
    deals: int
    rest_deals: int
    p_value: float


def detect_gap(
    group: Cohort,
    rest: Cohort,
    *,
    tests: int,
    min_deals: int = 40,
    alpha: float = 0.001,
    min_gap: float = 0.08,
    min_relative: float = 0.25,
) -> Gap | None:
    """`group` against the `rest` (one-sided, Bonferroni over `tests`), or None."""
    if min(group.entered, rest.entered) < min_deals:
        return None
    rate = group.converted / group.entered
    rest_rate = rest.converted / rest.entered
    z = _z(rest.converted, rest.entered, group.converted, group.entered)
    p = min(1.0, normal_sf(z) * max(1, tests))
    big = rest_rate - rate >= min_gap and rate <= rest_rate * (1 - min_relative)
    if p >= alpha or not big:
        return None
    return Gap(group.label, rate, rest_rate, group.entered, rest.entered, p)


def segment_conversion(matured: ir.Table, grouped_facts: ir.Table) -> ir.Table:
    """Matured conversion of each transition per group (``group_value`` of the facts).

    Returns
    -------
    ir.Table
        pipeline_id, stage, position, next_stage, group_value, entered, converted.
    """
    g = matured.join(grouped_facts.select("deal_id", "group_value"), "deal_id")
    return g.group_by(
        "pipeline_id", "stage", "position", "next_stage", "group_value"
    ).agg(entered=_.count().cast("int64"), converted=_.converted.sum().cast("int64"))


def labelled_facts(
    facts: ir.Table, inputs: FunnelInputs, groups: Sequence[GroupBy]
) -> ir.Table:
    """`facts` with the deal's label of each of `groups` in a column named after it.

    Labels are those of :func:`crmlens.analytics.funnel_groups.with_deal_group`.
    """
    t = facts
    for by in groups:
        t = with_deal_group(t, inputs, by).rename({by: GROUP_COLUMN})
    return t


def transition_cells(
    matured: ir.Table, labelled: ir.Table, groups: Sequence[GroupBy]
) -> ir.Table:
    """Matured entries counted per transition, cohort and the deal's label of each group.

    The one table drops and gaps are counted from (:func:`cohort_rows`,
    :func:`segment_rows`): every matured entry counts once, whether or not its deal is
    among the `labelled` facts (``labelled`` is false and the labels NULL when not).

    Returns
    -------
    ir.Table
        pipeline_id, stage, position, next_stage, cohort, window_days, one column per
        group, labelled (boolean), entered, converted (int64).
    """
    lab = labelled.select(
        _deal=labelled.deal_id,
        **{g: labelled[g] for g in groups},
        **{LABELLED: ibis.literal(True)},
    )
    j = matured.left_join(lab, matured.deal_id == lab._deal)
    g = j.group_by(
        *TRANSITION,
        "cohort",
        "window_days",
        *groups,
        j[LABELLED].fill_null(False).name(LABELLED),
    ).agg(entered=_.count(), converted=_.converted.sum())
    return g.mutate(
        entered=_.entered.cast("int64"), converted=_.converted.cast("int64")
    )


def cohort_rows(cells: pa.Table) -> list[dict[str, Any]]:
    """:func:`cohort_conversion` rows from :func:`transition_cells` (fetched).

    Ordered by pipeline, position, stage, next stage and cohort.
    """
    keys = [*TRANSITION, "cohort", "window_days"]
    rows = _sums(cells, keys)
    for r in rows:
        r["conversion_rate"] = r["converted"] / r["entered"]
    order = ("pipeline_id", "position", "stage", "next_stage", "cohort")
    return sorted(rows, key=lambda r: tuple(r[k] for k in order))


def segment_rows(cells: pa.Table, group: GroupBy) -> list[dict[str, Any]]:
    """:func:`segment_conversion` rows of one group from :func:`transition_cells`.

    Only entries of labelled deals count (the facts' inner join); ordered by transition
    and group value.
    """
    import pyarrow.compute as pc

    mine = cells.filter(pc.field(LABELLED)).rename_columns(
        [GROUP_COLUMN if c == group else c for c in cells.column_names]
    )
    rows = _sums(mine, [*TRANSITION, GROUP_COLUMN])
    order = ("pipeline_id", "position", "stage", "next_stage", GROUP_COLUMN)
    return sorted(rows, key=lambda r: tuple(r[k] for k in order))


def _sums(cells: pa.Table, keys: list[str]) -> list[dict[str, Any]]:
    out = cells.group_by(keys, use_threads=False).aggregate(
        [("entered", "sum"), ("converted", "sum")]
    )
    names = {"entered_sum": "entered", "converted_sum": "converted"}
    out = out.rename_columns([names.get(c, c) for c in out.column_names])
    return out.to_pylist()  # type: ignore[no-any-return]


def outcomes_after(facts: ir.Table, design: ir.Table) -> ir.Table:
    """Win rate of closed deals that reached each stage, and the average won amount.

    Returns
    -------
    ir.Table
        pipeline_id, stage, position, win_rate_after (won / closed among deals that
        reached the stage), avg_won_amount (of the pipeline's won deals).
    """
    closed = facts.filter(_.status_as_of.isin(["won", "lost"]))
    steps = design.filter(~_.is_lost).select("pipeline_id", "stage", "position")
    reach = (
        steps.join(closed, "pipeline_id")
        .filter(_.furthest_position >= _.position)
        .group_by("pipeline_id", "stage", "position")
        .agg(
            closed=_.count(),
            won=(_.status_as_of == "won").cast("int64").sum(),
        )
    )
    amount = (
        closed.filter(_.status_as_of == "won")
        .group_by("pipeline_id")
        .agg(avg_won_amount=_.amount.mean())
    )
    out = reach.left_join(amount, "pipeline_id")
    out = out.drop(*[c for c in out.columns if c.endswith("_right")])
    return out.select(
        "pipeline_id",
        "stage",
        "position",
        win_rate_after=_.won.cast("float64") / _.closed,
        avg_won_amount=_.avg_won_amount,
    )
