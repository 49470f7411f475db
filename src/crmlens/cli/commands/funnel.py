"""``crmlens funnel``: stage reach and conversion, stage drops, velocity."""

from __future__ import annotations

from typing import Annotated

import typer

from crmlens.cli.commands._analysis import Run, analysis_command
from crmlens.cli.options import AsOfOpt

HELP = """The sales funnel: one row per stage (and group) with deals reached (a deal
that skipped a stage passed it), conversion to the next stage and from the start,
median and p90 days in the stage, deals open in it now and deals lost after it.
When leads exist, the first row is lead → deal.

Findings: a stage whose conversion fell since a month (stage_drop, compared on the
stage's usual time window so young deals don't look lost), and managers, sources or
regions far below the rest at a stage (segment_gap).

Examples:

  crmlens funnel

  crmlens funnel --pipeline main --by manager --from 2025-01-01 --to 2025-06-30

  crmlens funnel --velocity --by region --format json

  crmlens funnel --as-of 2025-06-30 --lang ru
"""

ByOpt = Annotated[
    str | None,
    typer.Option(
        "--by",
        help="Group: manager, team, region, source, channel, segment, client_type, "
        "month or quarter.",
    ),
]


def register(app: typer.Typer) -> None:
    """Add ``funnel`` to `app`."""
    app.command("funnel", help=HELP)(funnel_command)


@analysis_command("funnel")
def funnel_command(
    pipeline: Annotated[
        str | None, typer.Option("--pipeline", help="Only this pipeline_id.")
    ] = None,
    by: ByOpt = None,
    date_from: Annotated[
        str | None, typer.Option("--from", help="Deals (leads) created from this day.")
    ] = None,
    date_to: Annotated[
        str | None, typer.Option("--to", help="Deals (leads) created up to this day.")
    ] = None,
    as_of: AsOfOpt = None,  # declared for its place in --help
    velocity: Annotated[
        bool,
        typer.Option(
            "--velocity",
            help="Pipeline velocity per month: open deals × win rate × average won "
            "amount / median cycle days.",
        ),
    ] = False,
) -> Run:
    """Print the funnel (or velocity) with findings."""
    params = {"pipeline": pipeline, "by": by, "start": date_from, "end": date_to,
              "velocity": velocity}  # fmt: skip
    return Run(params, title="velocity" if velocity else "funnel")
