"""Conformance of real deal journeys with the pipeline as designed (``pipelines``).

Per deal (stage entries known at ``as_of``; the lost stage is not a step):

- designed_steps: designed stages up to the furthest one the deal reached (all of them,
  the won stage included, for a won deal);
- actual_steps: stage entries of the deal (re-entries count);
- skipped_stages: designed stages before the furthest one that the deal never entered;
- backward_moves: entries into a stage of a lower position than the entry before;
- repeated_entries: entries into a stage the deal had entered before;
- extra_meetings: meetings and visits after the first one (the design has one meeting).

Undesigned steps across won deals (:func:`undesigned_steps`): for each stage, the share
of won deals that re-entered it (``repeat``) or skipped it (``skip``), and the share with
extra meetings (``extra_meeting``).
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir
from ibis import _

MEETING_TYPES = ("meeting", "visit")


def deal_conformance(
    events: ir.Table, facts: ir.Table, design: ir.Table, log: ir.Table
) -> ir.Table:
    """One row per deal with stage history: designed vs actual steps and deviations.

    Parameters
    ----------
    events, facts, design
        From :func:`crmlens.analytics.funnel.funnel_facts`.
    log
        The deal event log (:func:`crmlens.analytics.journeys.deal_event_log`).

    Returns
    -------
    ir.Table
        deal_id, pipeline_id, status_as_of, designed_steps, actual_steps,
        skipped_stages, backward_moves, repeated_entries, extra_meetings.
    """
    steps = design.filter(~_.is_lost).select("pipeline_id", "position")
    f = facts.filter(_.has_history)
    designed = (
        f.join(steps, "pipeline_id")
        .filter(_.position <= _.furthest_position)
        .group_by("deal_id")
        .agg(designed_steps=_.count())
    )
    entered = events.filter(~_.is_lost).select("deal_id", "position").distinct()
    skipped = (
        f.join(steps, "pipeline_id")
        .filter(_.position < _.furthest_position)
        .anti_join(entered, ["deal_id", "position"])
        .group_by("deal_id")
        .agg(skipped_stages=_.count())
    )
    w = ibis.window(group_by="deal_id", order_by=["entered_at", "position"])
    moves = (
        events.mutate(prev=_.position.lag().over(w))
        .group_by("deal_id")
        .agg(
            actual_steps=_.count(),
            backward_moves=(_.prev.notnull() & (_.position < _.prev))
            .cast("int64")
            .sum(),
            distinct_stages=_.stage.nunique(),
        )
    )
    meetings = (
        log.filter(_.activity.isin(list(MEETING_TYPES)) & (_.kind == "activity"))
        .group_by(deal_id=_.case_id)
        .agg(n_meetings=_.count())
    )
    t = f.select("deal_id", "pipeline_id", "status_as_of")
    for part in (designed, skipped, moves, meetings):
        t = t.left_join(part, "deal_id")
        t = t.drop(*[c for c in t.columns if c.endswith("_right")])
    return t.select(
        "deal_id",
        "pipeline_id",
        "status_as_of",
        designed_steps=_.designed_steps.fill_null(0).cast("int64"),
        actual_steps=_.actual_steps.fill_null(0).cast("int64"),
        skipped_stages=_.skipped_stages.fill_null(0).cast("int64"),
        backward_moves=_.backward_moves.fill_null(0).cast("int64"),
        repeated_entries=(_.actual_steps - _.distinct_stages)
        .fill_null(0)
        .cast("int64"),
        extra_meetings=ibis.greatest(_.n_meetings.fill_null(0) - 1, 0).cast("int64"),
    )


def undesigned_steps(
    events: ir.Table, conformance: ir.Table, design: ir.Table
) -> ir.Table:
    """Steps the design lacks, by share of won deals that take them.

    Returns
    -------
    ir.Table
        pipeline_id, kind (repeat / skip / extra_meeting), stage (NULL for
        extra_meeting), deals, won_deals (of the pipeline), share_of_won — largest
        share first.
    """
    won = conformance.filter(_.status_as_of == "won").select("deal_id", "pipeline_id")
    n_won = won.group_by("pipeline_id").agg(won_deals=_.count())
    repeat = (
        events.join(won.select("deal_id"), "deal_id")
        .group_by("deal_id", "pipeline_id", "stage")
        .agg(n=_.count())
        .filter(_.n > 1)
        .group_by("pipeline_id", "stage")
        .agg(deals=_.count())
        .mutate(kind=ibis.literal("repeat"))
    )
    steps = design.filter(~_.is_lost & ~_.is_won).select(
        "pipeline_id", "stage", "position"
    )
    entered = events.select("deal_id", "stage").distinct()
    skip = (
        won.join(steps, "pipeline_id")
        .anti_join(entered, ["deal_id", "stage"])
        .group_by("pipeline_id", "stage")
        .agg(deals=_.count())
        .mutate(kind=ibis.literal("skip"))
    )
    extra = (
        conformance.filter((_.status_as_of == "won") & (_.extra_meetings > 0))
        .group_by("pipeline_id")
        .agg(deals=_.count())
        .mutate(kind=ibis.literal("extra_meeting"), stage=ibis.null("string"))
    )
    cols = ["pipeline_id", "kind", "stage", "deals"]
    u = repeat.select(*cols).union(skip.select(*cols)).union(extra.select(*cols))
    u = u.join(n_won, "pipeline_id")
    return (
        u.select(
            *cols,
            won_deals=_.won_deals.cast("int64"),
            deals_=_.deals.cast("int64"),
            share_of_won=_.deals.cast("float64") / _.won_deals,
        )
        .drop("deals")
        .rename(deals="deals_")
        .order_by([ibis.desc("share_of_won"), "pipeline_id", "kind", "stage"])
    )
