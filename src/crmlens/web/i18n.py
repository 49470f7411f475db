"""Every string of the web UI in Russian and English (findings carry their own texts).

>>> t("login", "ru"), t("login", "en")
('Войти', 'Sign in')
>>> t("no such key", "en")
'no such key'
"""

from __future__ import annotations

from collections.abc import Mapping

LANGS = ("ru", "en")
DEFAULT_LANG = "ru"

CATALOGUE: dict[str, tuple[str, str]] = {
    # pages
    "overview": ("Обзор", "Overview"),
    "funnel": ("Воронка", "Funnel"),
    "journeys": ("Пути сделок", "Journeys"),
    "managers": ("Менеджеры", "Managers"),
    "leads": ("Заявки", "Leads"),
    "customers": ("Клиенты", "Customers"),
    "plan": ("План и прогноз", "Plan and forecast"),
    "campaigns": ("Кампании", "Campaigns"),
    "quality": ("Качество данных", "Data quality"),
    "analyses": ("Все анализы", "All analyses"),
    "drill": ("Строки", "Rows"),
    # sign-in
    "login": ("Войти", "Sign in"),
    "logout": ("Выйти", "Sign out"),
    "username": ("Имя пользователя", "User name"),
    "password": ("Пароль", "Password"),
    "bad_login": ("Неверное имя или пароль.", "Wrong user name or password."),
    "too_many": (
        "Слишком много попыток входа. Подождите минуту.",
        "Too many sign-in attempts. Wait a minute.",
    ),
    "signed_in_as": ("Вы вошли как", "Signed in as"),
    # filters
    "filters": ("Фильтры", "Filters"),
    "from": ("С", "From"),
    "to": ("По", "To"),
    "region": ("Регион", "Region"),
    "team": ("Команда", "Team"),
    "manager": ("Менеджер", "Manager"),
    "source": ("Источник", "Source"),
    "all": ("все", "all"),
    "apply": ("Применить", "Apply"),
    "reset": ("Сбросить", "Reset"),
    "parameters": ("Параметры", "Parameters"),
    "run": ("Показать", "Show"),
    # results
    "loading": ("Считаем…", "Computing…"),
    "findings": ("Выводы", "Findings"),
    "action": ("Что сделать", "What to do"),
    "no_rows": ("Нет строк для этих условий.", "No rows for these conditions."),
    "no_findings": ("Выводов нет.", "No findings."),
    "rows_shown": ("строк показано", "rows shown"),
    "of": ("из", "of"),
    "export_csv": ("CSV", "CSV"),
    "export_xlsx": ("Excel", "Excel"),
    "open_page": ("Открыть отдельно", "Open on its own"),
    "cached": ("из кэша", "cached"),
    "computed_in": ("посчитано за", "computed in"),
    "seconds": ("с", "s"),
    "impact": ("На кону", "At stake"),
    "top_findings": ("Главное сейчас", "What matters now"),
    "key_numbers": ("Ключевые цифры", "Key numbers"),
    "plan_lights": ("План: светофор", "Plan: traffic lights"),
    "plan_target": ("план", "target"),
    "plan_forecast": ("прогноз", "forecast"),
    "plan_chance": ("шанс выполнить", "chance to hit"),
    "plan_fact_hint": (
        "крупно — факт с начала месяца",
        "large figure: fact so far this month",
    ),
    "skipped": ("Не удалось посчитать", "Could not run"),
    "more_findings": ("Ещё выводы", "More findings"),
    "vs_previous": ("к прошлому периоду", "vs the previous period"),
    "error": ("Ошибка", "Error"),
    "forbidden": ("Этот раздел недоступен вашей роли.", "Your role cannot open this."),
    "not_found": ("Не найдено.", "Not found."),
    "sort_hint": (
        "Нажмите на заголовок, чтобы отсортировать",
        "Click a header to sort",
    ),
    "drill_hint": (
        "Нажмите на число, чтобы увидеть строки за ним",
        "Click a number to see the rows behind it",
    ),
    "back": ("Назад", "Back"),
    "language": ("Язык", "Language"),
    "role": ("Роль", "Role"),
    "scope": ("Область", "Scope"),
    # key numbers
    "revenue": ("Выручка", "Revenue"),
    "clients": ("Клиенты", "Clients"),
    "orders": ("Заказы", "Orders"),
    "average_check": ("Средний чек", "Average check"),
    "conversion": ("Конверсия в клиента", "Conversion to a client"),
    # roles
    "role_admin": ("администратор", "administrator"),
    "role_head": ("руководитель отдела продаж", "head of sales"),
    "role_analyst": ("аналитик", "analyst"),
    "role_marketer": ("маркетолог", "marketer"),
    "role_regional": ("руководитель региона", "regional head"),
    "role_teamlead": ("руководитель группы", "team lead"),
    "role_manager": ("менеджер", "manager"),
    # sections of the curated pages
    "sec_funnel": ("Воронка по этапам", "Funnel by stage"),
    "sec_funnel_month": ("Конверсия по месяцам", "Conversion by month"),
    "sec_funnel_velocity": ("Скорость воронки", "Pipeline velocity"),
    "sec_journeys": ("Частые пути сделок", "Common journeys"),
    "sec_journeys_graph": ("Граф переходов", "Directly-follows graph"),
    "sec_kpis": ("Показатели менеджеров", "Manager KPIs"),
    "sec_compare": (
        "Честное сравнение (с учётом клиентов)",
        "Fair comparison (mix-adjusted)",
    ),
    "sec_checklist": ("Чек-лист звонков", "Call checklist"),
    "sec_response": ("Скорость ответа на заявки", "Speed to lead"),
    "sec_scores": ("Оценка открытых заявок", "Scores of open leads"),
    "sec_sources": ("Источники заявок", "Lead sources"),
    "sec_signals": ("Признаки, которые предсказывают сделку", "Signals of conversion"),
    "sec_rfm": ("RFM-сегменты", "RFM segments"),
    "sec_abc": ("ABC/XYZ клиентов", "ABC/XYZ of clients"),
    "sec_cohorts": ("Когорты: удержание", "Cohorts: retention"),
    "sec_seasonality": ("Сезонные клиенты", "Seasonal clients"),
    "sec_churn": ("Замолчавшие клиенты", "Silent clients"),
    "sec_clv": ("Ценность клиента (CLV)", "Client lifetime value"),
    "sec_plan": ("План и факт", "Plan vs fact"),
    "sec_forecast": ("Прогноз выручки", "Revenue forecast"),
    "sec_warnings": ("Ранние предупреждения", "Early warnings"),
    "sec_campaigns": ("Окупаемость кампаний", "Campaign payback"),
    "sec_campaign_leads": ("Заявки по кампаниям", "Leads by campaign"),
    "sec_quality": ("Аудит данных", "Data audit"),
    "sec_factors": ("Почему изменилась выручка", "Why revenue moved"),
}


def t(key: str, lang: str) -> str:
    """The text of `key` in `lang` (the key itself when the catalogue lacks it)."""
    pair = CATALOGUE.get(key)
    if pair is None:
        return key
    return pair[0] if lang == "ru" else pair[1]


def pick_lang(query: Mapping[str, str], cookies: Mapping[str, str]) -> str:
    """The language of a request: ``?lang=`` first, then the cookie, then Russian."""
    for value in (query.get("lang"), cookies.get("lang")):
        if value in LANGS:
            return value
    return DEFAULT_LANG
