"""Numbers, money, percentages, dates and plural forms in Russian and English (Babel).

Every text a person reads (findings, the story of ``crmlens insights``, reports, alerts)
formats its numbers here, so that Russian gets ``1 234 567 ₽``, ``12,4 млн ₽``, ``46 %``
and ``5 сделок`` and English ``RUB 1,234,567``, ``RUB 12.4M``, ``46%`` and ``5 deals``.
Grouping and decimal signs, currency symbols and their places are Babel's (CLDR); the
no-break spaces Babel puts in Russian numbers stay, so a number never wraps in the middle.

>>> fmt_money(1234567, "ru").replace("\\xa0", " ")
'1 234 567 ₽'
>>> fmt_money(1234567, "en").replace("\\xa0", " ")
'RUB 1,234,567'
>>> [count(n, "deal", "ru") for n in (1, 2, 5, 21, 11)]
['1 сделка', '2 сделки', '5 сделок', '21 сделка', '11 сделок']
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from typing import TYPE_CHECKING, Literal

from crmlens.errors import InputError

if TYPE_CHECKING:
    from babel import Locale

Lang = Literal["ru", "en"]
LANGS: tuple[Lang, ...] = ("ru", "en")
NBSP = "\xa0"
NNBSP = "\u202f"  # the narrow no-break space CLDR puts before «г.» in Russian dates
YEAR = NNBSP + "'г.'"
DASH = "—"

# Nouns for :func:`count`: ru (one, few, many), en (one, other).
NOUNS: dict[str, tuple[tuple[str, str, str], tuple[str, str]]] = {
    "deal": (("сделка", "сделки", "сделок"), ("deal", "deals")),
    "lead": (("заявка", "заявки", "заявок"), ("lead", "leads")),
    "client": (("клиент", "клиента", "клиентов"), ("client", "clients")),
    "manager": (("менеджер", "менеджера", "менеджеров"), ("manager", "managers")),
    "region": (("регион", "региона", "регионов"), ("region", "regions")),
    "team": (("команда", "команды", "команд"), ("team", "teams")),
    "campaign": (("кампания", "кампании", "кампаний"), ("campaign", "campaigns")),
    "source": (("источник", "источника", "источников"), ("source", "sources")),
    "order": (("заказ", "заказа", "заказов"), ("order", "orders")),
    "call": (("звонок", "звонка", "звонков"), ("call", "calls")),
    "task": (("задача", "задачи", "задач"), ("task", "tasks")),
    "day": (("день", "дня", "дней"), ("day", "days")),
    "hour": (("час", "часа", "часов"), ("hour", "hours")),
    "month": (("месяц", "месяца", "месяцев"), ("month", "months")),
    "problem": (("проблема", "проблемы", "проблем"), ("problem", "problems")),
    "finding": (("вывод", "вывода", "выводов"), ("finding", "findings")),
    "check": (("проверка", "проверки", "проверок"), ("check", "checks")),
    "attribute": (("признак", "признака", "признаков"), ("attribute", "attributes")),
    "segment": (("сегмент", "сегмента", "сегментов"), ("segment", "segments")),
    "pipeline": (("воронка", "воронки", "воронок"), ("pipeline", "pipelines")),
    "stage": (("этап", "этапа", "этапов"), ("stage", "stages")),
    "step": (("шаг", "шага", "шагов"), ("step", "steps")),
    "product": (("товар", "товара", "товаров"), ("product", "products")),
    "item": (("пункт", "пункта", "пунктов"), ("item", "items")),
    "analysis": (("анализ", "анализа", "анализов"), ("analysis", "analyses")),
    "opportunity": (
        ("возможность", "возможности", "возможностей"),
        ("opportunity", "opportunities"),
    ),
}


def check_lang(lang: str) -> Lang:
    """`lang` itself when it is ru or en; an :class:`InputError` otherwise."""
    if lang not in LANGS:
        raise InputError(f"unknown language {lang!r}", reason="use ru or en")
    return lang  # type: ignore[return-value]


@lru_cache(maxsize=4)
def _locale(lang: str) -> Locale:
    from babel import Locale

    return Locale.parse(check_lang(lang))


def _finite(x: float | int | Decimal | None) -> bool:
    return x is not None and not (isinstance(x, float) and not math.isfinite(x))


def fmt_number(x: float | int | Decimal | None, lang: str, digits: int = 0) -> str:
    """`x` with the locale's grouping and exactly `digits` decimals; ``—`` for none.

    >>> fmt_number(1234567.891, "ru", 1).replace("\\xa0", " ")
    '1 234 567,9'
    >>> fmt_number(1234567.891, "en", 2)
    '1,234,567.89'
    """
    if not _finite(x):
        return DASH
    from babel.numbers import format_decimal

    pattern = "#,##0" + ("." + "0" * digits if digits > 0 else "")
    return format_decimal(_round(x, digits), format=pattern, locale=_locale(lang))


def _round(x: float | int | Decimal | None, digits: int) -> Decimal:
    value = Decimal(str(x)).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)
    return value if value else Decimal(0).quantize(value)  # no "-0"


def parse_number(text: str, lang: str) -> Decimal:
    """The number a :func:`fmt_number` text shows (its inverse, for checks and input)."""
    from babel.numbers import parse_decimal

    return parse_decimal(text, locale=_locale(lang), strict=False)


def _with_spacing(text: str, symbol: str) -> str:
    """CLDR currency spacing: a letter symbol next to a digit gets a no-break space."""
    i = text.find(symbol) if symbol else -1
    if i < 0:
        return text
    after = i + len(symbol)
    if after < len(text) and text[after].isdigit() and symbol[-1].isalpha():
        text = text[:after] + NBSP + text[after:]
    if i > 0 and text[i - 1].isdigit() and symbol[0].isalpha():
        text = text[:i] + NBSP + text[i:]
    return text


def currency_symbol(currency: str, lang: str) -> str:
    """The symbol Babel uses for `currency` in `lang`: ₽ in ru, RUB in en, $ in both."""
    from babel.numbers import get_currency_symbol

    return get_currency_symbol(currency.upper(), locale=_locale(lang))


def fmt_money(
    x: float | int | Decimal | None, lang: str, currency: str = "RUB", digits: int = 0
) -> str:
    """A whole amount in the locale's own currency format: ``1 234 567 ₽``, ``$1,234,567``.

    >>> fmt_money(1234567, "ru", "USD").replace("\\xa0", " ")
    '1 234 567 $'
    >>> fmt_money(-950.5, "en", "USD")
    '-$951'
    """
    if not _finite(x):
        return DASH
    from babel.numbers import format_currency

    loc, cur = _locale(lang), (currency or "RUB").upper()
    pattern = loc.currency_formats["standard"].pattern.split(";")[0]
    frac = "." + "0" * digits if digits > 0 else ""
    pattern = pattern.replace("#,##0.00", "#,##0" + frac)
    text = format_currency(
        _round(x, digits), cur, format=pattern, locale=loc, currency_digits=False
    )
    return _with_spacing(text, currency_symbol(cur, lang))


def fmt_money_short(
    x: float | int | Decimal | None, lang: str, currency: str = "RUB"
) -> str:
    """A compact amount a head of sales reads at a glance: ``12,4 млн ₽``, ``RUB 12.4M``.

    >>> fmt_money_short(12_400_000, "ru").replace("\\xa0", " ")
    '12,4 млн ₽'
    >>> fmt_money_short(1_478_000_000, "en", "USD")
    '$1.5B'
    >>> fmt_money_short(950, "ru").replace("\\xa0", " ")
    '950 ₽'
    """
    if not _finite(x):
        return DASH
    from babel.numbers import format_compact_currency

    cur = (currency or "RUB").upper()
    v = _compact_round(float(x))  # type: ignore[arg-type]
    digits = 0 if abs(v) < 1000 or _mantissa(v)[0] >= 100 else 1
    text = format_compact_currency(v, cur, locale=_locale(lang), fraction_digits=digits)
    return _with_spacing(text, currency_symbol(cur, lang))


def _mantissa(v: float) -> tuple[float, float]:
    """|v| as mantissa × unit (unit 1, 1e3, 1e6, …)."""
    a = abs(v)
    for unit in (1e12, 1e9, 1e6, 1e3):
        if a >= unit:
            return a / unit, unit
    return a, 1.0


def _compact_round(v: float) -> float:
    """`v` rounded as the compact form shows it (999 950 → 1 000 000, not 1000 thousand)."""
    m, unit = _mantissa(v)
    shown = round(m, 0 if m >= 100 or unit == 1 else 1)
    if shown >= 1000 and unit < 1e12:
        shown, unit = 1.0, unit * 1000
    return math.copysign(shown * unit, v) if shown else 0.0


def fmt_pct(share: float | None, lang: str, digits: int = 0) -> str:
    """A share (0..1) as a percentage: ``46 %`` in ru, ``46%`` in en.

    >>> fmt_pct(0.456, "ru").replace("\\xa0", " "), fmt_pct(0.456, "en", 1)
    ('46 %', '45.6%')
    """
    if not _finite(share):
        return DASH
    from babel.numbers import format_percent

    loc = _locale(lang)
    pattern = loc.percent_formats[None].pattern.split(";")[0]
    pattern = pattern.replace("#,##0", "#,##0" + ("." + "0" * digits if digits else ""))
    value = _round(Decimal(str(share)) * 100, digits) / 100
    return format_percent(value, format=pattern, locale=loc)


def fmt_ratio(x: float | None, lang: str, digits: int = 1) -> str:
    """A multiple: ``1,6×`` / ``1.6×``."""
    if not _finite(x):
        return DASH
    return f"{fmt_number(x, lang, digits)}×"


def fmt_date(day: dt.date | str | None, lang: str) -> str:
    """A day in words: ``15 декабря 2025 г.`` / ``December 15, 2025``."""
    if day is None:
        return DASH
    from babel.dates import format_date

    if isinstance(day, str):
        day = dt.date.fromisoformat(day[:10])
    return format_date(day, format="long", locale=_locale(lang))


def fmt_month(
    month: dt.date | str | None,
    lang: str,
    *,
    prep: Literal["since", "before"] | None = None,
) -> str:
    """A month: ``декабрь 2025 г.`` / ``December 2025``; with `prep` ``с мая 2025 г.``.

    >>> fmt_month("2025-05", "ru", prep="since").replace(NNBSP, " ")
    'с мая 2025 г.'
    >>> fmt_month("2025-05", "en", prep="before")
    'before May 2025'
    """
    if month is None:
        return DASH
    from babel.dates import format_date

    if isinstance(month, str):
        month = dt.date.fromisoformat(month[:7] + "-01")
    loc = _locale(lang)
    if lang == "ru":
        if prep:  # the genitive ("MMMM" is the format context in CLDR ru)
            word = {"since": "с", "before": "до"}[prep]
            return f"{word} " + format_date(month, format=f"MMMM y{YEAR}", locale=loc)
        return format_date(month, format=f"LLLL y{YEAR}", locale=loc)
    text = format_date(month, format="LLLL y", locale=loc)
    return f"{prep} {text}" if prep else text


def plural_form(n: float | int | Decimal, lang: str) -> str:
    """CLDR plural category of `n`: one, few, many or other."""
    value: float | Decimal = abs(n) if isinstance(n, Decimal) else abs(float(n))
    return str(_locale(lang).plural_form(value))


def plural(n: float | int | Decimal, lang: str, one: str, few: str, many: str) -> str:
    """The form of a word for `n`: ru one/few/many (fractions take few), en one/other.

    In English `few` and `many` are the same plural; ``many`` is used.

    >>> [plural(n, "ru", "день", "дня", "дней") for n in (1, 3, 5, 11, 21, 1.5)]
    ['день', 'дня', 'дней', 'дней', 'день', 'дня']
    >>> plural(1, "en", "day", "days", "days"), plural(0, "en", "day", "days", "days")
    ('day', 'days')
    """
    form = plural_form(n, lang)
    if form == "one":
        return one
    if lang == "ru":
        return few if form in ("few", "other") else many
    return many


def word(
    n: float | int | Decimal, noun: str, lang: str, case: Literal["nom", "gen"] = "nom"
) -> str:
    """The form of the catalogued `noun` for `n`, without the number.

    ``case="gen"`` gives the Russian genitive after a preposition such as «против»:
    ``против 21 дня``, ``против 5 дней`` (the few-form is also the genitive singular).
    """
    ru, en = NOUNS[noun]
    if lang != "ru":
        return en[0] if plural_form(n, lang) == "one" else en[1]
    if case == "gen":
        form = plural_form(n, lang)
        return ru[1] if form in ("one", "other") else ru[2]
    return plural(n, lang, *ru)


def count(
    n: float | int | Decimal,
    noun: str,
    lang: str,
    digits: int = 0,
    case: Literal["nom", "gen"] = "nom",
) -> str:
    """`n` with the catalogued `noun`: ``5 сделок``, ``1 deal``, ``1 234 заявки``.

    The word agrees with the number as shown (1.6 shown as 2 takes the form of 2).

    >>> count(21, "day", "ru", case="gen"), count(3, "day", "ru", case="gen")
    ('21 дня', '3 дней')
    """
    shown = _round(n, digits)
    return f"{fmt_number(shown, lang, digits)} {word(shown, noun, lang, case)}"
