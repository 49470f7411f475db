"""Table cells as people read them, in Russian or English (HTML and PDF tables).

Numbers go through :mod:`crmlens.insights.i18n` (Babel), so a report shows ``1 234 567 ₽``
and ``36,5 %`` in Russian and ``RUB 1,234,567`` and ``36.5%`` in English, like the story.

>>> fmt_cell(0.365, "percent", "ru").replace("\\xa0", " ")
'36,5 %'
>>> fmt_cell(1234567.4, "money", "en").replace("\\xa0", " ")
'RUB 1,234,567'
>>> fmt_cell(None, "int", "en")
'—'
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from crmlens.insights import i18n

NUMERIC = frozenset({"money", "percent", "int", "float", "ratio"})
LIGHT_NAMES = {
    "green": ("зелёный", "green"),
    "yellow": ("жёлтый", "yellow"),
    "red": ("красный", "red"),
    "none": ("нет плана", "no target"),
}
STATUS_NAMES = {
    "active": ("активен", "active"),
    "late": ("задерживается", "late"),
    "at_risk": ("под угрозой", "at risk"),
    "silent": ("молчит", "silent"),
    "lost": ("ушёл", "lost"),
}
REQUIREMENT_NAMES = {
    "uniqueness": ("уникальность", "uniqueness"),
    "accuracy": ("точность", "accuracy"),
    "interconnectedness": ("связность", "interconnectedness"),
    "completeness": ("полнота", "completeness"),
    "consistency": ("согласованность", "consistency"),
    "process": ("соблюдение процесса", "process"),
    "accessibility": ("доступность", "accessibility"),
    "timeliness": ("своевременность", "timeliness"),
    "relevance": ("актуальность", "relevance"),
    "reliability": ("достоверность", "reliability"),
}
SEVERITY_NAMES = {
    "high": ("высокая", "high"),
    "medium": ("средняя", "medium"),
    "low": ("низкая", "low"),
}


def fmt_cell(value: Any, kind: str, lang: str, currency: str = "RUB") -> str:
    """`value` of a column of `kind` as text in `lang`."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return i18n.DASH
    if isinstance(value, bool):
        return (
            ("да" if value else "нет") if lang == "ru" else ("yes" if value else "no")
        )
    if kind == "money":
        return i18n.fmt_money(value, lang, currency)
    if kind == "percent":
        return i18n.fmt_pct(value, lang, 1)
    if kind == "ratio":
        return i18n.fmt_number(value, lang, 2)
    if kind == "int":
        return i18n.fmt_number(value, lang, 0)
    if kind == "float":
        return i18n.fmt_number(value, lang, 1)
    if isinstance(value, dt.datetime):
        return value.strftime("%d.%m.%Y %H:%M" if lang == "ru" else "%Y-%m-%d %H:%M")
    if isinstance(value, dt.date):
        return value.strftime("%d.%m.%Y" if lang == "ru" else "%Y-%m-%d")
    return str(value)


#: Columns whose values are codes, and the words for them.
CODED = {
    "light": LIGHT_NAMES,
    "severity": SEVERITY_NAMES,
    "status": STATUS_NAMES,
    "requirement": REQUIREMENT_NAMES,
}


def fmt_text(column: str, value: Any, lang: str) -> str:
    """Coded text values in words: plan lights, severities, client statuses, requirements."""
    names = CODED.get(column)
    if names is not None and value in names:
        ru, en = names[value]
        return ru if lang == "ru" else en
    return fmt_cell(value, "text", lang)


def css_class(column: str, kind: str, value: Any) -> str:
    """The CSS class of a cell: numbers right-aligned, lights and severities coloured."""
    if column == "light" and value in LIGHT_NAMES:
        return f"light light-{value}"
    if column == "severity" and value in SEVERITY_NAMES:
        return f"sev sev-{value}"
    if kind in NUMERIC:
        return "num"
    return "wide" if column in ("text", "action", "variant", "worst_checks") else ""
