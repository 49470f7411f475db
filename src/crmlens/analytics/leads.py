"""Lead analytics: outcomes, attribute signals and lead-generation economics.

Definitions (docs/metrics.md#leads)
-----------------------------------
- A lead is **converted** when it has a deal (``leads.deal_id`` or ``deals.lead_id``) or
  its status says so (``converted``/``won``); **qualified** when it has ``qualified_at``
  or is converted; **won** when one of its deals was won as of ``as_of`` (the funnel's
  status as of, :func:`won_as_of`); **labelled** (its outcome is known) unless it has no
  deal and its status is still open (``new``, ``in_work``, …).
- **Signal** of an attribute value: conversion rate of the leads having it, with a Wilson
  95 % interval, its **lift** (rate / overall rate) and weight of evidence; an attribute's
  **information value** is Σ (share of converted − share of not converted) × WoE over its
  values (shares smoothed by 0.5). Numbers are binned by powers of two ``[2^k, 2^k+1)``.
- **Explicit** attributes are what a lead tells (size, industry, position, need, budget),
  **implicit** ones what it does (source, channel, campaign, visits, response).
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from dataclasses import dataclass
from typing import Literal

import ibis
import ibis.expr.types as ir
from ibis import _

from crmlens.analytics._checks import require_columns
from crmlens.analytics._dates import next_midnight
from crmlens.model import TABLES

AttrType = Literal["category", "number"]
Kind = Literal["explicit", "implicit"]
SourcesBy = Literal["channel", "source", "campaign", "month"]

OPEN_STATUSES = ("new", "open", "in_work", "in_progress", "working", "contacted")
CONVERTED_STATUSES = ("converted", "won", "qualified_converted")
#: Name tokens of fields only known after the outcome (never used as signals/features).
LEAKY_TOKENS = (
    "stage",
    "status",
    "deal",
    "qualified",
    "converted",
    "won",
    "lost",
    "closed",
    "outcome",
    "reason",
)
#: Names of fields filled in while a lead is worked (X Education's Tags, Lead Quality…).
LATER_TOKENS = (
    "tags",
    "lead_quality",
    "last_activity",
    "last_notable_activity",
    "lead_profile",
    "asymmetrique",
    "score",
)
IMPLICIT_TOKENS = (
    "source",
    "channel",
    "campaign",
    "visit",
    "page",
    "view",
    "time",
    "click",
    "activity",
    "origin",
    "landing",
    "search",
    "advert",
    "magazine",
    "newspaper",
    "forum",
    "recommend",
    "email",
    "call",
    "form",
    "response",
    "web",
    "update",
    "free_copy",
)
CANONICAL_KIND: dict[str, Kind] = {
    "source": "implicit",
    "channel": "implicit",
    "campaign_id": "implicit",
    "need_type": "explicit",
    "potential_amount": "explicit",
}
RESPONSE = "first_response_hours"
_POW2 = [0.0] + [2.0**k for k in range(0, 48)]


@dataclass(frozen=True)
class Attribute:
    """A lead attribute usable as a signal or a model feature."""

    name: str
    kind: Kind
    type: AttrType


def is_leaky(name: str) -> bool:
    """True when a field's name says it is only known after the lead's outcome."""
    low = name.lower()
    return any(tok in low for tok in LEAKY_TOKENS)


def is_later(name: str) -> bool:
    """True when a field is filled in while the lead is worked (after arrival)."""
    low = name.lower()
    return any(tok in low for tok in LATER_TOKENS)


def lead_attributes(
    leads: ir.Table, *, with_response: bool = True, exclude: tuple[str, ...] = ()
) -> list[Attribute]:
    """Canonical and custom lead fields usable as signals, in table order.

    Ids, timestamps, fields named like an outcome (:func:`is_leaky`) and fields filled in
    later (:func:`is_later`) are left out; ``first_response_hours`` (derived from
    ``first_response_at``) is added when `with_response` and the column has values.
    """
    canonical = set(TABLES["leads"].column_names)
    out = []
    for name, dtype in leads.schema().items():
        if name in exclude or is_leaky(name) or is_later(name):
            continue
        if name in canonical and name not in CANONICAL_KIND:
            continue
        if name in canonical and name.endswith("_id") and name != "campaign_id":
            continue
        if name.endswith("_number") or name in ("id", "external_id"):
            continue
        if dtype.is_temporal():
            continue
        kind = CANONICAL_KIND.get(name) or _kind_of(name)
        type_: AttrType = "number" if dtype.is_numeric() else "category"
        out.append(Attribute(name, kind, type_))
    if (
        with_response
        and "first_response_at" in leads.columns
        and RESPONSE not in exclude
    ):
        out.append(Attribute(RESPONSE, "implicit", "number"))
    return out


def _kind_of(name: str) -> Kind:
    low = name.lower()
    return "implicit" if any(tok in low for tok in IMPLICIT_TOKENS) else "explicit"


def won_as_of(
    deals: ir.Table,
    *,
    as_of: dt.date,
    deal_stages: ir.Table | None = None,
    pipelines: ir.Table | None = None,
) -> ir.Table:
    """Deals created by `as_of`, with whether each was won as of that day.

    The funnel's **status as of** (:func:`crmlens.analytics.funnel.deal_facts`): with a
    stage history known at `as_of`, a deal is won when the last stage it entered by then
    is a won stage of its pipeline; without one, when ``deals.status`` is ``won`` and its
    ``closed_at`` is known at `as_of` (before the first instant after that day). So a deal
    won later is not won yet, and a won deal with neither ``closed_at`` nor a stage
    history is never counted as won (the funnel counts it as open): nothing says when it
    was won. Without `deal_stages` and `pipelines` every deal is read as having no stage
    history (the ``closed_at`` rule alone).

    Returns
    -------
    ir.Table
        deal_id, deal_at (created_at), is_won_deal (int 0/1), won_amount (amount of a
        won deal, 0 when empty; NULL when not won).
    """
    day_end = next_midnight(as_of)
    if deal_stages is not None and pipelines is not None:
        from crmlens.analytics.funnel import deal_facts, stage_design

        facts = deal_facts(
            deals, deal_stages, stage_design(pipelines, deals), as_of=as_of
        )
        won = facts.status_as_of == "won"
        return facts.select(
            "deal_id",
            deal_at=facts.created_at,
            is_won_deal=won.cast("int64"),
            won_amount=ibis.cases((won, facts.amount.fill_null(0.0)), else_=None),
        )
    require_columns(deals, "deals", ["closed_at"])
    won = (
        (deals.status == "won")
        & deals.closed_at.notnull()
        & (deals.closed_at < day_end)
    ).fill_null(False)
    return deals.filter(_.created_at < day_end).select(
        "deal_id",
        deal_at=_.created_at,
        is_won_deal=won.cast("int64"),
        won_amount=ibis.cases(
            (won, deals.amount.cast("float64").fill_null(0.0)), else_=None
        ),
    )


def lead_outcomes(
    leads: ir.Table,
    deals: ir.Table,
    *,
    as_of: dt.date,
    deal_stages: ir.Table | None = None,
    pipelines: ir.Table | None = None,
) -> ir.Table:
    """Leads created by `as_of` with their outcome as known at `as_of`.

    A lead is won when one of its deals was won as of `as_of` (:func:`won_as_of`: the
    funnel's status as of, so a deal won after `as_of` does not count, and a won deal
    with neither ``closed_at`` nor a stage history never does); pass `deal_stages` and
    `pipelines` to read stage histories, as the funnel does.

    Returns
    -------
    ir.Table
        every lead column plus first_response_hours, first_deal_at, is_converted,
        is_qualified, is_won, is_labelled (int 0/1) and revenue (won amount).
    """
    require_columns(leads, "leads", ["lead_id", "created_at", "deal_id", "status"])
    require_columns(deals, "deals", ["deal_id", "lead_id", "created_at", "status"])
    day_end = next_midnight(as_of)
    links = (
        leads.filter(_.deal_id.notnull())
        .select("lead_id", "deal_id")
        .union(deals.filter(_.lead_id.notnull()).select("lead_id", "deal_id"))
        .distinct()
    )
    d = won_as_of(deals, as_of=as_of, deal_stages=deal_stages, pipelines=pipelines)
    per_lead = (
        links.join(d, "deal_id")
        .group_by(lead_key=_.lead_id)
        .agg(
            first_deal_at=_.deal_at.min(),
            is_won=_.is_won_deal.max(),
            revenue=_.won_amount.sum(),
        )
    )
    base = leads.filter(_.created_at < day_end)
    joined = base.left_join(per_lead, base.lead_id == per_lead.lead_key).drop(
        "lead_key"
    )
    status = joined.status.lower()
    converted = joined.first_deal_at.notnull() | status.isin(
        CONVERTED_STATUSES
    ).fill_null(False)
    resp = (
        joined.first_response_at.epoch_seconds() - joined.created_at.epoch_seconds()
    ).cast("float64") / 3600.0
    return joined.mutate(
        first_response_hours=resp,
        is_converted=converted.cast("int64"),
        is_qualified=(converted | joined.qualified_at.notnull()).cast("int64"),
        is_won=joined.is_won.fill_null(0).cast("int64"),
        is_labelled=(converted | status.isnull() | ~status.isin(OPEN_STATUSES)).cast(
            "int64"
        ),
        revenue=joined.revenue.fill_null(0.0),
    )


def number_bin(col: ir.NumericValue) -> tuple[ir.FloatingValue, ir.StringValue]:
    """Lower edge and label of the power-of-two bin of `col` (null -> '(empty)')."""
    x = col.cast("float64")
    cases_lo: list[tuple[ir.BooleanValue, float]] = [(x < 0, -math.inf)]
    cases_lab: list[tuple[ir.BooleanValue, str]] = [(x < 0, "< 0")]
    for lo, hi in itertools.pairwise(_POW2):
        cases_lo.append((x < hi, lo))
        cases_lab.append((x < hi, f"[{lo:g}, {hi:g})"))
    lower = ibis.cases(*cases_lo, else_=_POW2[-1])
    label = ibis.cases(*cases_lab, else_=f">= {_POW2[-1]:g}")
    return (
        ibis.ifelse(x.isnull(), ibis.null("float64"), lower),
        ibis.ifelse(x.isnull(), "(empty)", label),
    )


def bin_lower_of(value: float) -> float:
    """The lower edge of the power-of-two bin of `value` (as :func:`number_bin`)."""
    if value < 0:
        return -math.inf
    for lo, hi in itertools.pairwise(_POW2):
        if value < hi:
            return lo
    return _POW2[-1]


def _attribute_rows(t: ir.Table, attr: Attribute) -> ir.Table:
    col = t[attr.name]
    if attr.type == "number":
        lower, value = number_bin(col)
    else:
        lower, value = ibis.null("float64"), col.cast("string").fill_null("(empty)")
    return t.select(
        attribute=ibis.literal(attr.name),
        kind=ibis.literal(attr.kind),
        value=value,
        bin_lower=lower,
        is_converted=t.is_converted,
    )


def lead_signals(
    outcomes: ir.Table,
    attributes: list[Attribute],
    *,
    min_leads: int = 20,
    z: float = 1.96,
) -> ir.Table:
    """Conversion of leads by the value (or bin) of each attribute.

    Parameters
    ----------
    outcomes
        :func:`lead_outcomes` (labelled leads only are counted).
    attributes
        From :func:`lead_attributes`.
    min_leads
        Category values with fewer leads are pooled into ``(other)``.
    z
        Normal quantile of the interval (1.96 = 95 %).

    Returns
    -------
    ir.Table
        attribute, kind, value, bin_lower, leads, converted, conversion_rate,
        overall_rate, lift, ci_low, ci_high, woe, information_value.
    """
    labelled = outcomes.filter(_.is_labelled == 1)
    parts = [_attribute_rows(labelled, a) for a in attributes]
    rows = parts[0].union(*parts[1:]) if len(parts) > 1 else parts[0]
    by_value = ibis.window(group_by=["attribute", "value"])
    rows = rows.mutate(n_value=_.is_converted.count().over(by_value))
    rows = rows.mutate(
        value=ibis.ifelse(
            (rows.n_value < min_leads) & rows.bin_lower.isnull(), "(other)", rows.value
        )
    )
    grouped = rows.group_by("attribute", "kind", "value", "bin_lower").agg(
        leads=_.is_converted.count(), converted=_.is_converted.sum()
    )
    return _signal_stats(grouped, z)


def _signal_stats(g: ir.Table, z: float) -> ir.Table:
    w = ibis.window(group_by="attribute")
    g = g.mutate(
        total=g.leads.sum().over(w).cast("float64"),
        total_conv=g.converted.sum().over(w).cast("float64"),
        n=g.leads.cast("float64"),
        k=g.converted.cast("float64"),
    )
    p = g.k / g.n
    denom = 1.0 + z * z / g.n
    centre = (p + z * z / (2.0 * g.n)) / denom
    half = z * (p * (1.0 - p) / g.n + z * z / (4.0 * g.n * g.n)).sqrt() / denom
    good = (g.k + 0.5) / (g.total_conv + 0.5)
    bad = (g.n - g.k + 0.5) / (g.total - g.total_conv + 0.5)
    woe = (good / bad).ln()
    g = g.mutate(
        conversion_rate=p,
        overall_rate=g.total_conv / g.total,
        ci_low=centre - half,
        ci_high=centre + half,
        woe=woe,
        iv_part=(good - bad) * woe,
    )
    g = g.mutate(
        lift=ibis.ifelse(g.overall_rate > 0, g.conversion_rate / g.overall_rate, None),
        information_value=g.iv_part.sum().over(w),
    )
    return g.select(
        "attribute",
        "kind",
        "value",
        "bin_lower",
        "leads",
        "converted",
        "conversion_rate",
        "overall_rate",
        "lift",
        "ci_low",
        "ci_high",
        "woe",
        "information_value",
    )


def _source_keys(outcomes: ir.Table, by: SourcesBy) -> ir.Table:
    if by == "month":
        month = outcomes.created_at.month().cast("string").lpad(2, "0")
        key = outcomes.created_at.year().cast("string") + "-" + month
    elif by == "campaign":
        key = outcomes.campaign_id
    else:
        key = outcomes[by]
    return outcomes.mutate(group_key=key.cast("string").fill_null("(empty)"))


def source_economics(
    outcomes: ir.Table, campaigns: ir.Table, *, by: SourcesBy = "source"
) -> ir.Table:
    """Lead-generation economics per channel, source, campaign or month.

    Campaign cost is spread evenly over the campaign's leads, so costs add up across
    any grouping. CPL = cost / leads; CAC = cost / won and ROMI = (revenue − cost) /
    cost count only the leads that carry a cost (those of campaigns), so a source
    partly fed by free leads is not flattered by them.

    Returns
    -------
    ir.Table
        <by>, leads, qualified, deals, won, qualified_rate (qualified / leads),
        deal_rate (deals / qualified), win_rate (won / deals), lead_to_won_rate,
        median_days_to_first_deal, revenue, cost, cpl, cac, romi.
    """
    require_columns(campaigns, "campaigns", ["campaign_id", "cost"])
    per_campaign = (
        outcomes.filter(_.campaign_id.notnull())
        .group_by(cid=_.campaign_id)
        .agg(n_campaign=_.lead_id.count())
    )
    costs = campaigns.select(cid2=_.campaign_id, cost_total=_.cost.cast("float64"))
    share = per_campaign.join(costs, per_campaign.cid == costs.cid2).select(
        cid=_.cid, cost_share=_.cost_total / _.n_campaign.cast("float64")
    )
    t = outcomes.left_join(share, outcomes.campaign_id == share.cid)
    days = (t.first_deal_at.epoch_seconds() - t.created_at.epoch_seconds()).cast(
        "float64"
    ) / 86400.0
    costed = t.cost_share.notnull()
    t = t.mutate(
        days_to_deal=days,
        costed_won=ibis.ifelse(costed, t.is_won, 0),
        costed_revenue=ibis.ifelse(costed, t.revenue, 0.0),
    )
    g = (
        _source_keys(t, by)
        .group_by("group_key")
        .agg(
            leads=_.lead_id.count(),
            qualified=_.is_qualified.sum(),
            deals=_.is_converted.sum(),
            won=_.is_won.sum(),
            median_days_to_first_deal=_.days_to_deal.median(),
            revenue=_.revenue.sum(),
            cost=_.cost_share.sum(),
            costed_won=_.costed_won.sum(),
            costed_revenue=_.costed_revenue.sum(),
        )
    )
    return _economics_ratios(g).rename({by: "group_key"})


def _ratio(num: ir.NumericValue, den: ir.NumericValue) -> ir.FloatingValue:
    return ibis.ifelse(den > 0, num.cast("float64") / den.cast("float64"), None)


def _economics_ratios(g: ir.Table) -> ir.Table:
    return g.select(
        "group_key",
        "leads",
        "qualified",
        "deals",
        "won",
        qualified_rate=_ratio(g.qualified, g.leads),
        deal_rate=_ratio(g.deals, g.qualified),
        win_rate=_ratio(g.won, g.deals),
        lead_to_won_rate=_ratio(g.won, g.leads),
        median_days_to_first_deal=g.median_days_to_first_deal,
        revenue=g.revenue,
        cost=g.cost,
        cpl=_ratio(g.cost, g.leads),
        cac=_ratio(g.cost, g.costed_won),
        romi=_ratio(g.costed_revenue - g.cost, g.cost),
    )


def lead_frame(outcomes: ir.Table, attributes: list[Attribute]) -> ir.Table:
    """The per-lead table models train on: id, created_at, features and outcome.

    Returns
    -------
    ir.Table
        lead_id, created_at, potential_amount, one column per attribute, is_converted,
        is_labelled, revenue.
    """
    names = [a.name for a in attributes if a.name not in ("potential_amount",)]
    amount = (
        outcomes.potential_amount.cast("float64")
        if "potential_amount" in outcomes.columns
        else ibis.null("float64")
    )
    return outcomes.select(
        "lead_id",
        "created_at",
        *names,
        potential_amount=amount,
        is_converted=_.is_converted,
        is_labelled=_.is_labelled,
        revenue=_.revenue,
    )
