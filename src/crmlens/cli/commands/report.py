"""``crmlens report``: a daily, weekly or monthly report per role as HTML, XLSX or PDF."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from crmlens.cli.options import AsOfOpt, WarehouseOpt

if TYPE_CHECKING:
    from crmlens.reports.build import Report

HELP = """A report for a role and a period, written as one file: the story first (the
findings that matter most, with numbers and actions), then a section per analysis with a
chart, the top rows and its findings. Sections with no data are left out and listed.

- day: the day's activity of each manager, new leads and their first answers, overdue
  tasks (the day is --as-of: by default the data's last day, never today);
- week: plan progress with traffic lights, the funnel, warnings;
- month: all of the week plus the forecast, managers (KPIs, fair comparison), clients
  (RFM, ABC×XYZ, cohorts, silent clients), why revenue moved, campaigns, lead sources
  and data quality.

HTML is one self-contained file (Plotly inlined, works offline); XLSX has the findings
sheet first, a sheet per section, frozen headers, number formats and coloured plan
lights; PDF is the same report for print, charts drawn as SVG. --scope limits every
section to a region, team or manager: a manager's report holds only their own clients.

Examples:

  crmlens report --period month --format html

  crmlens report --period week --format xlsx --out weekly.xlsx

  crmlens report --period day --role manager --scope M05 --lang en --format pdf

  crmlens report --period month --role regional --scope region:Юг --as-of 2025-11-30
"""


class ReportFormat(StrEnum):
    """File formats of a report."""

    html = "html"
    xlsx = "xlsx"
    pdf = "pdf"


class PeriodChoice(StrEnum):
    """Periods of a report."""

    day = "day"
    week = "week"
    month = "month"


def register(app: typer.Typer) -> None:
    """Add ``report`` to `app`."""
    app.command("report", help=HELP)(report_command)


def report_command(
    period: Annotated[
        PeriodChoice, typer.Option("--period", "-p", help="day, week or month.")
    ] = PeriodChoice.month,
    role: Annotated[
        str,
        typer.Option(
            "--role", help="head, regional, manager, marketer, analyst or admin."
        ),
    ] = "head",
    scope: Annotated[
        str | None,
        typer.Option(
            "--scope",
            help="company, region:ID, team:ID or manager:ID (a bare ID for the "
            "manager and regional roles).",
            show_default=False,
        ),
    ] = None,
    lang: Annotated[str, typer.Option("--lang", help="Language: ru or en.")] = "ru",
    as_of: AsOfOpt = None,
    fmt: Annotated[
        ReportFormat, typer.Option("--format", "-f", help="html, xlsx or pdf.")
    ] = ReportFormat.html,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="The file to write; default crmlens-report-<period>-<date>[-<scope>].<ext>.",
            show_default=False,
        ),
    ] = None,
    top: Annotated[int, typer.Option("--top", help="Items in the story (1-20).")] = 5,
    warehouse: WarehouseOpt = None,
) -> None:
    """Build the report and write it to a file."""
    import crmlens
    from crmlens.cli.progress import progress_bar
    from crmlens.cli.render import stdout
    from crmlens.reports.build import build_report, parse_scope

    target_scope = parse_scope(scope, role)
    wh = crmlens.open(warehouse)
    with progress_bar("report") as update:
        report = build_report(
            wh,
            period=period.value,
            role=role,
            scope=target_scope,
            lang=lang,
            as_of=as_of,
            top=top,
            progress=update,
        )
    path = out or Path(
        default_name(period.value, report.as_of.isoformat(), scope, fmt.value)
    )
    write(report, path, fmt)
    size = path.stat().st_size
    skipped = (
        f"; left out: {', '.join(s.key for s in report.skipped)}"
        if report.skipped
        else ""
    )
    stdout.print(
        f"wrote {path} ({_size(size)}): {report.title} — "
        f"{len(report.sections)} sections, {len(report.story.items)} story items{skipped}",
        soft_wrap=True,
        markup=False,
    )


def write(report: Report, path: Path, fmt: ReportFormat) -> Path:
    """Write `report` to `path` in `fmt` (the parent directory must exist)."""
    from crmlens.errors import InputError

    if not path.parent.exists():
        raise InputError(
            f"folder {path.parent} does not exist", reason="create it first"
        )
    if fmt == ReportFormat.html:
        from crmlens.reports.html import write_html

        return write_html(report, path)
    if fmt == ReportFormat.xlsx:
        from crmlens.reports.xlsx import write_xlsx

        return write_xlsx(report, path)
    from crmlens.reports.pdf import write_pdf

    return write_pdf(report, path)


def default_name(period: str, day: str, scope: str | None, ext: str) -> str:
    """``crmlens-report-month-2025-12-12.html``, with the scope when there is one."""
    import re

    tail = ""
    if scope and scope.strip() and scope.strip() != "company":
        tail = "-" + re.sub(r"[^\w.-]+", "_", scope.strip().replace(":", "-"))
    return f"crmlens-report-{period}-{day}{tail}.{ext}"


def _size(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 1e6 else f"{n / 1e3:.0f} kB"
