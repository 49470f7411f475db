"""Journeys: the real paths of deals against the pipeline as designed (docs/metrics.md#journeys).

- **Event log**: one row per event of a case (a deal): its stage entries (activity = the
  stage name) and, optionally, its typed activities (call, meeting, visit, email, task;
  activity = the type). Events are ordered by time, then by ``seq`` (stage position for
  stage entries, the activity id order for activities; a file's row order for an
  imported process-mining log), so ties are broken the same way on every engine.
- **Variant**: the ordered sequence of a case's activities; deals per variant, their
  share, median duration (days from first to last event) and win rate (won / closed).
- **Directly-follows graph (DFG)**: pairs (a, b) where b is the next event after a in a
  case, with their count and the median hours between them.

These are the definitions of process mining (pm4py ``get_variants`` and
``discover_dfg``); the test suite checks them against pm4py's output on BPIC 2012.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Literal

import ibis
import ibis.expr.types as ir
from ibis import _

from crmlens.analytics._checks import require_columns
from crmlens.analytics.funnel import day_end, days_between

Events = Literal["stages", "activities", "both"]
ACTIVITY_TYPES: tuple[str, ...] = ("call", "meeting", "visit", "email", "task")
SEPARATOR = " → "
LOG_COLUMNS = ("case_id", "activity", "timestamp", "kind", "seq")
_PAD = 9


def deal_event_log(
    deals: ir.Table,
    deal_stages: ir.Table,
    pipelines: ir.Table,
    activities: ir.Table,
    *,
    as_of: dt.date,
    events: Events = "both",
    types: Sequence[str] = ACTIVITY_TYPES,
) -> ir.Table:
    """The event log of deals created by `as_of`.

    Returns
    -------
    ir.Table
        case_id (deal_id), activity, timestamp, kind (``stage``/``activity``), seq
        (int64 tie-breaker: stage position, or 1000 + rank of the activity id).
    """
    require_columns(deal_stages, "deal_stages", ["deal_id", "stage", "entered_at"])
    known = deals.filter(_.created_at < day_end(as_of)).select("deal_id", "pipeline_id")
    parts = []
    if events in ("stages", "both"):
        st = deal_stages.filter(_.entered_at < day_end(as_of)).join(known, "deal_id")
        pos = pipelines.select("pipeline_id", "stage", p=_.position.cast("int64"))
        st = st.left_join(pos, ["pipeline_id", "stage"])
        parts.append(
            st.select(
                case_id=st.deal_id,
                activity=st.stage,
                timestamp=st.entered_at,
                kind=ibis.literal("stage"),
                seq=st.p.fill_null(999).cast("int64"),
            )
        )
    if events in ("activities", "both"):
        parts.append(_activity_events(activities, known, as_of, types))
    return parts[0] if len(parts) == 1 else parts[0].union(parts[1])


def _activity_events(
    activities: ir.Table, known: ir.Table, as_of: dt.date, types: Sequence[str]
) -> ir.Table:
    require_columns(activities, "activities", ["activity_id", "type", "created_at"])
    a = activities.filter(
        _.deal_id.notnull() & _.type.isin(list(types)) & (_.created_at < day_end(as_of))
    ).join(known.select("deal_id"), "deal_id")
    rank = ibis.row_number().over(order_by="activity_id")
    return a.select(
        case_id=a.deal_id,
        activity=a.type,
        timestamp=a.created_at,
        kind=ibis.literal("activity"),
        seq=(rank + 1000).cast("int64"),
    )


def ordered(log: ir.Table) -> ir.Table:
    """The log with ``step`` (1, 2, … within each case) and the next event's fields.

    Returns
    -------
    ir.Table
        the log's columns, step, next_activity, next_timestamp (NULL at a case's end).
    """
    w = ibis.window(group_by="case_id", order_by=["timestamp", "seq"])
    return log.mutate(
        step=(ibis.row_number().over(w) + 1).cast("int64"),
        next_activity=_.activity.lead().over(w),
        next_timestamp=_.timestamp.lead().over(w),
    )


def case_variants(log: ir.Table) -> ir.Table:
    """One row per case: its variant (activities joined by `` → ``) and span.

    Returns
    -------
    ir.Table
        case_id, variant, steps (events), started_at, ended_at, duration_days.
    """
    o = ordered(log)
    token = o.step.cast("string").lpad(_PAD, "0").concat("|", o.activity)
    per = (
        o.mutate(token=token)
        .group_by("case_id")
        .agg(
            tokens=_.token.collect(),
            steps=_.count(),
            started_at=_.timestamp.min(),
            ended_at=_.timestamp.max(),
        )
    )
    variant = per.tokens.sort().map(lambda s: s.substr(_PAD + 1)).join(SEPARATOR)
    return per.select(
        "case_id",
        variant=variant,
        steps=per.steps.cast("int64"),
        started_at=per.started_at,
        ended_at=per.ended_at,
        duration_days=days_between(per.started_at, per.ended_at),
    )


def variants(
    log: ir.Table, outcomes: ir.Table | None = None, *, cases: ir.Table | None = None
) -> ir.Table:
    """Variants with their cases, share, median duration and win rate.

    Parameters
    ----------
    log
        Event log (case_id, activity, timestamp, seq).
    outcomes
        Optional case_id, status (open/won/lost) per case for the win rate.
    cases
        :func:`case_variants` of `log` when already derived (the ``stage_cases`` mart).

    Returns
    -------
    ir.Table
        variant, steps, deals, share, median_duration_days, win_rate (won / closed;
        NULL without outcomes or closed deals) — most frequent first.
    """
    cv = cases if cases is not None else case_variants(log)
    if outcomes is not None:
        cv = cv.left_join(outcomes.select("case_id", "status"), "case_id")
        cv = cv.drop(*[c for c in cv.columns if c.endswith("_right")])
    else:
        cv = cv.mutate(status=ibis.null("string"))
    won = (cv.status == "won").cast("int64").sum()
    closed = cv.status.isin(["won", "lost"]).cast("int64").sum()
    g = cv.group_by("variant").agg(
        steps=_.steps.max(),
        deals=_.count(),
        median_duration_days=_.duration_days.median(),
        won=won,
        closed=closed,
    )
    total = g.deals.sum().over(ibis.window())
    return g.select(
        "variant",
        "steps",
        deals=g.deals.cast("int64"),
        share=g.deals.cast("float64") / total,
        median_duration_days=g.median_duration_days,
        win_rate=ibis.cases(
            (g.closed > 0, g.won.cast("float64") / g.closed), else_=ibis.null("float64")
        ),
    ).order_by([ibis.desc("deals"), "variant"])


def transitions(log: ir.Table) -> ir.Table:
    """Each event of a case to its next one.

    Returns
    -------
    ir.Table
        from_activity, to_activity, hours (between the two events).
    """
    o = ordered(log).filter(_.next_activity.notnull())
    return o.select(
        from_activity=o.activity,
        to_activity=o.next_activity,
        hours=days_between(o.timestamp, o.next_timestamp) * 24.0,
    )


def directly_follows(log: ir.Table, *, steps: ir.Table | None = None) -> ir.Table:
    """The directly-follows graph.

    `steps` is :func:`transitions` of `log` when already derived (the
    ``stage_transitions`` mart).

    Returns
    -------
    ir.Table
        from_activity, to_activity, count, median_hours_between — largest first.
    """
    t = steps if steps is not None else transitions(log)
    g = t.group_by("from_activity", "to_activity").agg(
        count=_.count(), median_hours_between=_.hours.median()
    )
    return g.mutate(count=_["count"].cast("int64")).order_by(
        [ibis.desc("count"), "from_activity", "to_activity"]
    )


def endpoints(log: ir.Table) -> ir.Table:
    """Start and end activities of cases (pm4py's start/end activities).

    Returns
    -------
    ir.Table
        end (``start``/``end``), activity, count.
    """
    o = ordered(log)
    last = ibis.window(group_by="case_id")
    o = o.mutate(n=_.step.max().over(last))
    starts = o.filter(_.step == 1).group_by("activity").agg(count=_.count())
    ends = o.filter(_.step == _.n).group_by("activity").agg(count=_.count())
    return (
        starts.mutate(end=ibis.literal("start"))
        .union(ends.mutate(end=ibis.literal("end")))
        .select("end", "activity", count=_["count"].cast("int64"))
    )
