"""Header vocabulary: Russian and English spellings of every canonical column.

A raw header is normalised (case, ё, punctuation, units such as ``, ₽``) and looked up first
among the table's own synonyms and then among the shared ones. Presets for CRM exports add
their exact column titles on top of this list.
"""

from __future__ import annotations

import re

from crmlens.model import TABLES

SHARED: dict[str, tuple[str, ...]] = {
    "created_at": (
        "created at",
        "дата создания",
        "создано",
        "создана",
        "создан",
        "created",
        "create date",
        "created date",
        "createdate",
        "createddate",
        "date created",
        "hs_createdate",
        "дата",
        "date",
    ),
    "owner_id": (
        "owner",
        "owner id",
        "ownerid",
        "ответственный",
        "ответственный пользователь",
        "ответственный менеджер",
        "менеджер",
        "manager",
        "deal owner",
        "lead owner",
        "hubspot owner id",
        "assigned to",
        "assigned by",
        "responsible",
        "sales agent",
    ),
    "manager_id": (
        "manager id",
        "менеджер",
        "manager",
        "ответственный",
        "сотрудник",
        "employee",
        "owner",
        "id менеджера",
        "sales agent",
        "user",
    ),
    "account_id": (
        "account",
        "account id",
        "accountid",
        "компания",
        "клиент",
        "контрагент",
        "организация",
        "company",
        "company id",
        "id компании",
        "id клиента",
        "customer",
        "customer id",
        "customerid",
    ),
    "contact_id": ("contact", "contact id", "контакт", "id контакта", "contactid"),
    "deal_id": (
        "deal",
        "deal id",
        "id сделки",
        "сделка",
        "номер сделки",
        "opportunity",
        "opportunity id",
        "opportunityid",
        "record id",
    ),
    "lead_id": (
        "lead",
        "lead id",
        "id лида",
        "лид",
        "номер лида",
        "leadid",
        "prospect id",
    ),
    "product_id": (
        "product",
        "product id",
        "товар",
        "продукт",
        "sku",
        "артикул",
        "stockcode",
    ),
    "campaign_id": (
        "campaign",
        "campaign id",
        "кампания",
        "id кампании",
        "hs campaign",
        "utm campaign",
    ),
    "amount": (
        "amount",
        "сумма",
        "бюджет",
        "value",
        "deal value",
        "стоимость",
        "сумма сделки",
        "выручка",
        "revenue",
        "close value",
    ),
    "currency": ("currency", "валюта", "currency id", "currencyisocode"),
    "status": ("status", "статус", "состояние", "state"),
    "lost_reason": (
        "lost reason",
        "причина отказа",
        "причина проигрыша",
        "причина",
        "closed lost reason",
        "reason lost",
        "loss reason",
    ),
    "region": ("region", "регион", "область", "regional office", "округ"),
    "phone": ("phone", "телефон", "рабочий телефон", "мобильный телефон", "tel"),
    "email": ("email", "e mail", "почта", "электронная почта", "рабочий email", "mail"),
    "source": (
        "source",
        "источник",
        "lead source",
        "leadsource",
        "источник лида",
        "origin",
        "utm source",
    ),
    "channel": ("channel", "канал", "тип лидогенерации", "lead channel"),
    "cost": ("cost", "себестоимость", "затраты", "расходы", "cost amount"),
    "name": ("name", "название", "наименование"),
}

OWN: dict[str, dict[str, tuple[str, ...]]] = {
    "managers": {
        "manager_id": (
            "id",
            "manager id",
            "id менеджера",
            "табельный номер",
            "login",
            "логин",
        ),
        "name": (
            "фио",
            "имя",
            "full name",
            "сотрудник",
            "менеджер",
            "manager",
            "sales agent",
        ),
        "team": ("team", "команда", "отдел", "группа", "department"),
        "role": ("role", "роль", "должность", "position", "title"),
        "hired_at": ("hired at", "дата приема", "дата найма", "hire date", "принят"),
        "active": ("active", "активен", "работает", "is active"),
    },
    "accounts": {
        "account_id": (
            "id",
            "account id",
            "id компании",
            "id клиента",
            "код клиента",
            "customer id",
        ),
        "name": (
            "компания",
            "название компании",
            "клиент",
            "company",
            "company name",
            "account name",
            "организация",
            "контрагент",
            "account",
        ),
        "inn": ("inn", "инн", "tax id", "vat"),
        "industry": (
            "industry",
            "отрасль",
            "сфера деятельности",
            "сфера",
            "sector",
            "вид деятельности",
        ),
        "size_segment": (
            "size segment",
            "сегмент",
            "размер",
            "размер компании",
            "segment",
            "company size",
        ),
        "city": ("city", "город"),
        "website": ("website", "сайт", "web", "url", "web site", "domain"),
        "founded_year": (
            "founded year",
            "год основания",
            "year established",
            "founded",
        ),
        "status": ("status", "статус", "тип клиента"),
        "owner_id": ("owner", "ответственный", "менеджер", "account owner"),
    },
    "contacts": {
        "contact_id": ("id", "contact id", "id контакта"),
        "full_name": (
            "full name",
            "фио",
            "имя",
            "контакт",
            "полное имя контакта",
            "name",
            "contact name",
        ),
        "position": ("position", "должность", "title", "job title"),
        "still_employed": (
            "still employed",
            "работает",
            "работает в компании",
            "employed",
        ),
    },
    "leads": {
        "lead_id": ("id", "lead id", "id лида", "номер лида", "prospect id", "mql id"),
        "need_type": ("need type", "потребность", "тип потребности", "need", "интерес"),
        "potential_amount": (
            "potential amount",
            "потенциал",
            "потенциальная сумма",
            "бюджет",
            "budget",
            "amount",
            "сумма",
        ),
        "first_response_at": (
            "first response at",
            "первый ответ",
            "дата первого ответа",
            "first response",
            "first contact",
        ),
        "qualified_at": ("qualified at", "дата квалификации", "qualified"),
        "deal_id": (
            "deal id",
            "id сделки",
            "сделка",
            "converted opportunity id",
            "convertedopportunityid",
        ),
        "status": ("status", "статус", "статус лида", "lead status"),
    },
    "pipelines": {
        "pipeline_id": (
            "pipeline",
            "pipeline id",
            "воронка",
            "направление",
            "id воронки",
        ),
        "stage": ("stage", "этап", "стадия", "stage name"),
        "position": ("position", "порядок", "номер этапа", "sort", "order", "позиция"),
        "is_won": ("is won", "успешный", "won", "выигрыш"),
        "is_lost": ("is lost", "проигрыш", "lost", "неуспешный"),
    },
    "deals": {
        "deal_id": (
            "id",
            "deal id",
            "id сделки",
            "номер сделки",
            "opportunity id",
            "record id",
        ),
        "pipeline_id": (
            "pipeline",
            "воронка",
            "направление",
            "pipeline id",
            "category",
        ),
        "status": ("status", "статус", "статус сделки", "состояние сделки"),
        "closed_at": (
            "closed at",
            "дата закрытия",
            "close date",
            "closedate",
            "closed",
            "дата завершения",
            "закрыта",
        ),
        "account_id": (
            "компания",
            "клиент",
            "account",
            "company",
            "контрагент",
            "account id",
        ),
    },
    "deal_stages": {
        "stage": (
            "stage",
            "этап",
            "стадия",
            "этап сделки",
            "стадия сделки",
            "stagename",
            "deal stage",
            "dealstage",
        ),
        "entered_at": (
            "entered at",
            "дата входа",
            "дата перехода",
            "дата этапа",
            "date",
            "дата",
            "createddate",
            "changed at",
            "дата изменения",
        ),
    },
    "activities": {
        "activity_id": ("id", "activity id", "id активности", "id дела", "id задачи"),
        "type": ("type", "тип", "тип активности", "тип дела", "вид", "activity type"),
        "due_at": (
            "due at",
            "срок",
            "крайний срок",
            "deadline",
            "due date",
            "срок выполнения",
        ),
        "done_at": (
            "done at",
            "выполнено",
            "дата выполнения",
            "completed",
            "completed at",
            "дата завершения",
        ),
        "duration_min": (
            "duration min",
            "длительность",
            "длительность мин",
            "duration",
            "минуты",
            "minutes",
        ),
        "outcome": ("outcome", "результат", "итог", "result"),
    },
    "orders": {
        "order_id": (
            "id",
            "order id",
            "номер заказа",
            "заказ",
            "invoice",
            "invoice no",
            "invoiceno",
            "номер счета",
            "счет",
            "документ",
        ),
        "order_date": (
            "order date",
            "дата заказа",
            "дата",
            "date",
            "invoice date",
            "invoicedate",
            "дата счета",
            "дата отгрузки",
        ),
        "amount": ("amount", "сумма", "сумма заказа", "revenue", "выручка", "total"),
        "quantity": ("quantity", "количество", "кол во", "qty"),
    },
    "products": {
        "product_id": ("id", "product id", "артикул", "sku", "код товара", "stockcode"),
        "name": ("name", "название", "наименование", "товар", "product", "description"),
        "category": ("category", "категория", "группа", "series", "серия"),
        "price": ("price", "цена", "sales price", "unit price", "unitprice"),
    },
    "campaigns": {
        "campaign_id": ("id", "campaign id", "id кампании"),
        "tag": ("tag", "тег", "метка", "utm campaign"),
        "name": ("name", "название", "кампания", "campaign"),
        "goal": ("goal", "цель"),
        "description": ("description", "описание", "информация"),
        "channel": ("channel", "канал"),
        "started_at": ("started at", "начало", "дата начала", "start date", "start"),
        "ended_at": ("ended at", "окончание", "дата окончания", "end date", "end"),
        "cost": ("cost", "стоимость", "бюджет", "затраты", "расходы"),
        "planned_leads": ("planned leads", "план лидов", "план по лидам", "лиды план"),
        "planned_revenue": (
            "planned revenue",
            "план выручки",
            "план по выручке",
            "выручка план",
        ),
    },
    "targets": {
        "period": ("period", "период", "месяц", "month"),
        "scope_type": ("scope type", "уровень", "тип объекта", "scope"),
        "scope_id": ("scope id", "объект", "id объекта"),
        "metric": ("metric", "показатель", "метрика"),
        "value": ("value", "значение", "план", "target", "цель"),
    },
    "call_reviews": {
        "activity_id": ("activity id", "id звонка", "звонок", "call id"),
        "item": ("item", "пункт", "пункт чек листа", "критерий", "checklist item"),
        "passed": ("passed", "выполнено", "да нет", "result", "оценка"),
    },
}

#: File stems (normalised) that name a table, RU and EN.
TABLE_NAMES: dict[str, str] = {
    **{t: t for t in TABLES},
    "менеджеры": "managers",
    "сотрудники": "managers",
    "users": "managers",
    "компании": "accounts",
    "клиенты": "accounts",
    "companies": "accounts",
    "контакты": "contacts",
    "лиды": "leads",
    "заявки": "leads",
    "воронки": "pipelines",
    "сделки": "deals",
    "opportunities": "deals",
    "история этапов": "deal_stages",
    "stage history": "deal_stages",
    "дела": "activities",
    "активности": "activities",
    "заказы": "orders",
    "продажи": "orders",
    "товары": "products",
    "продукты": "products",
    "кампании": "campaigns",
    "планы": "targets",
    "plans": "targets",
    "чек листы": "call_reviews",
    "checklists": "call_reviews",
}


def norm(header: str) -> str:
    """Normalise a header: lower case, ё→е, units and punctuation dropped, spaces collapsed."""
    text = header.strip().lower().replace("ё", "е")
    text = re.sub(r",?\s*(₽|руб\.?|rub|usd|\$|€|%|шт\.?)\s*$", "", text)
    text = re.sub(r"[_\-./,:;()\[\]{}«»\"'#№*]+", " ", text)
    return re.sub(r"\s+", " ", text).strip()


def lookup(table: str, header: str) -> str | None:
    """The canonical column of `table` that `header` names, or None."""
    key = norm(header)
    columns = TABLES[table].column_names
    if key.replace(" ", "_") in columns:
        return key.replace(" ", "_")
    for column, words in OWN.get(table, {}).items():
        if key in words:
            return column
    for column, words in SHARED.items():
        if column in columns and key in words:
            return column
    return None


def map_headers(table: str, headers: list[str]) -> dict[str, str]:
    """Canonical column -> raw header, first match wins, each column mapped once."""
    mapping: dict[str, str] = {}
    for header in headers:
        column = lookup(table, header)
        if column and column not in mapping:
            mapping[column] = header
    return mapping


def table_for_stem(stem: str) -> str | None:
    """The canonical table a file name stands for (``deals``, ``сделки``…), or None."""
    return TABLE_NAMES.get(norm(stem).replace(" ", "_")) or TABLE_NAMES.get(norm(stem))


def guess_table(headers: list[str]) -> tuple[str | None, int]:
    """The table whose required columns all map and that maps the most headers."""
    best: tuple[str | None, int] = (None, 0)
    for table, spec in TABLES.items():
        mapping = map_headers(table, headers)
        if not all(c in mapping for c in spec.required):
            continue
        score = len(mapping) * 10 + len(spec.required)
        if score > best[1]:
            best = (table, score)
    return best
