"""``crmlens customers clv``: client lifetime value, historical and predicted."""

from __future__ import annotations

from typing import Annotated

import typer

from crmlens.cli.commands._analysis import Run, analysis_command

HELP = """Client lifetime value: what each client has brought so far and will bring.

Historical value = margin of the client's orders so far (amount − cost; an order
without a cost counts with its full amount, and the output says how many did).
Predictive value with BG/NBD + Gamma-Gamma: P(alive) — the chance the client still
buys, expected orders and expected margin over the next --horizon months. Findings
name valuable clients who bought regularly but have probably stopped.

--fit-report prints the fitted parameters and a holdout check instead: the model is
fitted on orders before a cut-off (as-of minus --holdout months) and its predicted
orders in the holdout are compared with the actual ones, by frequency bucket.

Examples:

  crmlens customers clv --horizon 12

  crmlens customers clv --as-of 2025-06-30 --format json

  crmlens customers clv --fit-report --holdout 6
"""

HorizonOpt = Annotated[
    int, typer.Option("--horizon", help="Months ahead for expected orders and value.")
]
FitReportOpt = Annotated[
    bool,
    typer.Option("--fit-report", help="Show parameters and the holdout check."),
]
HoldoutOpt = Annotated[
    int | None,
    typer.Option("--holdout", help="Fit report: holdout months (default: --horizon)."),
]
BasisOpt = Annotated[
    str, typer.Option("--value", help="Value of an order: margin or amount.")
]
DiscountOpt = Annotated[
    float, typer.Option("--discount", help="Monthly discount rate, e.g. 0.01.")
]


def register(app: typer.Typer) -> None:
    """Add ``clv`` to the ``customers`` group of `app`."""
    from crmlens.cli.commands.customers import customers_app

    customers_app.command("clv", help=HELP)(clv_command)


@analysis_command("customers_clv")
def clv_command(
    horizon: HorizonOpt = 12,
    fit_report: FitReportOpt = False,
    holdout: HoldoutOpt = None,
    value: BasisOpt = "margin",
    discount: DiscountOpt = 0.0,
) -> Run:
    """Print CLV per client (or the fit report) with findings."""
    params = {"horizon": horizon, "value_basis": value, "discount_rate": discount,
              "holdout": holdout}  # fmt: skip
    return Run(params, analysis="customers_clv_fit" if fit_report else None)
