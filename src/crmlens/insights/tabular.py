"""Result rows as plain records, the JSON envelope, CSV and XLSX — for the CLI and the web.

One implementation for every interface above this layer: ``crmlens NAME --format
json|csv`` (:mod:`crmlens.cli.render`), the JSON API and the CSV/XLSX downloads of the
web app.

- :func:`plain` makes a value JSON-friendly (ISO dates, None for NaN, floats for decimals);
  :func:`records` makes rows (Arrow, pandas or dicts) plain dicts.
- :func:`envelope` is the one JSON shape: ``{"analysis", "params", "rows", "findings"}``.
- :func:`to_csv` writes records as CSV text; ``spreadsheet=True`` is the download form
  (a BOM so Excel reads the letters right, CRLF line ends, and text that would start a
  formula prefixed with an apostrophe). :func:`csv_file` and :func:`xlsx_file` are the
  downloads of an Arrow table (XLSX: the rows, and the findings on a second sheet).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pyarrow as pa

BOM = "\ufeff"
#: The first characters that make a spreadsheet read a text cell as a formula.
FORMULA_START = ("=", "+", "-", "@")


def plain(value: Any) -> Any:
    """A JSON-friendly value: ISO dates, None for NaN/inf, floats for decimals.

    Datetimes with a zone are given in UTC without it; durations in seconds; mappings
    with text keys; sets and tuples as lists; numpy scalars as Python values; anything
    else as its text.
    """
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return value.isoformat(sep=" ")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [plain(v) for v in value]
    if hasattr(value, "item"):  # numpy scalar
        return plain(value.item())
    return str(value)


def records(rows: Any) -> list[dict[str, Any]]:
    """Rows of an Arrow table, a pandas DataFrame or an iterable of dicts, made plain."""
    if rows is None:
        return []
    if hasattr(rows, "to_pylist"):
        data = rows.to_pylist()
    elif hasattr(rows, "to_dict"):
        data = rows.to_dict("records")
    else:
        data = list(rows)
    return [{k: plain(v) for k, v in r.items()} for r in data]


def envelope(
    analysis: str,
    params: Mapping[str, Any],
    rows: list[dict[str, Any]],
    findings: Sequence[Mapping[str, Any]] = (),
    **extra: Any,
) -> dict[str, Any]:
    """The JSON envelope of every command and of the API."""
    return {
        "analysis": analysis,
        "params": plain(dict(params)),
        "rows": rows,
        "findings": [plain(dict(f)) for f in findings],
        **plain(extra),
    }


def to_csv(
    rows: Sequence[Mapping[str, Any]],
    columns: Sequence[str] | None = None,
    *,
    spreadsheet: bool = False,
) -> str:
    """Plain records as CSV text, a header first.

    The columns are `columns`, or the keys of the first row (then no rows give empty
    text). Lists and mappings in a cell are written as JSON. ``spreadsheet=True``: a BOM,
    CRLF line ends and no formulas from data cells (see the module docstring).
    """
    if columns is None:
        if not rows:
            return ""
        columns = list(rows[0])
    buffer = io.StringIO()
    writer = csv.DictWriter(
        buffer, fieldnames=columns, lineterminator="\r\n" if spreadsheet else "\n"
    )
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _csv_cell(v, spreadsheet) for k, v in row.items()})
    text = buffer.getvalue()
    return BOM + text if spreadsheet else text


def _csv_cell(value: Any, spreadsheet: bool) -> Any:
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    if not spreadsheet or value is None:
        return value
    text = str(value)
    if text.startswith(FORMULA_START) and not _is_number(text):
        return "'" + text  # no formulas from data cells in a spreadsheet
    return value


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def csv_file(rows: pa.Table) -> bytes:
    """An Arrow table as a CSV download (UTF-8 with a BOM, see :func:`to_csv`)."""
    return to_csv(records(rows), rows.column_names, spreadsheet=True).encode("utf-8")


def xlsx_file(
    rows: pa.Table,
    *,
    sheet: str,
    findings: Iterable[Mapping[str, Any]] | None = None,
    lang: str,
) -> bytes:
    """An Arrow table (and its findings, on a second sheet) as an XLSX workbook."""
    import xlsxwriter

    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(
        buffer,
        {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False},
    )
    bold = book.add_format({"bold": True})
    data = book.add_worksheet(_sheet_name(sheet))
    data.write_row(0, 0, rows.column_names, bold)
    for i, record in enumerate(records(rows), start=1):
        data.write_row(i, 0, [_xlsx_cell(v) for v in record.values()])
    data.freeze_panes(1, 0)
    found = list(findings or ())
    if found:
        sheet_f = book.add_worksheet("findings" if lang == "en" else "выводы")
        sheet_f.write_row(0, 0, ["severity", "impact", "text", "action"], bold)
        for i, f in enumerate(found, start=1):
            cells = [f["severity"], f["impact"], f["text"][lang], f["action"][lang]]
            sheet_f.write_row(i, 0, [_xlsx_cell(plain(v)) for v in cells])
    book.close()
    return buffer.getvalue()


def _xlsx_cell(value: Any) -> Any:
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return value


def _sheet_name(name: str) -> str:
    cleaned = "".join(c for c in name if c not in "[]:*?/\\")
    return (cleaned or "rows")[:31]
