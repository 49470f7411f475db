"""Numbers, money, percentages and plural forms in Russian and English."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmlens.errors import InputError
from crmlens.insights import i18n
from crmlens.insights.rules._money import money, pct

NBSP = "\xa0"
NNBSP = "\u202f"

DEALS_RU = {
    0: "сделок",
    1: "сделка",
    2: "сделки",
    4: "сделки",
    5: "сделок",
    11: "сделок",
    12: "сделок",
    14: "сделок",
    21: "сделка",
    22: "сделки",
    25: "сделок",
    101: "сделка",
    111: "сделок",
}


@pytest.mark.parametrize(("n", "form"), sorted(DEALS_RU.items()))
def test_russian_plural_of_deals(n: int, form: str) -> None:
    assert i18n.count(n, "deal", "ru") == f"{n} {form}"
    assert i18n.plural(n, "ru", "сделка", "сделки", "сделок") == form


@pytest.mark.parametrize("n", sorted(DEALS_RU))
def test_english_plural(n: int) -> None:
    assert i18n.count(n, "deal", "en") == f"{n} {'deal' if n == 1 else 'deals'}"
    assert i18n.plural(n, "en", "day", "days", "days") == ("day" if n == 1 else "days")


def test_other_nouns_and_fractions() -> None:
    assert i18n.count(1, "client", "ru") == "1 клиент"
    assert i18n.count(3, "client", "ru") == "3 клиента"
    assert i18n.count(1234, "lead", "ru") == f"1{NBSP}234 заявки"
    assert i18n.count(1.5, "day", "ru", digits=1) == "1,5 дня"
    assert i18n.count(1.6, "deal", "ru") == "2 сделки"  # the form of the number shown
    assert i18n.count(21, "day", "ru", case="gen") == "21 дня"  # против 21 дня
    assert i18n.count(5, "day", "ru", case="gen") == "5 дней"
    assert i18n.count(1, "opportunity", "en") == "1 opportunity"


def test_numbers() -> None:
    assert i18n.fmt_number(1234567, "ru") == f"1{NBSP}234{NBSP}567"
    assert i18n.fmt_number(1234567.891, "ru", 1) == f"1{NBSP}234{NBSP}567,9"
    assert i18n.fmt_number(1234567.891, "en", 2) == "1,234,567.89"
    assert i18n.fmt_number(-0.4, "en") == "0"  # no "-0"
    assert i18n.fmt_number(2.5, "en") == "3"  # half up, as people round
    for bad in (None, float("nan"), float("inf")):
        assert i18n.fmt_number(bad, "ru") == "—"


def test_money_full_and_short() -> None:
    assert i18n.fmt_money(1234567, "ru") == f"1{NBSP}234{NBSP}567{NBSP}₽"
    assert i18n.fmt_money(1234567, "en") == f"RUB{NBSP}1,234,567"
    assert i18n.fmt_money(1234567, "en", "USD") == "$1,234,567"
    assert i18n.fmt_money(1234567, "ru", "usd") == f"1{NBSP}234{NBSP}567{NBSP}$"
    assert i18n.fmt_money(-950.5, "en", "USD") == "-$951"
    assert i18n.fmt_money_short(12_400_000, "ru") == f"12,4{NBSP}млн{NBSP}₽"
    assert i18n.fmt_money_short(12_400_000, "en") == f"RUB{NBSP}12.4M"
    assert i18n.fmt_money_short(1_478_000_000, "ru") == f"1,5{NBSP}млрд{NBSP}₽"
    assert i18n.fmt_money_short(999_950, "ru") == f"1{NBSP}млн{NBSP}₽"  # not 1000 тыс.
    assert i18n.fmt_money_short(950, "en", "USD") == "$950"
    assert i18n.fmt_money_short(-0.3, "ru") == f"0{NBSP}₽"
    assert i18n.fmt_money_short(None, "ru") == "—"


def test_percent_dates_months() -> None:
    assert i18n.fmt_pct(0.456, "ru") == f"46{NBSP}%"
    assert i18n.fmt_pct(0.456, "en") == "46%"
    assert i18n.fmt_pct(0.4567, "ru", 1) == f"45,7{NBSP}%"
    assert i18n.fmt_pct(-0.65, "en") == "-65%"
    assert i18n.fmt_date(dt.date(2025, 12, 15), "ru") == f"15 декабря 2025{NNBSP}г."
    assert i18n.fmt_date("2025-12-15", "en") == "December 15, 2025"
    assert i18n.fmt_month("2025-12", "ru") == f"декабрь 2025{NNBSP}г."
    assert i18n.fmt_month("2025-05", "ru", prep="since") == f"с мая 2025{NNBSP}г."
    assert i18n.fmt_month("2025-05", "ru", prep="before") == f"до мая 2025{NNBSP}г."
    assert i18n.fmt_month("2025-05", "en", prep="since") == "since May 2025"


def test_findings_money_delegates_to_babel() -> None:
    assert money(12_345_678, "ru") == f"12,3{NBSP}млн{NBSP}₽"
    assert money(12_345_678, "en") == f"RUB{NBSP}12.3M"
    assert money(12_345_678, "en", "USD") == "$12.3M"
    assert money(None, "ru") == money(float("nan"), "en") == "—"
    assert pct(0.456, "ru") == f"46{NBSP}%"


def test_unknown_language_is_a_clear_error() -> None:
    with pytest.raises(InputError, match="unknown language 'de'"):
        i18n.fmt_number(1, "de")


@given(st.integers(min_value=0, max_value=10**7), st.sampled_from(sorted(i18n.NOUNS)))
def test_plural_is_one_of_the_three_forms(n: int, noun: str) -> None:
    ru, en = i18n.NOUNS[noun]
    assert i18n.word(n, noun, "ru") in ru
    assert i18n.word(n, noun, "en") in en
    # the Russian rule by hand: 1, 21, 101 take one; 2-4 few; 11-14 and the rest many
    last, last2 = n % 10, n % 100
    if last == 1 and last2 != 11:
        assert i18n.word(n, noun, "ru") == ru[0]
    elif 2 <= last <= 4 and not 12 <= last2 <= 14:
        assert i18n.word(n, noun, "ru") == ru[1]
    else:
        assert i18n.word(n, noun, "ru") == ru[2]


@given(
    st.floats(min_value=-1e12, max_value=1e12, allow_nan=False),
    st.integers(min_value=0, max_value=3),
    st.sampled_from(i18n.LANGS),
)
def test_formatted_numbers_parse_back(x: float, digits: int, lang: str) -> None:
    text = i18n.fmt_number(x, lang, digits)
    expected = Decimal(str(x)).quantize(
        Decimal(1).scaleb(-digits), rounding="ROUND_HALF_UP"
    )
    assert i18n.parse_number(text, lang) == expected


@given(
    st.floats(min_value=-1e13, max_value=1e13, allow_nan=False),
    st.sampled_from(i18n.LANGS),
)
def test_short_money_never_leaks_raw_numbers(x: float, lang: str) -> None:
    text = i18n.fmt_money_short(x, lang)
    assert ("₽" in text) if lang == "ru" else ("RUB" in text)
    assert "e+" not in text
    assert "nan" not in text.lower()
    assert "1000" not in text.replace(NBSP, "")  # 999 950 is 1 млн, not 1000 тыс.
