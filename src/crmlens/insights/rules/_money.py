"""Plain-words formatting of money and shares for findings (RU and EN)."""

from __future__ import annotations

import math


def money(value: float | None, lang: str) -> str:
    """Roubles in words a head of sales reads at a glance: 12.3 M RUB / 12,3 млн ₽."""
    if value is None or not math.isfinite(value):
        return "—"
    v = float(value)
    if abs(v) >= 1e6:
        num, unit = v / 1e6, ("млн ₽" if lang == "ru" else "M RUB")
    elif abs(v) >= 1e3:
        num, unit = v / 1e3, ("тыс. ₽" if lang == "ru" else "k RUB")
    else:
        num, unit = v, ("₽" if lang == "ru" else "RUB")
    text = f"{num:,.1f}" if abs(num) < 100 else f"{num:,.0f}"
    if lang == "ru":
        text = text.replace(",", " ").replace(".", ",")
    return f"{text} {unit}"


def pct(value: float | None, lang: str) -> str:
    """A fraction as a percentage: 0.456 → 46 %."""
    if value is None or not math.isfinite(value):
        return "—"
    return f"{value * 100:.0f} %" if lang == "ru" else f"{value * 100:.0f}%"


def both(fn_ru: str, fn_en: str) -> dict[str, str]:
    """A bilingual text."""
    return {"ru": fn_ru, "en": fn_en}
