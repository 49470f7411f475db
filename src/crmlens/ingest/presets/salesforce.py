"""Preset ``salesforce``: Salesforce Opportunity and Lead exports (API field names).

Data Loader and report exports use the objects' API names.

Opportunity -> **deals** (+ **deal_stages**)
-------------------------------------------
deal_id = Id, created_at = CreatedDate, account_id = AccountId, owner_id = OwnerId,
amount = Amount, currency = CurrencyIsoCode, pipeline_id = ``'salesforce'`` (Salesforce
has one stage list per record type, not exported with its meaning). status: IsWon true ->
won, IsClosed true and not won -> lost, IsClosed false -> open; when the export lacks
those flags, StageName "Closed Won" -> won, "Closed Lost" -> lost, else open.
closed_at = CloseDate for closed deals only (on open ones it is the forecast; it stays a
custom field). deal_stages: the current StageName, entered at LastStageChangeDate when
exported, else CloseDate for closed deals, else LastModifiedDate, else CreatedDate
(OpportunityHistory holds the real history). LeadSource, Probability, Type, Name,
ForecastCategoryName… stay custom fields.

Lead -> **leads**
-----------------
lead_id = Id, created_at = CreatedDate, status = Status, source = LeadSource,
owner_id = OwnerId, deal_id = ConvertedOpportunityId. Company, Industry, IsConverted,
ConvertedDate, names and the rest stay custom fields (leads.account_id is an id; a
Lead's Company is a free-text name).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from crmlens.ingest.presets._crm import (
    closed_only,
    coalesce,
    deal_outputs,
    in_list,
    is_true,
    pick,
    pick_col,
)
from crmlens.ingest.presets.base import Output, const, has_headers

if TYPE_CHECKING:
    from crmlens.ingest.readers import RawFile

OPPORTUNITY = ("Id", "StageName", "CloseDate")
LEAD = ("Id", "Status", "IsConverted")


class Salesforce:
    """Salesforce Opportunity (deals) and Lead (leads) exports."""

    name = "salesforce"
    description = (
        "Salesforce Opportunity or Lead export (API names: Id, StageName, IsWon…)"
    )

    def score(self, raw: RawFile) -> float:
        """0.9 for an Opportunity or Lead export with its characteristic fields."""
        if has_headers(raw, *OPPORTUNITY) and pick(
            raw, "IsWon", "IsClosed", "AccountId"
        ):
            return 0.9
        if has_headers(raw, *LEAD) and pick(
            raw, "ConvertedOpportunityId", "LeadSource"
        ):
            return 0.9
        return 0.0

    def outputs(self, raw: RawFile, *, table: str | None) -> list[Output]:
        """Deals (Opportunity) or leads (Lead); see the module docstring."""
        if has_headers(raw, *OPPORTUNITY):
            return _opportunity(raw)
        if has_headers(raw, *LEAD):
            return [
                Output(
                    "leads",
                    {
                        k: v
                        for k, v in {
                            "lead_id": pick_col(raw, "Id"),
                            "created_at": pick_col(raw, "CreatedDate"),
                            "status": pick_col(raw, "Status"),
                            "source": pick_col(raw, "LeadSource"),
                            "owner_id": pick_col(raw, "OwnerId"),
                            "deal_id": pick_col(raw, "ConvertedOpportunityId"),
                        }.items()
                        if v is not None
                    },
                    custom=True,
                )
            ]
        return []


def _opportunity(raw: RawFile) -> list[Output]:
    stage = pick_col(raw, "StageName")
    assert stage is not None
    won_flag, closed_flag = pick_col(raw, "IsWon"), pick_col(raw, "IsClosed")
    if closed_flag is not None:
        is_closed = is_true(closed_flag)
        won = (
            is_true(won_flag)
            if won_flag is not None
            else in_list(stage, ("closed won",))
        )
        status = (
            f"CASE WHEN {is_closed} AND {won} THEN 'won' "
            f"WHEN {is_closed} THEN 'lost' ELSE 'open' END"
        )
    else:
        is_closed = in_list(stage, ("closed won", "closed lost"))
        status = (
            f"CASE WHEN {in_list(stage, ('closed won',))} THEN 'won' "
            f"WHEN {in_list(stage, ('closed lost',))} THEN 'lost' ELSE 'open' END"
        )
    created = pick_col(raw, "CreatedDate")
    closed = closed_only(is_closed, pick_col(raw, "CloseDate"))
    columns = {
        "deal_id": pick_col(raw, "Id"),
        "created_at": created,
        "pipeline_id": const("salesforce"),
        "account_id": pick_col(raw, "AccountId"),
        "owner_id": pick_col(raw, "OwnerId"),
        "amount": pick_col(raw, "Amount"),
        "currency": pick_col(raw, "CurrencyIsoCode"),
        "status": status,
        "closed_at": closed,
    }
    stage_date = coalesce(
        pick_col(raw, "LastStageChangeDate"),
        closed,
        pick_col(raw, "LastModifiedDate"),
        created,
    )
    return deal_outputs(columns, stage=stage, stage_date=stage_date)
