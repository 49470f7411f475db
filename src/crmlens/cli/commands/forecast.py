"""``crmlens forecast``: revenue forecast per level, and proposed targets."""

from __future__ import annotations

from typing import Annotated

import typer

from crmlens.cli.commands._analysis import analysis_command

HELP = """Expected revenue per future month (the months after --as-of's month; the
running month is what crmlens plan forecasts) from each client's level, trend and
seasonality, learned from the full months that ended by --as-of, summed up to managers,
teams, regions and the company (levels add up exactly). --targets proposes next month's
targets per manager and region (forecast × stretch) beside the targets already set for
that month.

Examples:

  crmlens forecast --horizon 3 --level region

  crmlens forecast --level client --format csv > clients.csv

  crmlens forecast --targets --stretch 1.1
"""


def register(app: typer.Typer) -> None:
    """Add ``forecast`` to `app`."""
    app.command("forecast", help=HELP)(forecast_command)


@analysis_command("forecast")
def forecast_command(
    horizon: Annotated[int, typer.Option(help="Months ahead.")] = 3,
    level: Annotated[
        str, typer.Option(help="client, manager, team, region or company.")
    ] = "company",
    targets: Annotated[
        bool, typer.Option("--targets", help="Propose next month's targets.")
    ] = False,
    stretch: Annotated[float, typer.Option(help="Stretch of proposed targets.")] = 1.1,
) -> None:
    """Print the forecast (or proposed targets) with findings."""
