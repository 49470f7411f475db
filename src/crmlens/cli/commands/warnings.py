"""``crmlens warnings``: early warnings as findings, each with owner and money at stake."""

from __future__ import annotations

from typing import Annotated

import typer

from crmlens.cli.commands._analysis import analysis_command

HELP = """Early warnings: plans at risk (regions and managers), pipeline coverage below a
multiple of the remaining target, and — when those analyses are installed — key
clients silent longer than usual, stage drops and unanswered new leads.

Examples:

  crmlens warnings

  crmlens warnings --coverage 2 --format json --lang ru
"""


def register(app: typer.Typer) -> None:
    """Add ``warnings`` to `app`."""
    app.command("warnings", help=HELP)(warnings_command)


@analysis_command("warnings")
def warnings_command(
    coverage: Annotated[
        float, typer.Option(help="Warn below this pipeline / remaining target.")
    ] = 1.5,
) -> None:
    """Print the warnings."""
