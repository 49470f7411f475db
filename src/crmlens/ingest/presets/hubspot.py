"""Preset ``hubspot``: HubSpot deals export (UI column titles or API property names).

What it maps (first header found of each list; unmapped columns become custom fields)
------------------------------------------------------------------------------------
- deal_id: "Record ID" / hs_object_id / dealId / id; created_at: "Create Date" /
  createdate / hs_createdate; pipeline_id: "Pipeline" / pipeline (``'hubspot'`` when
  absent); owner_id: "Deal owner" / hubspot_owner_id; amount: "Amount" / amount;
  currency: "Currency" / deal_currency_code; lost_reason: "Closed Lost Reason" /
  closed_lost_reason.
- status from the stage ("Deal Stage" / dealstage): the stage folded to letters and
  digits ``closedwon`` (UI label "Closed Won", API id closedwon) -> won, ``closedlost``
  -> lost; any other stage -> open. Custom closed stages of other pipelines carry
  internal ids HubSpot does not export with their meaning, so they count as open; the
  raw stage stays available as a custom field.
- closed_at: "Close Date" / closedate, for won/lost deals only (on open deals it is the
  forecast close date; it stays available as a custom field).
- deal_stages: the current stage, entered at the closing date for closed deals, else
  "Last Modified Date" / hs_lastmodifieddate, else the creation date. (HubSpot's
  ``hs_date_entered_<stage>`` properties, when exported, stay custom fields.)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from crmlens.ingest.presets._crm import (
    closed_only,
    coalesce,
    deal_outputs,
    pick,
    pick_col,
)
from crmlens.ingest.presets.base import Output, const

if TYPE_CHECKING:
    from crmlens.ingest.readers import RawFile

STAGE = ("Deal Stage", "dealstage")
ID = ("Record ID", "hs_object_id", "dealId", "Deal ID", "id")
SIGNS = (("Deal Name", "dealname"), ("Pipeline", "pipeline"),
         ("Deal owner", "hubspot_owner_id"), ("Close Date", "closedate"),
         ("Create Date", "createdate"))  # fmt: skip


class HubSpot:
    """HubSpot deals export."""

    name = "hubspot"
    description = (
        "HubSpot deals export (Record ID, Deal Name, Deal Stage… or API names)"
    )

    def score(self, raw: RawFile) -> float:
        """0.9 for a deal stage column plus two more HubSpot deal properties."""
        if pick(raw, *STAGE) is None:
            return 0.0
        hits = sum(pick(raw, *names) is not None for names in SIGNS)
        return 0.9 if hits >= 2 else 0.0

    def outputs(self, raw: RawFile, *, table: str | None) -> list[Output]:
        """Deals and their current stage (see the module docstring)."""
        stage = pick_col(raw, *STAGE)
        if stage is None:
            return []
        folded = f"regexp_replace(lower({stage}), '[^a-z0-9]', '', 'g')"
        status = (
            f"CASE {folded} WHEN 'closedwon' THEN 'won' WHEN 'closedlost' THEN 'lost' "
            "ELSE 'open' END"
        )
        created = pick_col(raw, "Create Date", "createdate", "hs_createdate")
        closed = closed_only(
            f"{folded} IN ('closedwon', 'closedlost')",
            pick_col(raw, "Close Date", "closedate"),
        )
        columns = {
            "deal_id": pick_col(raw, *ID),
            "created_at": created,
            "pipeline_id": coalesce(
                pick_col(raw, "Pipeline", "pipeline"), const("hubspot")
            ),
            "owner_id": pick_col(raw, "Deal owner", "Deal Owner", "hubspot_owner_id"),
            "amount": pick_col(raw, "Amount", "amount"),
            "currency": pick_col(raw, "Currency", "deal_currency_code"),
            "status": status,
            "closed_at": closed,
            "lost_reason": pick_col(raw, "Closed Lost Reason", "closed_lost_reason"),
        }
        modified = pick_col(raw, "Last Modified Date", "hs_lastmodifieddate")
        stage_date = coalesce(closed, modified, created)
        return deal_outputs(columns, stage=stage, stage_date=stage_date)
