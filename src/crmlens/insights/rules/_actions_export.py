"""Exports of ``crmlens actions``: an XLSX with one sheet per manager, or CSV."""

from __future__ import annotations

import csv
import json
import re
from collections import defaultdict
from pathlib import Path
from typing import Any

from crmlens.errors import InputError

COLUMNS = ("rank", "list", "kind", "account_id", "account_name", "lead_id", "deal_id",
           "product_id", "probability", "amount", "expected_value", "reason",
           "evidence")  # fmt: skip
HEADERS = {
    "ru": ("№", "список", "дело", "клиент", "название клиента", "лид", "сделка", "товар",
           "вероятность", "сумма", "ожидаемая выручка", "почему", "основание"),
    "en": COLUMNS,
}  # fmt: skip


def _cells(row: dict[str, Any], lang: str) -> list[Any]:
    out = []
    for c in COLUMNS:
        if c == "reason":
            out.append(row[f"reason_{lang}"])
        elif c == "evidence":
            ev = row["evidence"]
            out.append(
                ev if isinstance(ev, str) else json.dumps(ev, ensure_ascii=False)
            )
        else:
            out.append(row.get(c))
    return out


def write_actions(rows: list[dict[str, Any]], path: Path, lang: str = "ru") -> Path:
    """Write the items to `path`: .xlsx (a sheet per manager) or .csv (one table)."""
    suffix = path.suffix.lower()
    if suffix not in (".xlsx", ".csv"):
        raise InputError(f"--out {path}", reason="give a .xlsx or .csv file")
    path.parent.mkdir(parents=True, exist_ok=True)
    ordered = sorted(rows, key=lambda r: (r["manager_id"], r["rank"]))
    if suffix == ".csv":
        with path.open("w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(["list_date", "manager_id", "manager_name", *HEADERS[lang]])
            for r in ordered:
                w.writerow([r["list_date"], r["manager_id"], r["manager_name"],
                            *_cells(r, lang)])  # fmt: skip
        return path
    _xlsx(ordered, path, lang)
    return path


def _sheet_name(manager_id: str, name: str, used: set[str]) -> str:
    base = re.sub(r"[\[\]:*?/\\]", " ", f"{manager_id} {name}")[:31].strip()
    title, n = base, 2
    while title in used:
        title = f"{base[:28]} {n}"
        n += 1
    used.add(title)
    return title


def _xlsx(rows: list[dict[str, Any]], path: Path, lang: str) -> None:
    import xlsxwriter

    per: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        per[r["manager_id"]].append(r)
    book = xlsxwriter.Workbook(str(path))
    head = book.add_format({"bold": True, "bg_color": "#DDEBF7"})
    today = book.add_format({"bg_color": "#E2EFDA"})
    money = book.add_format({"num_format": "# ##0"})
    share = book.add_format({"num_format": "0%"})
    used: set[str] = set()
    for m in sorted(per):
        items = per[m]
        ws = book.add_worksheet(_sheet_name(m, items[0]["manager_name"] or m, used))
        ws.write_row(0, 0, HEADERS[lang], head)
        for i, r in enumerate(items, start=1):
            ws.write_row(i, 0, _cells(r, lang), today if r["list"] == "today" else None)
        ws.set_column(0, 1, 8)
        ws.set_column(2, 7, 14)
        ws.set_column(8, 8, 11, share)
        ws.set_column(9, 10, 16, money)
        ws.set_column(11, 11, 80)
        ws.set_column(12, 12, 40)
        ws.freeze_panes(1, 0)
        ws.autofilter(0, 0, len(items), len(COLUMNS) - 1)
    book.close()
