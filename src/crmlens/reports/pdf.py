"""The PDF report: WeasyPrint renders the same HTML with its print CSS and SVG charts.

Plotly's charts need JavaScript, which WeasyPrint does not run, and turning them into images
needs a headless browser; so the PDF gets the charts as SVG drawn by
:mod:`crmlens.reports.svg` from the same figures. Nothing is fetched from the network.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from crmlens.reports.html import TEMPLATES, render_html

if TYPE_CHECKING:
    from pathlib import Path

    from crmlens.reports.build import Report


def write_pdf(report: Report, path: Path) -> Path:
    """Write the report as a PDF to `path` (A4, page numbers, charts as SVG)."""
    import logging

    from weasyprint import HTML

    # WeasyPrint logs every CSS property it ignores; a report's reader needs none of it.
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    html = render_html(report, for_print=True)
    HTML(string=html, base_url=str(TEMPLATES)).write_pdf(str(path))
    return path
