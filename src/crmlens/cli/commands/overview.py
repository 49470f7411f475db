"""``crmlens tables``: row counts and date ranges of the canonical tables."""

from __future__ import annotations

import typer

from crmlens.cli.options import FormatOpt, WarehouseOpt
from crmlens.cli.render import Format, emit, records


def register(app: typer.Typer) -> None:
    """Add the commands of this module to `app`."""
    app.command(
        "tables",
        help="Row counts and date ranges of the 13 canonical tables.\n\n"
        "Example: crmlens tables --warehouse crmlens-demo.duckdb --format json",
    )(tables_command)


def tables_command(
    warehouse: WarehouseOpt = None, fmt: FormatOpt = Format.table
) -> None:
    """Print the table overview."""
    import crmlens
    from crmlens.insights.registry import tables_rows

    wh = crmlens.open(warehouse, create=False)
    rows = records(tables_rows(wh))
    emit(fmt, "tables", {"warehouse": wh.url.raw}, rows, title="tables")
