"""Column titles in Russian and English, and how each column's numbers are shown.

The charts, the HTML and PDF tables and the XLSX sheets all take their headers and number
formats from here, so a column reads the same everywhere: ``revenue`` is "Выручка" /
"Revenue" and is money, ``win_rate`` is a percentage, ``*_days`` are days.

>>> label("win_rate", "ru"), label("win_rate", "en")
('Доля выигранных', 'Win rate')
>>> label("some_custom_field", "en")
'Some custom field'
>>> kind("revenue_amount"), kind("over_sla_rate"), kind("median_cycle_days")
('money', 'percent', 'float')
"""

from __future__ import annotations

from typing import Literal

Kind = Literal["money", "percent", "int", "float", "ratio", "date", "datetime", "text"]

LABELS: dict[str, tuple[str, str]] = {
    # who and what
    "manager_id": ("Менеджер", "Manager"),
    "manager": ("Менеджер", "Manager"),
    "manager_name": ("Имя", "Name"),
    "owner_id": ("Ответственный", "Owner"),
    "name": ("Название", "Name"),
    "account_id": ("Клиент", "Client"),
    "deal_id": ("Сделка", "Deal"),
    "lead_id": ("Заявка", "Lead"),
    "activity_id": ("Дело", "Activity"),
    "campaign_id": ("Кампания", "Campaign"),
    "tag": ("Метка", "Tag"),
    "pipeline_id": ("Воронка", "Pipeline"),
    "stage": ("Этап", "Stage"),
    "position": ("Порядок", "Position"),
    "scope_id": ("Подразделение", "Scope"),
    "level_id": ("Уровень", "Level"),
    "period": ("Период", "Period"),
    "month": ("Месяц", "Month"),
    "source": ("Источник", "Source"),
    "channel": ("Канал", "Channel"),
    "type": ("Тип", "Type"),
    "item": ("Пункт чек-листа", "Checklist item"),
    "attribute": ("Признак", "Attribute"),
    "value": ("Значение", "Value"),
    "variant": ("Путь сделки", "Journey"),
    "kind": ("Вид", "Kind"),
    "severity": ("Важность", "Severity"),
    "analysis": ("Анализ", "Analysis"),
    "subject_type": ("Объект", "Subject"),
    "subject_id": ("Кто / что", "Who / what"),
    "text": ("Суть", "What"),
    "action": ("Что сделать", "Action"),
    "impact": ("На кону", "At stake"),
    "check": ("Проверка", "Check"),
    "requirement": ("Требование", "Requirement"),
    "table": ("Таблица", "Table"),
    "table_name": ("Таблица", "Table"),
    "column": ("Колонка", "Column"),
    "example_ids": ("Примеры", "Examples"),
    "worst_checks": ("Главные ошибки", "Worst checks"),
    "score": ("Оценка, 0–100", "Score, 0–100"),
    "light": ("Светофор", "Light"),
    "status": ("Статус", "Status"),
    "segment": ("Сегмент", "Segment"),
    "segment_ru": ("Сегмент", "Segment"),
    "segment_en": ("Сегмент", "Segment"),
    "rfm_score": ("RFM", "RFM"),
    "abc": ("ABC", "ABC"),
    "xyz": ("XYZ", "XYZ"),
    "abc_xyz": ("ABC×XYZ", "ABC×XYZ"),
    "lost_reason": ("Причина отказа", "Lost reason"),
    "outcome": ("Результат", "Outcome"),
    "cluster": ("Кластер", "Cluster"),
    "description_ru": ("Описание", "Description"),
    "description_en": ("Описание", "Description"),
    "gap_source": ("Интервал по", "Gap from"),
    "attribution": ("Атрибуция", "Attribution"),
    "cohort": ("Когорта", "Cohort"),
    "period_index": ("Месяц жизни", "Period"),
    "period_start": ("Начало периода", "Period start"),
    # dates
    "created_at": ("Создана", "Created"),
    "due_at": ("Срок", "Due"),
    "done_at": ("Выполнено", "Done"),
    "first_response_at": ("Первый ответ", "First response"),
    "first_order_date": ("Первый заказ", "First order"),
    "last_order_date": ("Последний заказ", "Last order"),
    "expected_order_date": ("Ожидаемый заказ", "Expected order"),
    "next_peak": ("Следующий пик", "Next peak"),
    "first_at": ("С", "From"),
    "last_at": ("По", "To"),
    # counts
    "deals": ("Сделки", "Deals"),
    "deals_created": ("Новые сделки", "Deals created"),
    "deals_won": ("Выиграно", "Deals won"),
    "deals_lost": ("Проиграно", "Deals lost"),
    "deals_closed": ("Закрыто сделок", "Deals closed"),
    "deals_count": ("Сделки", "Deals"),
    "deals_needed": ("Нужно сделок", "Deals needed"),
    "deals_participated": ("Участвовал в сделках", "Deals taken part in"),
    "deals_owned": ("Свои сделки", "Own deals"),
    "deals_of_others": ("Сделки коллег", "Deals of others"),
    "deals_passed": ("Сделок с пунктом", "Deals with item"),
    "deals_skipped": ("Сделок без пункта", "Deals without item"),
    "won": ("Выиграно", "Won"),
    "won_count": ("Выиграно", "Won"),
    "won_deals": ("Выиграно", "Won deals"),
    "open_deals": ("Открытые сделки", "Open deals"),
    "open_deals_count": ("Открытые сделки", "Open deals"),
    "closed_deals": ("Закрыто", "Closed deals"),
    "leads": ("Заявки", "Leads"),
    "leads_count": ("Заявки", "Leads"),
    "leads_answered": ("Отвечено", "Answered"),
    "qualified": ("Квалифицировано", "Qualified"),
    "qualified_count": ("Квалифицировано", "Qualified"),
    "converted": ("Стали сделкой", "Converted"),
    "clients": ("Клиенты", "Clients"),
    "clients_count": ("Клиенты", "Clients"),
    "cohort_size": ("Размер когорты", "Cohort size"),
    "items": ("Объекты", "Items"),
    "orders": ("Заказы", "Orders"),
    "orders_count": ("Заказы", "Orders"),
    "frequency": ("Заказы", "Orders"),
    "reached": ("Дошли", "Reached"),
    "open_now": ("Сейчас на этапе", "Open now"),
    "lost_after": ("Потеряно после", "Lost after"),
    "lost_deals": ("Проиграно", "Lost deals"),
    "group_lost_deals": ("Проиграно всего", "Lost in group"),
    "calls": ("Звонки", "Calls"),
    "meetings": ("Встречи", "Meetings"),
    "visits": ("Выезды", "Visits"),
    "emails": ("Письма", "E-mails"),
    "tasks": ("Задачи", "Tasks"),
    "tasks_done": ("Задач выполнено", "Tasks done"),
    "notes": ("Заметки", "Notes"),
    "activities": ("Дела", "Activities"),
    "client_activities": ("Контакты с клиентами", "Client touches"),
    "client_activities_prev": ("Контакты, прошлый период", "Client touches, previous"),
    "calls_reviewed": ("Проверено звонков", "Calls reviewed"),
    "failed": ("Ошибок", "Failed"),
    "total": ("Всего", "Total"),
    "row_count": ("Строк", "Rows"),
    "steps": ("Шагов", "Steps"),
    "overdue_tasks": ("Просроченные задачи", "Overdue tasks"),
    "days_overdue": ("Дней просрочки", "Days overdue"),
    "new_leads": ("Новые заявки", "New leads"),
    "answered_in_sla": ("Отвечено вовремя", "Answered in time"),
    "unanswered": ("Без ответа", "Unanswered"),
    "history_months": ("Месяцев истории", "Months of history"),
    "peak_month": ("Месяц пика", "Peak month"),
    "peak_years": ("Лет с пиком", "Peak years"),
    "repeated_years": ("Повторов", "Repeated years"),
    "rank_raw": ("Место по факту", "Raw rank"),
    "rank_adjusted": ("Место с учётом клиентов", "Adjusted rank"),
    "r_score": ("R", "R"),
    "f_score": ("F", "F"),
    "m_score": ("M", "M"),
    "days_since_last_order": ("Дней без заказа", "Days since last order"),
    "is_seasonal": ("Сезонный", "Seasonal"),
    "is_answered": ("Ответили", "Answered"),
    "is_in_sla": ("Вовремя", "In time"),
    # money
    "revenue": ("Выручка", "Revenue"),
    "revenue_amount": ("Выручка", "Revenue"),
    "revenue_prev": ("Выручка, прошлый период", "Revenue, previous"),
    "revenue_change": ("Изменение выручки", "Revenue change"),
    "revenue_at_stake": ("Выручка под угрозой", "Revenue at stake"),
    "revenue_of_others": ("Выручка сделок коллег", "Revenue of others' deals"),
    "touched_revenue": ("Выручка с касанием", "Touched revenue"),
    "baseline_revenue": ("Базовая выручка", "Baseline revenue"),
    "uplift_amount": ("Прирост выручки", "Uplift"),
    "margin_amount": ("Маржа", "Margin"),
    "cost": ("Затраты", "Cost"),
    "cost_amount": ("Затраты", "Cost"),
    "cpl": ("Цена заявки", "Cost per lead"),
    "cpl_amount": ("Цена заявки", "Cost per lead"),
    "cac": ("Цена клиента", "Cost per client"),
    "cac_amount": ("Цена клиента", "Cost per client"),
    "planned_revenue": ("План выручки", "Planned revenue"),
    "planned_leads": ("План заявок", "Planned leads"),
    "plan_revenue": ("План", "Plan"),
    "target_amount": ("План", "Target"),
    "fact_amount": ("Факт", "Fact"),
    "pipeline_amount": ("Сумма открытых сделок", "Open pipeline"),
    "expected_deals_amount": ("Ожидаем от сделок", "Expected from deals"),
    "expected_repeat_amount": ("Ожидаем повторных", "Expected repeat orders"),
    "forecast_amount": ("Прогноз", "Forecast"),
    "forecast_p10": ("Прогноз, пессимистично", "Forecast, low (P10)"),
    "forecast_p90": ("Прогноз, оптимистично", "Forecast, high (P90)"),
    "gap_amount": ("Не хватает до плана", "Gap to target"),
    "average_check": ("Средний чек", "Average check"),
    "avg_won_amount": ("Средняя выигранная сделка", "Average won deal"),
    "amount": ("Сумма", "Amount"),
    "potential_amount": ("Потенциал", "Potential"),
    "monetary": ("Выручка за год", "Revenue in the window"),
    "monthly_revenue": ("Выручка в месяц", "Monthly revenue"),
    "mean_monthly": ("Выручка в месяц", "Monthly revenue"),
    "lost_amount": ("Сумма проигранных", "Lost amount"),
    "credited_owner": ("Зачёт: владелец", "Credit: owner only"),
    "credited_equal": ("Зачёт: поровну", "Credit: split equally"),
    "gain_equal": ("Разница", "Difference"),
    "historical_value": ("Маржа до сих пор", "Margin so far"),
    "expected_value": ("Ожидаемая ценность", "Expected value"),
    "expected_value_if_active": ("Ценность, если активен", "Value if active"),
    "expected_average_value": ("Ожидаемый чек", "Expected check"),
    "monetary_value": ("Средний заказ", "Average order"),
    "pipeline_velocity": ("Скорость воронки, ₽/день", "Pipeline velocity, per day"),
    "ltv": ("Выручка на клиента", "Revenue per client"),
    "revenue_per_client": ("Выручка на клиента", "Revenue per client"),
    "leads_effect": ("Вклад: заявки", "Effect: leads"),
    "conversion_effect": ("Вклад: конверсия", "Effect: conversion"),
    "average_check_effect": ("Вклад: средний чек", "Effect: average check"),
    "orders_per_client_effect": (
        "Вклад: заказы на клиента",
        "Effect: orders per client",
    ),
    "clients_effect": ("Вклад: клиенты", "Effect: clients"),
    "ltv_effect": ("Вклад: выручка на клиента", "Effect: revenue per client"),
    # shares
    "win_rate": ("Доля выигранных", "Win rate"),
    "win_rate_prev": ("Доля выигранных, прошлый период", "Win rate, previous"),
    "expected_win_rate": ("Ожидаемая доля выигранных", "Expected win rate"),
    "win_rate_passed": ("Выигрыш с пунктом", "Win rate with item"),
    "win_rate_skipped": ("Выигрыш без пункта", "Win rate without item"),
    "conversion_to_next": ("Конверсия в следующий этап", "Conversion to next"),
    "conversion_from_start": ("Конверсия от начала", "Conversion from start"),
    "conversion_rate": ("Конверсия", "Conversion"),
    "overall_rate": ("Конверсия в среднем", "Overall conversion"),
    "qualified_rate": ("Доля квалифицированных", "Qualified rate"),
    "deal_rate": ("Доля ставших сделкой", "Deal rate"),
    "lead_to_won_rate": ("Из заявки в продажу", "Lead to won"),
    "over_sla_rate": ("Доля ответов позже нормы", "Answered late"),
    "share": ("Доля", "Share"),
    "value_share": ("Доля выручки", "Share of revenue"),
    "cumulative_share": ("Накопленная доля", "Cumulative share"),
    "share_passed": ("Доля с пунктом", "Share passed"),
    "rest_share": ("Доля у остальных", "Share of the rest"),
    "retention_rate": ("Удержание", "Retention"),
    "reach_probability": ("Шанс выполнить план", "Chance to hit the target"),
    "plan_fact_rate": ("Выполнение плана", "Plan done"),
    "revenue_change_rate": ("Изменение выручки", "Revenue change"),
    "activity_change_rate": ("Изменение активности", "Activity change"),
    "romi": ("ROMI", "ROMI"),
    "leads_plan_rate": ("Заявки к плану", "Leads vs plan"),
    "revenue_plan_rate": ("Выручка к плану", "Revenue vs plan"),
    "p_alive": ("Вероятность, что клиент жив", "P(alive)"),
    "conversion": ("Конверсия в клиента", "Conversion to client"),
    # other numbers
    "median_days_in_stage": ("Медиана дней на этапе", "Median days in stage"),
    "p90_days_in_stage": ("90% сделок, дней", "P90 days in stage"),
    "median_cycle_days": ("Медиана цикла, дней", "Median cycle, days"),
    "median_duration_days": ("Медиана длительности, дней", "Median duration, days"),
    "median_days_to_first_deal": ("Дней до сделки", "Days to first deal"),
    "median_first_response_hours": (
        "Медиана первого ответа, ч",
        "Median first response, h",
    ),
    "p90_first_response_hours": ("90% ответов, ч", "P90 first response, h"),
    "first_response_hours": ("Первый ответ, ч", "First response, h"),
    "client_minutes": ("Минут с клиентами", "Minutes with clients"),
    "duration_min": ("Минут", "Minutes"),
    "activities_per_deal": ("Дел на сделку", "Activities per deal"),
    "calls_per_won_deal": ("Звонков на выигрыш", "Calls per won deal"),
    "meetings_per_won_deal": ("Встреч на выигрыш", "Meetings per won deal"),
    "visits_per_won_deal": ("Выездов на выигрыш", "Visits per won deal"),
    "minutes_per_won_deal": ("Минут на выигрыш", "Minutes per won deal"),
    "mix_index": ("Индекс с учётом клиентов", "Mix-adjusted index"),
    "mix_index_low": ("Индекс, нижняя граница", "Index, low"),
    "mix_index_high": ("Индекс, верхняя граница", "Index, high"),
    "lift": ("Во сколько раз лучше", "Lift"),
    "lift_low": ("Лифт, нижняя граница", "Lift, low"),
    "lift_high": ("Лифт, верхняя граница", "Lift, high"),
    "ci_low": ("Нижняя граница", "Low"),
    "ci_high": ("Верхняя граница", "High"),
    "woe": ("WoE", "WoE"),
    "information_value": ("IV", "IV"),
    "bin_lower": ("От", "From"),
    "cv": ("Вариация", "Variation (CV)"),
    "own_gap_days": ("Свой интервал, дней", "Own gap, days"),
    "usual_gap_days": ("Обычный интервал, дней", "Usual gap, days"),
    "gap_ratio": ("Молчит дольше обычного, раз", "Silent × usual gap"),
    "peak_uplift": ("Рост в пик, раз", "Peak uplift"),
    "orders_per_client": ("Заказов на клиента", "Orders per client"),
    "expected_orders": ("Ожидаемые заказы", "Expected orders"),
    "recency": ("Recency, нед.", "Recency, weeks"),
    "T": ("Возраст, нед.", "Age T, weeks"),
    "quantity": ("Количество", "Quantity"),
    "retention_m1": ("Удержание: 1-й месяц", "Retention: month 1"),
    "retention_m3": ("Удержание: 3-й месяц", "Retention: month 3"),
    "retention_m6": ("Удержание: 6-й месяц", "Retention: month 6"),
    "retention_m12": ("Удержание: 12-й месяц", "Retention: month 12"),
    "subject": ("Кто / что", "Who / what"),
    "rank": ("№", "#"),
    "section": ("Раздел", "Section"),
    "metric": ("Показатель", "Metric"),
    "baseline": ("Сравнение", "Compared with"),
}

#: Money columns whose names do not end in _amount.
_MONEY = frozenset(
    [
        "revenue",
        "revenue_prev",
        "revenue_change",
        "touched_revenue",
        "baseline_revenue",
        "cost",
        "cpl",
        "cac",
        "planned_revenue",
        "plan_revenue",
        "average_check",
        "monetary",
        "monthly_revenue",
        "mean_monthly",
        "credited_owner",
        "credited_equal",
        "gain_equal",
        "historical_value",
        "expected_value",
        "expected_value_if_active",
        "expected_average_value",
        "monetary_value",
        "pipeline_velocity",
        "ltv",
        "revenue_per_client",
        "revenue_of_others",
        "impact",
        "revenue_at_stake",
        "forecast_p10",
        "forecast_p90",
    ]
)
#: Fractions shown as percentages (besides *_rate).
_PERCENT = frozenset(
    [
        "share",
        "value_share",
        "cumulative_share",
        "share_passed",
        "rest_share",
        "romi",
        "p_alive",
        "conversion_to_next",
        "conversion_from_start",
        "reach_probability",
        "win_rate_passed",
        "win_rate_skipped",
    ]
)
#: Multiples and indices (1.33).
_RATIO = frozenset(
    [
        "lift",
        "lift_low",
        "lift_high",
        "mix_index",
        "mix_index_low",
        "mix_index_high",
        "peak_uplift",
        "gap_ratio",
        "conversion",
        "cv",
        "woe",
        "information_value",
        "orders_per_client",
    ]
)
#: Whole numbers stored as floats or ranks.
_INT = frozenset(
    [
        "position",
        "period_index",
        "r_score",
        "f_score",
        "m_score",
        "rank_raw",
        "rank_adjusted",
        "peak_month",
        "cluster",
        "steps",
    ]
)


def label(column: str, lang: str) -> str:
    """The title of `column` in `lang` (a readable form of the name when uncatalogued)."""
    pair = LABELS.get(column)
    if pair is not None:
        return pair[0] if lang == "ru" else pair[1]
    text = column.replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def kind(column: str, arrow_type: object = None) -> Kind:
    """How to show `column`: money, percent, ratio, int, float, date, datetime or text.

    Decided by the column's name (the naming rules of STYLE.md: ``*_amount`` money,
    ``*_rate`` a fraction, ``*_days``/``*_hours`` durations) and, when given, its Arrow type.
    """
    import pyarrow as pa

    t = arrow_type if isinstance(arrow_type, pa.DataType) else None
    if t is not None:
        if pa.types.is_timestamp(t):
            return "datetime"
        if pa.types.is_date(t):
            return "date"
        if (
            pa.types.is_boolean(t)
            or pa.types.is_string(t)
            or pa.types.is_large_string(t)
        ):
            return "text"
    if column in _MONEY or column.endswith(("_amount", "_effect")):
        return "money"
    if column in _PERCENT or column.endswith("_rate"):
        return "percent"
    if column in _RATIO:
        return "ratio"
    if column in _INT:
        return "int"
    if t is not None and pa.types.is_integer(t):
        return "int"
    if t is not None and pa.types.is_floating(t):
        return "float"
    if column.endswith(("_days", "_hours", "_min")):
        return "float"
    if t is None and column.endswith("_count"):
        return "int"
    return "float" if t is None else "text"
