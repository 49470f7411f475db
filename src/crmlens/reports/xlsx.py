"""The XLSX report (xlsxwriter): the findings sheet first, then one sheet per section.

Every sheet has a frozen, filtered header row and number formats by column (money, percent,
dates); the plan sheet colours its traffic lights with conditional formatting. Section
sheets hold all the rows of the analysis, not only the top ones the HTML shows.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import TYPE_CHECKING, Any

from crmlens.reports.cells import LIGHT_NAMES, SEVERITY_NAMES
from crmlens.reports.labels import kind, label

if TYPE_CHECKING:
    from pathlib import Path

    import pyarrow as pa
    from xlsxwriter.workbook import Workbook
    from xlsxwriter.worksheet import Worksheet

    from crmlens.reports.build import Report, Section

#: Excel holds 1,048,576 rows; a section sheet stops before that.
MAX_ROWS = 1_000_000
LIGHT_FILLS = {"green": "#C6EFCE", "yellow": "#FFEB9C", "red": "#FFC7CE"}
LIGHT_FONTS = {"green": "#006100", "yellow": "#9C5700", "red": "#9C0006"}


def write_xlsx(report: Report, path: Path) -> Path:
    """Write the report as an XLSX workbook to `path`."""
    import xlsxwriter

    wb = xlsxwriter.Workbook(
        str(path), {"remove_timezone": True, "strings_to_numbers": False}
    )
    wb.set_properties(
        {"title": report.title, "subject": report.subtitle, "author": "crmlens"}
    )
    fmts = _formats(wb, report)
    names: set[str] = set()
    _findings_sheet(
        wb, report, fmts, _sheet_name(report.t("Выводы", "Findings"), names)
    )
    for s in report.sections:
        _section_sheet(wb, report, s, fmts, _sheet_name(s.title, names))
    _about_sheet(wb, report, fmts, _sheet_name(report.t("О отчёте", "About"), names))
    wb.close()
    return path


def _formats(wb: Workbook, report: Report) -> dict[str, Any]:
    ru = report.lang == "ru"
    symbol = _currency_symbol(report.story.currency, report.lang)
    money = f'#,##0 "{symbol}"' if ru else f'"{symbol}" #,##0'
    base = {"font_name": "Arial", "font_size": 10}
    return {
        "header": wb.add_format({**base, "bold": True, "bg_color": "#E8EEF4", "bottom": 2,
                                 "text_wrap": True, "valign": "top"}),
        "title": wb.add_format({**base, "bold": True, "font_size": 14}),
        "headline": wb.add_format({**base, "bold": True, "text_wrap": True}),
        "money": wb.add_format({**base, "num_format": money}),
        "percent": wb.add_format({**base, "num_format": "0.0%"}),
        "int": wb.add_format({**base, "num_format": "#,##0"}),
        "float": wb.add_format({**base, "num_format": "#,##0.0"}),
        "ratio": wb.add_format({**base, "num_format": "0.00"}),
        "date": wb.add_format({**base, "num_format": "dd.mm.yyyy" if ru else "yyyy-mm-dd"}),
        "datetime": wb.add_format(
            {**base, "num_format": "dd.mm.yyyy hh:mm" if ru else "yyyy-mm-dd hh:mm"}
        ),
        "text": wb.add_format(base),
        "wrap": wb.add_format({**base, "text_wrap": True, "valign": "top"}),
        **{
            f"light_{k}": wb.add_format({**base, "bg_color": v, "font_color": LIGHT_FONTS[k]})
            for k, v in LIGHT_FILLS.items()
        },
    }  # fmt: skip


def _currency_symbol(currency: str, lang: str) -> str:
    from crmlens.insights.i18n import currency_symbol

    try:
        return currency_symbol(currency, lang)
    except Exception:  # an unknown code: show the code itself
        return currency


def _sheet_name(title: str, taken: set[str]) -> str:
    """A valid, unique sheet name: no []:*?/\\, at most 31 characters."""
    text = re.sub(r"\s*:\s*", " - ", title)
    text = re.sub(r"[\[\]*?/\\]", " ", text)
    base = re.sub(r"\s+", " ", text).strip()[:31].strip() or "Sheet"
    name, n = base, 2
    while name.lower() in taken:
        suffix = f" ({n})"
        name = base[: 31 - len(suffix)] + suffix
        n += 1
    taken.add(name.lower())
    return name


def _findings_sheet(
    wb: Workbook, report: Report, fmts: dict[str, Any], name: str
) -> None:
    ws = wb.add_worksheet(name)
    lang = report.lang
    sections = {s.spec.analysis: s.title for s in report.sections}
    ws.write(0, 0, report.title, fmts["title"])
    ws.write(1, 0, report.story.headline, fmts["headline"])
    columns = [("rank", "int", 5), ("severity", "text", 10), ("section", "text", 22),
               ("subject", "text", 16), ("text", "wrap", 70), ("action", "wrap", 50),
               ("impact", "money", 16), ("metric", "text", 18), ("value", "text", 12),
               ("baseline", "text", 12), ("period", "text", 11)]  # fmt: skip
    header = 3
    for c, (col, fmt, width) in enumerate(columns):
        ws.write(header, c, label(col, lang), fmts["header"])
        ws.set_column(c, c, width, fmts[fmt] if fmt == "wrap" else None)
    for r, f in enumerate(report.findings(), start=header + 1):
        severity = SEVERITY_NAMES.get(f.severity, (f.severity, f.severity))
        values = [r - header, severity[0 if lang == "ru" else 1],
                  sections.get(f.analysis, f.analysis), _subject(f.subject), f.text[lang],
                  f.action[lang], f.impact, f.metric, f.value, f.baseline, f.period]  # fmt: skip
        for c, v in enumerate(values):
            _write(
                ws,
                r,
                c,
                v,
                fmts[columns[c][1]] if columns[c][1] != "wrap" else fmts["wrap"],
            )
    ws.freeze_panes(header + 1, 0)
    ws.autofilter(header, 0, header + max(len(report.findings()), 1), len(columns) - 1)
    ws.activate()


def _subject(subject: dict[str, Any]) -> str:
    ident = subject.get("id")
    kind_ = subject.get("type")
    return f"{kind_}: {ident}" if ident is not None else str(kind_ or "—")


def _section_rows(report: Report, s: Section) -> pa.Table:
    from crmlens.reports.build import findings_table

    if s.spec.from_findings:
        return findings_table(s.findings, report.lang)
    return s.result.rows


def _section_sheet(
    wb: Workbook, report: Report, s: Section, fmts: dict[str, Any], name: str
) -> None:
    ws = wb.add_worksheet(name)
    rows = _section_rows(report, s)
    columns = rows.column_names
    kinds = [
        str(s.spec.kinds.get(c) or kind(c, rows.schema.field(c).type)) for c in columns
    ]
    for c, col in enumerate(columns):
        ws.write(0, c, label(col, report.lang), fmts["header"])
    n = min(rows.num_rows, MAX_ROWS)
    widths = [max(10, min(len(label(c, report.lang)) + 2, 40)) for c in columns]
    for c, col in enumerate(columns):
        values = rows.column(c).slice(0, n).to_pylist()
        fmt = fmts.get(kinds[c], fmts["text"])
        for r, v in enumerate(values, start=1):
            if col == "light" and isinstance(v, str):
                v = LIGHT_NAMES.get(v, (v, v))[0 if report.lang == "ru" else 1]
            elif col == "severity" and isinstance(v, str):
                v = SEVERITY_NAMES.get(v, (v, v))[0 if report.lang == "ru" else 1]
            _write(ws, r, c, v, fmt, report.lang)
        text_w = max(
            (len(str(v)) for v in values[:200] if isinstance(v, str)), default=0
        )
        widths[c] = max(widths[c], min(text_w + 2, 60))
        ws.set_column(c, c, widths[c])
    ws.freeze_panes(1, 0)
    ws.autofilter(0, 0, max(n, 1), max(len(columns) - 1, 0))
    if "light" in columns:
        _lights(ws, columns.index("light"), n, fmts, report.lang)
    if "reach_probability" in columns and n:
        col = columns.index("reach_probability")
        ws.conditional_format(1, col, n, col, {
            "type": "3_color_scale", "min_type": "num", "min_value": 0, "min_color": "#F8696B",
            "mid_type": "num", "mid_value": 0.5, "mid_color": "#FFEB84",
            "max_type": "num", "max_value": 1, "max_color": "#63BE7B",
        })  # fmt: skip


def _lights(ws: Worksheet, col: int, n: int, fmts: dict[str, Any], lang: str) -> None:
    """Traffic-light fills on the plan's light column (a rule per colour)."""
    if not n:
        return
    for code in ("green", "yellow", "red"):
        word = LIGHT_NAMES[code][0 if lang == "ru" else 1]
        ws.conditional_format(1, col, n, col, {
            "type": "cell", "criteria": "==", "value": f'"{word}"',
            "format": fmts[f"light_{code}"],
        })  # fmt: skip


def _write(
    ws: Worksheet, row: int, col: int, value: Any, fmt: Any, lang: str = "en"
) -> None:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        ws.write_blank(row, col, None, fmt)
    elif isinstance(value, bool):
        ws.write_string(
            row,
            col,
            ("да" if value else "нет") if lang == "ru" else ("yes" if value else "no"),
        )
    elif isinstance(value, (int, float)):
        ws.write_number(row, col, value, fmt)
    elif isinstance(value, (dt.date, dt.datetime)):
        ws.write_datetime(row, col, value, fmt)
    elif isinstance(value, (dict, list)):
        ws.write_string(row, col, str(value), fmt)
    else:
        ws.write_string(row, col, str(value), fmt)


def _about_sheet(wb: Workbook, report: Report, fmts: dict[str, Any], name: str) -> None:
    ws = wb.add_worksheet(name)
    rows = [
        (report.t("Отчёт", "Report"), report.title),
        (report.t("Для", "For"), report.subtitle),
        (report.t("Данные на", "Data as of"), report.as_of),
        (report.t("Период с", "Period from"), report.start),
        (report.t("Сформирован", "Generated"), report.generated_at),
    ]
    rows += [
        (report.t("Не вошло", "Not included") + f": {s.title}", s.reason)
        for s in report.skipped
    ]
    ws.write(0, 0, report.t("Поле", "Field"), fmts["header"])
    ws.write(0, 1, report.t("Значение", "Value"), fmts["header"])
    for r, (k, v) in enumerate(rows, start=1):
        ws.write_string(r, 0, k)
        fmt = (
            fmts["datetime"]
            if isinstance(v, dt.datetime)
            else fmts["date"]
            if isinstance(v, dt.date)
            else None
        )
        _write(ws, r, 1, v, fmt)
    ws.set_column(0, 0, 34)
    ws.set_column(1, 1, 80)
    ws.freeze_panes(1, 0)
