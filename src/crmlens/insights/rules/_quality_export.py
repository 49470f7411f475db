"""Exports of ``crmlens quality``: the records to fix, one XLSX sheet per manager, or CSV."""

from __future__ import annotations

import csv
import re
from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crmlens.errors import InputError
from crmlens.insights.rules._quality_text import fix, label

if TYPE_CHECKING:
    import pyarrow as pa

COLUMNS = ("check", "requirement", "table", "column", "record_id", "severity", "problem",
           "fix")  # fmt: skip


def write_export(records: pa.Table, managers: dict[str, str], kind: str,
                 out: str | None) -> str:  # fmt: skip
    """Write the failing records per manager to `out` (xlsx or csv); return the path."""
    if kind not in ("xlsx", "csv"):
        raise InputError(f"--export {kind!r}", reason="use xlsx or csv")
    path = Path(out or f"quality.{kind}")
    rows = sorted(records.to_pylist(),
                  key=lambda r: (r["manager_id"], r["check"], r["record_id"]))  # fmt: skip
    for r in rows:
        r["problem"], r["fix"] = label(r["check"], "ru"), fix(r["check"], "ru")
    if kind == "csv":
        _csv(rows, managers, path)
    else:
        _xlsx(rows, managers, path)
    return str(path)


def _csv(rows: list[dict[str, Any]], managers: dict[str, str], path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["manager_id", "manager_name", *COLUMNS])
        for r in rows:
            name = managers.get(r["manager_id"], r["manager_id"])
            w.writerow([r["manager_id"], name, *(r[c] for c in COLUMNS)])


def _sheet_name(manager_id: str, name: str, used: set[str]) -> str:
    base = re.sub(r"[\[\]:*?/\\]", " ", f"{manager_id} {name}")[:31].strip()
    title, n = base, 2
    while title in used:
        title = f"{base[:28]} {n}"
        n += 1
    used.add(title)
    return title


def _xlsx(rows: list[dict[str, Any]], managers: dict[str, str], path: Path) -> None:
    import xlsxwriter

    per: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        per[r["manager_id"]].append(r)
    book = xlsxwriter.Workbook(str(path))
    head = book.add_format({"bold": True, "bg_color": "#DDEBF7"})
    used: set[str] = set()
    for m in sorted(set(per) | set(managers)):
        ws = book.add_worksheet(_sheet_name(m, managers.get(m, m), used))
        ws.write_row(0, 0, COLUMNS, head)
        for i, r in enumerate(per.get(m, []), start=1):
            ws.write_row(i, 0, [r[c] for c in COLUMNS])
        ws.set_column(0, 0, 28)
        ws.set_column(1, 5, 14)
        ws.set_column(6, 7, 40)
        ws.freeze_panes(1, 0)
        ws.autofilter(0, 0, max(len(per.get(m, [])), 1), len(COLUMNS) - 1)
    book.close()
