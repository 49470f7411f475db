"""``crmlens dedup accounts|contacts|leads``: duplicate records and the merge map."""

from __future__ import annotations

from typing import Annotated

import typer

from crmlens.cli.options import FormatOpt, LangOpt, WarehouseOpt
from crmlens.cli.render import Format

HELP = """Find duplicate accounts, contacts or leads (Splink, probabilistic matching after
normalising legal forms, quotes, case, scripts, phones, e-mails, sites and INNs).

Examples:

  crmlens dedup accounts -w crm.duckdb

  crmlens dedup accounts --threshold 0.95 --format csv > pairs.csv

  crmlens dedup accounts --apply     (write the merge map; no rows are deleted)

  crmlens dedup accounts --undo      (remove the merge map)
"""


def register(app: typer.Typer) -> None:
    """Add ``dedup`` to `app`."""
    app.command("dedup", help=HELP)(dedup_command)


def dedup_command(
    entity: Annotated[str, typer.Argument(help="accounts, contacts or leads")],
    warehouse: WarehouseOpt = None,
    threshold: Annotated[
        float,
        typer.Option("--threshold", help="Match probability to count as duplicate."),
    ] = 0.9,
    apply: Annotated[
        bool, typer.Option("--apply", help="Write the merge map.")
    ] = False,
    undo: Annotated[bool, typer.Option("--undo", help="Remove the merge map.")] = False,
    fmt: FormatOpt = Format.table,
    lang: LangOpt = "en",
) -> None:
    """Print duplicate pairs with their clusters, and the findings."""
    from crmlens.cli.commands._analysis import run_and_emit

    run_and_emit("dedup", warehouse=warehouse, fmt=fmt, lang=lang, entity=entity,
                 threshold=threshold, apply=apply, undo=undo)  # fmt: skip
