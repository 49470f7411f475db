"""The marts of the funnel and journeys: what they derive once per import.

Each builder is the analysis' own function run "as of the end of the data", so a mart holds
exactly the rows the analysis would compute for any date on or after the data's last moment
(the warehouse records that moment and hands a mart out only for such dates; see
:mod:`crmlens.warehouse.marts`). Registered as entry points of the group ``crmlens.marts``.

- ``deal_facts``: :func:`crmlens.analytics.funnel.deal_facts` — one row per deal;
- ``stage_times``: :func:`crmlens.analytics.funnel.stage_times` — days in each stage;
- ``lead_links``: :func:`crmlens.analytics.funnel.lead_links` — leads with a deal;
- ``stage_entries``: :func:`crmlens.analytics.funnel_drops.stage_entries` — each deal's
  first entry into each stage and when it moved on (stage drops, segment gaps);
- ``stage_cases``: :func:`crmlens.analytics.journeys.case_variants` of the stage log;
- ``stage_transitions``: :func:`crmlens.analytics.journeys.transitions` of the stage
  log (the directly-follows graph's input);
- ``client_days``: :func:`crmlens.analytics.client_days.client_days` — orders per client
  and order day (RFM, cohorts, the CLV summary), keyed by the integer keys of
- ``client_keys``: :func:`crmlens.analytics.client_days.client_keys`. Its rows are exact
  for any date (each is a fact of its day or of the days before it);
- ``client_summary``: :func:`crmlens.analytics.clv.summary_facts` of ``client_days`` —
  the CLV summary's per-client sums, dated by the orders (``data_dates``): handed out
  only on or after the last order.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import ibis.expr.types as ir

from crmlens.analytics.client_days import client_days, client_keys
from crmlens.analytics.clv import summary_facts
from crmlens.analytics.funnel import (
    deal_facts,
    lead_links,
    stage_design,
    stage_events,
    stage_times,
)
from crmlens.analytics.funnel_drops import stage_entries
from crmlens.analytics.journeys import case_variants, deal_event_log, transitions

#: "As of" a day after any data: every row is known, every closed deal closed.
END = dt.date(9999, 12, 30)
Tables = Callable[[str], ir.Table]


def deal_facts_mart(table: Tables) -> ir.Table:
    """Per-deal facts of every deal."""
    deals = table("deals")
    design = stage_design(table("pipelines"), deals)
    return deal_facts(deals, table("deal_stages"), design, as_of=END)


def stage_times_mart(table: Tables) -> ir.Table:
    """Days each deal spent in each designed stage it entered."""
    deals = table("deals")
    design = stage_design(table("pipelines"), deals)
    return stage_times(stage_events(deals, table("deal_stages"), design, as_of=END))


def stage_entries_mart(table: Tables) -> ir.Table:
    """First entry of each deal into each stage with a next one, and when it moved on."""
    deals = table("deals")
    design = stage_design(table("pipelines"), deals)
    return stage_entries(
        stage_events(deals, table("deal_stages"), design, as_of=END), design
    )


def lead_links_mart(table: Tables) -> ir.Table:
    """Leads linked to a deal, per pipeline (every deal known)."""
    return lead_links(table("leads"), table("deals"), as_of=END)


def _stage_log(table: Tables) -> ir.Table:
    return deal_event_log(
        table("deals"),
        table("deal_stages"),
        table("pipelines"),
        table("activities"),
        as_of=END,
        events="stages",
    )


def stage_cases_mart(table: Tables) -> ir.Table:
    """Each deal's stage path (variant) and span."""
    return case_variants(_stage_log(table))


def stage_transitions_mart(table: Tables) -> ir.Table:
    """Each stage entry to the deal's next one, with the hours between."""
    return transitions(_stage_log(table))


def client_keys_mart(table: Tables) -> ir.Table:
    """account_key of each client with orders."""
    return client_keys(table("orders"))


def client_days_mart(table: Tables) -> ir.Table:
    """Orders per client and order day, with the client's purchase history facts."""
    orders = table("orders")
    return client_days(orders, client_keys(orders))


def _dated(dates: dict[str, tuple[str, ...]]) -> Callable[[Any], Any]:
    """Mark a builder whose ``data_until`` comes from `dates` (table -> columns)."""

    def mark(build: Any) -> Any:
        build.data_dates = dates
        return build

    return mark


@_dated({"orders": ("order_date",)})
def client_summary_mart(table: Tables) -> ir.Table:
    """Per client, the CLV summary's sums over all its orders.

    Reads ``client_days`` when this import built it already, else derives it.
    """
    try:
        days = table("mart_client_days")
    except Exception:  # not built in this import: derive it from the orders
        orders = table("orders")
        days = client_days(orders, client_keys(orders))
    return summary_facts(days)
