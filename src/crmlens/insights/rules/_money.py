"""Plain-words formatting of money and shares for findings (RU and EN).

Both delegate to :mod:`crmlens.insights.i18n` (Babel), so findings and the story show
numbers the same way; amounts are roubles unless a `currency` is given.
"""

from __future__ import annotations

from crmlens.insights.i18n import fmt_money_short, fmt_pct


def money(value: float | None, lang: str, currency: str = "RUB") -> str:
    """An amount a head of sales reads at a glance: 12,3 млн ₽ / RUB 12.3M / $12.3M."""
    return fmt_money_short(value, lang, currency)


def pct(value: float | None, lang: str) -> str:
    """A fraction as a percentage: 0.456 → 46 %."""
    return fmt_pct(value, lang)


def both(fn_ru: str, fn_en: str) -> dict[str, str]:
    """A bilingual text."""
    return {"ru": fn_ru, "en": fn_en}
