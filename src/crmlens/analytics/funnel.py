"""Funnel: how many deals reach each stage of their pipeline (docs/metrics.md#funnel).

Definitions (DESIGN.md, "Metric definitions"):

- **Reached stage S**: a deal reached S if its history has S or any later stage of its
  pipeline (skipping counts as passing). The lost stage of a pipeline (``is_lost``) is no
  step of the funnel, so entering it reaches nothing; a won deal reached every stage.
- **Conversion S→next** = reached(next) / reached(S); **conversion from start** =
  reached(S) / reached(first stage of the pipeline).
- **Time in stage** = the deal's next stage entry after its first entry into S minus that
  entry, in days, for deals that left S.
- **Status as of** ``as_of``: the stage entered last (won or lost stage) when the deal has a
  history, else ``deals.status`` when the deal was closed by ``as_of``; otherwise open.
- **Lead → deal**: when leads exist, a first row ``lead`` (position 0): leads created in
  the window, and the share of them linked to a deal (``leads.deal_id`` or
  ``deals.lead_id``) created by ``as_of``.

Everything is "as known at `as_of`": rows dated after it do not exist.
"""

from __future__ import annotations

import datetime as dt

import ibis
import ibis.expr.types as ir
from ibis import _

from crmlens.analytics._checks import require_columns
from crmlens.analytics._dates import next_midnight
from crmlens.analytics.funnel_groups import (
    GROUP_COLUMN,
    FunnelInputs,
    GroupBy,
    with_deal_group,
    with_lead_group,
)

DAY_SECONDS = 86400.0
LEAD_STAGE = "lead"
#: Stages of a pipeline that has no rows in ``pipelines`` (e.g. an export of deals only).
PLAIN_STAGES = (("(deal)", 1, False, False), ("(won)", 2, True, False))


def day_end(as_of: dt.date) -> ir.Scalar:
    """The first instant after `as_of` (rows dated before it are known at `as_of`)."""
    return next_midnight(as_of)


def days_between(start: ir.Value, end: ir.Value) -> ir.FloatingValue:
    """Days from `start` to `end` (timestamps) as a float."""
    secs = end.epoch_seconds() - start.epoch_seconds()  # type: ignore[attr-defined]
    return (secs / DAY_SECONDS).cast("float64")  # type: ignore[no-any-return]


def stage_design(pipelines: ir.Table, deals: ir.Table) -> ir.Table:
    """Stages of each pipeline: the designed ones, or ``(deal) → (won)`` when undesigned.

    Returns
    -------
    ir.Table
        pipeline_id, stage, position (int64), is_won, is_lost (booleans, never NULL).
    """
    require_columns(pipelines, "pipelines", ["pipeline_id", "stage", "position"])
    designed = pipelines.select(
        "pipeline_id",
        "stage",
        position=_.position.cast("int64"),
        is_won=_.is_won.fill_null(False) if "is_won" in pipelines.columns else False,
        is_lost=_.is_lost.fill_null(False) if "is_lost" in pipelines.columns else False,
    )
    known = designed.select("pipeline_id").distinct()
    missing = deals.select("pipeline_id").distinct().anti_join(known, "pipeline_id")
    plain = ibis.memtable(
        {
            "stage": [s[0] for s in PLAIN_STAGES],
            "position": [s[1] for s in PLAIN_STAGES],
            "is_won": [s[2] for s in PLAIN_STAGES],
            "is_lost": [s[3] for s in PLAIN_STAGES],
        },
        schema={
            "stage": "string",
            "position": "int64",
            "is_won": "boolean",
            "is_lost": "boolean",
        },
    )
    undesigned = missing.cross_join(plain)
    return designed.union(undesigned.select(*designed.columns))


def stage_events(
    deals: ir.Table, deal_stages: ir.Table, design: ir.Table, *, as_of: dt.date
) -> ir.Table:
    """Stage entries known at `as_of` of stages designed for the deal's pipeline.

    Returns
    -------
    ir.Table
        deal_id, pipeline_id, stage, position, is_won, is_lost, entered_at.
    """
    require_columns(deal_stages, "deal_stages", ["deal_id", "stage", "entered_at"])
    rows = deal_stages.filter(_.entered_at < day_end(as_of)).select(
        "deal_id", "stage", "entered_at"
    )
    return rows.join(deals.select("deal_id", "pipeline_id"), "deal_id").join(
        design, ["pipeline_id", "stage"]
    )


def deal_facts(
    deals: ir.Table, deal_stages: ir.Table, design: ir.Table, *, as_of: dt.date
) -> ir.Table:
    """One row per deal created by `as_of`: its status then and how far it went.

    Returns
    -------
    ir.Table
        deal_id, pipeline_id, created_at, amount, owner_id, lead_id, account_id,
        status_as_of (open/won/lost), closed_at_as_of, furthest_position (furthest
        non-lost stage reached; the won stage for won deals), current_position
        (stage an open deal sits in), has_history.
    """
    require_columns(deals, "deals", ["deal_id", "created_at", "pipeline_id", "status"])
    ev = stage_events(deals, deal_stages, design, as_of=as_of)
    per = ev.group_by("deal_id").agg(
        last_at=_.entered_at.max(),
        won_at=_.entered_at.max(where=_.is_won),
        lost_at=_.entered_at.max(where=_.is_lost),
        hist_furthest=_.position.max(where=~_.is_lost),
    )
    cur = (
        ev.join(per.select("deal_id", "last_at"), "deal_id")
        .filter((_.entered_at == _.last_at) & ~_.is_won & ~_.is_lost)
        .group_by("deal_id")
        .agg(current_position=_.position.max())
    )
    won_pos = (
        design.filter(_.is_won)
        .group_by("pipeline_id")
        .agg(won_position=_.position.min())
    )
    base = deals.filter(_.created_at < day_end(as_of)).select(
        "deal_id",
        "pipeline_id",
        "created_at",
        amount=_.amount.cast("float64"),
        owner_id=_.owner_id,
        lead_id=_.lead_id,
        account_id=_.account_id,
        status=_.status,
        closed_at=_.closed_at,
    )
    t = base.left_join(per, "deal_id").left_join(won_pos, "pipeline_id")
    t = t.left_join(cur, "deal_id")
    return t.select(_facts_columns(t, as_of))


def _facts_columns(t: ir.Table, as_of: dt.date) -> dict[str, ir.Value]:
    has_history = t.last_at.notnull()
    closed_by = t.closed_at.notnull() & (t.closed_at < day_end(as_of))
    status = ibis.cases(
        (has_history & (t.won_at == t.last_at), "won"),
        (has_history & (t.lost_at == t.last_at), "lost"),
        (has_history, "open"),
        (closed_by & t.status.isin(["won", "lost"]), t.status),
        else_="open",
    )
    closed_at = ibis.cases(
        (has_history & (status != "open"), t.last_at),
        (~has_history & (status != "open"), t.closed_at),
        else_=ibis.null("timestamp"),
    )
    first_pos = ibis.literal(1, type="int64")
    furthest = ibis.cases(
        (status == "won", t.won_position.fill_null(t.hist_furthest)),
        else_=t.hist_furthest.fill_null(first_pos),
    )
    return {
        "deal_id": t.deal_id,
        "pipeline_id": t.pipeline_id,
        "created_at": t.created_at,
        "amount": t.amount,
        "owner_id": t.owner_id,
        "lead_id": t.lead_id,
        "account_id": t.account_id,
        "status_as_of": status,
        "closed_at_as_of": closed_at,
        "furthest_position": furthest.cast("int64"),
        "current_position": t.current_position.cast("int64"),
        "has_history": has_history,
    }


def stage_times(events: ir.Table) -> ir.Table:
    """Days each deal spent in each stage it entered (first entry to its next entry).

    Returns
    -------
    ir.Table
        deal_id, pipeline_id, stage, position, first_at, days_in_stage (NULL when the
        deal has not left the stage yet).
    """
    moments = events.select("deal_id", "entered_at").distinct()
    w = ibis.window(group_by="deal_id", order_by="entered_at")
    moments = moments.mutate(next_at=_.entered_at.lead().over(w))
    first = (
        events.filter(~_.is_won & ~_.is_lost)
        .group_by("deal_id", "pipeline_id", "stage", "position")
        .agg(first_at=_.entered_at.min())
    )
    joined = first.join(
        moments,
        (first.deal_id == moments.deal_id) & (first.first_at == moments.entered_at),
    )
    return joined.select(
        first.deal_id,
        first.pipeline_id,
        first.stage,
        first.position,
        first.first_at,
        days_in_stage=days_between(first.first_at, moments.next_at),
    )


def window_filter(
    t: ir.Table, column: str, start: dt.date | None, end: dt.date | None
) -> ir.Table:
    """Rows of `t` with `column` in ``[start, end]`` (days, inclusive; None = open)."""
    if start is not None:
        t = t.filter(t[column] >= ibis.literal(start).cast("timestamp"))
    if end is not None:
        t = t.filter(t[column] < day_end(end))
    return t


def _keys(by: GroupBy | None) -> list[str]:
    return ["pipeline_id", GROUP_COLUMN] if by else ["pipeline_id"]


def funnel_facts(
    inputs: FunnelInputs,
    *,
    as_of: dt.date,
    pipeline: str | None = None,
    by: GroupBy | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> tuple[ir.Table, ir.Table, ir.Table]:
    """The stage design, the stage events and the deal facts of one funnel selection.

    Deals are those created in ``[start, end]`` (and by `as_of`), of `pipeline` when
    given; with `by`, the facts carry the deal's ``group_value``.
    """
    design = stage_design(inputs.pipelines, inputs.deals)
    deals = window_filter(inputs.deals, "created_at", start, end)
    if pipeline is not None:
        deals = deals.filter(_.pipeline_id == pipeline)
        design = design.filter(_.pipeline_id == pipeline)
    facts = _mart(inputs, "deal_facts", as_of)
    if facts is None:
        facts = deal_facts(deals, inputs.deal_stages, design, as_of=as_of)
    else:
        facts = window_filter(facts, "created_at", start, end)
        if pipeline is not None:
            facts = facts.filter(_.pipeline_id == pipeline)
    if by is not None:
        facts = with_deal_group(facts, inputs, by)
    events = stage_events(deals, inputs.deal_stages, design, as_of=as_of)
    return design, events, facts


def stage_funnel(
    inputs: FunnelInputs,
    *,
    as_of: dt.date,
    pipeline: str | None = None,
    by: GroupBy | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> ir.Table:
    """One row per stage of each pipeline (and group): reach, conversion, time, leaks.

    Returns
    -------
    ir.Table
        pipeline_id, [group_value,] stage, position, reached, conversion_to_next
        (NULL at the last stage), conversion_from_start, median_days_in_stage,
        p90_days_in_stage, open_now (open deals sitting in the stage at `as_of`),
        lost_after (lost deals whose furthest stage is this one). With leads, a first
        row per pipeline (and group) ``lead`` at position 0: reached = leads created in
        the window, conversion_to_next = their share linked to a deal.
    """
    design, events, facts = funnel_facts(
        inputs, as_of=as_of, pipeline=pipeline, by=by, start=start, end=end
    )
    keys = _keys(by)
    steps = design.filter(~_.is_lost).select("pipeline_id", "stage", "position")
    cells = facts.select(*keys).distinct().join(steps, "pipeline_id")
    # Deals per furthest stage first, then a small join: reached(p) = #(furthest >= p).
    furthest = facts.group_by([*keys, _.furthest_position.name("furthest")]).agg(
        deals=_.count()
    )
    reached = (
        furthest.join(steps, "pipeline_id")
        .filter(_.furthest >= _.position)
        .group_by([*keys, "position"])
        .agg(reached=_.deals.sum())
    )
    open_now = (
        facts.filter(_.status_as_of == "open")
        .group_by([*keys, _.current_position.name("position")])
        .agg(open_now=_.count())
    )
    lost_after = (
        facts.filter(_.status_as_of == "lost")
        .group_by([*keys, _.furthest_position.name("position")])
        .agg(lost_after=_.count())
    )
    whole = pipeline is None and start is None and end is None
    times = _stage_times(inputs, events, facts, as_of, whole=whole)
    times = _time_quantiles(times, facts, keys)
    t = cells
    for part in (reached, open_now, lost_after, times):
        t = _drop_right(t.left_join(part, [*keys, "position"]))
    t = _fill_counts(t)
    rows = _conversions(t, keys)
    if inputs.leads is not None:
        rows = _with_lead_row(rows, inputs, facts, keys, as_of, by, start, end)
    return rows.order_by([*keys, "position"])


def _drop_right(t: ir.Table) -> ir.Table:
    drop = [c for c in t.columns if c.endswith("_right")]
    return t.drop(*drop) if drop else t


def _fill_counts(t: ir.Table) -> ir.Table:
    return t.mutate(
        reached=_.reached.fill_null(0).cast("int64"),
        open_now=_.open_now.fill_null(0).cast("int64"),
        lost_after=_.lost_after.fill_null(0).cast("int64"),
    )


def _mart(inputs: FunnelInputs, name: str, as_of: dt.date) -> ir.Table | None:
    return inputs.mart(name, as_of) if inputs.mart is not None else None


def _stage_times(
    inputs: FunnelInputs,
    events: ir.Table,
    facts: ir.Table,
    as_of: dt.date,
    *,
    whole: bool,
) -> ir.Table:
    """Days in stage of the deals of `facts` (all deals when `whole`).

    From the mart when it covers `as_of`, else computed from `events`.
    """
    times = _mart(inputs, "stage_times", as_of)
    if times is None:
        return stage_times(events)
    if whole:
        return times
    return times.semi_join(facts.select("deal_id"), "deal_id")


def _time_quantiles(times: ir.Table, facts: ir.Table, keys: list[str]) -> ir.Table:
    times = times.filter(_.days_in_stage.notnull())
    if len(keys) > 1:
        times = times.join(facts.select("deal_id", GROUP_COLUMN), "deal_id")
    return times.group_by([*keys, "position"]).agg(
        median_days_in_stage=_.days_in_stage.median(),
        p90_days_in_stage=_.days_in_stage.quantile(0.9),
    )


def _conversions(t: ir.Table, keys: list[str]) -> ir.Table:
    w = ibis.window(group_by=keys, order_by="position")
    wall = ibis.window(group_by=keys)
    nxt = _.reached.lead().over(w)
    first = _.reached.max().over(wall)
    t = t.mutate(
        conversion_to_next=ibis.cases(
            (_.reached > 0, nxt.cast("float64") / _.reached), else_=ibis.null("float64")
        ),
        conversion_from_start=ibis.cases(
            (first > 0, _.reached.cast("float64") / first), else_=ibis.null("float64")
        ),
    )
    return t.select(*ROW_COLUMNS(keys))


def ROW_COLUMNS(keys: list[str]) -> list[str]:
    """Output columns of :func:`stage_funnel` for `keys`."""
    return [
        *keys,
        "stage",
        "position",
        "reached",
        "conversion_to_next",
        "conversion_from_start",
        "median_days_in_stage",
        "p90_days_in_stage",
        "open_now",
        "lost_after",
    ]


def _with_lead_row(
    rows: ir.Table,
    inputs: FunnelInputs,
    facts: ir.Table,
    keys: list[str],
    as_of: dt.date,
    by: GroupBy | None,
    start: dt.date | None,
    end: dt.date | None,
) -> ir.Table:
    assert inputs.leads is not None
    leads = window_filter(
        inputs.leads.filter(_.created_at < day_end(as_of)), "created_at", start, end
    )
    if by is not None:
        leads = with_lead_group(leads, inputs, by, facts)
    links = _mart(inputs, "lead_links", as_of)
    if links is None:
        links = lead_links(inputs.leads, inputs.deals, as_of=as_of)
    pipes = facts.select("pipeline_id").distinct()
    groups = keys[1:]
    # Every lead counts once per pipeline; the linked ones are counted from the links
    # (distinct lead and pipeline pairs), never by crossing all leads with pipelines.
    counts = (
        leads.group_by(groups).agg(reached=_.count())
        if groups
        else leads.aggregate(reached=_.count())
    )
    linked = (
        leads.select("lead_id", *groups)
        .join(links, "lead_id")
        .group_by(keys)
        .agg(converted=_.count())
    )
    cells = pipes.cross_join(counts)
    lead_rows = _drop_right(cells.left_join(linked, keys)).mutate(
        converted=_.converted.fill_null(0)
    )
    null_f = ibis.null("float64")
    null_i = ibis.null("int64")
    lead_rows = lead_rows.filter(_.reached > 0).select(
        *keys,
        stage=ibis.literal(LEAD_STAGE),
        position=ibis.literal(0, type="int64"),
        reached=_.reached.cast("int64"),
        conversion_to_next=_.converted.cast("float64") / _.reached,
        conversion_from_start=ibis.literal(1.0, type="float64"),
        median_days_in_stage=null_f,
        p90_days_in_stage=null_f,
        open_now=null_i,
        lost_after=null_i,
    )
    return rows.union(lead_rows.select(*rows.columns))


def lead_links(leads: ir.Table, deals: ir.Table, *, as_of: dt.date) -> ir.Table:
    """Leads linked to a deal created by `as_of` (``leads.deal_id`` or ``deals.lead_id``).

    Returns
    -------
    ir.Table
        lead_id, pipeline_id, is_linked (always true) — distinct pairs.
    """
    known = deals.filter(_.created_at < day_end(as_of))
    by_deal = known.filter(_.lead_id.notnull()).select("lead_id", "pipeline_id")
    by_lead = leads.filter(_.deal_id.notnull()).select("lead_id", "deal_id")
    by_lead = by_lead.join(known.select("deal_id", "pipeline_id"), "deal_id").select(
        "lead_id", "pipeline_id"
    )
    return by_deal.union(by_lead).distinct().mutate(is_linked=ibis.literal(True))
