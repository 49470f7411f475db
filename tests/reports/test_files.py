"""The report files: XLSX opened with openpyxl, PDF rendered to PNG, HTML self-contained."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from crmlens.reports.html import plotly_js, write_html
from crmlens.reports.pdf import write_pdf
from crmlens.reports.xlsx import write_xlsx

MONEY_FORMAT = re.compile(r'#,##0 "₽"')


def test_xlsx_sheets_formats_and_lights(built: Any, tmp_path: Path) -> None:
    import openpyxl

    report = built("month")
    path = write_xlsx(report, tmp_path / "month.xlsx")
    wb = openpyxl.load_workbook(path)
    names = wb.sheetnames
    assert names[0] == "Выводы"
    assert len(names) == len(report.sections) + 2
    assert names[-1] == "О отчёте"
    expected = [s.title.replace(": ", " - ")[:31].strip() for s in report.sections]
    assert names[1:-1] == expected
    assert all(len(n) <= 31 and not set(n) & set("[]:*?/\\") for n in names)
    # the findings sheet: title, headline, a frozen header, ranked findings
    ws = wb["Выводы"]
    assert ws["A1"].value == report.title
    assert ws["A2"].value == report.story.headline
    assert ws.freeze_panes == "A5"
    assert ws["A4"].value == "№"
    assert ws["E4"].value == "Суть"
    assert ws.max_row - 4 == len(report.findings())
    assert ws["E5"].value == report.story.items[0].finding.text["ru"]
    assert MONEY_FORMAT.search(ws["G5"].number_format)
    # every section sheet has a frozen header row
    for name in names[1:-1]:
        assert wb[name].freeze_panes == "A2", name
    # the plan sheet: money and percent formats, traffic-light rules on the light column
    plan = wb["План и факт"]
    header = [c.value for c in plan[1]]
    col = {h: i for i, h in enumerate(header)}
    row = next(plan.iter_rows(min_row=2, max_row=2))
    assert MONEY_FORMAT.search(row[col["План"]].number_format)
    assert row[col["Шанс выполнить план"]].number_format == "0.0%"
    rules = {
        (str(cf.sqref), r.type, tuple(r.formula or ()))
        for cf in plan.conditional_formatting
        for r in cf.rules
    }
    light = openpyxl.utils.get_column_letter(col["Светофор"] + 1)
    for word in ("зелёный", "жёлтый", "красный"):
        assert any(
            sq.startswith(light) and t == "cellIs" and f == (f'"{word}"',)
            for sq, t, f in rules
        ), word
    lights = {
        plan.cell(r, col["Светофор"] + 1).value for r in range(2, plan.max_row + 1)
    }
    assert lights <= {"зелёный", "жёлтый", "красный", "нет плана"}
    # dates are real dates with a date format
    churn = wb["Клиенты, что молчат дольше обыч"]
    head = [c.value for c in churn[1]]
    cell = churn.cell(2, head.index("Последний заказ") + 1)
    assert cell.is_date
    assert cell.number_format == "dd.mm.yyyy"


def _render_first_page(path: Path) -> tuple[int, Any]:
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(str(path))
    pages = len(pdf)
    image = pdf[0].render(scale=1.0).to_pil().convert("L")
    pdf.close()
    return pages, image


def test_pdf_pages_and_first_page_not_blank(built: Any, tmp_path: Path) -> None:
    report = built("month")
    path = write_pdf(report, tmp_path / "month.pdf")
    pages, image = _render_first_page(path)
    assert pages >= len(report.sections) // 3
    hist = image.histogram()
    dark = sum(hist[:200]) / sum(hist)
    assert dark > 0.01, dark  # text and colour on the first page, not an empty sheet
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(str(path))
    text = "".join(pdf[i].get_textpage().get_text_range() for i in range(len(pdf)))
    pdf.close()
    assert "Ежемесячный отчёт" in text
    assert "Воронка продаж" in text
    assert "Plotly" not in text
    assert "<script" not in text


def test_daily_pdf_and_html_are_offline(built: Any, tmp_path: Path) -> None:
    report = built("day", lang="en")
    pdf = write_pdf(report, tmp_path / "day.pdf")
    pages, _ = _render_first_page(pdf)
    assert pages >= 1
    html = write_html(report, tmp_path / "day.html").read_text(encoding="utf-8")
    # no external script, style or image is loaded: everything is inline
    assert not re.search(r"<script[^>]+src=", html)
    assert not re.search(r"<link[^>]+href=", html)
    own = html.replace(plotly_js(), "")
    assert own.count("Plotly.newPlot") == sum(1 for s in report.sections if s.figure)
    assert html.count(plotly_js()) == 1  # the bundle, inlined once


@pytest.mark.browser
def test_html_in_chromium_draws_every_chart(built: Any, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    chromium = Path("/usr/bin/chromium")
    assert chromium.exists(), "install Debian's chromium (make install does)"
    report = built("month")
    path = write_html(report, tmp_path / "month.html")
    args = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
    ]
    errors: list[str] = []
    requests: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium), args=args)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.on(
            "console", lambda m: errors.append(m.text) if m.type == "error" else None
        )
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("request", lambda r: requests.append(r.url))
        page.goto(path.as_uri())
        page.wait_for_function(
            "[...document.querySelectorAll('.plotly-graph-div')]"
            ".every(d => d.querySelector('.main-svg'))",
            timeout=30_000,
        )
        charts = page.evaluate("document.querySelectorAll('.plotly-graph-div').length")
        drawn = page.evaluate(
            "[...document.querySelectorAll('.plotly-graph-div')]"
            ".filter(d => d.querySelector('.main-svg') && d.querySelector('g.trace, image'))"
            ".length"
        )
        browser.close()
    assert not errors, errors
    assert charts == drawn == sum(1 for s in report.sections if s.figure)
    assert all(u.startswith(("file:", "data:", "blob:", "about:")) for u in requests), (
        requests
    )
