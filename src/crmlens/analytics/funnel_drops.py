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
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass

import ibis
import ibis.expr.types as ir
from ibis import _

from crmlens.analytics.funnel import DAY_SECONDS, day_end, days_between

WINDOW_QUANTILE = 0.9


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
