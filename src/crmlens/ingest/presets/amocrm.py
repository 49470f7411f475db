"""Preset ``amocrm``: amoCRM (Kommo) deal export, Russian UI column titles.

What it maps (first header found of each list; unmapped columns become custom fields)
------------------------------------------------------------------------------------
- deal_id: "ID" / "id сделки"; created_at: "Дата создания"; pipeline_id: "Воронка"
  (``'amocrm'`` when the export has no pipeline column); owner_id: "Ответственный" /
  "Ответственный пользователь"; account_id: "Компания контакта" / "Компания" (the
  company *name*: exports carry no company id); amount: "Бюджет" / "Бюджет ₽" /
  "Бюджет, ₽" / "Сумма"; lost_reason: "Причина отказа"; currency: "Валюта".
- status from the stage ("Этап сделки" / "Статус сделки"): amoCRM's two system statuses,
  fixed in every pipeline — "Успешно реализовано" (id 142) -> won, "Закрыто и не
  реализовано" (id 143) -> lost; any other stage -> open.
- closed_at: "Дата закрытия", for won/lost deals only (amoCRM shows a planned date on
  some open deals).
- deal_stages: the current stage, entered at "Дата закрытия" for closed deals, else
  "Дата редактирования" (last modification), else "Дата создания" — the latest date
  the export offers that cannot precede the stage entry by much; the true entry time is
  only in amoCRM's event log.

The title ("Название сделки"), tags, contact fields, utm_* and every other column are
kept as custom fields.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from crmlens.ingest.presets._crm import (
    closed_only,
    coalesce,
    deal_outputs,
    in_list,
    pick,
    pick_col,
)
from crmlens.ingest.presets.base import Output, const

if TYPE_CHECKING:
    from crmlens.ingest.readers import RawFile

STAGE = ("Этап сделки", "Статус сделки", "Этап")
AMOUNT = ("Бюджет", "Бюджет ₽", "Бюджет, ₽", "Бюджет, руб", "Сумма")
WON = ("успешно реализовано", "142")
LOST = ("закрыто и не реализовано", "143")


class AmoCrm:
    """amoCRM (Kommo) deals export with Russian headers."""

    name = "amocrm"
    description = (
        "amoCRM / Kommo deals export (Russian headers: Этап сделки, Бюджет, Воронка…)"
    )

    def score(self, raw: RawFile) -> float:
        """0.9 for a deal export with an amoCRM stage and budget or pipeline column."""
        if pick(raw, *STAGE) is None or pick(raw, "ID", "id сделки") is None:
            return 0.0
        hits = sum(
            pick(raw, *names) is not None
            for names in (AMOUNT[:4], ("Воронка",), ("Причина отказа",),
                          ("Компания контакта",), ("Дата редактирования",))
        )  # fmt: skip
        return 0.9 if hits >= 2 else 0.0

    def outputs(self, raw: RawFile, *, table: str | None) -> list[Output]:
        """Deals and their current stage (see the module docstring)."""
        stage = pick_col(raw, *STAGE)
        if stage is None:
            return []
        status = (
            f"CASE WHEN {in_list(stage, WON)} THEN 'won' "
            f"WHEN {in_list(stage, LOST)} THEN 'lost' ELSE 'open' END"
        )
        created = pick_col(raw, "Дата создания")
        closed = closed_only(in_list(stage, WON + LOST), pick_col(raw, "Дата закрытия"))
        columns = {
            "deal_id": pick_col(raw, "ID", "id сделки"),
            "created_at": created,
            "pipeline_id": coalesce(pick_col(raw, "Воронка"), const("amocrm")),
            "owner_id": pick_col(raw, "Ответственный", "Ответственный пользователь"),
            "account_id": pick_col(raw, "Компания контакта", "Компания"),
            "amount": pick_col(raw, *AMOUNT),
            "currency": pick_col(raw, "Валюта"),
            "status": status,
            "closed_at": closed,
            "lost_reason": pick_col(raw, "Причина отказа"),
        }
        stage_date = coalesce(closed, pick_col(raw, "Дата редактирования"), created)
        return deal_outputs(columns, stage=stage, stage_date=stage_date)
