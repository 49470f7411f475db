"""Preset ``olist_funnel``: Olist "Marketing Funnel" (B2B seller acquisition, real data).

Files and what they give
------------------------
``olist_marketing_qualified_leads_dataset.csv`` (mql_id, first_contact_date,
landing_page_id, origin) -> **leads**: lead_id = mql_id, created_at = first_contact_date,
source = origin, channel = ``inbound`` (every MQL signed up on a landing page and asked
to be contacted), landing_page_id kept as a custom field.

``olist_closed_deals_dataset.csv`` (mql_id, seller_id, sdr_id, sr_id, won_date, …) ->

- **deals**: deal_id = mql_id, lead_id = mql_id, pipeline_id = ``'olist'``,
  status = ``won`` (the file holds won deals only), created_at = closed_at = won_date,
  owner_id = sr_id (the sales representative who closed the deal). Every other column
  (seller_id, sdr_id, business_segment, lead_type, lead_behaviour_profile, has_company,
  has_gtin, average_stock, business_type, declared_product_catalog_size,
  declared_monthly_revenue) is kept as a custom field.
- **managers** (derived): the SRs (role ``sr``) and the SDRs (role ``sdr``), id as name.

Judgement calls
---------------
- *deal_id = mql_id*, not seller_id: one MQL gives at most one deal, mql_id is what links
  the deal to its lead, and seller_id (the id of the new seller, the outcome) stays as a
  custom field for joins to the Olist orders data set.
- *deals.created_at = won_date.* Olist gives no date for the opportunity's creation
  (the SDR's qualification); the lead's first_contact_date is in the other file, which
  staging cannot read. Deal-level cycle time is therefore 0 by construction; the
  lead-to-won time is ``deals.closed_at - leads.created_at`` through ``deals.lead_id``.
- *leads.deal_id* is not filled: the MQL file does not know which leads converted and a
  derived output cannot update existing leads. ``deals.lead_id`` carries the link
  (842 of 8,000 leads, 10.525 %).
- The SDR id is written as a parenthesised expression in the managers output so that it
  does not count as "mapped" and stays a custom field of the deal as well.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from crmlens.ingest.presets.base import Output, col, const, has_headers

if TYPE_CHECKING:
    from crmlens.ingest.readers import RawFile

PIPELINE_ID = "olist"
MQL_HEADERS = ("mql_id", "first_contact_date", "landing_page_id", "origin")
DEAL_HEADERS = ("mql_id", "seller_id", "sdr_id", "sr_id", "won_date")


class OlistFunnel:
    """Olist marketing funnel: MQLs -> leads, closed deals -> deals and managers."""

    name = "olist_funnel"
    description = (
        "Olist 'Marketing Funnel' (marketing qualified leads -> leads, closed deals -> "
        "won deals with SDR/SR managers)"
    )

    def score(self, raw: RawFile) -> float:
        """0.95 for either Olist file, judged by its headers."""
        if has_headers(raw, *MQL_HEADERS) or has_headers(raw, *DEAL_HEADERS):
            return 0.95
        return 0.0

    def outputs(self, raw: RawFile, *, table: str | None) -> list[Output]:
        """Outputs of one Olist file (see the module docstring)."""
        if has_headers(raw, *DEAL_HEADERS):
            return _deals()
        if has_headers(raw, *MQL_HEADERS):
            return [
                Output(
                    "leads",
                    {
                        "lead_id": col("mql_id"),
                        "created_at": col("first_contact_date"),
                        "source": col("origin"),
                        "channel": const("inbound"),
                    },
                    custom=True,
                )
            ]
        return []


def _deals() -> list[Output]:
    sdr = f"({col('sdr_id')})"  # not a plain column: sdr_id stays a custom field too
    return [
        Output(
            "deals",
            {
                "deal_id": col("mql_id"),
                "lead_id": col("mql_id"),
                "created_at": col("won_date"),
                "closed_at": col("won_date"),
                "pipeline_id": const(PIPELINE_ID),
                "status": const("won"),
                "owner_id": col("sr_id"),
            },
            custom=True,
        ),
        Output(
            "managers",
            {"manager_id": col("sr_id"), "name": col("sr_id"), "role": const("sr")},
            where=f"{col('sr_id')} IS NOT NULL",
            derived=True,
        ),
        Output(
            "managers",
            {"manager_id": sdr, "name": sdr, "role": const("sdr")},
            where=f"{sdr} IS NOT NULL",
            derived=True,
        ),
    ]
