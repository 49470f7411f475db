"""Preset ``bitrix24``: Bitrix24 CRM deal list export, Russian UI column titles.

What it maps (first header found of each list; unmapped columns become custom fields)
------------------------------------------------------------------------------------
- deal_id: "ID"; created_at: "Дата создания"; pipeline_id: "Направление" (the deal
  category; ``'bitrix24'`` when absent); owner_id: "Ответственный"; account_id:
  "Компания"; amount: "Сумма"; currency: "Валюта". Installations that renamed "сделка"
  to "заявка" are recognised too ("Стадия заявки", "Заявка закрыта").
- status from the stage ("Стадия сделки"), by Bitrix24's stage semantics: the stage id
  ``WON`` / ``C<n>:WON`` or the stock title "Сделка успешна" (also "Успешно",
  "Успешна") -> won; ``LOSE`` / ``C<n>:LOSE`` or "Сделка провалена" ("Провалена",
  "Отказ") -> lost. When the export has "Группа стадий" (the stage semantic, P/S/F)
  it decides for renamed stages. Otherwise a deal marked closed ("Сделка закрыта" = Да)
  whose stage is not the success stage is lost: Bitrix24 has exactly one success stage
  per pipeline, every other final stage is a failure. Everything else -> open.
- closed_at: "Предполагаемая дата закрытия" (CLOSEDATE, which Bitrix24 sets to the
  actual closing day when a deal is closed), for won/lost deals only; for open deals it
  is a plan and stays available as a custom field.
- deal_stages: the current stage, entered at the closing date for closed deals, else
  "Дата изменения" (last modification), else "Дата создания".
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
from crmlens.ingest.presets.base import Output, const

if TYPE_CHECKING:
    from crmlens.ingest.readers import RawFile

STAGE = ("Стадия сделки", "Стадия заявки", "Стадия")
CLOSED = ("Сделка закрыта", "Заявка закрыта")
WON_TITLES = ("сделка успешна", "заявка успешна", "успешно", "успешна", "won")
LOST_TITLES = ("сделка провалена", "заявка провалена", "провалена", "отказ", "lose")
WON_SEMANTIC = ("s", "успешна", "успешные", "успех")
LOST_SEMANTIC = ("f", "провалена", "провальные", "провал")


class Bitrix24:
    """Bitrix24 deal list export with Russian headers."""

    name = "bitrix24"
    description = "Bitrix24 deal list export (Russian headers: Стадия сделки, Сумма, Направление…)"

    def score(self, raw: RawFile) -> float:
        """0.9 for a deal list with a Bitrix24 stage column and two more of its titles."""
        if pick(raw, *STAGE[:2]) is None or pick(raw, "ID") is None:
            return 0.0
        hits = sum(
            pick(raw, *names) is not None
            for names in (CLOSED, ("Направление",), ("Предполагаемая дата закрытия",),
                          ("Сумма",), ("Группа стадий",), ("Валюта",))
        )  # fmt: skip
        return 0.9 if hits >= 2 else 0.0

    def outputs(self, raw: RawFile, *, table: str | None) -> list[Output]:
        """Deals and their current stage (see the module docstring)."""
        stage = pick_col(raw, *STAGE)
        if stage is None:
            return []
        stage_id = f"upper(trim({stage}))"
        won = [
            f"regexp_matches({stage_id}, '^(C\\d+:)?WON$')",
            in_list(stage, WON_TITLES),
        ]
        lost = [
            f"regexp_matches({stage_id}, '^(C\\d+:)?LOSE$')",
            in_list(stage, LOST_TITLES),
        ]
        semantic = pick_col(raw, "Группа стадий")
        if semantic is not None:
            won.append(in_list(semantic, WON_SEMANTIC))
            lost.append(in_list(semantic, LOST_SEMANTIC))
        closed_flag = pick_col(raw, *CLOSED)
        if closed_flag is not None:
            lost.append(is_true(closed_flag))
        status = (
            f"CASE WHEN {' OR '.join(won)} THEN 'won' "
            f"WHEN {' OR '.join(lost)} THEN 'lost' ELSE 'open' END"
        )
        created = pick_col(raw, "Дата создания")
        closing = pick_col(raw, "Предполагаемая дата закрытия")
        if closed_flag is not None:
            closed = closed_only(is_true(closed_flag), closing)
        else:
            closed = closed_only(" OR ".join(won + lost), closing)
        columns = {
            "deal_id": pick_col(raw, "ID"),
            "created_at": created,
            "pipeline_id": coalesce(pick_col(raw, "Направление"), const("bitrix24")),
            "owner_id": pick_col(raw, "Ответственный"),
            "account_id": pick_col(raw, "Компания"),
            "amount": pick_col(raw, "Сумма"),
            "currency": pick_col(raw, "Валюта"),
            "status": status,
            "closed_at": closed,
        }
        stage_date = coalesce(closed, pick_col(raw, "Дата изменения"), created)
        return deal_outputs(columns, stage=stage, stage_date=stage_date)
