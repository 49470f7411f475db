"""Words for the data-quality findings: what each check means and how to fix it (RU/EN)."""

from __future__ import annotations

#: check -> (what failed, RU; EN; fix, RU; EN)
LABELS: dict[str, tuple[str, str, str, str]] = {
    "deals.amount_empty": (
        "сделки без суммы", "deals without an amount",
        "проставить сумму в каждой сделке", "fill in the amount of every deal",
    ),
    "activities.overdue_task": (
        "просроченные задачи", "overdue tasks",
        "закрыть или перенести просроченные задачи", "close or reschedule overdue tasks",
    ),
    "leads.slow_first_response": (
        "медленный первый ответ на заявку", "slow first responses to new leads",
        "отвечать на новые заявки в пределах SLA", "answer new leads within the SLA",
    ),
    "leads.not_taken": (
        "заявки, которые никто не взял в работу", "leads nobody took",
        "взять заявки в работу и назначить ответственного",
        "take the leads and assign an owner",
    ),
    "deals.without_next_task": (
        "открытые сделки без следующей задачи", "open deals without a next task",
        "поставить следующую задачу по каждой открытой сделке",
        "set a next task on every open deal",
    ),
    "activities.logged_late": (
        "действия, внесённые в CRM с опозданием", "activities logged late",
        "вносить звонки и встречи в CRM в тот же день",
        "log calls and meetings on the same day",
    ),
    "deals.stale_open": (
        "открытые сделки без движения", "open deals with no recent activity",
        "связаться с клиентом или закрыть сделку", "contact the client or close the deal",
    ),
    "deals.lost_reason_empty": (
        "проигранные сделки без причины", "lost deals without a reason",
        "указывать причину проигрыша", "record why the deal was lost",
    ),
    "accounts.inn_checksum": (
        "неверные ИНН", "invalid INNs",
        "проверить ИНН по выписке ЕГРЮЛ", "check the INN against the registry",
    ),
    "accounts.inn_empty": (
        "клиенты без ИНН", "clients without an INN",
        "запросить ИНН у клиента", "ask the client for the INN",
    ),
    "deals.account_missing": (
        "сделки со ссылкой на несуществующего клиента",
        "deals pointing to a missing client",
        "привязать сделки к карточкам клиентов", "link the deals to client records",
    ),
    "deals.owner_missing": (
        "сделки с неизвестным ответственным", "deals owned by an unknown manager",
        "назначить ответственного из справочника менеджеров",
        "assign an owner from the manager list",
    ),
    "accounts.shared_inn": (
        "клиенты с одинаковым ИНН (дубли)", "clients sharing one INN (duplicates)",
        "объединить дубли: crmlens dedup accounts", "merge duplicates: crmlens dedup accounts",
    ),
    "accounts.shared_phone": (
        "клиенты с одним телефоном на двоих", "clients sharing one phone",
        "проверить, не дубли ли это: crmlens dedup accounts",
        "check whether they are duplicates: crmlens dedup accounts",
    ),
    "accounts.merged_duplicate": (
        "дубли клиентов, сведённые картой слияния", "duplicate clients in the merge map",
        "объединить эти карточки в самой CRM (карта слияния crmlens dedup --apply лишь "
        "считает их одним клиентом в отчётах)",
        "merge these records in the CRM itself (the merge map of crmlens dedup --apply "
        "only counts them as one client in the reports)",
    ),
    "deals.no_stage_history": (
        "сделки без истории этапов", "deals without stage history",
        "выгружать историю этапов вместе со сделками",
        "export the stage history with the deals",
    ),
}  # fmt: skip


def label(check: str, lang: str) -> str:
    """What a failure of `check` means, in `lang`."""
    if check in LABELS:
        return LABELS[check][0 if lang == "ru" else 1]
    table, _, what = check.partition(".")
    what = what.replace("_", " ")
    return f"{table}: {what}" if lang == "en" else f"{table}: проверка «{what}»"


def fix(check: str, lang: str) -> str:
    """The recommended fix for `check`, in `lang`."""
    if check in LABELS:
        return LABELS[check][2 if lang == "ru" else 3]
    return (
        f"исправить записи, не прошедшие проверку {check}"
        if lang == "ru"
        else f"fix the records failing {check}"
    )
