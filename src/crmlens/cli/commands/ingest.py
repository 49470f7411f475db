"""``crmlens import`` and ``crmlens quarantine``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from crmlens.cli.options import FormatOpt, WarehouseOpt
from crmlens.cli.render import Format, emit, records, stdout

if TYPE_CHECKING:
    from crmlens.warehouse.load import ImportReport

IMPORT_HELP = """Load CRM exports (CSV, XLSX, Parquet) into the warehouse, losing nothing silently.

A directory imports each <table>.csv|.xlsx|.parquet by file name. Encoding (UTF-8, cp1251),
delimiter, decimal commas and dates (01.03.2025 14:05, ISO, Excel) are detected. Rows that
cannot be loaded go to quarantine with file, row, column and reason. The import is one
transaction: an error or Ctrl-C leaves the warehouse as it was.

Examples:

  crmlens import exports/                            # deals.csv, leads.xlsx, …
  crmlens import amo_deals.csv --preset amocrm
  crmlens import ../shared/data/maven_crm_sales_opportunities --preset maven_crm
  crmlens import plan.xlsx --table targets --mode replace
"""


def register(app: typer.Typer) -> None:
    """Add the commands of this module to `app`."""
    app.command("import", help=IMPORT_HELP)(import_command)
    app.command(
        "quarantine",
        help="Rows that could not be loaded: file, row, column, value, reason.",
    )(quarantine_command)


def import_command(
    paths: Annotated[
        list[Path],
        typer.Argument(help="Files or directories to import.", show_default=False),
    ],
    table: Annotated[
        str | None,
        typer.Option(
            "--table",
            "-t",
            help="Canonical table for every file (default: from the file name or headers).",
        ),
    ] = None,
    preset: Annotated[
        str,
        typer.Option(
            "--preset",
            "-p",
            help="Header mapping: auto, generic, amocrm, bitrix24, hubspot, salesforce, maven_crm, olist_funnel, x_education, online_retail.",
        ),
    ] = "auto",
    mode: Annotated[
        str,
        typer.Option(
            "--mode",
            "-m",
            help="upsert (update rows by key), append (existing keys go to quarantine) or replace (replace the table).",
        ),
    ] = "upsert",
    warehouse: WarehouseOpt = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """Import files into the warehouse."""
    import crmlens
    from crmlens.cli.progress import progress_bar

    wh = crmlens.open(warehouse)
    with progress_bar("import") as update:
        report = wh.import_files(
            paths, table=table, preset=preset, mode=mode, progress=update
        )  # type: ignore[arg-type]
    _print_report(
        report,
        fmt,
        {
            "paths": [str(p) for p in paths],
            "table": table,
            "preset": preset,
            "mode": mode,
        },
    )
    if not report.usable:
        raise typer.Exit(1)


def _print_report(report: ImportReport, fmt: Format, params: dict[str, object]) -> None:
    data = report.to_dict()
    rows = [
        {
            "file": t["file"],
            "table": t["table"],
            "preset": t["preset"],
            "rows_read": t["rows_read"],
            "loaded": t["loaded"],
            "updated": t["updated"],
            "unchanged": t["unchanged"],
            "duplicates": t["duplicates"],
            "quarantined": t["quarantined"],
        }
        for t in data["tables"]
    ]
    if fmt != Format.table:
        emit(
            fmt,
            "import",
            params,
            rows,
            import_id=data["import_id"],
            files=data["files"],
            errors=data["errors"],
            warnings=data["warnings"],
            skipped=data["skipped"],
        )
        return
    emit(fmt, "import", params, rows, title=f"import {data['import_id']}")
    for f in data["files"]:
        stdout.print(
            f"{f['file']}: preset {f['preset']}, encoding {f['encoding'] or 'binary'}, "
            f"delimiter {f['delimiter']!r}, decimal comma {'yes' if f['decimal_comma'] else 'no'}"
        )
    for s in data["skipped"]:
        stdout.print(f"[yellow]skipped[/] {s['file']}: {s['reason']}")
    for w in data["warnings"]:
        stdout.print(f"[yellow]warning[/] {w['message']}")
    if data["errors"]:
        stdout.print("[bold]First errors[/] (all of them: crmlens quarantine)")
        for e in data["errors"][:10]:
            stdout.print(f"  {_error_line(e)}")


def _error_line(e: dict[str, object]) -> str:
    where = f"{e['file']}, row {e['row']}"
    if e.get("column"):
        where += f", column {e['column']}"
    value = f'"{e["value"]}" ' if e.get("value") is not None else ""
    return f"{where}: {value}{e['reason']}"


def quarantine_command(
    file: Annotated[
        str | None, typer.Option("--file", help="Only rows of this file.")
    ] = None,
    table: Annotated[
        str | None,
        typer.Option("--table", "-t", help="Only rows meant for this table."),
    ] = None,
    limit: Annotated[
        int, typer.Option("--limit", help="At most this many rows (0 = all).")
    ] = 0,
    warehouse: WarehouseOpt = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """List quarantined rows."""
    import crmlens

    wh = crmlens.open(warehouse)
    q = wh.quarantine
    if file:
        q = q.filter(q.file == file)
    if table:
        q = q.filter(q.table_name == table)
    q = q.order_by(["import_id", "file", "row", "column_name"])
    if limit:
        q = q.limit(limit)
    columns = [
        "import_id",
        "file",
        "row",
        "table_name",
        "column_name",
        "source_column",
        "value",
        "reason",
    ]
    if fmt == Format.json:
        columns.append("record")
    rows = records(q.select(*columns).to_pyarrow())
    emit(
        fmt,
        "quarantine",
        {"file": file, "table": table, "limit": limit},
        rows,
        title="quarantine",
    )
