"""``crmlens journeys``: how real deal journeys differ from the designed pipeline."""

from __future__ import annotations

from typing import Annotated

import typer

from crmlens.cli.commands._analysis import analysis_command
from crmlens.cli.options import AsOfOpt

HELP = """Real journeys of deals (stage entries plus calls, meetings, visits, e-mails
and tasks) against the pipeline as designed: the most common variants (sequence,
deals, share, median duration, win rate), the directly-follows graph, per-deal
conformance (designed vs actual steps, skipped stages, backward moves, repeated
stages, extra meetings) and the steps the design lacks.

Examples:

  crmlens journeys --top 5

  crmlens journeys --events stages --show graph --format csv

  crmlens journeys --show deals --format json

  crmlens journeys --export xes --out deals.xes    (for process-mining tools)

  crmlens journeys --events stages --export dot --out journeys.dot
"""


def register(app: typer.Typer) -> None:
    """Add ``journeys`` to `app`."""
    app.command("journeys", help=HELP)(journeys_command)


@analysis_command("journeys")
def journeys_command(
    events: Annotated[
        str, typer.Option("--events", help="stages, activities or both.")
    ] = "both",
    top: Annotated[int, typer.Option("--top", help="Variants to show.")] = 10,
    show: Annotated[
        str, typer.Option("--show", help="variants, graph, deals or steps.")
    ] = "variants",
    export: Annotated[
        str | None,
        typer.Option("--export", help="Write the log (csv, xes) or the graph (dot)."),
    ] = None,
    out: Annotated[
        str | None, typer.Option("--out", help="File to export to (journeys.<kind>).")
    ] = None,
    as_of: AsOfOpt = None,  # declared for its place in --help
) -> None:
    """Print variants (or the graph, deals, steps) with findings."""
