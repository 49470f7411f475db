"""RU/EN words of the alerts that no registered analysis says: findings and labels."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from crmlens.insights.findings import Finding, Severity
from crmlens.insights.i18n import count, fmt_money_short, fmt_number, plural


def both(ru: str, en: str) -> dict[str, str]:
    """A bilingual text."""
    return {"ru": ru, "en": en}


def waited(hours: float, lang: str) -> str:
    """A wait in words: hours up to two days, then days (``77 часов``, ``3 дня``)."""
    if hours < 48:
        return count(max(round(hours), 1), "hour", lang)
    return count(math.floor(hours / 24), "day", lang)


def who(manager_id: str | None, names: dict[str, str], lang: str) -> str:
    """``Павел Титов (M09)``; the id alone without a name; a dash without an owner."""
    if not manager_id:
        return "не назначен" if lang == "ru" else "nobody"
    name = names.get(manager_id)
    return f"{name} ({manager_id})" if name else manager_id


def unanswered_finding(
    row: dict[str, Any], *, sla_hours: float, names: dict[str, str]
) -> Finding:
    """A finding for one lead waiting past the SLA (a row of ``unanswered_leads``)."""
    hours = float(row["waited_hours"])
    severity: Severity = "high" if hours >= 2 * sla_hours else "medium"
    lead, source = row["lead_id"], row.get("source")
    amount = row.get("potential_amount")
    amount = float(amount) if amount is not None and math.isfinite(amount) else None

    def say(lang: str) -> str:
        owner = who(row.get("owner_id"), names, lang)
        sla = count(
            sla_hours, "hour", lang, digits=0 if sla_hours == int(sla_hours) else 1
        )
        if lang == "ru":
            src = f" из источника «{source}»" if source else ""
            pot = f" (потенциал {fmt_money_short(amount, 'ru')})" if amount else ""
            return (
                f"Заявка {lead}{src}{pot} ждёт первого ответа уже {waited(hours, 'ru')}"
                f" — дольше нормы ({sla}); ответственный — {owner}."
            )
        src = f" from “{source}”" if source else ""
        pot = f" (potential {fmt_money_short(amount, 'en')})" if amount else ""
        return (
            f"Lead {lead}{src}{pot} has waited {waited(hours, 'en')} for a first answer, "
            f"longer than the standard of {sla}; owner: {owner}."
        )

    created = row["created_at"]
    return Finding(
        analysis="alerts",
        kind="unanswered_lead",
        severity=severity,
        subject={"type": "lead", "id": lead, "owner_id": row.get("owner_id")},
        metric="waited_hours",
        value=round(hours, 2),
        baseline=float(sla_hours),
        impact=round(amount, 2) if amount else None,
        period=created.date().isoformat() if isinstance(created, dt.datetime) else None,
        text=both(say("ru"), say("en")),
        action=both(
            "Свяжитесь с клиентом прямо сейчас и отметьте ответ в CRM; если "
            "ответственный недоступен — передайте заявку коллеге.",
            "Contact the lead now and log the answer in the CRM; if the owner is "
            "away, hand the lead to a colleague.",
        ),
        evidence={
            k: (v.isoformat(sep=" ") if isinstance(v, dt.datetime) else v)
            for k, v in row.items()
            if k != "waited_hours"
        },
    )


def overdue_finding(
    manager_id: str, n: int, *, above: int, as_of: dt.date, names: dict[str, str]
) -> Finding:
    """A finding for a manager with more than `above` overdue tasks."""
    ru_tasks = plural(n, "ru", "просроченная задача", "просроченные задачи",
                      "просроченных задач")  # fmt: skip
    en_tasks = "overdue task" if n == 1 else "overdue tasks"
    return Finding(
        analysis="alerts",
        kind="overdue_tasks",
        severity="high" if n > 2 * above else "medium",
        subject={"type": "manager", "id": manager_id, "name": names.get(manager_id)},
        metric="overdue_tasks",
        value=n,
        baseline=above,
        impact=None,
        period=as_of.isoformat(),
        text=both(
            f"У менеджера {who(manager_id, names, 'ru')} {fmt_number(n, 'ru')} {ru_tasks}"
            f" — больше порога ({fmt_number(above, 'ru')}).",
            f"{who(manager_id, names, 'en')} has {fmt_number(n, 'en')} {en_tasks}, above "
            f"the limit of {fmt_number(above, 'en')}.",
        ),
        action=both(
            "Закройте или перенесите просроченные задачи сегодня; руководителю — "
            "разобрать их с менеджером на этой неделе.",
            "Close or reschedule the overdue tasks today; the manager's lead should "
            "go through them together this week.",
        ),
        evidence={"overdue_tasks": n, "above": above},
    )


def scope_words(kind: str, ident: str | None, lang: str) -> str:
    """``регион Юг`` / ``region Юг``; the whole company for ``company``."""
    if kind == "company" or not ident:
        return "вся компания" if lang == "ru" else "the whole company"
    ru = {"region": "регион", "team": "команда", "manager": "менеджер"}
    return f"{ru.get(kind, kind) if lang == 'ru' else kind} {ident}"
