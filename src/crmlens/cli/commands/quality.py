"""``crmlens quality``: score the CRM data and list what each manager should fix."""

from __future__ import annotations

from typing import Annotated

import typer

from crmlens.cli.options import AsOfOpt, FormatOpt, LangOpt, WarehouseOpt
from crmlens.cli.render import Format

HELP = """Data quality audit: checks of accessibility, accuracy, links, completeness,
consistency, relevance, reliability, timeliness, uniqueness and CRM process errors,
with 0-100 scores and findings naming who should fix what.

Examples:

  crmlens quality -w crm.duckdb

  crmlens quality --by manager --format json

  crmlens quality --table deals

  crmlens quality --export xlsx --out to_fix.xlsx   (one sheet per manager)
"""


def register(app: typer.Typer) -> None:
    """Add ``quality`` to `app`."""
    app.command("quality", help=HELP)(quality_command)


def quality_command(
    warehouse: WarehouseOpt = None,
    as_of: AsOfOpt = None,
    table: Annotated[
        str | None, typer.Option("--table", help="Only the checks of this table.")
    ] = None,
    by: Annotated[
        str | None,
        typer.Option(
            "--by",
            help="Rows per check (default) or scores by manager, requirement or table.",
        ),
    ] = None,
    sla_hours: Annotated[
        float, typer.Option("--sla-hours", help="First-response SLA for new leads.")
    ] = 4.0,
    export: Annotated[
        str | None,
        typer.Option(
            "--export",
            help="Write the records to fix: xlsx (a sheet per manager) or csv.",
        ),
    ] = None,
    out: Annotated[
        str | None, typer.Option("--out", help="File to export to (quality.<kind>).")
    ] = None,
    fmt: FormatOpt = Format.table,
    lang: LangOpt = "en",
) -> None:
    """Print the quality checks or scores and the findings."""
    from crmlens.cli.commands._analysis import run_and_emit

    run_and_emit("quality", warehouse=warehouse, fmt=fmt, lang=lang, as_of=as_of,
                 table=table, by=by, sla_hours=sla_hours, export=export, out=out)  # fmt: skip
