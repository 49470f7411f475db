"""``crmlens plan``: plan vs fact with traffic lights, and its backtest."""

from __future__ import annotations

from typing import Annotated

import typer

from crmlens.cli.commands._analysis import Run, analysis_command
from crmlens.cli.options import AsOfOpt

HELP = """Plan vs fact per scope: target, fact to date, expected revenue of open deals
and repeat orders in the rest of the period, forecast, chance to hit the target
(Monte Carlo) and a traffic light: green ≥ 0.8, yellow ≥ 0.4, red below.

Examples:

  crmlens plan --period 2025-12 --scope region

  crmlens plan --scope manager --as-of 2025-12-15 --format json

  crmlens plan --backtest --from 2025-01-01 --to 2025-11-30 --as-of 2025-11-15
"""

PeriodOpt = Annotated[
    str | None, typer.Option("--period", help="Month YYYY-MM; default: as-of's month.")
]
ScopeOpt = Annotated[
    str, typer.Option("--scope", help="company, region, team or manager.")
]


def register(app: typer.Typer) -> None:
    """Add ``plan`` to `app`."""
    app.command("plan", help=HELP)(plan_command)


@analysis_command("plan")
def plan_command(
    period: PeriodOpt = None,
    scope: ScopeOpt = "region",
    as_of: AsOfOpt = None,  # declared for its place in --help
    green: Annotated[float, typer.Option(help="Green from this chance.")] = 0.8,
    yellow: Annotated[float, typer.Option(help="Yellow from this chance.")] = 0.4,
    seed: Annotated[int, typer.Option(help="Seed of the Monte Carlo.")] = 42,
    sims: Annotated[int, typer.Option(help="Monte Carlo runs.")] = 2000,
    backtest: Annotated[
        bool, typer.Option("--backtest", help="Replay past months at as-of's day.")
    ] = False,
    date_from: Annotated[
        str | None, typer.Option("--from", help="Backtest: first month (a date).")
    ] = None,
    date_to: Annotated[
        str | None, typer.Option("--to", help="Backtest: last day.")
    ] = None,
) -> Run:
    """Print the plan table (or the backtest) with findings."""
    common = {"scope": scope, "green": green, "yellow": yellow, "seed": seed,
              "n_sims": sims}  # fmt: skip
    if backtest:
        months = {"date_from": date_from, "date_to": date_to}
        return Run({**months, **common}, analysis="plan_backtest")
    return Run({"period": period, **common})
