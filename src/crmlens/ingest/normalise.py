"""Normalisers: SQL expressions that turn raw text into canonical typed values.

Each builder takes the SQL of a raw value and returns the SQL of the typed value (NULL when
the text cannot be read) and of the reason shown when it cannot. The expressions run inside
DuckDB over whole columns; a fast path (a plain cast) goes first, so that clean exports pay
little for the spellings that need rewriting: decimal commas, thousands separated by spaces
or no-break spaces, currency marks, ``01.03.2025 14:05`` dates, Excel serial dates, RU/EN
booleans and enumerations.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from crmlens.ingest.sql import lit
from crmlens.model import ENUM_SYNONYMS, FALSE_WORDS, TRUE_WORDS, Column

DATE_FORMATS = (
    "%d.%m.%Y %H:%M:%S",
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%dT%H:%M",
    "%Y/%m/%d",
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y",
)
SHORT_YEAR_FORMATS = ("%d.%m.%y %H:%M:%S", "%d.%m.%y %H:%M", "%d.%m.%y")
# Excel serial days 1..2958465 (1900-01-01..9999-12-31), used only when a date column holds
# a plain number; 1899-12-30 is day 0 once Excel's 1900 leap-year bug is accounted for.
EXCEL_EPOCH = "TIMESTAMP '1899-12-30'"
#: Characters trimmed from text values.
WHITESPACE = " \t\r\n\u00a0"
_IDENT = re.compile(r'"(?:[^"]|"")+"')


@dataclass(frozen=True)
class Typed:
    """SQL of a typed value and of the reason used when the raw text gives no value."""

    value: str
    reason: str


def text(raw: str, source_type: str = "VARCHAR") -> str:
    """Trimmed text, NULL for empty; whole doubles lose their ``.0`` (ids from Excel)."""
    if source_type in ("DOUBLE", "FLOAT"):
        return (
            f"CASE WHEN {raw} = trunc({raw}) AND abs({raw}) < 1e15 "
            f"THEN CAST(CAST({raw} AS BIGINT) AS VARCHAR) ELSE CAST({raw} AS VARCHAR) END"
        )
    if source_type != "VARCHAR":
        return f"CAST({raw} AS VARCHAR)"
    trimmed = f"NULLIF(trim({raw}, {lit(WHITESPACE)}), '')"
    if not _IDENT.fullmatch(raw):
        return trimmed
    # Trimming a character set copies every value; most values need none, and asking
    # the first and last character is several times cheaper than the copy.
    edges = ", ".join(str(ord(ch)) for ch in WHITESPACE)
    ends = " OR ".join(f"ends_with({raw}, {lit(ch)})" for ch in WHITESPACE)
    return (
        f"CASE WHEN ascii({raw}) IN ({edges}) OR {ends} OR {raw} = '' "
        f"THEN {trimmed} ELSE {raw} END"
    )


def number(raw: str, *, decimal_comma: bool, integer: bool = False) -> Typed:
    """A number from ``1 234 567,50``, ``1,234,567.50``, ``12,5``, ``₽ 1200``, ``-3``."""
    # Lambdas name a value once: written out, the value would be computed again in
    # every branch, and a scalar subquery is planned as a join over every row.
    slow = _number_slow(raw, decimal_comma)
    slow = f"CASE WHEN regexp_matches({raw}, '[0-9]') THEN {slow} END"
    value = f"coalesce(try_cast({raw} AS DOUBLE), {slow})"
    if integer:
        value = (
            f"list_transform([{value}], lambda n: CASE WHEN isfinite(n) AND n = trunc(n) "
            "THEN try_cast(n AS BIGINT) END)[1]"
        )
        return Typed(value, "is not a whole number (expected e.g. 2015)")
    value = f"list_transform([{value}], lambda n: CASE WHEN isfinite(n) THEN n END)[1]"
    return Typed(value, "is not a number (expected e.g. 12500 or 12 500,50)")


def _number_slow(raw: str, decimal_comma: bool) -> str:
    """Rewrite separators: unambiguous group patterns first, the file's habit decides ``1,234``."""
    c = (
        f"regexp_replace({raw}, '[\\s\u00a0\u202f\u2009''₽$€£]|руб\\.?|р\\.|rub|usd|eur',"
        " '', 'gi')"
    )
    comma_groups = (
        "replace(c, ',', '')" if not decimal_comma else "replace(c, ',', '.')"
    )
    rewritten = (
        "CASE "
        "WHEN regexp_matches(c, '^[+-]?\\d{1,3}(,\\d{3})+\\.\\d+$') THEN replace(c, ',', '') "
        "WHEN regexp_matches(c, '^[+-]?\\d{1,3}(\\.\\d{3})+,\\d+$') "
        "THEN replace(replace(c, '.', ''), ',', '.') "
        "WHEN regexp_matches(c, '^[+-]?\\d{1,3}(\\.\\d{3}){2,}$') THEN replace(c, '.', '') "
        f"WHEN regexp_matches(c, '^[+-]?\\d{{1,3}}(,\\d{{3}})+$') THEN {comma_groups} "
        "ELSE replace(c, ',', '.') END"
    )
    return f"list_transform([{c}], lambda c: try_cast({rewritten} AS DOUBLE))[1]"


def timestamp(raw: str, source_type: str = "VARCHAR") -> Typed:
    """A timestamp from ISO, ``dd.mm.yyyy[ hh:mm[:ss]]``, an Excel serial or a typed value."""
    reason = "is not a valid date (expected e.g. 01.03.2025 14:05 or 2025-03-01)"
    if source_type.startswith("TIMESTAMP WITH"):
        return Typed(f"CAST(timezone('UTC', {raw}) AS TIMESTAMP)", reason)
    if source_type.startswith(("TIMESTAMP", "DATE")):
        return Typed(f"CAST({raw} AS TIMESTAMP)", reason)
    if source_type in ("DOUBLE", "BIGINT", "INTEGER", "FLOAT"):
        return Typed(_excel(f"CAST({raw} AS DOUBLE)"), reason)
    formats = "[" + ", ".join(lit(f) for f in DATE_FORMATS) + "]"
    short = "[" + ", ".join(lit(f) for f in SHORT_YEAR_FORMATS) + "]"
    # Fast path first: a plain cast reads ISO text, but it would ignore a UTC offset, so
    # text with '+', a '-' after the date part or a trailing 'Z' takes the slow path.
    plain = (
        f"CASE WHEN strpos({raw}, '+') = 0 AND strpos(substr({raw}, 11), '-') = 0 "
        f"AND NOT ends_with({raw}, 'Z') THEN try_cast({raw} AS TIMESTAMP) END"
    )
    slow = (
        f"CASE WHEN regexp_matches({raw}, '([+-]\\d\\d:?\\d\\d|Z)$') "
        f"THEN CAST(timezone('UTC', try_cast({raw} AS TIMESTAMPTZ)) AS TIMESTAMP) "
        f"WHEN regexp_matches({raw}, '^\\d{{1,2}}\\.\\d{{1,2}}\\.\\d{{2}}(\\s|$)') "
        f"THEN try_strptime({raw}, {short}) "
        f"WHEN regexp_matches({raw}, '^\\d{{4,7}}([.,]\\d+)?$') "
        f"THEN {_excel(f'try_cast(replace({raw}, chr(44), chr(46)) AS DOUBLE)')} "
        f"ELSE try_strptime({raw}, {formats}) END"
    )
    # Every format starts with a digit: other text skips the slow parsers.
    value = (
        f"coalesce({plain}, CASE WHEN ascii({raw}) BETWEEN 48 AND 57 THEN {slow} END)"
    )
    return Typed(value, reason)


def _excel(days: str) -> str:
    return (
        f"CASE WHEN {days} BETWEEN 1 AND 2958465 THEN {EXCEL_EPOCH} + "
        f"to_microseconds(CAST(round({days} * 86400000000) AS BIGINT)) END"
    )


def date(raw: str, source_type: str = "VARCHAR") -> Typed:
    """A date: the day of :func:`timestamp`."""
    ts = timestamp(raw, source_type)
    return Typed(f"CAST({ts.value} AS DATE)", ts.reason)


def boolean(raw: str, source_type: str = "VARCHAR") -> Typed:
    """A boolean from да/нет, yes/no, true/false, 1/0."""
    if source_type == "BOOLEAN":
        return Typed(raw, "")
    low = f"lower(trim(CAST({raw} AS VARCHAR)))"
    yes = ", ".join(lit(w) for w in TRUE_WORDS)
    no = ", ".join(lit(w) for w in FALSE_WORDS)
    value = (
        f"CASE CAST({raw} AS VARCHAR) WHEN 'true' THEN true WHEN 'false' THEN false ELSE "
        f"CASE WHEN {low} IN ({yes}) THEN true WHEN {low} IN ({no}) THEN false END END"
    )
    return Typed(value, "is not yes/no (expected да/нет, yes/no, true/false or 1/0)")


def enumeration(raw: str, column: Column) -> Typed:
    """A value of a closed list, accepting the RU/EN synonyms of model.ENUM_SYNONYMS."""
    synonyms = {v: v for v in column.values}
    synonyms.update(
        {
            k: v
            for k, v in ENUM_SYNONYMS.get(column.name, {}).items()
            if v in column.values
        }
    )
    low = f"lower(trim({raw}))"
    cases = " ".join(
        f"WHEN {lit(k)} THEN {lit(v)}" for k, v in sorted(synonyms.items())
    )
    allowed = "/".join(column.values)
    # Values already spelt as in the model skip the synonym list.
    exact = ", ".join(lit(v) for v in column.values)
    value = f"CASE WHEN {raw} IN ({exact}) THEN {raw} ELSE CASE {low} {cases} END END"
    return Typed(value, f"is not one of {allowed}")


def typed(
    raw: str,
    column: Column,
    *,
    source_type: str,
    decimal_comma: bool,
    clean: bool = False,
) -> Typed:
    """The typed value of canonical `column` from a raw expression of `source_type`.

    `clean` says that a VARCHAR `raw` is already :func:`text` (trimmed, NULL for empty).
    """
    src = raw if clean and source_type == "VARCHAR" else text(raw, source_type)
    if column.values:
        return enumeration(src, column)
    if column.type == "string":
        return Typed(src, "")
    if column.type in ("int", "float"):
        if source_type in (
            "DOUBLE",
            "BIGINT",
            "INTEGER",
            "FLOAT",
            "SMALLINT",
            "HUGEINT",
        ):
            target = "BIGINT" if column.type == "int" else "DOUBLE"
            return Typed(f"try_cast({raw} AS {target})", "is not a number")
        return number(src, decimal_comma=decimal_comma, integer=column.type == "int")
    if column.type == "bool":
        return boolean(src if source_type == "VARCHAR" else raw, source_type)
    if column.type == "date":
        return date(src if source_type == "VARCHAR" else raw, source_type)
    return timestamp(src if source_type == "VARCHAR" else raw, source_type)
