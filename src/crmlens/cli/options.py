"""Options shared by every command (one definition, one help text)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from crmlens.cli.render import Format

WarehouseOpt = Annotated[
    str | None,
    typer.Option(
        "--warehouse",
        "-w",
        envvar="CRMLENS_WAREHOUSE",
        help="Warehouse URL: a .duckdb path (default ./crmlens.duckdb), "
        "spark://local?path=DIR or postgres://user:pass@host/db?schema=S.",
        show_default=False,
    ),
]
FormatOpt = Annotated[
    Format, typer.Option("--format", "-f", help="Output: table, json or csv.")
]
AsOfOpt = Annotated[
    str | None,
    typer.Option(
        "--as-of",
        help="Compute as of this date (YYYY-MM-DD); default: the data's last day.",
    ),
]
LangOpt = Annotated[str, typer.Option("--lang", help="Language of findings: ru or en.")]
UsersOpt = Annotated[
    Path | None,
    typer.Option(
        "--users",
        envvar="CRMLENS_USERS",
        help="The users file (default: beside the warehouse, <warehouse>.users.sqlite).",
        show_default=False,
    ),
]
