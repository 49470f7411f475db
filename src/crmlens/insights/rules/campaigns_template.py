"""The empty campaigns table for marketers: canonical columns, one header row."""

from __future__ import annotations

import csv
from pathlib import Path

from crmlens.model import TABLES

HINTS = {
    "campaign_id": "C01",
    "tag": "ctx_spring_2025",
    "started_at": "2025-03-01",
    "ended_at": "2025-05-31",
    "cost": "500000",
}


def template_columns() -> list[str]:
    """Columns of the canonical campaigns table, in contract order."""
    return TABLES["campaigns"].column_names


def write_template(path: Path, fmt: str = "xlsx") -> Path:
    """Write an empty campaigns sheet (xlsx via xlsxwriter, or csv) to `path`."""
    cols = template_columns()
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "csv":
        with path.open("w", newline="", encoding="utf-8") as fh:
            csv.writer(fh).writerow(cols)
        return path
    import xlsxwriter

    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("campaigns")
    bold = book.add_format({"bold": True, "bg_color": "#DDEBF7"})
    required = set(TABLES["campaigns"].required)
    for i, col in enumerate(cols):
        sheet.write(0, i, col, bold)
        sheet.set_column(i, i, max(14, len(col) + 2))
        hint = HINTS.get(col, "")
        note = ("required; " if col in required else "") + (
            f"e.g. {hint}" if hint else ""
        )
        if note:
            sheet.write_comment(0, i, note)
    sheet.freeze_panes(1, 0)
    book.close()
    return path
