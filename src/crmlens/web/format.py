"""Result tables for the page: titled columns, formatted cells, sort keys, drill links.

Column titles and number kinds come from :mod:`crmlens.reports.labels` (the same as in the
reports), numbers are formatted for the language, and every number of a row that has an id
(manager, client, source, stage …) links to the drill-down of the rows behind it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from crmlens.insights.tabular import plain
from crmlens.reports.labels import kind as column_kind
from crmlens.reports.labels import label
from crmlens.web.drill import link_for

if TYPE_CHECKING:
    import pyarrow as pa

NUMERIC = ("money", "percent", "ratio", "int", "float")


@dataclass(frozen=True)
class Cell:
    """One table cell: the text shown, the value sorted on, a drill link."""

    text: str
    sort: str
    numeric: bool
    href: str | None = None


@dataclass(frozen=True)
class Column:
    """One table column: its name, title and whether it holds numbers."""

    name: str
    title: str
    numeric: bool


@dataclass(frozen=True)
class HtmlTable:
    """A result table ready for the template."""

    columns: list[Column]
    rows: list[list[Cell]]
    total: int


def html_table(
    rows: pa.Table,
    *,
    lang: str,
    params: Mapping[str, Any],
    base_query: Mapping[str, str],
    limit: int = 200,
    links: bool = True,
) -> HtmlTable:
    """The first `limit` rows of `rows` as formatted cells."""
    kinds = [column_kind(f.name, f.type) for f in rows.schema]
    columns = [
        Column(f.name, label(f.name, lang), k in NUMERIC)
        for f, k in zip(rows.schema, kinds, strict=True)
    ]
    out = []
    for record in rows.slice(0, limit).to_pylist():
        href = _href(record, params, base_query) if links else None
        out.append(
            [
                _cell(record[c.name], k, lang, href if c.numeric else None)
                for c, k in zip(columns, kinds, strict=True)
            ]
        )
    return HtmlTable(columns, out, rows.num_rows)


def _href(
    record: Mapping[str, Any], params: Mapping[str, Any], base_query: Mapping[str, str]
) -> str | None:
    found = link_for(record, params)
    if found is None:
        return None
    table, query = found
    return f"/drill/{table}?" + urlencode({**base_query, **query})


def _cell(value: Any, kind: str, lang: str, href: str | None) -> Cell:
    value = plain(value)
    if value is None:
        return Cell("—", "", kind in NUMERIC)
    if isinstance(value, bool):
        text = (
            ("да" if value else "нет") if lang == "ru" else ("yes" if value else "no")
        )
        return Cell(text, str(int(value)), False)
    if isinstance(value, (int, float)) and kind in NUMERIC:
        return Cell(fmt(value, kind, lang), repr(float(value)), True, href)
    if isinstance(value, (dict, list)):
        text = json.dumps(value, ensure_ascii=False)
        return Cell(text[:300], text[:300], False)
    return Cell(str(value), str(value), False)


def fmt(value: float, kind: str, lang: str) -> str:
    """A number as the kind of its column: money, percent, ratio, int or float."""
    if isinstance(value, float) and not math.isfinite(value):
        return "—"
    sep = "\u202f" if lang == "ru" else ","
    dec = "," if lang == "ru" else "."
    if kind == "money":
        text = _group(round(value), sep)
        return f"{text}\u00a0₽" if lang == "ru" else f"RUB\u00a0{text}"
    if kind == "percent":
        text = f"{100 * value:.1f}".replace(".", dec)
        return f"{text}\u00a0%" if lang == "ru" else f"{text}%"
    if kind == "ratio":
        return f"{value:.2f}".replace(".", dec) + "×"
    if kind == "int" or (isinstance(value, int) and not isinstance(value, bool)):
        return _group(round(value), sep)
    if abs(value) >= 1000:
        return _group(round(value), sep)
    digits = 2 if abs(value) >= 1 else 3
    return f"{value:.{digits}f}".replace(".", dec)


def _group(n: int, sep: str) -> str:
    return f"{n:,}".replace(",", sep)


def short_money(value: float | None, lang: str) -> str:
    """Money in millions or thousands: ``12,4 млн ₽`` / ``RUB 12.4M``."""
    if value is None or not math.isfinite(value):
        return "—"
    for size, ru, en in ((1e9, "млрд", "B"), (1e6, "млн", "M"), (1e3, "тыс.", "K")):
        if abs(value) >= size:
            number = f"{value / size:.1f}"
            if lang == "ru":
                return f"{number.replace('.', ',')}\u00a0{ru}\u00a0₽"
            return f"RUB\u00a0{number}{en}"
    return fmt(value, "money", lang)
