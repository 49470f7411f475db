"""Rows as JSON-ready records, CSV and XLSX, and cells as people read them.

The JSON records are those of the CLI's ``--format json`` (ISO dates, None for NaN), so the
API and the CLI return the same envelope. CSV is UTF-8 with a BOM (Excel opens it with the
right letters); XLSX has one sheet of rows and, when there are findings, a second one.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
from decimal import Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pyarrow as pa


def plain(value: Any) -> Any:
    """A JSON-friendly value: ISO dates, None for NaN/inf, floats for decimals."""
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


def records(rows: pa.Table | None) -> list[dict[str, Any]]:
    """The rows of an Arrow table as plain dicts."""
    if rows is None:
        return []
    return [{k: plain(v) for k, v in r.items()} for r in rows.to_pylist()]


def envelope(
    analysis: str,
    params: dict[str, Any],
    rows: list[dict[str, Any]],
    findings: list[dict[str, Any]],
) -> dict[str, Any]:
    """The JSON envelope of the CLI and the API."""
    return {
        "analysis": analysis,
        "params": plain(params),
        "rows": rows,
        "findings": [plain(f) for f in findings],
    }


def to_csv(rows: pa.Table) -> bytes:
    """Rows as CSV bytes (UTF-8 with BOM, header first)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(rows.column_names)
    for record in records(rows):
        writer.writerow([_cell_text(v) for v in record.values()])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _cell_text(value: Any) -> Any:
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    if value is None:
        return ""
    text = str(value)
    if text[:1] in ("=", "+", "-", "@") and not _is_number(text):
        return "'" + text  # no formulas from data cells in a spreadsheet
    return value


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def to_xlsx(
    rows: pa.Table,
    *,
    sheet: str,
    findings: list[dict[str, Any]] | None = None,
    lang: str,
) -> bytes:
    """Rows (and findings) as an XLSX workbook."""
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
    if findings:
        sheet_f = book.add_worksheet("findings" if lang == "en" else "выводы")
        sheet_f.write_row(0, 0, ["severity", "impact", "text", "action"], bold)
        for i, f in enumerate(findings, start=1):
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
