"""Plain-words formatting of money and shares for findings (RU and EN).

Both delegate to :mod:`crmlens.insights.i18n` (Babel), so findings and the story show
numbers the same way; amounts are in the data's currency (set by the registry around each
analysis, :mod:`crmlens.insights.currency`) unless a `currency` is given.
"""

from __future__ import annotations

from crmlens.insights.currency import CURRENCY
from crmlens.insights.i18n import fmt_money, fmt_money_short, fmt_pct


def money(value: float | None, lang: str, currency: str | None = None) -> str:
    """An amount a head of sales reads at a glance: 12,3 млн ₽ / RUB 12.3M / $12.3M."""
    return fmt_money_short(value, lang, currency or CURRENCY.get())


def money_exact(value: float | None, lang: str, currency: str | None = None) -> str:
    """A whole amount in full: 1 234 567 ₽ / RUB 1,234,567 / $1,234,567."""
    return fmt_money(value, lang, currency or CURRENCY.get())


def pct(value: float | None, lang: str) -> str:
    """A fraction as a percentage: 0.456 → 46 %."""
    return fmt_pct(value, lang)


def both(fn_ru: str, fn_en: str) -> dict[str, str]:
    """A bilingual text."""
    return {"ru": fn_ru, "en": fn_en}
