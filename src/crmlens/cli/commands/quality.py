"""``crmlens quality``: score the CRM data and list what each manager should fix."""

from __future__ import annotations

from typing import Annotated

import typer

from crmlens.cli.commands._analysis import analysis_command

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


@analysis_command("quality")
def quality_command(
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
) -> None:
    """Print the quality checks or scores and the findings."""
