"""Normalisers for matching CRM records: company names, phones, e-mails, sites, INNs.

Two families live here:

- plain Python functions (``company_key``, ``phone_e164``, ...) applied to the per-entity
  table that is handed to Splink (model input may be pandas, DESIGN.md);
- Ibis expressions (``inn_valid_expr``, ``phone_valid_expr``, ...) used by the quality
  checks, so that the same rules run inside DuckDB and Spark.
"""

from __future__ import annotations

import re
import unicodedata
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import ibis.expr.types as ir

#: Legal forms, longest first, matched as whole words after lower-casing and ё→е.
LEGAL_FORMS = (
    "общество с ограниченной ответственностью",
    "публичное акционерное общество",
    "закрытое акционерное общество",
    "открытое акционерное общество",
    "непубличное акционерное общество",
    "акционерное общество",
    "индивидуальный предприниматель",
    "limited liability company",
    "ооо",
    "оао",
    "зао",
    "пао",
    "нао",
    "ао",
    "ип",
    "llc",
    "ltd",
    "limited",
    "gmbh",
    "inc",
    "corp",
    "co",
    "plc",
    "ag",
    "bv",
    "nv",
    "sa",
    "oy",
    "ab",
)
_FORM_RE = re.compile(r"\b(?:" + "|".join(re.escape(f) for f in LEGAL_FORMS) + r")\b")
_PUNCT_RE = re.compile(r"[^\w\s]|_")
_SPACE_RE = re.compile(r"\s+")
_RU_LAT = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ж": "zh", "з": "z",
    "и": "i", "й": "i", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p",
    "р": "r", "с": "s", "т": "t", "у": "u", "ф": "f", "х": "h", "ц": "ts", "ч": "ch",
    "ш": "sh", "щ": "sch", "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "yu", "я": "ya",
}  # fmt: skip
_LAT_FOLD = (("kh", "h"), ("ks", "x"), ("yo", "e"), ("iy", "i"), ("yi", "i"), ("j", "i"),
             ("w", "v"), ("q", "k"), ("c", "k"), ("y", "i"))  # fmt: skip
FREE_MAIL = frozenset(
    [
        "mail.ru",
        "bk.ru",
        "inbox.ru",
        "list.ru",
        "yandex.ru",
        "ya.ru",
        "gmail.com",
        "rambler.ru",
        "outlook.com",
        "hotmail.com",
        "yahoo.com",
        "icloud.com",
    ]
)


def basic_text(text: str | None) -> str:
    """Lower case, ё→е, quotes and punctuation to spaces, single spaces."""
    if not text:
        return ""
    s = unicodedata.normalize("NFKC", str(text)).lower().replace("ё", "е")
    s = _PUNCT_RE.sub(" ", s)
    return _SPACE_RE.sub(" ", s).strip()


def translit(text: str) -> str:
    """Russian → Latin, then fold spelling variants so both scripts meet in one key."""
    s = "".join(_RU_LAT.get(ch, ch) for ch in text)
    for a, b in _LAT_FOLD:
        s = s.replace(a, b)
    return s


def strip_legal_form(text: str) -> str:
    """Drop legal forms (ООО, АО, ПАО, ИП, LLC, Ltd, GmbH, ...) from normalised text."""
    return _SPACE_RE.sub(" ", _FORM_RE.sub(" ", text)).strip()


def company_key(name: str | None) -> str:
    """The comparable form of a company name: no legal form, quotes, case; Latin script.

    Examples
    --------
    >>> company_key('ООО «Рога и Копыта»') == company_key('Roga i Kopyta LLC')
    True
    """
    return translit(strip_legal_form(basic_text(name)))


def person_key(name: str | None) -> str:
    """A person's name: normalised, transliterated, tokens sorted (order-insensitive)."""
    return " ".join(sorted(translit(basic_text(name)).split()))


def phone_e164(phone: str | None, *, country: str = "7") -> str | None:
    """A phone in E.164 (``+74951234567``); ``8…`` and 10-digit Russian numbers fixed.

    Examples
    --------
    >>> phone_e164("8 (495) 123-45-67"), phone_e164("+7 495 123 45 67")
    ('+74951234567', '+74951234567')
    """
    if not phone:
        return None
    raw = str(phone).strip()
    digits = re.sub(r"\D", "", raw)
    if len(digits) == 11 and digits[0] in "78" and not raw.startswith("+8"):
        return "+7" + digits[1:]
    if len(digits) == 10 and not raw.startswith("+"):
        return f"+{country}{digits}"
    if raw.startswith("+") and 8 <= len(digits) <= 15:
        return "+" + digits
    return None


def email_norm(email: str | None) -> str | None:
    """E-mail lower-cased and trimmed; None when it has no single ``@``."""
    if not email:
        return None
    s = str(email).strip().lower()
    return s if s.count("@") == 1 and "." in s.split("@")[1] else None


def email_domain(email: str | None) -> str | None:
    """The company domain of an e-mail; None for free mail services."""
    e = email_norm(email)
    if e is None:
        return None
    domain = e.split("@")[1]
    return None if domain in FREE_MAIL else domain


def site_domain(url: str | None) -> str | None:
    """The domain of a website (``https://www.Рога.рф/x`` → ``рога.рф``), IDN decoded."""
    if not url:
        return None
    s = str(url).strip().lower()
    s = re.sub(r"^[a-z]+://", "", s).split("/")[0].split("?")[0].split(":")[0]
    s = s.removeprefix("www.")
    if "xn--" in s:
        try:
            s = s.encode().decode("idna")
        except UnicodeError:
            return s or None
    return s if "." in s else None


def inn_valid(inn: str | None) -> bool:
    """Whether an INN has 10 or 12 digits and correct check digits."""
    if not inn:
        return False
    s = str(inn).strip()
    if not s.isdigit() or len(s) not in (10, 12):
        return False
    d = [int(c) for c in s]
    if len(s) == 10:
        return _check_digit(d, (2, 4, 10, 3, 5, 9, 4, 6, 8)) == d[9]
    return (
        _check_digit(d, (7, 2, 4, 10, 3, 5, 9, 4, 6, 8)) == d[10]
        and _check_digit(d, (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)) == d[11]
    )


def _check_digit(digits: list[int], weights: tuple[int, ...]) -> int:
    return sum(w * x for w, x in zip(weights, digits, strict=False)) % 11 % 10


def inn_norm(inn: str | None) -> str | None:
    """The INN when its checksum holds, else None (a wrong INN must not link records)."""
    s = str(inn).strip() if inn else None
    return s if s and inn_valid(s) else None


# ---- Ibis expressions for the quality checks (run on every engine) -------------------


def _digit(s: ir.StringValue, i: int) -> ir.IntegerValue:
    return s.substr(i, 1).ascii_str() - 48


def _check_expr(s: ir.StringValue, weights: tuple[int, ...]) -> ir.IntegerValue:
    total = sum(w * _digit(s, i) for i, w in enumerate(weights))
    return total % 11 % 10  # type: ignore[no-any-return, operator]


#: What ``str.strip()`` and Ibis' ``strip`` remove (``string.whitespace``), as a class of
#: a regular expression that RE2 (DuckDB) and Java (Spark) read alike (their ``\s``
#: differ on \x0b). A test folds the whitespace into its pattern instead of trimming
#: first: a trim with a character set costs DuckDB more than the pattern itself, and it
#: is repeated at every reference. Patterns end in ``\z``, not ``$``: Java's ``$`` also
#: matches before a final line break.
_WS = r"[ \t\n\r\x0b\x0c]"
_NOT_WS = r"[^ \t\n\r\x0b\x0c]"


def filled_expr(s: ir.StringValue) -> ir.BooleanValue:
    """Ibis: `s` has a character that is not whitespace (``s.strip() != ""``)."""
    return s.re_search(_NOT_WS)


def _inn_checksum(s: ir.StringValue) -> ir.BooleanValue:
    ten = _check_expr(s, (2, 4, 10, 3, 5, 9, 4, 6, 8)) == _digit(s, 9)
    twelve = (_check_expr(s, (7, 2, 4, 10, 3, 5, 9, 4, 6, 8)) == _digit(s, 10)) & (
        _check_expr(s, (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)) == _digit(s, 11)
    )
    # Only the checksum of the length found; the pattern on the right of AND (see
    # crmlens.analytics.quality_checks.Rows.tests on the order).
    length_ok = s.re_search(r"^([0-9]{10}|[0-9]{12})\z")
    return (s.length() == 10).ifelse(ten, twelve) & length_ok


def inn_valid_expr(s: ir.StringValue) -> ir.BooleanValue:
    """Ibis: the INN has 10/12 digits and its check digits hold (around whitespace)."""
    # Trimmed only when it is not bare digits: the trim would be repeated at each of the
    # 30 digit lookups.
    return s.re_search(r"^[0-9]+\z").ifelse(_inn_checksum(s), _inn_checksum(s.strip()))


#: A whole phone for :func:`phone_valid_expr`: ten digits, or eleven from 7 or 8, or with a
#: leading + eight to fifteen; spaces and ``()-.`` anywhere between them.
_PHONE = (
    rf"^{_WS}*(\+?[ ()\-.]*[78]?[ ()\-.]*([0-9][ ()\-.]*){{10}}"
    rf"|\+[ ()\-.]*([0-9][ ()\-.]*){{8,15}}){_WS}*\z"
)


def phone_valid_expr(s: ir.StringValue) -> ir.BooleanValue:
    """Ibis: a phone made of digits, spaces, ``+()-.`` that reduces to a full number
    (10 digits; 11 from 7 or 8; 8–15 after a leading +), as one regular expression —
    several times cheaper than counting the digits of a cleaned copy."""
    return s.re_search(_PHONE)


def email_valid_expr(s: ir.StringValue) -> ir.BooleanValue:
    """Ibis: one ``@``, a dotted domain, no spaces."""
    part = r"[^@ \t\n\r\x0b\x0c]"
    tld = r"[^@. \t\n\r\x0b\x0c]"
    return s.re_search(rf"^{_WS}*{part}+@{part}+\.{tld}{{2,}}{_WS}*\z")


def website_valid_expr(s: ir.StringValue) -> ir.BooleanValue:
    """Ibis: an optional scheme, a dotted host (Cyrillic allowed), an optional path."""
    host = r"(https?://)?([a-zа-яё0-9-]+\.)+[a-zа-яё0-9-]{2,}(:[0-9]+)?"
    return s.lower().re_search(f"^{_WS}*{host}(/{_NOT_WS}*)?{_WS}*\\z")
